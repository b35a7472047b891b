import { randomUUID } from 'crypto';
import * as path from 'path';
import { inert } from '../core/inert';
import { t } from '../core/l10n';
import { parseModelRef, RegistryError, resolveActor, resolveVersion } from '../core/registry';
import { canaryDir, checkPlan, isFinal, readJsonFile, REQUEST_FILE, STATUS_FILE, writeJsonAtomic, type CanaryRequest, type CanaryStatus, type GuardReport } from '../core/serve/canary';
import type { RawCanary } from '../core/serve/spec';
import { parseCommandArgs } from './args';
import { UsageError, usageErrorFrom, type Io } from './io';
import { existingStorePath, openStore } from './store';

const USAGE = () => t('Usage: edd canary start NAME@VERSION [--percent 10] [--step 10] [--interval 60s] [--mode canary|shadow] [--sticky-key COLUMN] [--min-requests N] [--reason TEXT] [--wait SECONDS]\n       edd canary status NAME [--json]\n       edd canary stop NAME [--reason TEXT] [--wait SECONDS]');

/**
 * `edd canary start|status|stop`: asks the running `edd serve` of a model (through a request file under
 * `.edd/serving/<model>/`, which the server reads on each registry poll) and reads the state it writes back.
 */
export async function canaryCommand(args: readonly string[], io: Io): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'start': return start(rest, io);
    case 'status': return status(rest, io);
    case 'stop': return stop(rest, io);
    default: throw new UsageError(USAGE());
  }
}

function number(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n)) throw new UsageError(t('{0} needs a number, not {1}', name, inert(text)));
  return n;
}

async function start(args: readonly string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandArgs('canary start', args, {
    'percent': { type: 'string' }, 'step': { type: 'string' }, 'interval': { type: 'string' }, 'mode': { type: 'string' },
    'sticky-key': { type: 'string' }, 'min-requests': { type: 'string' }, 'reason': { type: 'string' }, 'user': { type: 'string' },
    'store': { type: 'string' }, 'wait': { type: 'string' }, 'json': { type: 'boolean' },
  });
  if (positionals.length !== 1) throw new UsageError(USAGE());
  let ref: { model: string; ref: string };
  try {
    ref = parseModelRef(positionals[0]);
  } catch (e) {
    throw usageErrorFrom(e as Error);
  }
  const store = await openStore(existingStorePath(io, values.store), { readOnly: true, autoSave: false }, io);
  let version: number;
  try {
    version = resolveVersion(store, ref.model, ref.ref).version;
  } catch (e) {
    if (e instanceof RegistryError) throw usageErrorFrom(e);
    throw e;
  } finally {
    await store.close();
  }
  const plan: RawCanary = { version };
  const percent = number('--percent', values.percent);
  const step = number('--step', values.step);
  const minRequests = number('--min-requests', values['min-requests']);
  if (percent !== undefined) plan.percent = percent;
  if (step !== undefined) plan.step = step;
  if (minRequests !== undefined) plan.min_requests = minRequests;
  if (values.interval !== undefined) plan.interval = values.interval;
  if (values.mode !== undefined) plan.mode = values.mode as RawCanary['mode'];
  if (values['sticky-key'] !== undefined) plan.sticky_key = values['sticky-key'];
  const problems = checkPlan(plan);
  if (problems.length) throw new UsageError(problems.join('\n'));
  const request: CanaryRequest = {
    id: randomUUID(), action: 'start', model: ref.model, time: Date.now(), actor: await resolveActor(io.cwd, values.user), plan,
    ...(values.reason?.trim() ? { reason: values.reason.trim() } : {}),
  };
  const dir = canaryDir(io.cwd, ref.model);
  writeJsonAtomic(path.join(dir, REQUEST_FILE), request);
  const s = await waitFor(dir, values.wait, x => x.id === request.id);
  if (values.json) {
    io.out(JSON.stringify(s ?? { id: request.id, state: 'requested' }, null, 2));
  } else if (!s) {
    io.out(t('Canary of {0}@{1} requested. No `edd serve` of {0} answered yet: the server starts it on its next registry poll (or when it starts).', inert(ref.model), version));
  } else {
    printStatus(io, s);
  }
  return s?.state === 'refused' ? 1 : 0;
}

async function stop(args: readonly string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandArgs('canary stop', args, {
    'reason': { type: 'string' }, 'user': { type: 'string' }, 'wait': { type: 'string' },
  });
  if (positionals.length !== 1) throw new UsageError(USAGE());
  const model = positionals[0];
  const dir = canaryDir(io.cwd, model);
  const before = readJsonFile<CanaryStatus>(path.join(dir, STATUS_FILE));
  if (!before || isFinal(before.state)) {
    io.out(t('No canary of {0} is running.', inert(model)));
    return 0;
  }
  const request: CanaryRequest = {
    id: randomUUID(), action: 'stop', model, time: Date.now(), actor: await resolveActor(io.cwd, values.user),
    ...(values.reason?.trim() ? { reason: values.reason.trim() } : {}),
  };
  writeJsonAtomic(path.join(dir, REQUEST_FILE), request);
  const s = await waitFor(dir, values.wait, x => x.id !== before.id || isFinal(x.state));
  if (!s) {
    io.out(t('Stop of the canary of {0} requested; the server has not answered yet (it reads requests on each registry poll).', inert(model)));
    return 0;
  }
  printStatus(io, s);
  return 0;
}

async function status(args: readonly string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandArgs('canary status', args, { 'json': { type: 'boolean' } });
  if (positionals.length !== 1) throw new UsageError(USAGE());
  const s = readJsonFile<CanaryStatus>(path.join(canaryDir(io.cwd, positionals[0]), STATUS_FILE));
  if (values.json) {
    io.out(JSON.stringify(s ?? null, null, 2));
    return 0;
  }
  if (!s) {
    io.out(t('No canary of {0} has run here (start one with edd canary start {0}@VERSION).', inert(positionals[0])));
    return 0;
  }
  printStatus(io, s);
  return 0;
}

/** Polls the status file until `done` holds or `--wait` seconds (default 10) pass. */
async function waitFor(dir: string, wait: string | undefined, done: (s: CanaryStatus) => boolean): Promise<CanaryStatus | undefined> {
  const seconds = number('--wait', wait) ?? 10;
  const deadline = Date.now() + Math.max(0, seconds) * 1000;
  for (;;) {
    const s = readJsonFile<CanaryStatus>(path.join(dir, STATUS_FILE));
    if (s && done(s)) return s;
    if (Date.now() >= deadline) return undefined;
    await new Promise(r => setTimeout(r, 100));
  }
}

function stateText(s: CanaryStatus): string {
  switch (s.state) {
    case 'running': return s.mode === 'shadow' ? t('running (shadow: production answers, the candidate gets a copy)') : t('running at {0}%', s.share);
    case 'promoting': return t('promoted; waiting for the server to switch');
    case 'promoted': return t('promoted');
    case 'rolled_back': return t('rolled back');
    case 'stopped': return t('stopped');
    case 'refused': return t('refused');
  }
}

function guardLines(r: GuardReport): string[] {
  const side = (name: string, n: GuardReport['production']) => t('  {0}: {1} requests, error rate {2}, p95 {3} ms', name, n.requests, n.error_rate.toFixed(3), n.p95_ms ?? '—');
  const lines = [side(t('candidate'), r.candidate), side(t('production'), r.production), t('  prediction PSI: {0}', r.prediction_psi ?? '—')];
  const a = r.accuracy;
  lines.push(t('  accuracy: candidate {0} (n={1}), production {2} (n={3}), p = {4}', a.candidate.accuracy ?? '—', a.candidate.n, a.production.accuracy ?? '—', a.production.n, a.p_value ?? '—'));
  if (r.breached.length) lines.push(t('  breached: {0}', r.breached.join(', ')));
  return lines;
}

function printStatus(io: Io, s: CanaryStatus): void {
  io.out(t('{0} of {1}@{2}: {3}', s.mode === 'shadow' ? t('Shadow') : t('Canary'), inert(s.model), s.version, stateText(s)));
  if (s.reason) io.out(t('  reason: {0}', inert(s.reason)));
  io.out(t('  plan: start {0}%, +{1}% every {2}, at least {3} requests a side per interval{4}', s.plan.percent, s.plan.step, s.plan.interval, s.plan.min_requests, s.plan.sticky_key ? t(', sticky by {0}', inert(s.plan.sticky_key)) : ''));
  if (s.last) {
    io.out(t('  last interval:'));
    for (const l of guardLines(s.last)) io.out(l);
  }
  for (const d of s.decisions.slice(-10)) io.out(`  ${new Date(d.time).toISOString().replace('T', ' ').slice(0, 19)}  ${inert(d.decision)}  ${d.share}%  ${inert(d.reason)}`);
}
