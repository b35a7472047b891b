import { randomUUID } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { t } from '../l10n';
import { captureEnvironment, datasetFingerprint, startRun, RunRefusedError, type EnvironmentInfo, type RunEvent, type RunHandle, type RunOptions, type RunOutcome } from '../runner';
import type { MetricPoint, NewRun, RunRecord, RunStore } from '../store';
import type { RunRecorder } from '../store/quickStore';
import { onnxProblem } from './onnx';
import { removeLaunchRecord, writeLaunchRecord } from './launch';
import { currentOwner } from './recover';
import { ConfigNotRunnableError, readRunSpec, type RunSpec } from './spec';

/** Where a run's files live, relative to the workspace root. */
export function runFolder(runId: string): string {
  return path.join('.edd', 'runs', runId);
}

export interface ExecuteOptions {
  store: RunStore;
  /** Absolute workspace root: `run.cwd`, artifacts and `.edd/` are resolved against it. */
  workspaceRoot: string;
  /** The config file (absolute, or relative to the workspace root). */
  configPath: string;
  /** The config's text; default: read from `configPath`. Reproductions pass the stored snapshot. */
  configText?: string;
  /** Every runner event (metrics, params, progress, log lines, protocol errors), in order. */
  onEvent?: (event: RunEvent) => void;
  /** Called once the run record exists and the process is about to start. */
  onStart?: (run: RunRecord, spec: RunSpec) => void;
  /** Aborting cancels the run (the whole process tree is stopped; the run is recorded `cancelled`). */
  signal?: AbortSignal;
  /** Extra params to record (e.g. `reproduces: <run id>`). */
  extraParams?: Record<string, unknown>;
  /** Tags of the run (a sweep's trials carry `sweep_id`, `trial_index`, `sweep_config`). */
  tags?: Record<string, string>;
  /** How often metric points are written to the store while the run goes on (default 250 ms). */
  flushMs?: number;
  /** Each batch of metric points once it is in the store (live logging to a tracking server sends them on). */
  onMetrics?: (points: readonly MetricPoint[]) => void;
  /** What starts the training (default: {@link startRun}, a local process; the Ray executor submits a job instead). */
  start?: (options: RunOptions) => RunHandle;
}

export interface ExecuteResult {
  run: RunRecord;
  outcome: RunOutcome;
  spec: RunSpec;
  /** Final value (at the highest step) of each metric. */
  finalMetrics: Record<string, number>;
  /** Protocol lines the runner could not read (shown to the user as warnings). */
  protocolErrors: string[];
  /** Artifacts not hashed (and why), links not followed, a `model` that is not an ONNX model: shown as warnings. */
  warnings: string[];
}

/**
 * A store that is opened only once the training has started (`edd run`: opening it, ~50 ms of sql.js, is then spent
 * while the training starts up). `file` is where it is, for the launch record that stands in for the run meanwhile.
 */
export interface StoreToOpen {
  file: string;
  /** Opens the store (called once; also when the config is bad, so that a store that cannot be opened is reported first). */
  openStore: () => Promise<RunStore>;
  /**
   * A recorder that appends to the store's log without SQLite (QuickRunStore), or undefined when the store does not
   * allow it: used for a training that is over within FIRST_SAVE_DELAY_MS.
   */
  openQuick?: () => Promise<RunRecorder | undefined>;
}

/** How long a run whose training started before its store was open waits for its first save (see executeRun). */
const FIRST_SAVE_DELAY_MS = 200;

function isStoreToOpen(store: RunStore | StoreToOpen): store is StoreToOpen {
  return typeof (store as StoreToOpen).openStore === 'function';
}

/**
 * Run one experiment config and record everything in the store: the config snapshot and params, the environment,
 * the data fingerprint, metrics per step (written in batches while the run goes on), artifacts with their hashes,
 * the log, and the outcome. Resolves when the run is over and saved; rejects only when the config cannot be run
 * (invalid, no command, refused paths) — in that case no run is recorded, or it is recorded `failed` with the reason
 * when the failure happened after the record was created.
 *
 * With a {@link StoreToOpen}, the training starts before the store is open: the run is first written as a launch
 * record beside the store file (see `writeLaunchRecord`: if this process dies before the run is in the store, the next
 * process that opens the store stops the training and records the run `interrupted`), the training's events wait in
 * memory, and the run is recorded `running` with them once the store is open (saved a moment later, unless the
 * training is over by then). A config that fails validation starts nothing. A store that cannot be opened, or a run
 * that cannot be saved, stops the training and is the error.
 */
export async function executeRun(options: Omit<ExecuteOptions, 'store'> & { store: RunStore | StoreToOpen }): Promise<ExecuteResult> {
  const { workspaceRoot } = options;
  const toOpen = isStoreToOpen(options.store) ? options.store : undefined;
  let store: RunRecorder | undefined = isStoreToOpen(options.store) ? undefined : options.store;
  const configAbs = path.resolve(workspaceRoot, options.configPath);
  const configRel = path.relative(workspaceRoot, configAbs).split(path.sep).join('/');
  let text: string;
  let spec: RunSpec;
  try {
    text = options.configText ?? (await fs.promises.readFile(configAbs, 'utf8'));
    spec = readRunSpec(text, configRel, workspaceRoot);
  } catch (e) {
    // A store that cannot be opened is reported first, as when it was opened before the config was read.
    await toOpen?.openStore();
    throw e;
  }
  // What the run records about its environment (git, the data's fingerprint) is gathered while the run folder is
  // written (and, from the editor, the store opened before): the git calls are child processes.
  const prepared = Promise.all([
    captureEnvironment({ workspaceRoot, command: spec.command, cwd: spec.cwd }),
    spec.dataFiles.length ? datasetFingerprint(spec.dataFiles, workspaceRoot).then(f => f.sha256) : null,
  ]);
  prepared.catch(() => undefined); // reported below, once the run that failed to prepare is recorded

  const experiment = { id: spec.experimentId, name: spec.name, hypothesis: spec.hypothesis, configPath: configRel };
  const newRun: NewRun = {
    experimentId: spec.experimentId,
    configPath: configRel,
    configSnapshot: text,
    params: { ...spec.params, ...options.extraParams },
    status: 'queued',
    seed: spec.seed,
    tags: options.tags ?? {},
    // Who records the run: if this process dies, the next one to open the store marks the run interrupted.
    ...currentOwner(),
  };
  let runId: string;
  if (store) {
    store.upsertExperiment(experiment);
    runId = store.createRun(newRun).id;
  } else {
    runId = randomUUID();
  }
  const folder = runFolder(runId);
  const logPath = path.join(folder, 'run.log').split(path.sep).join('/');
  // The runner reads the config from a file: reproductions run their snapshot, not today's file.
  let runConfigPath = configAbs;
  if (options.configText !== undefined) {
    runConfigPath = path.join(workspaceRoot, folder, 'config.yaml');
    await fs.promises.mkdir(path.dirname(runConfigPath), { recursive: true });
    await fs.promises.writeFile(runConfigPath, text);
  }

  // The config as JSON for the run ($EDD_CONFIG_JSON): Python's standard library reads JSON, not YAML.
  const configJson = path.join(workspaceRoot, folder, 'config.json');
  await fs.promises.mkdir(path.dirname(configJson), { recursive: true });
  await fs.promises.writeFile(configJson, JSON.stringify(spec.config, null, 2) + '\n');

  let launchRecord: string | undefined;
  // Recorded `failed` with the reason; the error is a ConfigNotRunnableError when the config asked for what cannot be
  // run (a `run.cwd` that does not exist, an empty command: what the runner refuses before it spawns anything).
  const fail = async (message: string, refused = false): Promise<never> => {
    if (store) {
      store.updateRun(runId, { status: 'failed', error: message, endedAt: Date.now() });
    } else {
      store = await toOpen!.openStore();
      store.upsertExperiment(experiment);
      store.createRun({ ...newRun, id: runId, status: 'failed', error: message, endedAt: Date.now() });
    }
    await store.save();
    if (launchRecord) await removeLaunchRecord(launchRecord);
    throw refused ? new ConfigNotRunnableError(t('{0} cannot be run: {1}', configRel, message)) : new Error(message);
  };

  let environment: EnvironmentInfo;
  let fingerprint: string | null = null;
  try {
    [environment, fingerprint] = await prepared;
  } catch (e) {
    return fail(t('Could not prepare the run: {0}', (e as Error).message));
  }

  const started = Date.now();
  const runningFields = {
    status: 'running' as const,
    startedAt: started,
    gitCommit: environment.git?.commit ?? null,
    gitDirty: environment.git ? environment.git.dirty : null,
    environment: environment as unknown as Record<string, unknown>,
    datasetFingerprint: fingerprint,
    logPath,
  };
  if (store) {
    store.updateRun(runId, runningFields);
    await store.save();
  } else {
    launchRecord = await writeLaunchRecord(toOpen!.file, { experiment, run: { ...newRun, ...runningFields, id: runId, ownerPid: newRun.ownerPid!, ownerStartTime: newRun.ownerStartTime ?? null, ownerHost: newRun.ownerHost ?? null } });
  }

  // Metric points are buffered and written in one transaction per flush: a flood of lines stays cheap.
  let pending: MetricPoint[] = [];
  const params: Record<string, unknown> = {};
  const steps = new Map<string, number>();
  const protocolErrors: string[] = [];
  const flush = () => {
    if (pending.length) {
      store!.addMetrics(pending);
      options.onMetrics?.(pending);
      pending = [];
      store!.scheduleSave();
    }
  };
  const onEvent = (event: RunEvent) => {
    if (event.type === 'metric') {
      // A point without a step gets the next step of its key.
      const step = event.step ?? (steps.get(event.name) ?? -1) + 1;
      steps.set(event.name, Math.max(step, steps.get(event.name) ?? -1));
      // the time is fixed here, not by the store at the flush, so a live copy sent elsewhere carries the same time
      pending.push({ runId, key: event.name, step, value: event.value, time: event.time ?? Date.now() });
      if (pending.length >= 5000) flush();
    } else if (event.type === 'param') {
      params[event.name] = event.value;
    } else if (event.type === 'protocol-error') {
      protocolErrors.push(`${event.source}:${event.line} ${event.message}`);
    }
    options.onEvent?.(event);
  };
  // Until the run is in the store, the training's events wait here, in order.
  let waiting: RunEvent[] | undefined = store ? undefined : [];

  let handle;
  try {
    handle = (options.start ?? startRun)({
      command: spec.command,
      workspaceRoot,
      cwd: spec.cwd,
      env: { ...spec.env, EDD_CONFIG_JSON: configJson },
      timeoutS: spec.timeoutS,
      runId,
      artifactDir: path.join(folder, 'artifacts'),
      // not metrics.jsonl: that name is the store's own history file in the same folder (src/core/store/history.ts)
      metricsFile: path.join(folder, 'protocol.jsonl'),
      configPath: runConfigPath,
      logFile: path.join(workspaceRoot, logPath),
      onEvent: event => (waiting ? waiting.push(event) : onEvent(event)),
    });
  } catch (e) {
    if (e instanceof RunRefusedError) return fail(e.message, true);
    throw e;
  }
  const abort = () => handle.cancel();
  if (options.signal?.aborted) abort();
  options.signal?.addEventListener('abort', abort, { once: true });

  // The first save of a run started before its store was open waits a moment: a short training is over by then, and
  // is recorded by one save, at the end. The launch record stands for the run until a save has it.
  let firstSave: NodeJS.Timeout | undefined;
  let firstSaving: Promise<void> = Promise.resolve();
  let saveFailed: { error: unknown } | undefined;
  let openedQuick = false;
  if (!store) {
    const spawnedAt = Date.now();
    try {
      // A training over within FIRST_SAVE_DELAY_MS is recorded by one append to the store's log, without starting
      // SQLite, when the store allows it (openQuick); otherwise the store opens while the training runs.
      const quick = await toOpen!.openQuick?.();
      if (quick) {
        let timer: NodeJS.Timeout | undefined;
        openedQuick = await Promise.race([
          handle.done.then(() => true),
          new Promise<boolean>(resolve => { timer = setTimeout(() => resolve(false), FIRST_SAVE_DELAY_MS); }),
        ]);
        clearTimeout(timer);
      }
      store = openedQuick ? quick! : await toOpen!.openStore();
      store.upsertExperiment(experiment);
      store.createRun({ ...newRun, ...runningFields, id: runId });
    } catch (e) {
      // Not recorded, so not left running: the launch record goes once the training has stopped.
      options.signal?.removeEventListener('abort', abort);
      handle.cancel();
      await handle.done;
      await removeLaunchRecord(launchRecord!);
      throw e;
    }
    const opened = store;
    const record = launchRecord!;
    if (!openedQuick) firstSave = setTimeout(() => {
      firstSaving = opened.save().then(() => removeLaunchRecord(record)).then(() => {
        launchRecord = undefined;
      }, error => {
        // A run that cannot be saved is not left running either.
        saveFailed = { error };
        handle.cancel();
      });
    }, Math.max(0, FIRST_SAVE_DELAY_MS - (Date.now() - spawnedAt)));
  }
  const running = store.getRun(runId)!;
  options.onStart?.(running, spec);
  const timer = setInterval(flush, options.flushMs ?? 250);
  if (waiting) {
    const events = waiting;
    waiting = undefined;
    for (const event of events) onEvent(event);
  }

  const outcome = await handle.done;
  options.signal?.removeEventListener('abort', abort);
  clearInterval(timer);
  clearTimeout(firstSave);
  await firstSaving;
  if (saveFailed) {
    await removeLaunchRecord(launchRecord!);
    throw saveFailed.error;
  }
  flush();
  const warnings: string[] = [];
  for (const a of outcome.artifacts) {
    let kind = a.kind ?? null;
    if (a.error !== undefined) warnings.push(t('Artifact {0}: {1}', a.path, a.error));
    if (a.warning !== undefined) warnings.push(t('Artifact {0}: {1}', a.path, a.warning));
    if (kind === 'model' && a.sha256 !== undefined) {
      // Only a file that loads as ONNX is a model: the registry copies and the gate runs what is recorded here.
      const problem = await onnxProblem(a.absolutePath);
      if (problem !== undefined) {
        kind = null;
        warnings.push(t('Artifact {0} was reported as a model but is not an ONNX model ({1}); it was recorded as a plain artifact.', a.path, problem));
      }
    }
    store.addArtifact({ runId, path: a.path, kind, sha256: a.sha256 ?? null, size: a.sizeBytes ?? null });
  }
  const finalRun = store.updateRun(runId, {
    status: outcome.status,
    endedAt: Date.parse(outcome.endedAt) || Date.now(),
    durationMs: outcome.durationMs,
    exitCode: outcome.exitCode,
    peakMemoryBytes: outcome.peakMemoryBytes ?? null,
    error: outcome.error ?? null,
    params: { ...running.params, ...params },
  });
  await store.save();
  if (launchRecord) await removeLaunchRecord(launchRecord);
  return { run: finalRun, outcome, spec, finalMetrics: store.finalMetrics(runId), protocolErrors, warnings };
}
