import { executeRun, ConfigNotRunnableError } from '../runs';
import { trialMetricListener, type Trial, type TrialContext, type TrialExecutor, type TrialOutcome } from './executor';

/** Runs each trial on this machine as a normal EDD run (what `edd run` does), from the trial's config text. */
export class LocalExecutor implements TrialExecutor {
  async start(trial: Trial, context: TrialContext, signal: AbortSignal): Promise<TrialOutcome> {
    try {
      const result = await executeRun({
        store: context.store,
        workspaceRoot: context.workspaceRoot,
        configPath: context.configPath,
        configText: context.configText,
        tags: context.tags,
        signal,
        onStart: run => context.onRunCreated?.(run.id),
        onEvent: trialMetricListener(context),
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
