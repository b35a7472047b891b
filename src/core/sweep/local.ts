import { executeRun } from '../runs';
import { recordTrial, trialMetricListener, type Trial, type TrialContext, type TrialExecutor, type TrialOutcome } from './executor';

/** Runs each trial on this machine as a normal EDD run (what `edd run` does), from the trial's config text. */
export class LocalExecutor implements TrialExecutor {
  start(_trial: Trial, context: TrialContext, signal: AbortSignal): Promise<TrialOutcome> {
    return recordTrial(context, () => executeRun({
      store: context.store,
      workspaceRoot: context.workspaceRoot,
      configPath: context.configPath,
      configText: context.configText,
      tags: context.tags,
      signal,
      onStart: run => context.onRunCreated?.(run.id),
      onEvent: trialMetricListener(context),
    }));
  }
}
