// Live logging of an `edd run` to an MLflow tracking server: the MLflow run is created when the run starts (tagged
// `edd.run_id`, recorded in the sync state as a live push), metric points go in log-batch requests at most every
// second or every 1,000 points while the training goes on, and at the end the push of that one run sends params, tags,
// the points the server does not hold yet, the config and the status. The store stays the source of truth: a server
// that does not answer never holds the run up (one quick attempt, then live logging stops for this run), and
// `edd sync mlflow --push` later sends what is missing — the sync state and the `edd.run_id` tag keep it from being
// sent twice.
import { t } from '../l10n';
import type { MetricPoint, RunRecord, RunStore } from '../store';
import { MlflowRest, type Credentials } from './rest';
import { ensureExperiment, LIMITS, metricJson, pushRuns, SyncState, syncStatePath } from './sync';

export interface LiveOptions {
  trackingUri: string;
  credentials?: Credentials;
  /** Longest wait between two batches (default 1 s). */
  intervalMs?: number;
  /** Per-request timeout while the run goes on (default 5 s): a slow server must not pile up points. */
  timeoutMs?: number;
}

export class LiveLogger {
  private readonly rest: MlflowRest;
  private mlflowRunId: string | undefined;
  private run: RunRecord | undefined;
  private queue: MetricPoint[] = [];
  private sending: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private started: Promise<void> = Promise.resolve();
  /** Why live logging stopped (the server did not answer or refused); undefined while it works. */
  problem: string | undefined;
  /** Points the server acknowledged while the run went on. */
  pointsSent = 0;

  constructor(private readonly store: RunStore, private readonly options: LiveOptions) {
    this.rest = new MlflowRest(options.trackingUri, { credentials: options.credentials, retries: 0, timeoutMs: options.timeoutMs ?? 5000 });
  }

  /** Creates the MLflow run (or finds the one a previous attempt created). Never throws: a failure stops live logging. */
  async start(run: RunRecord): Promise<void> {
    this.run = run;
    try {
      const state = new SyncState(syncStatePath(this.store.file));
      const server = state.server(this.rest.url);
      const experimentId = await ensureExperiment(this.rest, server, run.experimentId, { requests: 0 });
      const created = await this.rest.post<{ run: { info: { run_id: string } } }>('runs/create', {
        experiment_id: experimentId, start_time: run.startedAt ?? run.createdAt, run_name: `${run.experimentId}-${run.id.slice(0, 8)}`,
        tags: [{ key: 'edd.run_id', value: run.id }],
      });
      this.mlflowRunId = created.run.info.run_id;
      server.pushed[run.id] = { mlflowRunId: this.mlflowRunId, metricsSent: 0, live: true };
      state.save();
      this.timer = setInterval(() => this.kick(), this.options.intervalMs ?? 1000);
      this.timer.unref();
    } catch (e) {
      this.problem = (e as Error).message;
    }
  }

  /**
   * executeRun's `onStart` for this logger: the MLflow run is created in the background and the points that come
   * meanwhile are sent after it. With {@link onMetrics} and {@link end}, how both `edd run` and the editor's runs log.
   */
  begin(run: RunRecord): void {
    this.started = this.start(run);
  }

  /** executeRun's `onMetrics`: points just written to the store, sent once the MLflow run exists. */
  onMetrics(points: readonly MetricPoint[]): void {
    void this.started.then(() => this.add(points));
  }

  /** After executeRun returned: {@link finish} once the MLflow run is created (or failed to be). */
  async end(run: RunRecord): Promise<string | undefined> {
    await this.started;
    return this.finish(run);
  }

  /** The run never got recorded (executeRun threw): stop the timer, send nothing more. */
  abandon(): void {
    if (this.timer) clearInterval(this.timer);
    this.problem ??= 'abandoned';
  }

  /** Points just written to the store. */
  add(points: readonly MetricPoint[]): void {
    if (this.problem !== undefined || !this.mlflowRunId) return;
    this.queue.push(...points);
    if (this.queue.length >= LIMITS.metrics) this.kick();
  }

  private kick(): void {
    if (this.queue.length === 0) return;
    // one request at a time, in order; what cannot be sent stays for the push at the end (or a later sync)
    this.sending = this.sending.then(async () => {
      while (this.queue.length && this.problem === undefined) {
        const batch = this.queue.slice(0, LIMITS.metrics);
        try {
          await this.rest.post('runs/log-batch', { run_id: this.mlflowRunId, metrics: batch.map(p => metricJson(p, this.run!)) });
        } catch (e) {
          this.problem = (e as Error).message;
          return;
        }
        this.queue.splice(0, batch.length);
        this.pointsSent += batch.length;
      }
    });
  }

  /**
   * After the run is saved: pushes it (params, tags, missing points, config, status). Returns a warning when the
   * server could not be reached, undefined when the run is on the server.
   */
  async finish(run: RunRecord): Promise<string | undefined> {
    if (this.timer) clearInterval(this.timer);
    this.kick();
    await this.sending;
    if (this.problem === undefined) {
      try {
        await pushRuns(this.store, { trackingUri: this.options.trackingUri, credentials: this.options.credentials, retries: 2, only: [run.id] });
        return undefined;
      } catch (e) {
        this.problem = (e as Error).message;
      }
    }
    return t('Live logging to {0} stopped ({1}); the run is recorded here and `edd sync mlflow --push` sends it later.', this.rest.url, this.problem);
  }
}
