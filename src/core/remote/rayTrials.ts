/**
 * A sweep's trials as Ray jobs: a `TrialExecutor` (src/core/sweep/executor.ts) whose trials run on a Ray cluster and
 * are recorded in the local store like local trials.
 */
import { recordTrial, trialMetricListener, type Trial, type TrialContext, type TrialExecutor, type TrialOutcome } from '../sweep/executor';
import { executeRayRun, prepareCluster, type PreparedCluster } from './rayRun';
import { RayJobsClient } from './rayClient';

export interface RayTrialExecutorOptions {
  /** Time between two polls of each job (default 500 ms). */
  pollMs?: number;
}

/**
 * Each trial is one Ray job on the cluster at `address`; its run is recorded in the local store like a local
 * trial's. The workspace is uploaded once for all trials (the first `start`, or {@link prepare}).
 */
export class RayTrialExecutor implements TrialExecutor {
  readonly client: RayJobsClient;
  private prepared: Promise<PreparedCluster> | undefined;
  private preparedRoot: string | undefined;

  constructor(readonly address: string, private readonly options: RayTrialExecutorOptions = {}) {
    this.client = new RayJobsClient(address);
  }

  /** Check the cluster and upload the workspace; call it first to refuse an unreachable cluster before any trial. */
  prepare(workspaceRoot: string): Promise<PreparedCluster> {
    if (!this.prepared || this.preparedRoot !== workspaceRoot) {
      this.preparedRoot = workspaceRoot;
      this.prepared = prepareCluster(this.address, workspaceRoot, this.client);
      // A failed preparation is not cached: the next trial tries again.
      this.prepared.catch(() => {
        this.prepared = undefined;
      });
    }
    return this.prepared;
  }

  start(_trial: Trial, context: TrialContext, signal: AbortSignal): Promise<TrialOutcome> {
    return recordTrial(context, async () => executeRayRun({
      store: context.store,
      workspaceRoot: context.workspaceRoot,
      configPath: context.configPath,
      configText: context.configText,
      address: this.address,
      prepared: await this.prepare(context.workspaceRoot),
      tags: context.tags,
      signal,
      pollMs: this.options.pollMs,
      onStart: run => context.onRunCreated?.(run.id),
      onEvent: trialMetricListener(context),
    }));
  }
}
