/**
 * `edd serve`'s HTTP server (fastify): the ModelService over HTTP.
 *
 * - `POST /v1/models/{name}:predict` `{"instances": [{…}, …]}` → `{"predictions": […], "model_version": N, "request_id": "…"}`
 * - Open Inference Protocol (KServe V2): `GET /v2/health/live`, `GET /v2/health/ready`, `GET /v2/models/{name}`,
 *   `POST /v2/models/{name}/infer` (tensors in, tensors out)
 * - `POST /v1/feedback` `{"request_id": "…", "label": …, "row": 0}`
 * - `GET /metrics` (Prometheus text format)
 *
 * Bad requests answer 400 (413 when too large) with an `application/problem+json` body listing each broken rule with
 * its row and field; output validation failures answer 500 the same way. Binding to anything but loopback needs a
 * bearer token (`EDD_SERVE_TOKEN`): {@link assertHostAllowed} refuses to start without one.
 */
import { randomUUID, timingSafeEqual } from 'crypto';
import * as fs from 'fs';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import * as client from 'prom-client';
import { t } from '../l10n';
import { readDataset } from '../checks/dataset';
import type { Dataset } from '../checks/types';
import { RunStore } from '../store';
import { compilePreprocessor, type FieldError, type Preprocessor } from './pipeline';
import { PredictionLog, type EventRecord } from './predictionLog';
import { BadRequest, ModelService, OutputInvalid, type Answer } from './service';
import { CanaryController } from './canary';
import type { ServiceSpec } from './spec';

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);
const SAMPLE_MS = 10_000;
const WARMUP_ROWS = 32;

/** Refusal to start (bad host/token, no version to serve): the CLI exits 2 with the message. */
export class ServeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ServeError';
  }
}

/** Throws ServeError when `host` is not loopback and no token is set. */
export function assertHostAllowed(host: string, token: string | undefined): void {
  if (!LOOPBACK.has(host) && !(token && token.length > 0)) {
    throw new ServeError(t('Serving on {0} makes the model reachable from other machines: set EDD_SERVE_TOKEN to a secret; clients then send "Authorization: Bearer <token>". Or serve on 127.0.0.1 (the default).', host));
  }
}

export interface ServeOptions {
  spec: ServiceSpec;
  /** The store file (default: the workspace's `.edd/edd.sqlite`). */
  storeFile?: string;
  host?: string;
  port?: number;
  /** Bearer token; required off loopback. */
  token?: string;
  /** How often the registry is checked for a moved stage or alias (ms). Default 1000. */
  pollMs?: number;
  /** Told about switches and failed warm-ups (the CLI prints them). */
  onEvent?: (e: EventRecord) => void;
}

export interface RunningServer {
  url: string;
  port: number;
  app: FastifyInstance;
  service: ModelService;
  /** Canary and shadow deployments (`edd canary`, the spec's `canary` section). */
  canary: CanaryController;
  log: PredictionLog;
  /** Check the registry now (tests; the poll does it on its own). */
  follow(): Promise<void>;
  close(): Promise<void>;
}

interface Problem { type: string; title: string; status: number; detail: string; errors?: FieldError[]; request_id?: string; [k: string]: unknown }

function sendProblem(reply: FastifyReply, p: Problem): FastifyReply {
  return reply.code(p.status).type('application/problem+json').send(p);
}

/** The rows of the reference data as request instances (the columns the pipeline knows), valid ones only. */
function warmupRows(reference: Dataset | undefined, pre: Preprocessor): Record<string, unknown>[] {
  if (!reference) return [];
  const out: Record<string, unknown>[] = [];
  const cols = pre.columns.filter(c => reference.columns.has(c));
  for (let r = 0; r < reference.rows && out.length < WARMUP_ROWS; r++) {
    const inst: Record<string, unknown> = {};
    for (const c of cols) {
      const col = reference.columns.get(c)!;
      const v = col.kind === 'number' ? (Number.isNaN(col.values[r]) ? null : col.values[r]) : col.values[r];
      if (v !== null) inst[c] = v;
    }
    if (pre.prepare([inst]).errors.length === 0) out.push(inst);
  }
  return out;
}

/** Start serving `spec`. Resolves once the first version is loaded, warmed up and the port is listening. */
export async function startServer(o: ServeOptions): Promise<RunningServer> {
  const { spec } = o;
  const host = o.host ?? '127.0.0.1';
  const token = o.token && o.token.length > 0 ? Buffer.from(o.token) : undefined;
  assertHostAllowed(host, o.token);
  const storeFile = o.storeFile ?? RunStore.defaultPath(spec.root);
  if (!fs.existsSync(storeFile)) throw new ServeError(t('There is no EDD store at {0}: register and promote a model first (edd register, edd promote).', storeFile));
  const store = await RunStore.open(storeFile, { readOnly: true, autoSave: false });
  const reference = spec.reference ? await readDataset(spec.reference, { root: spec.root }) : undefined;
  let pre: Preprocessor;
  try {
    pre = compilePreprocessor(spec, reference);
  } catch (e) {
    await store.close();
    throw new ServeError((e as Error).message);
  }
  const log = new PredictionLog({ dir: spec.monitoring.log.dir, segmentMb: spec.monitoring.log.segment_mb, retentionDays: spec.monitoring.log.retention_days, redact: spec.monitoring.redact });

  // Metrics: a registry of our own (not prom-client's global one), children bound once per label set.
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry });
  const requests = new client.Counter({ name: 'edd_serve_requests_total', help: 'Requests by endpoint, model version and HTTP status', labelNames: ['endpoint', 'version', 'status'], registers: [registry] });
  const latency = new client.Histogram({ name: 'edd_serve_request_duration_seconds', help: 'Request latency by endpoint and model version', labelNames: ['endpoint', 'version'], buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1], registers: [registry] });
  const inFlight = new client.Gauge({ name: 'edd_serve_in_flight_requests', help: 'Requests being answered now', registers: [registry] });
  const versionGauge = new client.Gauge({ name: 'edd_serve_model_version', help: 'Version loaded in each slot; active=1 for the one answering', labelNames: ['model', 'slot', 'active'], registers: [registry] });
  const predictions = new client.Counter({ name: 'edd_serve_predictions_total', help: 'Predicted instances by model version and predicted class', labelNames: ['version', 'prediction'], registers: [registry] });
  const switches = new client.Counter({ name: 'edd_serve_switches_total', help: 'Blue-green switches to a new version', registers: [registry] });
  const warmupFailures = new client.Counter({ name: 'edd_serve_warmup_failures_total', help: 'New versions refused because their warm-up or output validation failed', registers: [registry] });
  const feedback = new client.Counter({ name: 'edd_serve_feedback_total', help: 'Feedback records received', registers: [registry] });
  const canaryShare = new client.Gauge({ name: 'edd_serve_canary_share_percent', help: 'Percent of requests a canary answers (0 when none runs)', labelNames: ['version', 'mode'], registers: [registry] });
  const outputFailures = new client.Counter({ name: 'edd_serve_output_validation_failures_total', help: 'Requests whose model output failed validation', labelNames: ['version'], registers: [registry] });

  const service = new ModelService({
    spec, store, pre, log, warmupRows: warmupRows(reference, pre),
    onEvent: e => {
      if (e.kind === 'switch') switches.inc();
      if (e.kind === 'warmup_failed') warmupFailures.inc();
      updateVersionGauge();
      o.onEvent?.(e);
    },
  });
  const updateVersionGauge = () => {
    versionGauge.reset();
    for (const s of [service.current, service.idle]) {
      if (s) versionGauge.labels(spec.model, s.name, s === service.current ? '1' : '0').set(s.version.version);
    }
  };
  try {
    await service.start();
  } catch (e) {
    log.close();
    await store.close();
    throw new ServeError((e as Error).message);
  }
  updateVersionGauge();
  const canary = new CanaryController({
    spec, service, store, storeFile, log,
    onEvent: e => {
      canaryShare.reset();
      const c = canary.current;
      if (c && c.share > 0) canaryShare.labels(String(c.version), c.mode).set(c.share);
      o.onEvent?.(e);
    },
  });

  const countCache = new Map<string, client.Counter.Internal>();
  const latencyCache = new Map<string, client.Histogram.Internal<string>>();
  const count = (endpoint: string, version: string, status: number) => {
    const key = `${endpoint}\0${version}\0${status}`;
    let c = countCache.get(key);
    if (!c) countCache.set(key, (c = requests.labels(endpoint, version, String(status))));
    c.inc();
  };
  const predictedCache = new Map<string, client.Counter.Internal>();
  const predicted = (version: number, prediction: string | number) => {
    const key = `${version}\0${prediction}`;
    let c = predictedCache.get(key);
    if (!c) predictedCache.set(key, (c = predictions.labels(String(version), String(prediction))));
    c.inc();
  };
  const observe = (endpoint: string, version: string, seconds: number) => {
    const key = `${endpoint}\0${version}`;
    let h = latencyCache.get(key);
    if (!h) latencyCache.set(key, (h = latency.labels(endpoint, version)));
    h.observe(seconds);
  };

  const app = Fastify({
    bodyLimit: spec.server.body_limit_bytes,
    requestTimeout: spec.server.timeout_ms,
    handlerTimeout: spec.server.timeout_ms,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    logger: false,
  });

  // Only with a token: an onRequest hook costs every request a promise.
  if (token) app.addHook('onRequest', async (req, reply) => {
    if (req.url.startsWith('/v2/health/')) return;
    const given = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const b = given ? Buffer.from(given) : undefined;
    if (!b || b.length !== token.length || !timingSafeEqual(b, token)) {
      reply.header('www-authenticate', 'Bearer');
      return sendProblem(reply, { type: 'about:blank', title: t('Unauthorized'), status: 401, detail: t('This server needs "Authorization: Bearer <token>" with the token in EDD_SERVE_TOKEN.') });
    }
  });

  app.setErrorHandler((err: Error & { code?: string; statusCode?: number }, _req, reply) => {
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return sendProblem(reply, { type: 'about:blank', title: t('Request too large'), status: 413, detail: t('The request body is larger than {0} bytes (`server.body_limit_kb` in the spec).', spec.server.body_limit_bytes), errors: [{ row: -1, field: '', rule: 'type', message: t('too large') }] });
    }
    if (err.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || err instanceof SyntaxError || err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      return sendProblem(reply, { type: 'about:blank', title: t('Not JSON'), status: 400, detail: t('The request body is not valid JSON: {0}', err.message), errors: [{ row: -1, field: '', rule: 'type', message: t('not JSON') }] });
    }
    if (err.code === 'FST_ERR_HANDLER_TIMEOUT') {
      return sendProblem(reply, { type: 'about:blank', title: t('Timeout'), status: 503, detail: t('The request took longer than {0} ms (`server.timeout_ms`).', spec.server.timeout_ms) });
    }
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    return sendProblem(reply, { type: 'about:blank', title: status === 500 ? t('Internal error') : t('Bad request'), status, detail: err.message });
  });
  app.setNotFoundHandler((req, reply) => sendProblem(reply, { type: 'about:blank', title: t('Not found'), status: 404, detail: t('No such endpoint: {0} {1}. This server serves model {2}: POST /v1/models/{2}:predict, POST /v2/models/{2}/infer, POST /v1/feedback, GET /metrics.', req.method, req.url, spec.model) }));

  const requestIdOf = (req: FastifyRequest): string => {
    const h = req.headers['x-request-id'];
    return typeof h === 'string' && h.length > 0 && h.length <= 128 ? h : randomUUID();
  };

  /** Run one request through the service, log every instance, count it; the answer or a problem. */
  const answer = async (endpoint: string, requestId: string, instances: unknown[], reply: FastifyReply): Promise<Answer | undefined> => {
    const start = performance.now();
    const slot = service.router(requestId, instances);
    inFlight.inc();
    let status = 200;
    let result: Answer | undefined;
    let problem: Problem | undefined;
    try {
      result = await service.runHeld(slot, instances);
    } catch (e) {
      if (e instanceof BadRequest) {
        status = e.status;
        problem = { type: 'about:blank', title: t('Invalid request'), status, detail: e.message, errors: e.errors, request_id: requestId };
      } else {
        status = 500;
        if (e instanceof OutputInvalid) outputFailures.labels(String(slot.version.version)).inc();
        problem = { type: 'about:blank', title: e instanceof OutputInvalid ? t('Invalid model output') : t('Internal error'), status, detail: (e as Error).message, request_id: requestId };
      }
    } finally {
      inFlight.dec();
    }
    const ms = performance.now() - start;
    const used = result?.slot ?? slot;
    const version = used.version.version;
    const now = Date.now();
    const latencyMs = Math.round(ms * 1000) / 1000;
    for (let r = 0; r < instances.length; r++) {
      const inst = instances[r];
      const inputs = typeof inst === 'object' && inst !== null && !Array.isArray(inst) ? log.redact(inst as Record<string, unknown>) : { value: inst };
      if (result) {
        log.append({ type: 'prediction', request_id: requestId, row: r, time: now, model: spec.model, version, slot: used.name, latency_ms: latencyMs, status, inputs, outputs: result.outputs[r] });
        // Per class only: a regression's values would make a label per distinct number.
        if (result.slot.post.classes) predicted(version, result.outputs[r].prediction);
      } else {
        const errs = problem?.errors?.filter(e => e.row === r);
        const error = errs && errs.length ? errs.map(e => e.message).join(' ') : problem!.detail;
        log.append({ type: 'prediction', request_id: requestId, row: r, time: now, model: spec.model, version, slot: used.name, latency_ms: latencyMs, status, inputs, error });
      }
    }
    // On disk before the client sees the answer: a kill after it loses nothing that was answered.
    log.flush();
    canary.observe(used, requestId, status, latencyMs, result);
    if (result && canary.shadowSlot) void canary.shadow(requestId, instances);
    const v = String(version);
    count(endpoint, v, status);
    observe(endpoint, v, ms / 1000);
    if (problem) {
      sendProblem(reply, problem);
      return undefined;
    }
    return result;
  };

  const badShape = (reply: FastifyReply, detail: string, requestId: string) => {
    count('predict', String(service.current?.version.version ?? ''), 400);
    return sendProblem(reply, { type: 'about:blank', title: t('Invalid request'), status: 400, detail, errors: [{ row: -1, field: '', rule: 'type', message: detail }], request_id: requestId });
  };

  app.post(`/v1/models/${spec.model}::predict`, async (req, reply) => {
    const requestId = requestIdOf(req);
    const body = req.body as { instances?: unknown } | null;
    if (typeof body !== 'object' || body === null || !Array.isArray(body.instances) || body.instances.length === 0) {
      return badShape(reply, t('The body must be {"instances": [{…}, …]} with at least one instance.'), requestId);
    }
    if (body.instances.length > spec.server.max_instances) {
      return sendProblem(reply, { type: 'about:blank', title: t('Request too large'), status: 413, detail: t('{0} instances in one request; at most {1} (`server.max_instances`).', body.instances.length, spec.server.max_instances), request_id: requestId });
    }
    const result = await answer('predict', requestId, body.instances, reply);
    if (!result) return reply;
    return { predictions: result.outputs, model_version: result.slot.version.version, request_id: requestId };
  });

  app.get('/v2/health/live', async () => ({ live: true }));
  app.get('/v2/health/ready', async (_req, reply) => (service.current ? { ready: true } : reply.code(503).send({ ready: false })));
  app.get(`/v2/models/${spec.model}`, async () => {
    const cur = service.current!;
    const k = cur.post.classes?.length ?? 1;
    return {
      name: spec.model, versions: [String(cur.version.version)], platform: 'onnxruntime_onnx',
      inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, spec.features.length] }, ...pre.columns.map(c => ({ name: c, datatype: 'BYTES', shape: [-1] }))],
      outputs: [{ name: 'probabilities', datatype: 'FP32', shape: [-1, k] }, { name: 'prediction', datatype: 'BYTES', shape: [-1] }],
      parameters: { features: spec.features, classes: cur.post.classes },
    };
  });
  app.get(`/v2/models/${spec.model}/ready`, async () => ({ name: spec.model, ready: service.current !== undefined }));
  app.post(`/v2/models/${spec.model}/infer`, async (req, reply) => {
    const body = req.body as { id?: unknown; inputs?: unknown } | null;
    const requestId = typeof body?.id === 'string' && body.id !== '' ? body.id : requestIdOf(req);
    const instances = kserveInstances(body?.inputs, spec.features);
    if (typeof instances === 'string') return badShape(reply, instances, requestId);
    if (instances.length > spec.server.max_instances) {
      return sendProblem(reply, { type: 'about:blank', title: t('Request too large'), status: 413, detail: t('{0} instances in one request; at most {1} (`server.max_instances`).', instances.length, spec.server.max_instances), request_id: requestId });
    }
    const result = await answer('infer', requestId, instances, reply);
    if (!result) return reply;
    const rows = instances.length;
    const outputs: Array<Record<string, unknown>> = [{ name: 'prediction', datatype: 'BYTES', shape: [rows], data: result.outputs.map(o => o.prediction) }];
    if (result.slot.post.classes) outputs.push({ name: 'probabilities', datatype: 'FP32', shape: [rows, result.outputs[0]?.probabilities?.length ?? 0], data: result.outputs.flatMap(o => o.probabilities ?? []) });
    return { model_name: spec.model, model_version: String(result.slot.version.version), id: requestId, outputs };
  });

  app.post('/v1/feedback', async (req, reply) => {
    const body = req.body as { request_id?: unknown; label?: unknown; row?: unknown } | null;
    const errors: FieldError[] = [];
    if (typeof body !== 'object' || body === null) errors.push({ row: -1, field: '', rule: 'type', message: t('The body must be {"request_id": "…", "label": …}.') });
    else {
      if (typeof body.request_id !== 'string' || body.request_id === '') errors.push({ row: -1, field: 'request_id', rule: 'missing', message: t('`request_id` must be the id a prediction answered with.') });
      if (body.label === undefined) errors.push({ row: -1, field: 'label', rule: 'missing', message: t('`label` is missing.') });
      if (body.row !== undefined && !(Number.isInteger(body.row) && (body.row as number) >= 0)) errors.push({ row: -1, field: 'row', rule: 'type', message: t('`row` must be the instance\'s index in its request (0, 1, …).') });
    }
    if (errors.length) {
      count('feedback', '', 400);
      return sendProblem(reply, { type: 'about:blank', title: t('Invalid feedback'), status: 400, detail: errors.map(e => e.message).join(' '), errors });
    }
    log.append({ type: 'feedback', request_id: body!.request_id as string, row: (body!.row as number | undefined) ?? 0, time: Date.now(), label: body!.label });
    canary.feedback(body!.request_id as string, (body!.row as number | undefined) ?? 0, body!.label);
    feedback.inc();
    count('feedback', '', 202);
    return reply.code(202).send({ accepted: true });
  });

  app.get('/metrics', async (_req, reply) => reply.type(registry.contentType).send(await registry.metrics()));

  // Follow the registry: reload the store when another process saved it, then switch if the target moved.
  let following: Promise<void> = Promise.resolve();
  const follow = (): Promise<void> => {
    following = following.then(async () => {
      try {
        await store.reloadIfChanged();
      } catch {
        // a store being replaced mid-read: the next poll reads it
      }
      await service.follow();
      await canary.poll();
    });
    return following;
  };
  const poll = setInterval(() => void follow(), o.pollMs ?? 1000);
  poll.unref();

  let lastCpu = process.cpuUsage();
  let lastAt = performance.now();
  const sampler = setInterval(() => {
    const cpu = process.cpuUsage();
    const now = performance.now();
    const usedMs = (cpu.user - lastCpu.user + cpu.system - lastCpu.system) / 1000;
    const mem = process.memoryUsage();
    log.append({ type: 'sample', time: Date.now(), cpu_percent: Math.round((usedMs / Math.max(1, now - lastAt)) * 1000) / 10, rss_bytes: mem.rss, heap_bytes: mem.heapUsed, in_flight: service.current?.inFlight ?? 0 });
    lastCpu = cpu;
    lastAt = now;
  }, SAMPLE_MS);
  sampler.unref();

  let address: string;
  try {
    address = await app.listen({ host, port: o.port ?? 8080 });
  } catch (e) {
    clearInterval(poll);
    clearInterval(sampler);
    await service.close();
    log.close();
    await store.close();
    throw new ServeError(t('Cannot listen on {0}:{1}: {2}', host, o.port ?? 8080, (e as Error).message));
  }
  const port = (app.server.address() as { port: number }).port;
  const cur = service.current!;
  log.append({ type: 'event', time: Date.now(), kind: 'start', to_version: cur.version.version, message: t('Serving {0} version {1} on {2}.', spec.model, cur.version.version, address) });
  // The spec's canary, or a request `edd canary start` left while no server ran.
  following = following.then(() => canary.start());
  await following;
  let closed = false;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`, port, app, service, canary, log,
    follow,
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(poll);
      clearInterval(sampler);
      await app.close();
      await following.catch(() => undefined);
      await canary.close();
      log.append({ type: 'event', time: Date.now(), kind: 'stop', from_version: service.current?.version.version ?? null, message: t('Stopped serving {0}.', spec.model) });
      await service.close();
      log.close();
      await store.close();
    },
  };
}

/**
 * KServe V2 inputs → instances. Either one FP32 tensor of shape [N, features] (the features in the spec's order), or
 * one tensor per field named after it, shape [N] or [N, 1]. A string says what is wrong.
 */
export function kserveInstances(inputs: unknown, features: readonly string[]): Array<Record<string, unknown>> | string {
  if (!Array.isArray(inputs) || inputs.length === 0) return t('The body must have "inputs": a list of tensors {"name", "shape", "datatype", "data"}.');
  const tensors: Array<{ name: string; shape: number[]; data: unknown[] }> = [];
  for (const x of inputs) {
    const o = x as { name?: unknown; shape?: unknown; data?: unknown };
    if (typeof o?.name !== 'string' || !Array.isArray(o.shape) || !o.shape.every(d => Number.isInteger(d) && d >= 0) || !Array.isArray(o.data)) {
      return t('Each input tensor needs "name", "shape" (a list of sizes), "datatype" and "data" (a flat list).');
    }
    const size = (o.shape as number[]).reduce((a, b) => a * b, 1);
    // The protocol's JSON allows the data flat or nested by row.
    const data = (o.data as unknown[]).flat(Infinity);
    if (data.length !== size) return t('Tensor `{0}` has shape [{1}] but {2} values.', o.name, (o.shape as number[]).join(', '), data.length);
    tensors.push({ name: o.name, shape: o.shape as number[], data });
  }
  if (tensors.length === 1 && tensors[0].shape.length === 2 && tensors[0].shape[1] === features.length && !features.includes(tensors[0].name)) {
    const [n, w] = tensors[0].shape;
    const out: Array<Record<string, unknown>> = [];
    for (let r = 0; r < n; r++) {
      const inst: Record<string, unknown> = {};
      for (let f = 0; f < w; f++) inst[features[f]] = tensors[0].data[r * w + f];
      out.push(inst);
    }
    return out;
  }
  const n = tensors[0].shape[0];
  if (!tensors.every(x => x.shape[0] === n && (x.shape.length === 1 || (x.shape.length === 2 && x.shape[1] === 1)))) {
    return t('Send one tensor [N, {0}] of the features ({1}), or one tensor [N] per field, all with the same N.', features.length, features.join(', '));
  }
  const out: Array<Record<string, unknown>> = [];
  for (let r = 0; r < n; r++) {
    const inst: Record<string, unknown> = {};
    for (const x of tensors) inst[x.name] = x.data[r];
    out.push(inst);
  }
  return out;
}
