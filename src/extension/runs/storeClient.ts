import { Worker } from 'worker_threads';
import { t } from '../../core/l10n';
import type { RunStore, StoreChange } from '../../core/store';
import { errorFromWire, STORE_METHODS, type OpArgs, type OpName, type OpResult, type StoreMethod, type WorkerReply, type WorkerRequest } from './storeOps';

// No `vscode` here: the store worker and this client are driven by the unit tests with a real worker thread.

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
type Request = DistributiveOmit<WorkerRequest, 'id'>;

/** The store's methods as the host sees them: the same names and arguments, answered asynchronously by the worker. */
export type RemoteMethods = {
  [K in StoreMethod]: (...args: Parameters<RunStore[K]>) => Promise<Awaited<ReturnType<RunStore[K]>>>;
};

export interface OpOptions {
  signal?: AbortSignal;
  /** Events the operation emits while it goes on (a run's metrics, a gate's progress). */
  onEvent?: (event: unknown) => void;
}

/** One store file, owned by the worker. */
export interface RemoteStore extends RemoteMethods {
  readonly file: string;
  /** A composite operation (comparison, run, gate, registry change) run in the worker beside the store. */
  op<K extends OpName>(name: K, ...args: OpArgs<K>): Promise<OpResult<K>>;
  /** The same, cancellable and with events. */
  opWith<K extends OpName>(name: K, options: OpOptions, ...args: OpArgs<K>): Promise<OpResult<K>>;
}

interface Pending {
  resolve(value: unknown): void;
  reject(e: Error): void;
  onEvent?: (event: unknown) => void;
}

/**
 * The host's side of the store worker: one worker thread owns every store (see storeWorker.ts); requests go by id and
 * come back as promises. If the worker dies, what was waiting fails with an error and the next request starts a fresh
 * worker, which opens the stores again from their files (their saved state is all there is).
 */
export class StoreWorkerClient {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly changeListeners = new Set<(file: string, change: StoreChange) => void>();
  private readonly failListeners = new Set<(file: string, error: Error) => void>();

  constructor(private readonly script: string, private readonly messages?: Record<string, string>) {}

  /** Open (or find open) the store in `file`; rejects as `RunStore.open` would (damaged, newer schema, locked). */
  async open(file: string): Promise<RemoteStore> {
    await this.request({ kind: 'open', file });
    return this.remote(file);
  }

  /** Save and close one store in the worker. */
  async close(file: string): Promise<void> {
    await this.request({ kind: 'close', file });
  }

  onDidChange(listener: (file: string, change: StoreChange) => void): { dispose(): void } {
    this.changeListeners.add(listener);
    return { dispose: () => void this.changeListeners.delete(listener) };
  }

  onDidFailSave(listener: (file: string, error: Error) => void): { dispose(): void } {
    this.failListeners.add(listener);
    return { dispose: () => void this.failListeners.delete(listener) };
  }

  /** Requests still waiting for an answer. */
  get waiting(): number {
    return this.pending.size;
  }

  /** Save and close every store, then stop the worker. */
  async dispose(): Promise<void> {
    if (this.worker) await this.request({ kind: 'closeAll' }).catch(() => undefined);
    const w = this.worker;
    this.worker = undefined;
    this.failPending(new Error(t('The EDD run store was closed.')));
    await w?.terminate();
  }

  private remote(file: string): RemoteStore {
    const methods = Object.fromEntries(STORE_METHODS.map(m => [m, (...args: unknown[]) => this.request({ kind: 'call', file, method: m, args })]));
    return {
      ...(methods as RemoteMethods),
      file,
      op: (name, ...args) => this.request({ kind: 'op', file, name, args }) as never,
      opWith: (name, options, ...args) => this.opIn(file, name, options, args) as never,
    };
  }

  /** An operation that needs no store file (a gate of an ONNX file in a folder that has no store). */
  opWithout<K extends OpName>(name: K, options: OpOptions, ...args: OpArgs<K>): Promise<OpResult<K>> {
    return this.opIn(undefined, name, options, args) as Promise<OpResult<K>>;
  }

  private opIn(file: string | undefined, name: OpName, options: OpOptions, args: unknown[]): Promise<unknown> {
    if (options.signal?.aborted) return Promise.reject(new Error(t('Cancelled.')));
    let id = 0;
    const onAbort = () => void this.request({ kind: 'cancel', target: id }).catch(() => undefined);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const p = this.request({ kind: 'op', file, name, args }, options.onEvent, assigned => (id = assigned));
    return p.finally(() => options.signal?.removeEventListener('abort', onAbort));
  }

  private request(req: Request, onEvent?: (event: unknown) => void, onId?: (id: number) => void): Promise<unknown> {
    const worker = this.worker ?? this.start();
    const id = this.nextId++;
    onId?.(id);
    // Referenced only while something waits on it: an idle worker never keeps a process alive.
    if (this.pending.size === 0) worker.ref();
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, onEvent });
      try {
        try {
          worker.postMessage({ ...req, id });
        } catch (e) {
          // VS Code hands out settings (and task definitions) as proxies, which a structured clone refuses; what the
          // host sends is plain data, so it goes as JSON then.
          if (!(e instanceof Error && e.name === 'DataCloneError')) throw e;
          worker.postMessage({ ...(JSON.parse(JSON.stringify(req)) as Request), id });
        }
      } catch (e) {
        this.pending.delete(id);
        reject(e instanceof Error ? e : new Error(String(e)));
      }
    });
  }

  private start(): Worker {
    const worker = new Worker(this.script, { workerData: { messages: this.messages } });
    worker.unref();
    worker.on('message', (m: WorkerReply) => {
      switch (m.kind) {
        case 'result':
        case 'error': {
          const p = this.pending.get(m.id);
          this.pending.delete(m.id);
          if (this.pending.size === 0) worker.unref();
          if (m.kind === 'result') p?.resolve(m.value);
          else p?.reject(errorFromWire(m.error));
          return;
        }
        case 'emit':
          this.pending.get(m.id)?.onEvent?.(m.event);
          return;
        case 'change':
          for (const l of this.changeListeners) l(m.file, m.change);
          return;
        case 'failSave':
          for (const l of this.failListeners) l(m.file, errorFromWire(m.error));
          return;
      }
    });
    const died = (e?: unknown) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      this.failPending(new Error(e instanceof Error
        ? t('The EDD store worker stopped ({0}); what was in progress did not finish. Try again: the store is opened again from its file.', e.message)
        : t('The EDD store worker stopped; what was in progress did not finish. Try again: the store is opened again from its file.')));
    };
    worker.on('error', died);
    worker.on('exit', () => died());
    this.worker = worker;
    return worker;
  }

  private failPending(e: Error): void {
    const waiting = [...this.pending.values()];
    this.pending.clear();
    for (const p of waiting) p.reject(e);
  }
}
