import { Worker, type ResourceLimits } from 'worker_threads';
import { validateDataSchema, validateExperiment, ProblemCode, type ExperimentIdSite, type Problem, type ValidateOptions } from '../core/config';
import { validatePolicy } from '../core/checks/policy';
import { validateService } from '../core/serve/spec';
import { t } from '../core/l10n';

// No `vscode` here: the worker and its client are driven by the unit tests with a real worker thread.

export type ConfigKind = 'experiment' | 'policy' | 'data-schema' | 'service';

export interface ValidationRequest {
  kind: ConfigKind;
  text: string;
  options: ValidateOptions;
  /** The translated messages, for the worker's own copy of the l10n module. */
  messages?: Record<string, string>;
}

export interface ValidationAnswer {
  problems: Problem[];
  experimentId?: ExperimentIdSite;
}

/**
 * Validate any kind of EDD file. A failure inside validation is a bug in EDD, not in the file: it becomes one problem
 * on this file (so its author sees something happened) instead of an exception that would take other files down.
 */
export function validateAny(req: ValidationRequest): ValidationAnswer {
  try {
    switch (req.kind) {
      case 'policy': return { problems: validatePolicy(req.text, { root: req.options?.root }).problems };
      case 'data-schema': return { problems: validateDataSchema(req.text).problems };
      case 'service': return { problems: validateService(req.text, { root: req.options?.root }).problems };
      case 'experiment': {
        const { problems, experimentId } = validateExperiment(req.text, req.options);
        return { problems, experimentId };
      }
    }
  } catch (e) {
    const eol = req.text.indexOf('\n');
    return {
      problems: [{
        offset: 0, length: Math.max(1, Math.min(eol === -1 ? req.text.length : eol, 200)), severity: 'error', code: ProblemCode.internalError,
        message: t('EDD failed while validating this file ({0}). This is a bug in EDD; please report it with the file. The other files are not affected.', e instanceof Error ? e.message : String(e)),
      }],
    };
  }
}

/**
 * One worker thread for large documents. Answers come back by request id. If the worker dies, every pending request
 * resolves to `undefined` — "no new answer", so the caller keeps each file's previous problems — and the next request
 * starts a fresh worker.
 */
export class ValidationWorkerClient {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, (answer: ValidationAnswer | undefined) => void>();
  private messagesSent: Record<string, string> | undefined;

  /** `limits` caps the worker's heap: a hostile file then ends the worker, never the extension host. */
  constructor(private readonly script: string, private readonly limits?: ResourceLimits) {}

  validate(req: ValidationRequest): Promise<ValidationAnswer | undefined> {
    const worker = this.worker ?? this.start();
    const id = this.nextId++;
    // The translations go once per worker: cloning them with each of a scan's thousands of files costs the host.
    const messages = req.messages === this.messagesSent ? undefined : req.messages;
    this.messagesSent = req.messages;
    return new Promise(resolve => {
      this.pending.set(id, resolve);
      worker.postMessage({ id, ...req, messages });
    });
  }

  /** Requests still waiting for an answer. */
  get waiting(): number {
    return this.pending.size;
  }

  /** Stop the worker (pending requests get `undefined`). */
  async dispose(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    this.failPending();
    await w?.terminate();
  }

  private start(): Worker {
    const worker = new Worker(this.script, { resourceLimits: this.limits });
    this.messagesSent = undefined;
    worker.unref();
    worker.on('message', (m: ValidationAnswer & { id: number }) => {
      const resolve = this.pending.get(m.id);
      this.pending.delete(m.id);
      resolve?.({ problems: m.problems, experimentId: m.experimentId });
    });
    const died = () => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      this.failPending();
    };
    worker.on('error', died);
    worker.on('exit', died);
    this.worker = worker;
    return worker;
  }

  private failPending(): void {
    const waiting = [...this.pending.values()];
    this.pending.clear();
    for (const resolve of waiting) resolve(undefined);
  }
}
