/**
 * The client side of canary control, shared by `edd canary` and the editor's Start Canary… / Canary Status / Stop
 * Canary: a request file under `.edd/serving/<model>/` that the running `edd serve` reads on each registry poll, and the
 * status file it writes back. Neither side needs the other's process: a request left while no server runs is started
 * by the next server of that model.
 */
import { randomUUID } from 'crypto';
import * as path from 'path';
import { inert } from '../inert';
import { t } from '../l10n';
import { canaryDir, checkPlan, isFinal, readJsonFile, REQUEST_FILE, STATUS_FILE, writeJsonAtomic, type CanaryRequest, type CanaryStatus, type GuardReport } from './canary';
import type { RawCanary } from './spec';

/** A canary's numbers as the user gives them; what is left out takes the defaults of {@link canaryPlan}. */
export interface CanaryStartOptions {
  percent?: number;
  step?: number;
  interval?: string;
  mode?: string;
  sticky_key?: string;
  min_requests?: number;
}

/** A canary plan that cannot start: one sentence per problem. */
export class CanaryPlanError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'CanaryPlanError';
  }
}

/** The plan `edd canary start` sends for `version` with `options`; throws {@link CanaryPlanError} when it is invalid. */
export function canaryStartPlan(version: number, options: CanaryStartOptions = {}): RawCanary {
  const plan: RawCanary = { version };
  if (options.percent !== undefined) plan.percent = options.percent;
  if (options.step !== undefined) plan.step = options.step;
  if (options.min_requests !== undefined) plan.min_requests = options.min_requests;
  if (options.interval !== undefined) plan.interval = options.interval;
  if (options.mode !== undefined) plan.mode = options.mode as RawCanary['mode'];
  if (options.sticky_key !== undefined) plan.sticky_key = options.sticky_key;
  const problems = checkPlan(plan);
  if (problems.length) throw new CanaryPlanError(problems);
  return plan;
}

/** Writes a `start` request for the server of `model` in the workspace `root`; returns it (its id marks the answer). */
export function requestCanaryStart(root: string, o: { model: string; plan: RawCanary; actor: string; reason?: string }): CanaryRequest {
  const request: CanaryRequest = {
    id: randomUUID(), action: 'start', model: o.model, time: Date.now(), actor: o.actor, plan: o.plan,
    ...(o.reason?.trim() ? { reason: o.reason.trim() } : {}),
  };
  writeJsonAtomic(path.join(canaryDir(root, o.model), REQUEST_FILE), request);
  return request;
}

/**
 * Writes a `stop` request when a canary of `model` is running; returns the status it was running with (the answer is
 * a status with another id or a final state), or undefined when none runs.
 */
export function requestCanaryStop(root: string, o: { model: string; actor: string; reason?: string }): CanaryStatus | undefined {
  const before = readCanaryStatus(root, o.model);
  if (!before || isFinal(before.state)) return undefined;
  const request: CanaryRequest = {
    id: randomUUID(), action: 'stop', model: o.model, time: Date.now(), actor: o.actor,
    ...(o.reason?.trim() ? { reason: o.reason.trim() } : {}),
  };
  writeJsonAtomic(path.join(canaryDir(root, o.model), REQUEST_FILE), request);
  return before;
}

/** The state the server of `model` last wrote, if any. */
export function readCanaryStatus(root: string, model: string): CanaryStatus | undefined {
  return readJsonFile<CanaryStatus>(path.join(canaryDir(root, model), STATUS_FILE));
}

/** Polls the status file until `done` holds for it or `seconds` pass (then undefined). */
export async function waitForCanaryStatus(root: string, model: string, seconds: number, done: (s: CanaryStatus) => boolean): Promise<CanaryStatus | undefined> {
  const deadline = Date.now() + Math.max(0, seconds) * 1000;
  for (;;) {
    const s = readCanaryStatus(root, model);
    if (s && done(s)) return s;
    if (Date.now() >= deadline) return undefined;
    await new Promise(r => setTimeout(r, 100));
  }
}

/** The state in a few words: `running at 25%`, `rolled back`, … */
export function canaryStateText(s: CanaryStatus): string {
  switch (s.state) {
    case 'running': return s.mode === 'shadow' ? t('running (shadow: production answers, the candidate gets a copy)') : t('running at {0}%', s.share);
    case 'promoting': return t('promoted; waiting for the server to switch');
    case 'promoted': return t('promoted');
    case 'rolled_back': return t('rolled back');
    case 'stopped': return t('stopped');
    case 'refused': return t('refused');
  }
}

/** The guards' numbers of one interval, a line each (indented by two spaces). */
export function guardLines(r: GuardReport): string[] {
  const side = (name: string, n: GuardReport['production']) => t('  {0}: {1} requests, error rate {2}, p95 {3} ms', name, n.requests, n.error_rate.toFixed(3), n.p95_ms ?? '—');
  const lines = [side(t('candidate'), r.candidate), side(t('production'), r.production), t('  prediction PSI: {0}', r.prediction_psi ?? '—')];
  const a = r.accuracy;
  lines.push(t('  accuracy: candidate {0} (n={1}), production {2} (n={3}), p = {4}', a.candidate.accuracy ?? '—', a.candidate.n, a.production.accuracy ?? '—', a.production.n, a.p_value ?? '—'));
  if (r.breached.length) lines.push(t('  breached: {0}', r.breached.join(', ')));
  return lines;
}

/** The headline of a status: `Canary of penguins@4: running at 25%`. */
export function canaryHeadline(s: CanaryStatus): string {
  return t('{0} of {1}@{2}: {3}', s.mode === 'shadow' ? t('Shadow') : t('Canary'), inert(s.model), s.version, canaryStateText(s));
}

/** What `edd canary status` prints: the headline, the plan, the last interval's guards and the last ten decisions. */
export function canaryStatusLines(s: CanaryStatus): string[] {
  const out = [canaryHeadline(s)];
  if (s.reason) out.push(t('  reason: {0}', inert(s.reason)));
  out.push(t('  plan: start {0}%, +{1}% every {2}, at least {3} requests a side per interval{4}', s.plan.percent, s.plan.step, s.plan.interval, s.plan.min_requests, s.plan.sticky_key ? t(', sticky by {0}', inert(s.plan.sticky_key)) : ''));
  if (s.last) {
    out.push(t('  last interval:'));
    out.push(...guardLines(s.last));
  }
  for (const d of s.decisions.slice(-10)) out.push(`  ${new Date(d.time).toISOString().replace('T', ' ').slice(0, 19)}  ${inert(d.decision)}  ${d.share}%  ${inert(d.reason)}`);
  return out;
}
