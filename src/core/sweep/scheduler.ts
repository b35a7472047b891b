import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { t } from '../l10n';
import { readRunSpec } from '../runs';
import type { RunStore, RunSummary } from '../store';
import { TrialStop, type Trial, type TrialExecutor, type TrialOutcome } from './executor';
import { expandTrials, readSweepSpec, type SweepSpec } from './spec';
import { sweepIdOf, trialConfigText } from './trialConfig';

/** Tag keys every trial's run carries (the comparison and the Experiments view group by them). */
export const SWEEP_TAGS = { id: 'sweep_id', trial: 'trial_index', config: 'sweep_config', stopped: 'sweep_stopped', digest: 'sweep_trial', total: 'sweep_trials' } as const;

/** A short digest of what a trial runs (overrides and seed): resume checks that trial i is still the same trial. */
export function trialDigest(trial: Trial): string {
  return createHash('sha256').update(JSON.stringify([trial.overrides, trial.seed])).digest('hex').slice(0, 12);
}

/** What a sweep reports while it goes on. */
export type SweepEvent =
  | { type: 'start'; sweepId: string; total: number; skipped: number; parallel: number }
  | { type: 'trial-start'; trial: Trial; runId: string }
  | { type: 'trial-end'; trial: Trial; outcome: TrialOutcome; stoppedEarly: boolean };

export interface SweepOptions {
  store: RunStore;
  /** Absolute workspace root. */
  workspaceRoot: string;
  /** The config file (absolute, or relative to the workspace root). */
  configPath: string;
  executor: TrialExecutor;
  /** Trials running at once; default the sweep's `max_parallel`, else 1. */
  parallel?: number;
  /** Continue this sweep: trials whose run finished (or was stopped early) are skipped. */
  resume?: string;
  /** Aborting cancels the sweep: no new trial starts, running ones are stopped and recorded `cancelled`. */
  signal?: AbortSignal;
  /** The sweep's start time (names a new sweep); default now. */
  now?: Date;
  onEvent?: (event: SweepEvent) => void;
}

export interface SweepResult {
  sweepId: string;
  total: number;
  /** Trials already done in an earlier session (resume). */
  skipped: number;
  /** How this session's trials ended, by trial index. */
  outcomes: Map<number, TrialOutcome & { stoppedEarly: boolean }>;
  cancelled: boolean;
}

/** The sweep cannot start (unknown sweep id to resume, a sweep of another config): a usage error. */
export class SweepError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SweepError';
  }
}

/** The config's sweep, read and validated (a config with errors is refused as `edd run` refuses it). */
export async function loadSweep(workspaceRoot: string, configPath: string): Promise<{ configRel: string; text: string; spec: SweepSpec; trials: Trial[] }> {
  const abs = path.resolve(workspaceRoot, configPath);
  const configRel = path.relative(workspaceRoot, abs).split(path.sep).join('/');
  const text = await fs.promises.readFile(abs, 'utf8');
  const { config } = readRunSpec(text, configRel, workspaceRoot);
  const spec = readSweepSpec(config);
  return { configRel, text, spec, trials: expandTrials(spec) };
}

/** Runs of a sweep, newest first. */
export function sweepRuns(store: RunStore, sweepId: string): RunSummary[] {
  return store.listRuns({ tags: { [SWEEP_TAGS.id]: sweepId } });
}

/** A trial counts as done once its run finished or was stopped by the early-stopping rule; anything else reruns. */
export function isTrialDone(run: Pick<RunSummary, 'status' | 'tags'>): boolean {
  return run.status === 'finished' || (run.status === 'cancelled' && run.tags[SWEEP_TAGS.stopped] !== undefined);
}

/** A sweep's progress as the store records it: trials done, runs going on, trials whose last run failed. */
export interface SweepProgress {
  done: number;
  running: number;
  failed: number;
  cancelled: number;
  /** The sweep's number of trials (its runs' `sweep_trials` tag); null for runs recorded before the tag existed. */
  total: number | null;
}

/**
 * Progress of a sweep from its runs (any order). A trial counts once, by its best outcome: a trial that failed and
 * then finished on resume is done, not failed.
 */
export function sweepProgress(runs: readonly Pick<RunSummary, 'status' | 'tags'>[]): SweepProgress {
  const rank = (r: Pick<RunSummary, 'status' | 'tags'>) => (isTrialDone(r) ? 4 : r.status === 'running' || r.status === 'queued' ? 3 : r.status === 'cancelled' ? 1 : 2);
  const best = new Map<string, Pick<RunSummary, 'status' | 'tags'>>();
  for (const r of runs) {
    const key = r.tags[SWEEP_TAGS.trial] ?? '';
    const had = best.get(key);
    if (!had || rank(r) > rank(had)) best.set(key, r);
  }
  // A resumed sweep whose config gained trials tags its new runs with the larger count: the largest is the sweep's.
  const totals = runs.map(r => Number(r.tags[SWEEP_TAGS.total])).filter(n => Number.isSafeInteger(n) && n > 0);
  const p: SweepProgress = { done: 0, running: 0, failed: 0, cancelled: 0, total: totals.length ? Math.max(...totals) : null };
  for (const r of best.values()) {
    const k = rank(r);
    if (k === 4) p.done++;
    else if (k === 3) p.running++;
    else if (k === 1) p.cancelled++;
    else p.failed++;
  }
  return p;
}

/**
 * Run a sweep: every trial of the config's `sweep:` block as a run tagged with the sweep id, the trial index and the
 * config, at most `parallel` at a time. The store is the record: resuming reads which trials are done from it.
 */
export async function runSweep(options: SweepOptions): Promise<SweepResult> {
  const { store, workspaceRoot, executor, signal } = options;
  const { configRel, text, spec, trials } = await loadSweep(workspaceRoot, options.configPath);
  let sweepId: string;
  const done = new Set<number>();
  const stopper = spec.earlyTerminate && spec.metric ? new MedianStopper(spec.metric.name, spec.metric.goal, spec.earlyTerminate.minSteps) : undefined;
  if (options.resume !== undefined) {
    sweepId = options.resume;
    const runs = sweepRuns(store, sweepId);
    if (runs.length === 0) throw new SweepError(t('No runs of sweep {0} in the store: check the id (`edd runs --json` shows each run\'s sweep_id).', sweepId));
    const other = runs.find(r => r.tags[SWEEP_TAGS.config] !== configRel);
    if (other) throw new SweepError(t('Sweep {0} ran {1}, not {2}: resume it with that config.', sweepId, other.tags[SWEEP_TAGS.config] ?? '?', configRel));
    for (const r of runs) {
      const index = Number(r.tags[SWEEP_TAGS.trial]);
      const digest = r.tags[SWEEP_TAGS.digest];
      // The trials come from today's config: if trial i no longer runs what it ran, resuming would mix two sweeps.
      if (digest !== undefined && trials[index] !== undefined && trialDigest(trials[index]) !== digest) {
        throw new SweepError(t('{0} changed since sweep {1} started (trial {2} now has other values): start a new sweep instead of resuming this one.', configRel, sweepId, index));
      }
      if (isTrialDone(r)) {
        done.add(index);
        // The earlier session's trials are the yardstick too: without their histories, the first trials of a resumed
        // sweep would be judged against nobody (or against each other only).
        if (stopper) {
          const curve = store.getCurve(r.id, stopper.metric);
          for (let i = 0; i < curve.steps.length; i++) stopper.record(index, curve.steps[i], curve.values[i]);
        }
      }
    }
  } else {
    sweepId = sweepIdOf(configRel, options.now ?? new Date());
  }
  const parallel = Math.max(1, options.parallel ?? spec.maxParallel ?? 1);
  const queue = trials.filter(tr => !done.has(tr.index));
  const skipped = trials.length - queue.length;
  options.onEvent?.({ type: 'start', sweepId, total: trials.length, skipped, parallel });

  const outcomes: SweepResult['outcomes'] = new Map();
  const running = new Map<number, AbortController>();
  const cancelAll = () => {
    for (const c of running.values()) c.abort(new TrialStop('cancel', t('The sweep was cancelled.')));
  };
  signal?.addEventListener('abort', cancelAll, { once: true });

  const runOne = async (trial: Trial) => {
    const controller = new AbortController();
    running.set(trial.index, controller);
    const tags = {
      [SWEEP_TAGS.id]: sweepId, [SWEEP_TAGS.trial]: String(trial.index), [SWEEP_TAGS.config]: configRel, [SWEEP_TAGS.digest]: trialDigest(trial),
      // The sweep's size travels with every run: the Experiments view shows "of N" from the store alone.
      [SWEEP_TAGS.total]: String(trials.length),
    };
    let outcome: TrialOutcome;
    try {
      outcome = await executor.start(trial, {
        store, workspaceRoot, configPath: configRel, configText: trialConfigText(text, trial), tags,
        onRunCreated: runId => options.onEvent?.({ type: 'trial-start', trial, runId }),
        onMetric: stopper && ((name, step, value) => {
          const why = stopper.observe(trial.index, name, step, value);
          if (why !== undefined && !controller.signal.aborted) controller.abort(new TrialStop('early-stop', why));
        }),
      }, controller.signal);
    } catch (e) {
      // An executor's own failure fails this trial only: the others keep running and are recorded as usual.
      outcome = { runId: null, status: 'failed', error: e instanceof Error ? e.message : String(e), finalMetrics: {} };
    } finally {
      running.delete(trial.index);
    }
    const reason = controller.signal.reason;
    const stoppedEarly = reason instanceof TrialStop && reason.kind === 'early-stop' && outcome.status === 'cancelled';
    if (stoppedEarly && outcome.runId !== null) {
      const run = store.getRun(outcome.runId);
      store.updateRun(outcome.runId, { tags: { ...(run?.tags ?? tags), [SWEEP_TAGS.stopped]: 'median' }, error: reason.message });
      await store.save();
      outcome = { ...outcome, error: reason.message };
    }
    outcomes.set(trial.index, { ...outcome, stoppedEarly });
    options.onEvent?.({ type: 'trial-end', trial, outcome, stoppedEarly });
  };

  let next = 0;
  const worker = async () => {
    while (next < queue.length && !signal?.aborted) await runOne(queue[next++]);
  };
  try {
    await Promise.all(Array.from({ length: Math.min(parallel, queue.length) }, worker));
  } finally {
    signal?.removeEventListener('abort', cancelAll);
  }
  return { sweepId, total: trials.length, skipped, outcomes, cancelled: signal?.aborted === true };
}

/** Six significant digits: enough to read a metric, without binary noise such as 0.8500000000000001. */
const round = (x: number) => Number(x.toPrecision(6));

/**
 * The median stopping rule: a trial whose metric at step s ≥ `minSteps` is worse than the median of the other
 * trials' values at step s is stopped. Needs at least two other trials with a value at that step, so the first
 * trials of a sweep are never judged against a single one.
 */
export class MedianStopper {
  private readonly byStep = new Map<number, Map<number, number>>();

  constructor(
    readonly metric: string,
    private readonly goal: 'maximize' | 'minimize',
    private readonly minSteps: number,
  ) {}

  /** Record a point of `trial`'s metric without judging it (an earlier session's trial, on resume). */
  record(trial: number, step: number, value: number): void {
    if (!Number.isFinite(value)) return;
    let at = this.byStep.get(step);
    if (!at) this.byStep.set(step, (at = new Map()));
    at.set(trial, value);
  }

  /** Record a point; returns why the trial should stop, or `undefined`. */
  observe(trial: number, name: string, step: number, value: number): string | undefined {
    if (name !== this.metric || !Number.isFinite(value)) return undefined;
    this.record(trial, step, value);
    if (step < this.minSteps) return undefined;
    const at = this.byStep.get(step)!;
    const others = [...at].filter(([k]) => k !== trial).map(([, v]) => v).sort((a, b) => a - b);
    if (others.length < 2) return undefined;
    const mid = others.length / 2;
    const median = others.length % 2 ? others[Math.floor(mid)] : (others[mid - 1] + others[mid]) / 2;
    const worse = this.goal === 'maximize' ? value < median : value > median;
    return worse
      ? t('Stopped early (median rule): {0} = {1} at step {2} is worse than the median {3} of {4} other trials.', this.metric, round(value), step, round(median), others.length)
      : undefined;
  }
}
