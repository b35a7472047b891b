/**
 * The ModelService: slots holding loaded versions of the served model, a router choosing the slot of each request,
 * and blue-green switching that follows the registry.
 *
 * Two slots, `blue` and `green`: one active, the other idle (the previous version, or empty). When the served stage or
 * alias moves, the new version is loaded into the idle slot, warmed up and its output validated on reference rows,
 * then made active by one assignment. A request holds the slot it started on until it ends, so in-flight requests
 * finish on the old version; a slot is released only once nothing runs on it. A canary or shadow slot fits the same
 * shape: {@link Router} picks the slot of each request — the active one, unless a canary (./canary.ts) takes a share.
 */
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { t } from '../l10n';
import { evaluateOutput } from '../checks/output';
import { loadModel, resolveClasses } from '../checks/model';
import { explainOrtError, loadOnnxRuntime } from '../compare/latency';
import { versionFile } from '../registry/registry';
import type { ModelVersionRecord, RunStore } from '../store';
import { compilePostprocessor, type FieldError, type Postprocessor, type Preprocessor, type RowOutput } from './pipeline';
import type { EventRecord, PredictionLog } from './predictionLog';
import type { ServiceSpec } from './spec';

/** The blue-green pair. */
export type ColorName = 'blue' | 'green';
/** A slot's name as the log and metrics show it: a canary or shadow candidate sits beside the pair. */
export type SlotName = ColorName | 'canary' | 'shadow';

/** A loaded version, ready to answer. */
export interface Slot {
  name: SlotName;
  version: ModelVersionRecord;
  session: InferenceSession;
  inputName: string;
  outputName: string;
  post: Postprocessor;
  /** Requests running on this slot now. */
  inFlight: number;
  /** Resolves the wait of a release once `inFlight` is 0. */
  drained?: () => void;
}

/** Chooses the slot of a request (by its id or an instance's sticky key, for a stable split). */
export type Router = (requestId: string, instances: readonly unknown[]) => Slot;

/** A bad request: 400 with the broken rules. */
export class BadRequest extends Error {
  constructor(message: string, readonly errors: FieldError[], readonly status = 400) {
    super(message);
    this.name = 'BadRequest';
  }
}

/** The model's output failed validation (or the model failed): 500. */
export class OutputInvalid extends Error {
  constructor(message: string, readonly detail: Record<string, unknown> = {}) {
    super(message);
    this.name = 'OutputInvalid';
  }
}

export interface Answer {
  slot: Slot;
  outputs: RowOutput[];
  /** Raw output, rows × width (the probabilities), for KServe. */
  scores: Float32Array;
  width: number;
}

export interface ServiceOptions {
  spec: ServiceSpec;
  store: RunStore;
  pre: Preprocessor;
  log: PredictionLog;
  /** Rows for warm-up and output validation before a version goes live (already valid instances). */
  warmupRows: readonly Record<string, unknown>[];
  /** Called on switch and on a failed warm-up (metrics, messages). */
  onEvent?: (e: EventRecord) => void;
}

type OrtTensor = Tensor;

export class ModelService {
  private slots: Record<ColorName, Slot | undefined> = { blue: undefined, green: undefined };
  private active: ColorName = 'blue';
  /** The version id being loaded (a change while loading is picked up after). */
  private loading: Promise<void> | undefined;
  /** A version whose warm-up failed: not retried until the target moves elsewhere. */
  private failedId: string | undefined;
  private readonly ort = loadOnnxRuntime();
  /** Every request on the active slot. */
  readonly activeRouter: Router = () => this.slots[this.active]!;
  /** The router in force: a canary replaces it while it runs and puts {@link activeRouter} back when it ends. */
  router: Router = this.activeRouter;

  constructor(private readonly o: ServiceOptions) {}

  get current(): Slot | undefined {
    return this.slots[this.active];
  }

  get idle(): Slot | undefined {
    return this.slots[this.active === 'blue' ? 'green' : 'blue'];
  }

  /** The version the spec's stage or alias points to now, or undefined. */
  targetVersion(): ModelVersionRecord | undefined {
    const { spec, store } = this.o;
    const ref = spec.target.kind === 'stage' ? spec.target.stage : spec.target.alias;
    const v = store.findModelVersion(spec.model, ref);
    // `findModelVersion(model, 'production')` falls back to the newest production version; a stage must match exactly.
    if (v && spec.target.kind === 'stage' && v.stage !== spec.target.stage) return undefined;
    return v;
  }

  /** Loads a version and validates it on the warm-up rows; throws with a sentence saying why it cannot serve. */
  async load(version: ModelVersionRecord, name: SlotName): Promise<Slot> {
    const { spec, store } = this.o;
    const file = versionFile(store, version);
    // The gate's loader checks the input and output against the features, and reads the class names.
    const checked = await loadModel(file);
    let classes: string[] | null;
    let outputName: string;
    try {
      checked.check(spec.features);
      outputName = checked.output!.name;
      const k = checked.output!.shape.length === 2 && typeof checked.output!.shape[1] === 'number' ? checked.output!.shape[1] as number : undefined;
      classes = k !== undefined ? resolveClasses(file, k === 1 ? 2 : k, checked.classes, spec.classes).classes : (checked.classes ?? spec.classes ?? null);
    } finally {
      await checked.release();
    }
    let session: InferenceSession;
    try {
      session = await this.ort.InferenceSession.create(file, { executionProviders: ['cpu'], graphOptimizationLevel: 'all', intraOpNumThreads: 1, interOpNumThreads: 1 });
    } catch (e) {
      throw new Error(explainOrtError(file, e).message);
    }
    const slot: Slot = { name, version, session, inputName: session.inputNames[0], outputName, post: compilePostprocessor(spec.postprocess, classes), inFlight: 0 };
    try {
      await this.warmUp(slot);
    } catch (e) {
      await session.release();
      throw e;
    }
    return slot;
  }

  private async warmUp(slot: Slot): Promise<void> {
    const rows = this.o.warmupRows;
    if (rows.length === 0) return;
    // A few rounds: onnxruntime allocates its buffers on the first runs.
    for (let i = 0; i < 3; i++) await this.run(slot, rows);
  }

  /** Load the target version into the active slot (at start). */
  async start(): Promise<Slot> {
    const v = this.targetVersion();
    if (!v) {
      const { spec } = this.o;
      throw new Error(spec.target.kind === 'stage'
        ? t('Model {0} has no version in stage {1}. Promote one first: edd promote {0}@VERSION --to {1}', spec.model, spec.target.stage)
        : t('Model {0} has no alias {1}. Set it first: edd alias {0}@VERSION {1}', spec.model, spec.target.alias));
    }
    const slot = await this.load(v, 'blue');
    this.slots.blue = slot;
    this.active = 'blue';
    return slot;
  }

  /**
   * Follow the registry: when the target moved to another version, load it into the idle slot and switch. Resolves
   * when done (or nothing to do); never throws — a failed warm-up keeps the current version and logs an alert event.
   */
  follow(): Promise<void> {
    if (this.loading) return this.loading.then(() => this.follow());
    const target = this.targetVersion();
    const cur = this.current;
    if (!target || !cur || target.id === cur.version.id) {
      if (target?.id !== this.failedId) this.failedId = undefined;
      return Promise.resolve();
    }
    if (target.id === this.failedId) return Promise.resolve();
    this.loading = this.switchTo(target).finally(() => { this.loading = undefined; });
    return this.loading;
  }

  private async switchTo(target: ModelVersionRecord): Promise<void> {
    const from = this.current!;
    const idleName: ColorName = this.active === 'blue' ? 'green' : 'blue';
    let slot: Slot;
    try {
      slot = await this.load(target, idleName);
    } catch (e) {
      this.failedId = target.id;
      this.event({ type: 'event', time: Date.now(), kind: 'warmup_failed', from_version: from.version.version, to_version: target.version, message: t('Version {0} was not switched to: {1}', target.version, (e as Error).message) });
      return;
    }
    const replaced = this.slots[idleName];
    this.slots[idleName] = slot;
    // The switch itself: from here on the router hands out the new slot; requests holding the old one finish on it.
    this.active = idleName;
    this.failedId = undefined;
    this.event({ type: 'event', time: Date.now(), kind: 'switch', from_version: from.version.version, to_version: target.version, message: t('Switched from version {0} ({1}) to version {2} ({3}).', from.version.version, from.name, target.version, idleName) });
    if (replaced) void this.release(replaced);
  }

  private event(e: EventRecord): void {
    this.o.log.append(e);
    this.o.onEvent?.(e);
  }

  /** Release a slot once no request runs on it (a canary's slot when it ends). */
  async release(slot: Slot): Promise<void> {
    if (slot.inFlight > 0) await new Promise<void>(resolve => { slot.drained = resolve; });
    await slot.session.release();
  }

  /** Run valid instances on `slot`: preprocessing, the model, output validation, postprocessing. */
  async run(slot: Slot, instances: readonly unknown[]): Promise<Answer> {
    const { matrix, errors } = this.o.pre.prepare(instances);
    if (errors.length) throw new BadRequest(t('{0} of the instances break the input rules.', new Set(errors.map(e => e.row)).size), errors);
    const rows = instances.length;
    const width = this.o.pre.features.length;
    const feeds: Record<string, OrtTensor> = { [slot.inputName]: new this.ort.Tensor('float32', matrix, [rows, width]) };
    let out: OrtTensor;
    try {
      out = (await slot.session.run(feeds, [slot.outputName]))[slot.outputName];
    } catch (e) {
      throw new OutputInvalid(explainOrtError(`${this.o.spec.model}@${slot.version.version}`, e).message);
    }
    const dims = out.dims.map(Number);
    const data = out.data instanceof Float32Array ? out.data : Float32Array.from(out.data as ArrayLike<number>);
    const rules = this.o.spec.output;
    const verdict = evaluateOutput({ data, dims }, { shape: rules.shape, range: rules.range, sumToOne: rules.sum_to_one, tolerance: rules.tolerance, finite: rules.finite }, 'model');
    if (verdict.status === 'fail') throw new OutputInvalid(verdict.message, { measured: verdict.measured, evidence: verdict.evidence });
    const outWidth = dims.length > 1 ? dims[dims.length - 1] : 1;
    return { slot, outputs: slot.post.answer(data, rows, outWidth, instances), scores: data, width: outWidth };
  }

  /** One request: the router's slot, held until the answer is computed. */
  predict(requestId: string, instances: readonly unknown[]): Promise<Answer> {
    return this.runHeld(this.router(requestId, instances), instances);
  }

  /** Run on `slot`, holding it (a switch or a canary's end releases it only after this). */
  async runHeld(slot: Slot, instances: readonly unknown[]): Promise<Answer> {
    slot.inFlight++;
    try {
      return await this.run(slot, instances);
    } finally {
      if (--slot.inFlight === 0 && slot.drained) slot.drained();
    }
  }

  /** Release every slot (after the server stopped taking requests). */
  async close(): Promise<void> {
    if (this.loading) await this.loading.catch(() => undefined);
    const all = [this.slots.blue, this.slots.green].filter((s): s is Slot => s !== undefined);
    this.slots = { blue: undefined, green: undefined };
    await Promise.all(all.map(s => this.release(s)));
  }
}
