import { buildComparison, curvesOf, type CompareOptions } from '../../core/compare/build';
import { curveFrame, type CurveFrame } from '../../core/compare/downsample';
import { sweepOfComparison, type SweepOptions } from '../../core/compare/sweep';
import { LocalExecutor, SweepError, SweepSpecError, runSweep, type SweepEvent, type SweepOptions as RunSweepOptions } from '../../core/sweep';
import type { Latency } from '../../core/compare/latency';
import type { Curve } from '../../core/compare/model';
import { PolicyError } from '../../core/checks/policy';
import { importMlflow, LiveLogger, MlflowApiError, MlflowInputError, MlflowUnreachableError, pullRuns, pushRuns, readMlflowSource, type LiveOptions, type SyncOptions } from '../../core/mlflow';
import {
  gateStatus, planPromotion, promote, promotionOutcome, recordRefusal, registerRun, rollback, rollbackOutcome, setAlias, versionFile, RegistryError,
} from '../../core/registry/registry';
import { gateWithStore, shadowEvaluate, type StoreGateOptions } from '../../core/registry/gate';
import { executeRun, type ExecuteOptions, type ExecuteResult } from '../../core/runs/execute';
import { needsRecovery, recoverInterruptedRuns } from '../../core/runs/recover';
import { planReproduction } from '../../core/runs/reproduce';
import { ConfigNotRunnableError, type RunSpec } from '../../core/runs/spec';
import type { RunEvent } from '../../core/runner';
import {
  RunStore, StoreCorruptError, StoreError, StoreLockError, StoreNotFoundError, StoreVersionError, type RunRecord, type StoreChange,
} from '../../core/store';

// No `vscode` here: the store worker and its client are driven by the unit tests with a real worker thread.

/** The `RunStore` methods the host may call in the worker (their answers are structured-cloned back). */
export const STORE_METHODS = [
  'upsertExperiment', 'setHypothesisStatus', 'createRun', 'updateRun', 'addMetrics', 'addArtifact', 'deleteRun',
  'addGateReport', 'listGateReports', 'getGateReport', 'listModels', 'listModelVersions', 'findModelVersion', 'modelVersionById',
  'auditLog', 'rollbackPlan', 'auditEntry', 'verifyAuditLog', 'getExperiment', 'listExperiments', 'getRun', 'findRunByExternalId',
  'listRuns', 'finalMetrics', 'getMetrics', 'metricKeys', 'getArtifacts', 'save', 'reloadIfChanged',
] as const satisfies ReadonlyArray<keyof RunStore>;
export type StoreMethod = (typeof STORE_METHODS)[number];

/** What an operation gets besides its arguments: cancellation, and a channel for events while it goes on. */
export interface OpContext {
  signal: AbortSignal;
  emit(event: unknown): void;
}

/** A run to execute in the worker; `tracking`: the MLflow server it logs to live, with its credentials. */
export type ExecuteOpOptions = Omit<ExecuteOptions, 'store' | 'signal' | 'onStart' | 'onEvent' | 'onMetrics'> & { tracking?: LiveOptions };
/** The recorded run; `liveLogging`: why live logging stopped (the run is local only until a sync sends it). */
export type ExecuteOpResult = ExecuteResult & { liveLogging?: string };
/** Events of a run executed in the worker. */
export type ExecuteEvent = { type: 'start'; run: RunRecord; spec: RunSpec } | { type: 'event'; event: RunEvent };
/** Progress of a gate run in the worker. */
export interface GateProgress { done: number; total: number; title: string }

/** Per store file: what the worker keeps between requests (model latencies, the points of the shown curves). */
interface StoreCaches {
  latency: Map<string, Latency | Error>;
  curves: Map<string, Curve[]>;
}
const caches = new WeakMap<RunStore, StoreCaches>();
function cachesOf(store: RunStore): StoreCaches {
  let c = caches.get(store);
  if (!c) {
    c = { latency: new Map(), curves: new Map() };
    caches.set(store, c);
    // A compared run that got new points must be read again; latencies depend on the artifact files only.
    store.onDidChange(() => c!.curves.clear());
  }
  return c;
}

function need(store: RunStore | undefined): RunStore {
  if (!store) throw new Error('internal: this operation needs a store');
  return store;
}

/**
 * The composite operations that read or write the store, run in the worker beside it: everything that touches many
 * rows, a metric history, a file or a model stays off the extension host's thread. Each takes the store (undefined
 * when the folder has none and the operation can do without), the context, then its own arguments.
 */
export const storeOps = {
  compare: (s: RunStore | undefined, _c: OpContext, targets: readonly string[], o: Omit<CompareOptions, 'latencyCache'>) =>
    buildComparison(need(s), targets, { ...o, latencyCache: cachesOf(need(s)).latency }),
  /** The sweep views' model when every compared run belongs to one sweep (else undefined); a grouping that no longer
   * exists falls back to the default one. */
  sweepComparison: (s: RunStore | undefined, _c: OpContext, runIds: readonly string[], o: SweepOptions) =>
    sweepOfComparison(need(s), runIds, o) ?? (o.groupBy ? sweepOfComparison(need(s), runIds, { ...o, groupBy: undefined }) : undefined),
  /** The reduced frame of one metric's curves: the host and the webview never see more points than the plot draws. */
  curveFrame: (s: RunStore | undefined, _c: OpContext, runIds: readonly string[], metric: string, columns: number, range?: [number, number] | null): CurveFrame => {
    const cache = cachesOf(need(s)).curves;
    const key = JSON.stringify([runIds, metric]);
    let curves = cache.get(key);
    if (!curves) {
      cache.clear(); // one metric is shown at a time
      curves = curvesOf(need(s), runIds, metric);
      cache.set(key, curves);
    }
    return curveFrame(metric, curves, columns, range);
  },
  /** The highest step of each metric of a run (the tree shows it beside the final value). */
  lastSteps: (s: RunStore | undefined, _c: OpContext, runId: string): Record<string, number> => {
    const out: Record<string, number> = {};
    for (const p of need(s).getMetrics(runId)) out[p.key] = Math.max(p.step, out[p.key] ?? -Infinity);
    return out;
  },
  execute: async (s: RunStore | undefined, c: OpContext, o: ExecuteOpOptions): Promise<ExecuteOpResult> => {
    const { tracking, ...options } = o;
    // With a tracking server (edd.tracking.uri), the run logs live to it as `edd run --tracking-uri` does.
    const live = tracking ? new LiveLogger(need(s), tracking) : undefined;
    let result;
    try {
      result = await executeRun({
        ...options, store: need(s), signal: c.signal,
        onStart: (run, spec) => {
          live?.begin(run);
          c.emit({ type: 'start', run, spec } satisfies ExecuteEvent);
        },
        onMetrics: live ? points => live.onMetrics(points) : undefined,
        onEvent: event => c.emit({ type: 'event', event } satisfies ExecuteEvent),
      });
    } catch (e) {
      live?.abandon();
      throw e;
    }
    const liveLogging = await live?.end(result.run);
    return liveLogging ? { ...result, warnings: [...result.warnings, liveLogging], liveLogging } : result;
  },
  /** A config's sweep, every trial a run executed here in the worker; its events (`SweepEvent`) go to the host. */
  runSweep: (s: RunStore | undefined, c: OpContext, o: Omit<RunSweepOptions, 'store' | 'executor' | 'signal' | 'onEvent'>) =>
    runSweep({ ...o, store: need(s), executor: new LocalExecutor(), signal: c.signal, onEvent: (e: SweepEvent) => c.emit(e) }),
  /** Read an mlruns folder or mlflow.db and import it; the reading and the writes stay off the host's thread. */
  importMlflow: async (s: RunStore | undefined, _c: OpContext, source: string, cwd: string) => {
    const result = await importMlflow(need(s), await readMlflowSource(source, cwd), { origin: 'mlflow-import' });
    await need(s).save();
    return result;
  },
  /** Push this store's runs to an MLflow tracking server, then pull the others'. */
  syncMlflow: async (s: RunStore | undefined, _c: OpContext, options: SyncOptions) => {
    const pushed = await pushRuns(need(s), options);
    const pulled = await pullRuns(need(s), options);
    await need(s).save();
    return { pushed, pulled };
  },
  planReproduction: (s: RunStore | undefined, _c: OpContext, root: string, runId: string) => planReproduction(need(s), root, runId),
  /** Runs left running by a process that is gone, marked interrupted (none: nothing is written). */
  recover: async (s: RunStore | undefined, _c: OpContext) => (needsRecovery(need(s)) ? recoverInterruptedRuns(need(s)) : []),
  gate: (s: RunStore | undefined, c: OpContext, policyFile: string, o: Omit<StoreGateOptions, 'store' | 'signal' | 'onProgress'>) =>
    gateWithStore(policyFile, { ...o, store: s, signal: c.signal, onProgress: (done, total, title) => c.emit({ done, total, title } satisfies GateProgress) }),
  shadow: (s: RunStore | undefined, c: OpContext, policyFile: string, o: Omit<Parameters<typeof shadowEvaluate>[1], 'store' | 'signal'>) =>
    shadowEvaluate(policyFile, { ...o, store: s, signal: c.signal }),
  gateStatus: (s: RunStore | undefined, _c: OpContext, ...a: Tail<Parameters<typeof gateStatus>>) => gateStatus(need(s), ...a),
  versionFile: (s: RunStore | undefined, _c: OpContext, ...a: Tail<Parameters<typeof versionFile>>) => versionFile(need(s), ...a),
  registerRun: (s: RunStore | undefined, _c: OpContext, ...a: Tail<Parameters<typeof registerRun>>) => registerRun(need(s), ...a),
  planPromotion: (s: RunStore | undefined, _c: OpContext, ...a: Tail<Parameters<typeof planPromotion>>) => planPromotion(need(s), ...a),
  recordRefusal: async (s: RunStore | undefined, _c: OpContext, ...a: Tail<Parameters<typeof recordRefusal>>) => {
    recordRefusal(need(s), ...a);
    await need(s).save();
  },
  /** Promote and save; answers what the promotion did. */
  promote: async (s: RunStore | undefined, _c: OpContext, ...a: Tail<Parameters<typeof promote>>) => {
    const r = promote(need(s), ...a);
    await need(s).save();
    return { result: r, outcome: promotionOutcome(need(s), r) };
  },
  setAlias: async (s: RunStore | undefined, _c: OpContext, ...a: Tail<Parameters<typeof setAlias>>) => {
    const v = setAlias(need(s), ...a);
    await need(s).save();
    return v;
  },
  rollback: async (s: RunStore | undefined, _c: OpContext, ...a: Tail<Parameters<typeof rollback>>) => {
    const r = rollback(need(s), ...a);
    await need(s).save();
    return { result: r, outcome: rollbackOutcome(need(s), r) };
  },
};
export type StoreOps = typeof storeOps;
export type OpName = keyof StoreOps;

type Tail<T extends unknown[]> = T extends [unknown, ...infer R] ? R : [];
/** The arguments an operation takes from the host (after the store and the context). */
export type OpArgs<K extends OpName> = Tail<Tail<Parameters<StoreOps[K]>>>;
export type OpResult<K extends OpName> = Awaited<ReturnType<StoreOps[K]>>;

/**
 * Errors cross the thread boundary as plain objects; these classes come back as themselves (so `instanceof` at the
 * host still tells a damaged store or a config that cannot run from a bug).
 */
const ERROR_CLASSES: Record<string, new (...a: never[]) => Error> = {
  StoreError, StoreCorruptError, StoreVersionError, StoreLockError, StoreNotFoundError, ConfigNotRunnableError, PolicyError, RegistryError, SweepError, SweepSpecError, MlflowInputError, MlflowApiError, MlflowUnreachableError,
};

export interface WireError {
  name: string;
  className: string;
  message: string;
  stack?: string;
  fields: Record<string, unknown>;
}

export function errorToWire(e: unknown): WireError {
  if (!(e instanceof Error)) return { name: 'Error', className: 'Error', message: String(e), fields: {} };
  const fields: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(e)) {
    if (v === null || ['string', 'number', 'boolean', 'undefined'].includes(typeof v)) fields[k] = v;
  }
  return { name: e.name, className: e.constructor.name, message: e.message, stack: e.stack, fields };
}

export function errorFromWire(w: WireError): Error {
  const cls = ERROR_CLASSES[w.className];
  const e: Error = cls ? Object.create(cls.prototype as object) as Error : new Error(w.message);
  Object.assign(e, w.fields);
  Object.defineProperty(e, 'message', { value: w.message, writable: true, configurable: true });
  Object.defineProperty(e, 'name', { value: w.name, writable: true, configurable: true });
  if (w.stack) Object.defineProperty(e, 'stack', { value: w.stack, writable: true, configurable: true });
  return e;
}

/** Host → worker. Every request is answered once (`result` or `error`) with its id. */
export type WorkerRequest = { id: number } & (
  | { kind: 'open'; file: string }
  | { kind: 'call'; file: string; method: StoreMethod; args: unknown[] }
  | { kind: 'op'; file: string | undefined; name: OpName; args: unknown[] }
  | { kind: 'cancel'; target: number }
  | { kind: 'close'; file: string }
  | { kind: 'closeAll' }
);

/** Worker → host: answers, events of an operation still going, and the stores' change and save-failure events. */
export type WorkerReply =
  | { kind: 'result'; id: number; value: unknown }
  | { kind: 'error'; id: number; error: WireError }
  | { kind: 'emit'; id: number; event: unknown }
  | { kind: 'change'; file: string; change: StoreChange }
  | { kind: 'failSave'; file: string; error: WireError };
