/**
 * Runs on a Ray cluster: the run is recorded in the local store exactly as a local run is (`executeRun`), but its
 * training command is submitted as a Ray job. The job's log is polled and split into lines that go through the
 * same metrics-protocol parser as a local process's stdout, so metrics arrive in the store while the job runs.
 */
import * as fs from 'fs';
import * as path from 'path';
import { t } from '../l10n';
import { LineSplitter, parseStdoutLine, workspaceRelative, type ArtifactRecord, type RunCounts, type RunEvent, type RunHandle, type RunOptions, type RunOutcome, type RunStatus } from '../runner';
import { executeRun, type ExecuteOptions, type ExecuteResult } from '../runs';
import { rayEntrypoint, type WrapperSpec } from './entrypoint';
import { workspacePackage } from './package';
import { RayError, RayJobsClient, TERMINAL_STATUSES, type RayJobDetails } from './rayClient';

/** What a run on Ray records under `environment.ray`. */
export interface RayRunInfo {
  address: string;
  ray_version: string;
  submission_id: string;
  working_dir: string;
  job_status?: string;
  job_message?: string | null;
  /** The node the job's driver (the training command) ran on. */
  node_id?: string | null;
  node_address?: string | null;
}

export interface RayJobOptions {
  client: RayJobsClient;
  /** `gcs://_ray_pkg_….zip`, already uploaded. */
  packageUri: string;
  /** Ray's submission id (unique per cluster). */
  submissionId: string;
  metadata?: Record<string, string>;
  /** Time between two polls of the job's status and log (default 500 ms). */
  pollMs?: number;
  /** How long the cluster may stay unreachable while a job runs before the run is given up (default 60 s). */
  lostAfterMs?: number;
  /** Every new view of the job (status, node) while it goes on. */
  onJob?: (job: RayJobDetails) => void;
}

/** Ray's terminal job states as EDD run states. */
export function runStatusOf(status: string): RunStatus | undefined {
  if (status === 'SUCCEEDED') return 'finished';
  if (status === 'FAILED') return 'failed';
  if (status === 'STOPPED') return 'cancelled';
  return undefined;
}

/** The node's host from the driver agent address Ray reports (`http://10.0.0.5:52365`). */
export function nodeAddressOf(job: RayJobDetails): string | null {
  if (job.driver_info?.node_ip_address) return job.driver_info.node_ip_address;
  if (!job.driver_agent_http_address) return null;
  try {
    return new URL(job.driver_agent_http_address).hostname;
  } catch {
    return null;
  }
}

/**
 * A `start` for {@link executeRun} that submits `options.command` as a Ray job instead of spawning it. Same events,
 * same outcome shape; `cancel` stops the job (`POST /api/jobs/{id}/stop`). Artifacts stay on the node: they are
 * recorded by path, without a hash, with a warning saying so.
 */
export function startRayJob(ray: RayJobOptions, o: RunOptions): RunHandle {
  const root = path.resolve(o.workspaceRoot);
  const rel = (p: string) => workspaceRelative(root, path.resolve(root, p));
  const files: Record<string, string> = {};
  const paths: Record<string, string> = {};
  const env: Record<string, string> = { PYTHONUNBUFFERED: '1', PYTHONIOENCODING: 'utf-8' };
  for (const [k, v] of Object.entries(o.env ?? {})) env[k] = String(v);
  // Files the run reads that exist only on this machine (the config snapshot and its JSON form, kept under
  // .edd/ which is not shipped) are sent with the job and written by the wrapper before the command starts.
  const shipFile = (key: string, local: string) => {
    const r = rel(local);
    files[r] = fs.readFileSync(path.resolve(root, local), 'utf8');
    paths[key] = r;
    delete env[key];
  };
  if (o.configPath !== undefined) shipFile('EDD_CONFIG', o.configPath);
  if (env.EDD_CONFIG_JSON !== undefined && path.isAbsolute(env.EDD_CONFIG_JSON)) shipFile('EDD_CONFIG_JSON', env.EDD_CONFIG_JSON);
  paths.EDD_METRICS_FILE = rel(o.metricsFile);
  paths.EDD_ARTIFACT_DIR = rel(o.artifactDir);
  const spec: WrapperSpec = { cwd: o.cwd === undefined ? '.' : rel(o.cwd), files, paths, metricsFile: paths.EDD_METRICS_FILE, artifactDir: paths.EDD_ARTIFACT_DIR };
  env.EDD_RUN_ID = o.runId;
  env.EDD_RAY_SPEC = JSON.stringify(spec);
  return new RayJob(ray, o, {
    entrypoint: rayEntrypoint(o.command),
    submission_id: ray.submissionId,
    runtime_env: { working_dir: ray.packageUri, env_vars: env },
    metadata: { ...ray.metadata, edd_run_id: o.runId },
  }).handle;
}

class RayJob {
  readonly handle: RunHandle;
  private resolveDone!: (o: RunOutcome) => void;
  private cancelled = false;
  private timedOut = false;
  private submitted = false;
  private stopSent = false;
  private wake: (() => void) | undefined;
  private readonly started = Date.now();
  private readonly tail: string[] = [];
  private readonly counts: RunCounts = { metrics: 0, params: 0, artifacts: 0, progress: 0, protocolErrors: 0, logLines: 0 };
  private readonly artifacts = new Map<string, ArtifactRecord>();
  private readonly splitter: LineSplitter;
  private readonly log: fs.WriteStream | undefined;
  private offset = 0;
  private lastLogRead = 0;

  constructor(
    private readonly ray: RayJobOptions,
    private readonly o: RunOptions,
    private readonly request: Parameters<RayJobsClient['submitJob']>[0],
  ) {
    const done = new Promise<RunOutcome>(resolve => (this.resolveDone = resolve));
    this.handle = { pid: undefined, cancel: () => this.cancel(), done };
    this.splitter = new LineSplitter(line => this.onLine(line.text, line.line, line.truncated), { maxLineBytes: o.maxLineBytes, splitOnCR: true });
    if (o.logFile) {
      const logFile = path.resolve(o.workspaceRoot, o.logFile);
      fs.mkdirSync(path.dirname(logFile), { recursive: true });
      this.log = fs.createWriteStream(logFile);
    }
    void this.run();
  }

  private emit(event: RunEvent): void {
    try {
      this.o.onEvent?.(event);
    } catch {
      // Same contract as the local runner: a listener's exception does not stop the run.
    }
  }

  private onLine(text: string, line: number, truncated: boolean): void {
    const time = Date.now();
    const event = parseStdoutLine(text, line, time);
    if (event === undefined) {
      this.counts.logLines++;
      this.log?.write(text + '\n');
      this.tail.push(text);
      if (this.tail.length > (this.o.logTailLines ?? 20)) this.tail.shift();
      this.emit({ type: 'log', stream: 'stdout', text, line, time, ...(truncated ? { truncated } : {}) });
      return;
    }
    if (event.type === 'metric') this.counts.metrics++;
    else if (event.type === 'param') this.counts.params++;
    else if (event.type === 'progress') this.counts.progress++;
    else if (event.type === 'protocol-error') this.counts.protocolErrors++;
    else if (event.type === 'artifact') {
      this.counts.artifacts++;
      this.artifacts.set(event.path, {
        path: event.path,
        absolutePath: event.path,
        ...(event.kind !== undefined ? { kind: event.kind } : {}),
        error: t('left on the Ray node (not copied back): no hash'),
      });
    }
    this.emit(event);
  }

  private cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.wake?.();
  }

  private async sleep(ms: number): Promise<void> {
    await new Promise<void>(resolve => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.wake = undefined;
  }

  /** New complete lines of the job's log (Ray has no offset parameter: the whole log is fetched, the seen part skipped). */
  private async readLog(final: boolean): Promise<void> {
    const logs = await this.ray.client.getLogs(this.ray.submissionId);
    if (logs.length < this.offset) return;
    // Only whole lines: a line still being written (or a UTF-8 character cut at the end of the file) is read next time.
    const end = final ? logs.length : logs.lastIndexOf('\n') + 1;
    if (end > this.offset) {
      this.splitter.push(logs.slice(this.offset, end));
      this.offset = end;
    }
    if (final) this.splitter.end();
  }

  private async stop(): Promise<void> {
    if (this.stopSent || !this.submitted) return;
    this.stopSent = true;
    try {
      await this.ray.client.stopJob(this.ray.submissionId);
    } catch {
      // Retried on the next poll.
      this.stopSent = false;
    }
  }

  private async run(): Promise<void> {
    const client = this.ray.client;
    const pollMs = this.ray.pollMs ?? 500;
    const lostAfterMs = this.ray.lostAfterMs ?? 60_000;
    let job: RayJobDetails | undefined;
    let error: string | undefined;
    let errorCode: RunOutcome['errorCode'];
    try {
      try {
        await client.submitJob(this.request);
        this.submitted = true;
      } catch (e) {
        error = t('Ray refused the job: {0}', (e as Error).message);
        errorCode = 'spawn-failed';
        return;
      }
      const deadline = this.o.timeoutS === undefined ? Infinity : this.started + this.o.timeoutS * 1000;
      let lastContact = Date.now();
      let lastStatus = '';
      for (;;) {
        if (this.cancelled) await this.stop();
        if (Date.now() > deadline && !this.timedOut) {
          this.timedOut = true;
          await this.stop();
        }
        try {
          job = await client.getJob(this.ray.submissionId);
          const terminal = TERMINAL_STATUSES.has(job.status);
          // Each read fetches the whole log: past 1 MB it is read less often, in proportion to its size, so a chatty
          // job costs about 1 MB per poll interval instead of a growing multiple of it. The last read is never skipped.
          const every = Math.min(20_000, pollMs * Math.max(1, this.offset / 1_048_576));
          if (terminal || Date.now() - this.lastLogRead >= every) {
            this.lastLogRead = Date.now();
            await this.readLog(terminal);
          }
          lastContact = Date.now();
          const view = `${job.status} ${job.driver_node_id ?? ''}`;
          if (view !== lastStatus) {
            lastStatus = view;
            this.ray.onJob?.(job);
          }
          if (terminal) break;
        } catch (e) {
          // A busy dashboard may answer 5xx or time out for a while; a 4xx (the job is gone) will not get better.
          const lasting = !(e instanceof RayError) || (e.kind === 'http' && (e.status ?? 0) < 500) || e.kind === 'bad-answer';
          if (lasting || Date.now() - lastContact > lostAfterMs) {
            error = t('Lost contact with the Ray job {0}: {1}. The job may still be running on the cluster: stop it with `ray job stop {0}`.', this.ray.submissionId, (e as Error).message);
            errorCode = 'internal';
            return;
          }
        }
        await this.sleep(pollMs);
      }
    } finally {
      this.finish(job, error, errorCode);
    }
  }

  private finish(job: RayJobDetails | undefined, error: string | undefined, errorCode: RunOutcome['errorCode']): void {
    const ended = job?.end_time ?? Date.now();
    const begun = job?.start_time ?? this.started;
    const withTail = (msg: string) => (this.tail.length > 0 ? t('{0}; last output:\n{1}', msg, this.tail.join('\n')) : msg);
    let status: RunStatus = 'failed';
    if (error === undefined && job) {
      const mapped = runStatusOf(job.status) ?? 'failed';
      if (this.timedOut) {
        error = t('timed out after {0} s (the Ray job was stopped)', this.o.timeoutS ?? 0);
        errorCode = 'timeout';
      } else if (mapped === 'cancelled' && !this.cancelled) {
        // Stopped by someone else (the dashboard, `ray job stop`): EDD did not cancel it, so it did not finish.
        error = t('the Ray job was stopped outside EDD: {0}', job.message ?? '');
        errorCode = 'signal';
      } else if (mapped === 'failed') {
        error = withTail(t('the Ray job failed: {0}', job.message ?? job.error_type ?? ''));
        errorCode = job.driver_exit_code ? 'exit-code' : 'spawn-failed';
      }
      status = error === undefined ? mapped : 'failed';
    }
    const finalize = () =>
      this.resolveDone({
        status,
        exitCode: job?.driver_exit_code ?? null,
        signal: null,
        durationMs: Math.max(0, ended - begun),
        peakMemoryBytes: undefined,
        pid: undefined,
        startedAt: new Date(begun).toISOString(),
        endedAt: new Date(ended).toISOString(),
        artifacts: [...this.artifacts.values()],
        logTail: [...this.tail],
        counts: { ...this.counts },
        ...(error !== undefined ? { error } : {}),
        ...(errorCode !== undefined && error !== undefined ? { errorCode } : {}),
      });
    if (this.log) this.log.end(finalize);
    else finalize();
  }
}

export interface RayRunOptions extends Omit<ExecuteOptions, 'start'> {
  /** The Ray dashboard's URL, e.g. `http://127.0.0.1:8265`. */
  address: string;
  /** Tags recorded on the run (e.g. a sweep's id and trial index). */
  tags?: Record<string, string>;
  pollMs?: number;
  /** A client to reuse (several trials on one cluster); default: one for `address`. */
  client?: RayJobsClient;
  /** The working-directory package, when already uploaded (a sweep uploads the workspace once). */
  prepared?: PreparedCluster;
}

export interface PreparedCluster {
  client: RayJobsClient;
  rayVersion: string;
  packageUri: string;
}

/**
 * Check the cluster and upload the workspace once (skipped when Ray already has the same package). Throws a
 * {@link RayError} (unreachable, refused) before any run is recorded.
 */
export async function prepareCluster(address: string, workspaceRoot: string, client = new RayJobsClient(address)): Promise<PreparedCluster> {
  const { ray_version } = await client.version();
  const pkg = await workspacePackage(workspaceRoot);
  if (!(await client.packageExists(pkg.uri))) await client.uploadPackage(pkg.uri, pkg.zip);
  return { client, rayVersion: ray_version, packageUri: pkg.uri };
}

/** A submission id Ray accepts and a person can trace back: `edd-<run id>-<random>` (Ray keeps ids forever). */
function submissionIdFor(runId: string): string {
  return `edd-${runId}-${Math.random().toString(36).slice(2, 8)}`;
}

/**
 * `executeRun` on a Ray cluster. The run's environment gets `ray`: the cluster address, Ray's version, the job's
 * submission id and working-directory package, and once the job has started, the node it runs on.
 */
export async function executeRayRun(options: RayRunOptions): Promise<ExecuteResult> {
  const prepared = options.prepared ?? (await prepareCluster(options.address, options.workspaceRoot, options.client));
  const { store } = options;
  let runId: string | undefined;
  let info: RayRunInfo | undefined;
  const record = () => {
    if (!runId || !info) return;
    const run = store.getRun(runId);
    if (!run) return;
    store.updateRun(runId, { environment: { ...(run.environment ?? {}), ray: { ...info } } });
    store.scheduleSave();
  };
  const result = await executeRun({
    ...options,
    onStart: (run, spec) => {
      runId = run.id;
      if (options.tags && Object.keys(options.tags).length) store.updateRun(run.id, { tags: { ...run.tags, ...options.tags } });
      record();
      options.onStart?.(run, spec);
    },
    start: runOptions => {
      const submissionId = submissionIdFor(runOptions.runId);
      runId = runOptions.runId;
      info = { address: prepared.client.address, ray_version: prepared.rayVersion, submission_id: submissionId, working_dir: prepared.packageUri };
      return startRayJob(
        {
          client: prepared.client,
          packageUri: prepared.packageUri,
          submissionId,
          pollMs: options.pollMs,
          onJob: job => {
            info = { ...info!, job_status: job.status, job_message: job.message, node_id: job.driver_node_id ?? null, node_address: nodeAddressOf(job) };
            record();
          },
        },
        runOptions,
      );
    },
  });
  record();
  await store.save();
  return { ...result, run: store.getRun(result.run.id) ?? result.run };
}
