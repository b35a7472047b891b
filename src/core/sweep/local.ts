import { executeRun, ConfigNotRunnableError } from '../runs';
import type { Trial, TrialContext, TrialExecutor, TrialOutcome } from './executor';

/** Runs each trial on this machine as a normal EDD run (what `edd run` does), from the trial's config text. */
export class LocalExecutor implements TrialExecutor {
  async start(trial: Trial, context: TrialContext, signal: AbortSignal): Promise<TrialOutcome> {
    // executeRun resolves a point without a step to its key's next step when it stores it; do the same here so
    // early stopping compares the steps the store records.
    const steps = new Map<string, number>();
    try {
      const result = await executeRun({
        store: context.store,
        workspaceRoot: context.workspaceRoot,
        configPath: context.configPath,
        configText: context.configText,
        tags: context.tags,
        signal,
        onStart: run => context.onRunCreated?.(run.id),
        onEvent: event => {
          if (event.type !== 'metric') return;
          const step = event.step ?? (steps.get(event.name) ?? -1) + 1;
          steps.set(event.name, Math.max(step, steps.get(event.name) ?? -1));
          context.onMetric?.(event.name, step, event.value);
        },
      });
      return { runId: result.run.id, status: result.run.status, error: result.run.error ?? undefined, finalMetrics: result.finalMetrics };
    } catch (e) {
      // A trial whose config is refused (an override of the wrong type, say) fails alone; the sweep goes on.
      if (e instanceof ConfigNotRunnableError) return { runId: null, status: 'failed', error: e.message, finalMetrics: {} };
      const failed = context.store.listRuns({ tags: context.tags, limit: 1 })[0];
      if (failed && failed.status === 'failed') return { runId: failed.id, status: 'failed', error: failed.error ?? (e as Error).message, finalMetrics: {} };
      throw e;
    }
  }
}
