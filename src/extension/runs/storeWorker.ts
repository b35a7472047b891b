import { parentPort, workerData } from 'worker_threads';
import { setMessages } from '../../core/l10n';
import { RunStore, type StoreChange } from '../../core/store';
import { errorToWire, storeOps, STORE_METHODS, type OpContext, type WorkerReply, type WorkerRequest } from './storeOps';

/**
 * Owns the run stores of the editor: sql.js, its saves (export + atomic write), reloads after the CLI wrote,
 * comparisons, curves, runs and gates all happen on this thread, so the extension host's thread only sends messages.
 */
const port = parentPort!;
setMessages((workerData as { messages?: Record<string, string> } | undefined)?.messages);

const stores = new Map<string, Promise<RunStore>>();
const running = new Map<number, AbortController>();
const methods = new Set<string>(STORE_METHODS);

function send(reply: WorkerReply): void {
  port.postMessage(reply);
}

function storeFor(file: string): Promise<RunStore> {
  let p = stores.get(file);
  if (!p) {
    p = RunStore.open(file).then(store => {
      store.onDidChange((change: StoreChange) => send({ kind: 'change', file, change }));
      store.onDidFailSave(e => send({ kind: 'failSave', file, error: errorToWire(e) }));
      return store;
    });
    stores.set(file, p);
    p.catch(() => stores.delete(file));
  }
  return p;
}

async function answer(req: WorkerRequest): Promise<unknown> {
  switch (req.kind) {
    case 'open':
      await storeFor(req.file);
      return undefined;
    case 'call': {
      if (!methods.has(req.method)) throw new Error(`internal: ${req.method} is not a store method the host may call`);
      const store = await storeFor(req.file);
      return (store[req.method] as (...a: unknown[]) => unknown).apply(store, req.args);
    }
    case 'op': {
      const op = storeOps[req.name] as (s: RunStore | undefined, c: OpContext, ...a: unknown[]) => unknown;
      if (typeof op !== 'function') throw new Error(`internal: no store operation ${String(req.name)}`);
      const store = req.file === undefined ? undefined : await storeFor(req.file);
      const controller = new AbortController();
      running.set(req.id, controller);
      try {
        return await op(store, { signal: controller.signal, emit: event => send({ kind: 'emit', id: req.id, event }) }, ...req.args);
      } finally {
        running.delete(req.id);
      }
    }
    case 'cancel':
      running.get(req.target)?.abort();
      return undefined;
    case 'close': {
      const p = stores.get(req.file);
      stores.delete(req.file);
      if (p) await (await p).close();
      return undefined;
    }
    case 'closeAll': {
      const all = [...stores.values()];
      stores.clear();
      for (const p of all) await (await p.catch(() => undefined))?.close();
      return undefined;
    }
  }
}

port.on('message', (req: WorkerRequest) => {
  answer(req).then(
    value => send({ kind: 'result', id: req.id, value }),
    (e: unknown) => send({ kind: 'error', id: req.id, error: errorToWire(e) }),
  );
});
