/**
 * How a sweep's scheduler starts one trial, whatever runs it: the local executor runs a normal EDD run
 * (`executeRun`, what `edd run` does); a cluster executor (Ray Jobs) submits it elsewhere and streams the metrics
 * protocol back into the same local store. The scheduler owns parallelism, cancel, early stopping and resume;
 * an executor only runs one trial to its end and records it as a run carrying `context.tags`.
 */
import type { RunEvent } from '../runner';
import { ConfigNotRunnableError, type ExecuteResult } from '../runs';
import type { RunStatus, RunStore } from '../store';

/** One trial of a sweep: one set of overrides with one seed. Each trial becomes exactly one run. */
export interface Trial {
  /** 0-based position in the sweep's trial list (stable for a given config: resume relies on it). */
  index: number;
  /** Values by dotted path inside `experiment` (e.g. `parameters.learning_rate`), applied over the base config. */
  overrides: Record<string, unknown>;
  /** The trial's seed: written to `experiment.random_seed` in `configText`, and the run's `seed` column. */
  seed: number;
}

/** Everything an executor needs besides the trial itself. */
export interface TrialContext {
  /** The store the trial's run is recorded in (the local one, also for remote executors). */
  store: RunStore;
  /** Absolute workspace root. */
  workspaceRoot: string;
  /** The sweep's config, workspace-relative with `/` separators. */
  configPath: string;
  /**
   * The config text to run: the base config with the trial's overrides and seed applied (it validates like any
   * config). Record it as the run's config snapshot, so the run reproduces on its own.
   */
  configText: string;
  /**
   * Tags the run must carry, all of them: `sweep_id`, `trial_index` (decimal string), `sweep_config` (= `configPath`),
   * `sweep_trial` (a digest of the overrides and seed, checked on resume), `sweep_trials` (the sweep's trial count).
   */
  tags: Record<string, string>;
  /** Called once the run record exists (before the trial's process starts). */
  onRunCreated?: (runId: string) => void;
  /**
   * Called for every metric point as it arrives (step already resolved: a point without a step gets the next step
   * of its key). The scheduler's early stopping decides from these, and aborts `signal` to stop the trial.
   */
  onMetric?: (name: string, step: number, value: number) => void;
}

/** How a trial ended, as recorded in the store. */
export interface TrialOutcome {
  /** The recorded run, or `null` when the trial could not even be recorded (e.g. the config was refused). */
  runId: string | null;
  status: RunStatus;
  /** Why it failed or stopped (a message for the user). */
  error?: string;
  /** Final value (at the highest step) of each metric. */
  finalMetrics: Record<string, number>;
}

/**
 * Runs trials. `start` resolves when the trial's run is over and saved; it rejects only for an internal error
 * (a refused config resolves with `status: 'failed'` and `runId: null` or the failed run). Aborting `signal` stops the
 * trial's process (or job) and records its run `cancelled`; `signal.reason` may be a {@link TrialStop} explaining why,
 * which the scheduler records after `start` resolves (early stopping vs. cancel). Must be safe to call for several
 * trials at once (the scheduler bounds how many).
 */
export interface TrialExecutor {
  start(trial: Trial, context: TrialContext, signal: AbortSignal): Promise<TrialOutcome>;
}

/** The reason the scheduler aborts a trial's signal with. */
export class TrialStop extends Error {
  constructor(
    readonly kind: 'cancel' | 'early-stop',
    message: string,
  ) {
    super(message);
    this.name = 'TrialStop';
  }
}

/**
 * The run-event listener every executor gives its run: passes metrics on to `context.onMetric` with the step the store
 * records (a point without a step gets its key's next step, as executeRun stores it), so early stopping compares the
 * same steps.
 */
export function trialMetricListener(context: TrialContext): (event: RunEvent) => void {
  const steps = new Map<string, number>();
  return event => {
    if (event.type !== 'metric') return;
    const step = event.step ?? (steps.get(event.name) ?? -1) + 1;
    steps.set(event.name, Math.max(step, steps.get(event.name) ?? -1));
    context.onMetric?.(event.name, step, event.value);
  };
}

/**
 * One trial's run through `execute` (executeRun, or executeRayRun), turned into a {@link TrialOutcome} the same way
 * for every executor when the trial cannot even start: a refused config fails the trial with no run; a failure after
 * the run was recorded (its data could not be read, the job could not be built) fails that run, which is marked
 * `failed` with the error if it was left `queued` or `running`. Anything else (no run was recorded) is rethrown for
 * the scheduler, which fails the trial without a run.
 */
export async function recordTrial(context: TrialContext, execute: () => Promise<ExecuteResult>): Promise<TrialOutcome> {
  const { store, tags } = context;
  // On resume the trial's earlier runs carry the same tags: only a run recorded by this attempt is this trial's.
  const before = new Set(store.listRuns({ tags }).map(r => r.id));
  try {
    const result = await execute();
    return { runId: result.run.id, status: result.run.status, ...(result.run.error ? { error: result.run.error } : {}), finalMetrics: result.finalMetrics };
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    // A trial whose config is refused (an override of the wrong type, say) fails alone; the sweep goes on.
    if (e instanceof ConfigNotRunnableError) return { runId: null, status: 'failed', error: message, finalMetrics: {} };
    const run = store.listRuns({ tags }).find(r => !before.has(r.id));
    if (!run) throw e;
    if (run.status === 'queued' || run.status === 'running') {
      store.updateRun(run.id, { status: 'failed', error: message, endedAt: Date.now() });
      await store.save();
      return { runId: run.id, status: 'failed', error: message, finalMetrics: {} };
    }
    return { runId: run.id, status: 'failed', error: run.error ?? message, finalMetrics: {} };
  }
}
