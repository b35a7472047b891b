/**
 * Canary and shadow deployments inside `edd serve`.
 *
 * A canary loads another registered version into a slot of its own and takes over {@link ModelService.router}: a
 * share of the requests (by a hash of the request id, or of the `sticky_key` column's value) goes to the candidate.
 * Every `interval` the guards compare the candidate with production over that interval — error rate, p95 latency,
 * the PSI of the predicted probabilities, and (over all feedback so far) accuracy with Welch's one-sided test. A pass
 * raises the share by `step`; at 100% the candidate is promoted through the registry (the gate rules apply), and the
 * server's blue-green switch takes over. A breach rolls it back at once: share 0, slot released. In `shadow` mode every
 * request is answered by production and a copy is run on the candidate, whose answer is only logged (slot `shadow`).
 *
 * Control: `edd canary start|stop` writes a request file under `.edd/serving/<model>/`, which the server reads on each
 * registry poll; the server writes the canary's state next to it for `edd canary status`. Every decision is a `canary`
 * entry in the registry's audit log and an `event` record of the prediction log, with the numbers that made it.
 */
import * as fs from 'fs';
import * as path from 'path';
import { t } from '../l10n';
import { promote, RegistryError, setAlias, gateRequired } from '../registry';
import { psi } from '../stats/drift';
import { quantileSorted } from '../stats/descriptive';
import { welchTTest } from '../stats/ttest';
import { RunStore, type ModelVersionRecord } from '../store';
import type { EventRecord, PredictionLog } from './predictionLog';
import type { Answer, ModelService, Router, Slot } from './service';
import { canaryPlan, parseDuration, type CanarySpec, type RawCanary, type ServiceSpec } from './spec';

export const REQUEST_FILE = 'canary-request.json';
export const STATUS_FILE = 'canary-status.json';

/** Where `edd canary` and the server exchange requests and state: `.edd/serving/<model>/` of the workspace. */
export function canaryDir(root: string, model: string): string {
  return path.join(root, '.edd', 'serving', model);
}

/** What `edd canary start|stop` asks of the server. */
export interface CanaryRequest {
  id: string;
  action: 'start' | 'stop';
  model: string;
  time: number;
  actor: string;
  reason?: string;
  plan?: RawCanary;
}

export type CanaryState = 'running' | 'promoting' | 'promoted' | 'rolled_back' | 'stopped' | 'refused';
const FINAL: ReadonlySet<CanaryState> = new Set(['promoted', 'rolled_back', 'stopped', 'refused']);
/** The decisions that end a canary. */
const ENDINGS: ReadonlySet<string> = new Set(['promote', 'rollback', 'stop', 'refused']);

export interface SideNumbers { requests: number; errors: number; error_rate: number; p95_ms: number | null }

/** One interval's comparison, as the status, the audit log and the event records show it. */
export interface GuardReport {
  production: SideNumbers;
  candidate: SideNumbers;
  /** PSI of the predicted classes (or of the predicted values), null until each side has {@link PSI_MIN_SAMPLES} answers. */
  prediction_psi: number | null;
  /** Answers per predicted class on each side (a classifier). */
  predictions?: { production: Record<string, number>; candidate: Record<string, number> };
  /** Over all feedback since the start; the test only once both sides have `min_feedback` labels. */
  accuracy: { production: { n: number; accuracy: number | null }; candidate: { n: number; accuracy: number | null }; p_value: number | null };
  /** The guards broken: `error_rate`, `latency_p95`, `prediction_psi`, `accuracy`. */
  breached: string[];
}

export interface CanaryDecisionRecord { time: number; decision: string; share: number; reason: string }

/** The state `edd canary status` reads. */
export interface CanaryStatus {
  id: string;
  model: string;
  version: number;
  mode: 'canary' | 'shadow';
  state: CanaryState;
  /** Percent of requests the candidate answers (shadow: 0, it answers none). */
  share: number;
  plan: CanarySpec;
  started_at: number;
  updated_at: number;
  /** Why it ended (or was refused). */
  reason?: string;
  last?: GuardReport;
  decisions: CanaryDecisionRecord[];
}

export function isFinal(state: CanaryState): boolean {
  return FINAL.has(state);
}

/** Write JSON so that a reader sees the old file or the new one, never half of one. */
export function writeJsonAtomic(file: string, value: unknown): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(value, null, 2) + '\n');
  fs.renameSync(tmp, file);
}

export function readJsonFile<T>(file: string): T | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/** A 32-bit hash spread over its whole range (FNV-1a, then murmur3's finaliser: similar ids land far apart). */
export function bucketOf(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) % 10_000;
}

/** Bounded so that a long interval under heavy load keeps its memory small; the guards need far fewer. */
const MAX_SAMPLES = 50_000;
const MAX_PENDING_FEEDBACK = 200_000;
const KEPT_DECISIONS = 200;
/** Answers each side needs before the PSI of their predictions is measured. */
export const PSI_MIN_SAMPLES = 100;

class Side {
  requests = 0;
  errors = 0;
  latencies: number[] = [];
  /** Answers per predicted class (a classifier). */
  classes = new Map<string, number>();
  answered = 0;
  /** Predicted values (a regression). */
  values: number[] = [];

  add(status: number, latencyMs: number, answer: Answer | undefined): void {
    this.requests++;
    if (status >= 500) this.errors++;
    if (this.latencies.length < MAX_SAMPLES) this.latencies.push(latencyMs);
    if (!answer) return;
    for (const o of answer.outputs) {
      if (typeof o.prediction === 'number' && !o.probabilities) {
        if (this.values.length < MAX_SAMPLES && Number.isFinite(o.prediction)) this.values.push(o.prediction);
      } else {
        this.classes.set(String(o.prediction), (this.classes.get(String(o.prediction)) ?? 0) + 1);
        this.answered++;
      }
    }
  }

  numbers(): SideNumbers {
    const sorted = Float64Array.from(this.latencies).sort();
    return {
      requests: this.requests, errors: this.errors,
      error_rate: this.requests ? this.errors / this.requests : 0,
      p95_ms: sorted.length ? Math.round(quantileSorted(sorted, 0.95) * 1000) / 1000 : null,
    };
  }
}

/**
 * PSI of two predicted-class distributions: Σ (c − r)·ln(c / r) over the classes, the formula of {@link psi} with one
 * bin per class (its quantile bins would merge rare classes). An empty class counts as half an answer.
 */
export function classPsi(reference: ReadonlyMap<string, number>, rn: number, current: ReadonlyMap<string, number>, cn: number): number {
  const floor = 0.5 / Math.max(rn, cn);
  let total = 0;
  for (const k of new Set([...reference.keys(), ...current.keys()])) {
    const r = Math.max((reference.get(k) ?? 0) / rn, floor);
    const c = Math.max((current.get(k) ?? 0) / cn, floor);
    total += (c - r) * Math.log(c / r);
  }
  return total;
}

const round = (x: number, digits = 4) => Math.round(x * 10 ** digits) / 10 ** digits;

export interface CanaryOptions {
  spec: ServiceSpec;
  service: ModelService;
  /** The server's (read-only) store, reloaded on each poll: versions are looked up here. */
  store: RunStore;
  /** The store file: decisions and the promotion are written through a store opened for writing. */
  storeFile: string;
  log: PredictionLog;
  onEvent?: (e: EventRecord) => void;
}

type Role = 'production' | 'candidate';

export class CanaryController {
  private status: CanaryStatus | undefined;
  private slot: Slot | undefined;
  private version: ModelVersionRecord | undefined;
  private actor = 'edd serve';
  private timer: NodeJS.Timeout | undefined;
  private prod = new Side();
  private cand = new Side();
  /** request id → the predictions of each side, waiting for feedback. */
  private pending = new Map<string, { production?: Array<string | number>; candidate?: Array<string | number> }>();
  private correct: Record<Role, number[]> = { production: [], candidate: [] };
  private handledRequest: string | undefined;
  /** Decisions run one at a time. */
  private busy: Promise<void> = Promise.resolve();
  private deciding = false;
  private closed = false;
  readonly dir: string;

  constructor(private readonly o: CanaryOptions) {
    this.dir = canaryDir(o.spec.root, o.spec.model);
  }

  /** The canary's state now (undefined before the first one). */
  get current(): CanaryStatus | undefined {
    return this.status;
  }

  /** The shadow slot, while a shadow runs: the server sends it a copy of each request. */
  get shadowSlot(): Slot | undefined {
    return this.status?.state === 'running' && this.status.mode === 'shadow' ? this.slot : undefined;
  }

  /** At the server's start: the spec's canary (unless it ran before), then any request not yet handled. */
  async start(): Promise<void> {
    const previous = readJsonFile<CanaryStatus>(path.join(this.dir, STATUS_FILE));
    const request = readJsonFile<CanaryRequest>(path.join(this.dir, REQUEST_FILE));
    if (request && previous && previous.id === request.id && isFinal(previous.state)) this.handledRequest = request.id;
    if (request?.action === 'stop') this.handledRequest = request.id;
    const plan = this.o.spec.canary;
    // A start request not yet handled wins over the spec's canary (it is newer than any server that could have run it).
    const pendingStart = request?.action === 'start' && request.id !== this.handledRequest;
    // The spec's canary runs once per version: not again after it ended (promoted, rolled back, stopped — also by a
    // server stop), as the audit log says whatever ran since.
    const ended = (id: string) => this.o.store.auditLog(this.o.spec.model).some(e => e.action === 'canary' && e.details.canary === id && ENDINGS.has(String(e.details.decision)));
    if (plan && !pendingStart && !ended(`spec:${plan.version}`)) {
      await this.run(() => this.begin(`spec:${plan.version}`, plan, 'edd serve', t('the service spec\'s `canary` section')));
    }
    await this.poll();
  }

  /** Called on each registry poll: a new request, and the end of a promotion once the switch happened. */
  async poll(): Promise<void> {
    if (this.closed) return;
    const request = readJsonFile<CanaryRequest>(path.join(this.dir, REQUEST_FILE));
    if (request && request.id !== this.handledRequest && request.model === this.o.spec.model) {
      this.handledRequest = request.id;
      if (request.action === 'stop') await this.run(() => this.end('stopped', request.reason?.trim() || t('stopped by {0}', request.actor), request.actor));
      else if (request.plan) {
        const plan = request.plan;
        await this.run(() => this.begin(request.id, canaryPlan({ ...this.o.spec.canary, ...plan, guards: { ...this.o.spec.canary?.guards, ...plan.guards } }), request.actor, request.reason));
      }
    }
    if (this.status?.state === 'promoting' && this.version && this.o.service.current?.version.id === this.version.id) {
      await this.run(() => this.finishPromotion());
    } else if (this.status?.state === 'running' && this.version && this.o.service.current?.version.id === this.version.id) {
      // Promoted by someone else (edd promote, the editor): the server switched to it, there is nothing left to try.
      const v = this.version.version;
      await this.run(() => this.end('stopped', t('version {0} became the served version outside the canary', v), `edd serve for ${this.actor}`));
    }
  }

  private run(f: () => Promise<void>): Promise<void> {
    this.busy = this.busy.then(f).catch(e => {
      this.o.log.append({ type: 'event', time: Date.now(), kind: 'canary', message: t('Canary error: {0}', (e as Error).message) });
    });
    return this.busy;
  }

  private route: Router = (requestId, instances) => {
    const slot = this.slot;
    const share = this.status?.share ?? 0;
    if (!slot || share <= 0) return this.o.service.activeRouter(requestId, instances);
    const key = this.status!.plan.sticky_key;
    const first = instances[0] as Record<string, unknown> | undefined;
    const value = key !== undefined && typeof first === 'object' && first !== null ? first[key] : undefined;
    const bucket = bucketOf(value !== undefined && value !== null ? `${key}\0${String(value)}` : requestId);
    return bucket < share * 100 ? slot : this.o.service.activeRouter(requestId, instances);
  };

  private async begin(id: string, plan: CanarySpec, actor: string, reason?: string): Promise<void> {
    if (this.status && !isFinal(this.status.state)) await this.end('stopped', t('replaced by a new canary of version {0}', plan.version), actor);
    const { spec, service } = this.o;
    this.actor = actor;
    this.prod = new Side();
    this.cand = new Side();
    this.pending.clear();
    this.correct = { production: [], candidate: [] };
    const now = Date.now();
    this.status = { id, model: spec.model, version: plan.version, mode: plan.mode, state: 'running', share: 0, plan, started_at: now, updated_at: now, decisions: [] };
    this.version = undefined;
    const version = this.o.store.findModelVersion(spec.model, plan.version);
    if (!version) return this.refuse(t('{0} has no version {1} (see edd models {0}).', spec.model, plan.version));
    this.version = version;
    if (service.current?.version.id === version.id) return this.refuse(t('version {0} is already the one served.', plan.version));
    try {
      this.slot = await service.load(version, plan.mode === 'shadow' ? 'shadow' : 'canary');
    } catch (e) {
      return this.refuse(t('version {0} cannot serve: {1}', plan.version, (e as Error).message));
    }
    if (this.closed) {
      await service.release(this.slot);
      return;
    }
    this.status.share = plan.mode === 'shadow' ? 0 : plan.percent;
    if (plan.mode === 'canary') service.router = this.route;
    const from = service.current!.version.version;
    await this.decide('start', plan.mode === 'shadow'
      ? t('Shadow of version {0} started beside version {1}: every request is copied to it; production answers.', plan.version, from)
      : t('Canary of version {0} started beside version {1}: {2}% of requests, +{3}% every {4}.', plan.version, from, plan.percent, plan.step, plan.interval), { reason: reason ?? null });
    this.timer = setInterval(() => void this.tick(), plan.interval_ms);
    this.timer.unref();
  }

  private async refuse(reason: string): Promise<void> {
    this.status!.state = 'refused';
    this.status!.reason = reason;
    await this.decide('refused', t('Canary of version {0} refused: {1}', this.status!.version, reason), {});
  }

  /** What the server saw for one request on `slot` (bad requests, the client's fault, are not counted). */
  observe(slot: Slot, requestId: string, status: number, latencyMs: number, answer: Answer | undefined): void {
    if (!this.status || this.status.state !== 'running' || status < 200 || (status >= 400 && status < 500)) return;
    const role: Role = slot === this.slot ? 'candidate' : 'production';
    (role === 'candidate' ? this.cand : this.prod).add(status, latencyMs, answer);
    if (answer) this.remember(requestId, role, answer);
  }

  private remember(requestId: string, role: Role, answer: Answer): void {
    let p = this.pending.get(requestId);
    if (!p) {
      if (this.pending.size >= MAX_PENDING_FEEDBACK) this.pending.delete(this.pending.keys().next().value!);
      this.pending.set(requestId, (p = {}));
    }
    p[role] = answer.outputs.map(o => o.prediction);
  }

  /** Shadow mode: run a copy on the candidate, log its answer with slot `shadow`; never touches the client's answer. */
  async shadow(requestId: string, instances: readonly unknown[]): Promise<void> {
    const slot = this.shadowSlot;
    if (!slot) return;
    const start = performance.now();
    let answer: Answer | undefined;
    let status = 200;
    let error: string | undefined;
    try {
      answer = await this.o.service.runHeld(slot, instances);
    } catch (e) {
      status = (e as { status?: number }).status ?? 500;
      error = (e as Error).message;
    }
    const latencyMs = Math.round((performance.now() - start) * 1000) / 1000;
    const { spec, log } = this.o;
    const now = Date.now();
    instances.forEach((inst, r) => {
      const inputs = typeof inst === 'object' && inst !== null && !Array.isArray(inst) ? log.redact(inst as Record<string, unknown>) : { value: inst };
      log.append(answer
        ? { type: 'prediction', request_id: requestId, row: r, time: now, model: spec.model, version: slot.version.version, slot: 'shadow', latency_ms: latencyMs, status, inputs, outputs: answer.outputs[r] }
        : { type: 'prediction', request_id: requestId, row: r, time: now, model: spec.model, version: slot.version.version, slot: 'shadow', latency_ms: latencyMs, status, inputs, error: error ?? '' });
    });
    this.observe(slot, requestId, status, latencyMs, answer);
  }

  /** Feedback for a request: scores each side that answered it (accuracy guard). */
  feedback(requestId: string, row: number, label: unknown): void {
    const p = this.pending.get(requestId);
    if (!p) return;
    for (const role of ['production', 'candidate'] as const) {
      const preds = p[role];
      if (preds && row < preds.length) this.correct[role].push(String(preds[row]) === String(label) ? 1 : 0);
    }
  }

  /** Compare the candidate with production over the interval now ending. */
  report(): GuardReport {
    const g = this.status!.plan.guards;
    const production = this.prod.numbers();
    const candidate = this.cand.numbers();
    const breached: string[] = [];
    if (candidate.error_rate - production.error_rate > g.error_rate_delta) breached.push('error_rate');
    if (candidate.p95_ms !== null && production.p95_ms !== null && candidate.p95_ms > production.p95_ms * g.latency_p95_ratio && candidate.p95_ms - production.p95_ms >= g.latency_p95_slack_ms) {
      breached.push('latency_p95');
    }
    let predictionPsi: number | null = null;
    const { prod, cand } = this;
    // Below a hundred answers a side PSI is mostly noise: two samples of one three-class distribution, 54 and 94
    // answers, score above 0.25 in 1.6% of draws — a good canary would be rolled back every few dozen intervals.
    if (prod.answered >= PSI_MIN_SAMPLES && cand.answered >= PSI_MIN_SAMPLES) {
      predictionPsi = classPsi(prod.classes, prod.answered, cand.classes, cand.answered);
    } else if (prod.values.length >= PSI_MIN_SAMPLES && cand.values.length >= PSI_MIN_SAMPLES) {
      // Deciles of a few dozen values are noise: fewer bins on small samples, an empty bin as half a value.
      const bins = Math.max(2, Math.min(10, Math.floor(Math.min(prod.values.length, cand.values.length) / 10)));
      predictionPsi = psi(prod.values, cand.values, { bins, epsilon: 0.5 / Math.max(prod.values.length, cand.values.length) }).psi;
    }
    if (predictionPsi !== null && predictionPsi > g.prediction_psi) breached.push('prediction_psi');
    const pc = this.correct.production, cc = this.correct.candidate;
    const acc = (xs: number[]) => (xs.length ? round(xs.reduce((s, x) => s + x, 0) / xs.length) : null);
    let pValue: number | null = null;
    if (pc.length >= g.min_feedback && cc.length >= g.min_feedback) {
      // Independent samples of 0/1 outcomes: Welch's test is the unpooled two-proportion test.
      const r = welchTTest(cc, pc, { alternative: 'less' });
      pValue = Number.isNaN(r.pValue) ? null : r.pValue;
      if (pValue !== null && pValue < g.accuracy_p_value) breached.push('accuracy');
    }
    return {
      production, candidate, prediction_psi: predictionPsi === null ? null : round(predictionPsi),
      ...(prod.answered || cand.answered ? { predictions: { production: Object.fromEntries(prod.classes), candidate: Object.fromEntries(cand.classes) } } : {}),
      accuracy: { production: { n: pc.length, accuracy: acc(pc) }, candidate: { n: cc.length, accuracy: acc(cc) }, p_value: pValue === null ? null : round(pValue, 6) },
      breached,
    };
  }

  private tick(): void {
    if (this.deciding || this.status?.state !== 'running') return;
    const plan = this.status.plan;
    // Too few requests on a side to judge: the interval goes on.
    if (this.prod.requests < plan.min_requests || this.cand.requests < plan.min_requests) return;
    this.deciding = true;
    void this.run(() => this.judge()).finally(() => { this.deciding = false; });
  }

  private async judge(): Promise<void> {
    if (this.status?.state !== 'running') return;
    const r = this.report();
    this.prod = new Side();
    this.cand = new Side();
    const s = this.status;
    s.last = r;
    const v = s.version;
    if (r.breached.length) {
      return this.end('rolled_back', t('Guard breached: {0}', this.describeBreach(r)), `edd serve for ${this.actor}`, r);
    }
    if (s.mode === 'shadow') {
      // A shadow answers no one and is never promoted: it is judged each interval until stopped or rolled back.
      await this.decide('check', t('Shadow of version {0}: guards passed ({1}).', v, this.describeNumbers(r)), { report: r });
      return;
    }
    s.share = Math.min(100, s.share + s.plan.step);
    if (s.share >= 100) return this.promoteCandidate(r);
    await this.decide('step', t('Canary of version {0}: guards passed ({1}); share raised to {2}%.', v, this.describeNumbers(r), s.share), { report: r });
  }

  private describeNumbers(r: GuardReport): string {
    const parts = [
      t('errors {0} vs {1}', r.candidate.error_rate.toFixed(3), r.production.error_rate.toFixed(3)),
      t('p95 {0} ms vs {1} ms', r.candidate.p95_ms ?? '—', r.production.p95_ms ?? '—'),
      t('prediction PSI {0}', r.prediction_psi ?? '—'),
    ];
    if (r.accuracy.p_value !== null) parts.push(t('accuracy {0} vs {1} (p = {2})', r.accuracy.candidate.accuracy ?? '—', r.accuracy.production.accuracy ?? '—', r.accuracy.p_value));
    return parts.join(', ');
  }

  private describeBreach(r: GuardReport): string {
    const g = this.status!.plan.guards;
    return r.breached.map(b => {
      switch (b) {
        case 'error_rate': return t('error rate {0} against production\'s {1} (allowed +{2})', r.candidate.error_rate.toFixed(3), r.production.error_rate.toFixed(3), g.error_rate_delta);
        case 'latency_p95': return t('p95 latency {0} ms against production\'s {1} ms (allowed ×{2})', r.candidate.p95_ms ?? '—', r.production.p95_ms ?? '—', g.latency_p95_ratio);
        case 'prediction_psi': return t('prediction PSI {0} (allowed {1})', r.prediction_psi ?? '—', g.prediction_psi);
        default: return t('accuracy {0} against production\'s {1}, p = {2} (below {3})', r.accuracy.candidate.accuracy ?? '—', r.accuracy.production.accuracy ?? '—', r.accuracy.p_value ?? '—', g.accuracy_p_value);
      }
    }).join('; ');
  }

  /** The last step passed: promote through the registry; the blue-green switch then takes over (see poll). */
  private async promoteCandidate(r: GuardReport): Promise<void> {
    const s = this.status!;
    const { spec } = this.o;
    const actor = `edd serve for ${this.actor}`;
    const reason = t('canary of version {0} passed every step ({1})', s.version, this.describeNumbers(r));
    const store = await RunStore.open(this.o.storeFile, { autoSave: false });
    try {
      if (spec.target.kind === 'stage') {
        promote(store, { model: spec.model, ref: s.version, to: spec.target.stage, actor, reason, requireGate: gateRequired(spec.root, spec.model) });
      } else {
        setAlias(store, { model: spec.model, ref: s.version, alias: spec.target.alias, actor, reason });
      }
    } catch (e) {
      // A refused promotion is recorded by `promote` itself (`promote-refused`): keep that record.
      await store.close();
      if (e instanceof RegistryError) return this.end('refused', t('the promotion was refused: {0}', e.message), actor, r);
      throw e;
    }
    await store.close();
    s.state = 'promoting';
    if (s.mode === 'canary') s.share = 100;
    await this.decide('promote', t('Canary of version {0} promoted to {1}: {2}.', s.version, spec.target.kind === 'stage' ? spec.target.stage : spec.target.alias, this.describeNumbers(r)), { report: r });
  }

  private async finishPromotion(): Promise<void> {
    const s = this.status!;
    this.o.service.router = this.o.service.activeRouter;
    s.state = 'promoted';
    s.share = 0;
    this.stopTimer();
    const slot = this.slot;
    this.slot = undefined;
    if (slot) await this.o.service.release(slot);
    this.writeStatus();
  }

  /** Roll back, stop or refuse: the share goes to 0 at once, the slot is released once its requests are answered. */
  private async end(state: CanaryState, reason: string, actor: string, r?: GuardReport): Promise<void> {
    const s = this.status;
    if (!s || isFinal(s.state)) return;
    this.stopTimer();
    this.o.service.router = this.o.service.activeRouter;
    const from = s.share;
    s.share = 0;
    s.state = state;
    s.reason = reason;
    const slot = this.slot;
    this.slot = undefined;
    const decision = state === 'rolled_back' ? 'rollback' : state === 'refused' ? 'refused' : 'stop';
    const message = state === 'rolled_back'
      ? t('Canary of version {0} rolled back at {1}%: {2}', s.version, from, reason)
      : state === 'refused' ? t('Canary of version {0} refused: {1}', s.version, reason) : t('Canary of version {0} stopped at {1}%: {2}', s.version, from, reason);
    await this.decide(decision, message, { ...(r ? { report: r } : {}), share_before: from }, actor);
    if (slot) await this.o.service.release(slot);
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Record a decision: the status file, the prediction log's event, the registry's audit log. */
  private async decide(decision: string, message: string, numbers: Record<string, unknown>, actor = decision === 'start' ? this.actor : `edd serve for ${this.actor}`): Promise<void> {
    const s = this.status!;
    const now = Date.now();
    s.updated_at = now;
    s.decisions.push({ time: now, decision, share: s.share, reason: message });
    if (s.decisions.length > KEPT_DECISIONS) s.decisions.splice(0, s.decisions.length - KEPT_DECISIONS);
    const details = { decision, canary: s.id, mode: s.mode, share: s.share, production_version: this.o.service.current?.version.version ?? null, ...numbers };
    const event: EventRecord = { type: 'event', time: now, kind: 'canary', decision, from_version: this.o.service.current?.version.version ?? null, to_version: s.version, message, details };
    this.o.log.append(event);
    this.o.log.flush();
    this.o.onEvent?.(event);
    try {
      if (this.version) {
        const store = await RunStore.open(this.o.storeFile, { autoSave: false });
        try {
          store.recordCanaryDecision({ versionId: this.version.id, actor, reason: message, details });
        } finally {
          await store.close();
        }
      }
    } finally {
      // Last: whoever reads the status (edd canary) then finds the decision in the audit log too.
      this.writeStatus();
    }
  }

  private writeStatus(): void {
    if (!this.status) return;
    this.status.updated_at = Date.now();
    try {
      writeJsonAtomic(path.join(this.dir, STATUS_FILE), this.status);
    } catch {
      // a status that cannot be written leaves the canary running; the log and the audit log still have every decision
    }
  }

  /** The server is stopping: a running canary is stopped (recorded), its slot released. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.busy;
    if (this.status && !isFinal(this.status.state)) {
      await this.run(() => this.end('stopped', t('the server stopped'), `edd serve for ${this.actor}`));
    }
    this.closed = true;
    this.stopTimer();
  }
}

/** Checks a `start` request's numbers as the spec's schema would; a sentence per problem. */
export function checkPlan(plan: RawCanary): string[] {
  const out: string[] = [];
  if (!Number.isInteger(plan.version) || plan.version < 1) out.push(t('the version must be a registered version number, e.g. 3'));
  if (plan.percent !== undefined && !(plan.percent > 0 && plan.percent <= 100)) out.push(t('--percent must be above 0 and at most 100, not {0}', plan.percent));
  if (plan.step !== undefined && !(plan.step > 0 && plan.step <= 100)) out.push(t('--step must be above 0 and at most 100, not {0}', plan.step));
  if (plan.interval !== undefined && parseDuration(plan.interval) === undefined) out.push(t('--interval must be a duration such as 200ms, 60s or 5m, not {0}', plan.interval));
  if (plan.mode !== undefined && plan.mode !== 'canary' && plan.mode !== 'shadow') out.push(t('--mode must be canary or shadow, not {0}', plan.mode));
  if (plan.min_requests !== undefined && !(Number.isInteger(plan.min_requests) && plan.min_requests >= 1)) out.push(t('--min-requests must be a whole number of at least 1, not {0}', plan.min_requests));
  return out;
}
