import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { startServer, type RunningServer } from '../../src/core/serve/server';
import { listSegments, readLogLines, type LogRecord } from '../../src/core/serve/predictionLog';
import { loadServiceSpec } from '../../src/core/serve/spec';
import { until } from './processes';
import { setAlias } from '../../src/core/registry';
import { RunStore } from '../../src/core/store';
import { ADELIE, GENTOO, promoteElsewhere, servingWorkspace, SPEC } from './serve.fixtures';

// A real Prometheus text parser (no type declarations ship with it).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const parsePrometheusTextFormat = require('parse-prometheus-text-format') as (text: string) => unknown;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- answers are read field by field and asserted
type Json = any;

async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; type: string; json: Json }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, type: res.headers.get('content-type') ?? '', json: text ? JSON.parse(text) : undefined };
}

function logRecords(dir: string): LogRecord[] {
  return listSegments(dir).flatMap(f => readLogLines(fs.readFileSync(f, 'utf8')));
}

describe('serve: the HTTP server on a real registry and onnxruntime', function () {
  this.timeout(60_000);
  let dir: string;
  let storeFile: string;
  let server: RunningServer;
  let predictUrl: string;

  before(async () => {
    ({ dir, storeFile } = await servingWorkspace());
    server = await startServer({ spec: loadServiceSpec('penguins.service.yaml', dir), port: 0, pollMs: 50 });
    predictUrl = `${server.url}/v1/models/penguins:predict`;
  });
  after(async () => {
    await server?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('predicts through the whole pipeline: class names, probabilities, the version and a request id', async () => {
    const r = await post(predictUrl, { instances: [ADELIE, GENTOO] });
    assert.strictEqual(r.status, 200, JSON.stringify(r.json));
    assert.deepStrictEqual(r.json.predictions.map((p: { prediction: string }) => p.prediction), ['Adelie', 'Gentoo']);
    assert.strictEqual(r.json.predictions[0].probabilities.length, 3);
    assert.strictEqual(r.json.model_version, 1);
    assert.match(r.json.request_id, /^[0-9a-f-]{36}$/);
  });

  it('speaks KServe V2: health, metadata, infer with one [N, features] tensor or one tensor per field', async () => {
    assert.deepStrictEqual(await (await fetch(`${server.url}/v2/health/live`)).json(), { live: true });
    assert.deepStrictEqual(await (await fetch(`${server.url}/v2/health/ready`)).json(), { ready: true });
    const meta = await (await fetch(`${server.url}/v2/models/penguins`)).json() as { name: string; versions: string[]; inputs: Array<{ shape: number[] }> };
    assert.strictEqual(meta.name, 'penguins');
    assert.deepStrictEqual(meta.versions, ['1']);
    assert.deepStrictEqual(meta.inputs[0].shape, [-1, 4]);
    const matrix = await post(`${server.url}/v2/models/penguins/infer`, { id: 'req-1', inputs: [{ name: 'input', datatype: 'FP32', shape: [2, 4], data: [...Object.values(ADELIE), ...Object.values(GENTOO)] }] });
    assert.strictEqual(matrix.status, 200, JSON.stringify(matrix.json));
    assert.strictEqual(matrix.json.id, 'req-1');
    assert.strictEqual(matrix.json.model_version, '1');
    const pred = matrix.json.outputs.find((o: { name: string }) => o.name === 'prediction');
    assert.deepStrictEqual(pred.data, ['Adelie', 'Gentoo']);
    const probs = matrix.json.outputs.find((o: { name: string }) => o.name === 'probabilities');
    assert.deepStrictEqual(probs.shape, [2, 3]);
    const columns = await post(`${server.url}/v2/models/penguins/infer`, { inputs: Object.entries(GENTOO).map(([name, v]) => ({ name, datatype: 'FP32', shape: [1], data: [v] })) });
    assert.deepStrictEqual(columns.json.outputs.find((o: { name: string }) => o.name === 'prediction').data, ['Gentoo']);
    const nested = await post(`${server.url}/v2/models/penguins/infer`, { inputs: [{ name: 'input', datatype: 'FP32', shape: [2, 4], data: [Object.values(ADELIE), Object.values(GENTOO)] }] });
    assert.deepStrictEqual(nested.json.outputs.find((o: { name: string }) => o.name === 'prediction').data, ['Adelie', 'Gentoo']);
    const wrong = await post(`${server.url}/v2/models/penguins/infer`, { inputs: [{ name: 'input', datatype: 'FP32', shape: [2, 4], data: [1, 2, 3] }] });
    assert.strictEqual(wrong.status, 400);
    assert.match(wrong.json.detail, /shape \[2, 4\] but 3 values/);
  });

  it('each bad request gets its problem+json naming the row, the field and the rule', async () => {
    const cases: Array<[string, unknown, number, { row: number; field: string; rule: string } | undefined]> = [
      ['missing feature', { instances: [ADELIE, { ...GENTOO, body_mass_g: undefined }] }, 400, { row: 1, field: 'body_mass_g', rule: 'missing' }],
      ['extra feature', { instances: [{ ...ADELIE, beak_colour: 'red' }] }, 400, { row: 0, field: 'beak_colour', rule: 'extra' }],
      ['wrong type', { instances: [{ ...ADELIE, flipper_length_mm: '181' }] }, 400, { row: 0, field: 'flipper_length_mm', rule: 'type' }],
      ['out of range', { instances: [{ ...ADELIE, bill_length_mm: 700 }] }, 400, { row: 0, field: 'bill_length_mm', rule: 'range' }],
      ['not allowed', { instances: [{ ...ADELIE, island: 'Atlantis' }] }, 400, { row: 0, field: 'island', rule: 'allowed' }],
      ['null', { instances: [{ ...ADELIE, bill_depth_mm: null }] }, 400, { row: 0, field: 'bill_depth_mm', rule: 'null' }],
      ['not JSON', '{"instances": [', 400, undefined],
      ['no instances', { rows: [ADELIE] }, 400, undefined],
      ['too large', { instances: Array.from({ length: 2000 }, () => ADELIE) }, 413, undefined],
      ['too many instances', { instances: Array.from({ length: 101 }, () => ADELIE) }, 413, undefined],
    ];
    for (const [what, body, status, error] of cases) {
      const r = await post(predictUrl, body);
      assert.strictEqual(r.status, status, `${what}: ${JSON.stringify(r.json)}`);
      assert.strictEqual(r.type.split(';')[0], 'application/problem+json', what);
      assert.strictEqual(r.json.status, status, what);
      assert.ok(typeof r.json.title === 'string' && typeof r.json.detail === 'string', what);
      if (error) assert.deepStrictEqual(r.json.errors.map((e: { row: number; field: string; rule: string }) => ({ row: e.row, field: e.field, rule: e.rule })), [error], what);
    }
    // The server still answers.
    assert.strictEqual((await post(predictUrl, { instances: [ADELIE] })).status, 200);
  });

  it('logs every instance (400 lines with the error and the inputs as received) and takes feedback', async () => {
    const ok = await post(predictUrl, { instances: [ADELIE, GENTOO] });
    const bad = await post(predictUrl, { instances: [ADELIE, { ...GENTOO, bill_length_mm: 700 }] });
    const fb = await post(`${server.url}/v1/feedback`, { request_id: ok.json.request_id, row: 1, label: 'Gentoo' });
    assert.strictEqual(fb.status, 202);
    const badFb = await post(`${server.url}/v1/feedback`, { label: 'Gentoo' });
    assert.strictEqual(badFb.status, 400);
    assert.strictEqual(badFb.json.errors[0].field, 'request_id');
    const logDir = path.join(dir, '.edd/serving/penguins');
    await until(() => logRecords(logDir).some(r => r.type === 'feedback'), 'the feedback record');
    const records = logRecords(logDir);
    const mine = records.filter(r => r.type === 'prediction' && r.request_id === ok.json.request_id);
    assert.deepStrictEqual(mine.map(r => r.type === 'prediction' && [r.row, r.status, r.version, r.slot, r.outputs?.prediction]), [[0, 200, 1, 'blue', 'Adelie'], [1, 200, 1, 'blue', 'Gentoo']]);
    const refused = records.filter(r => r.type === 'prediction' && r.request_id === bad.json.request_id);
    assert.strictEqual(refused.length, 2);
    const row1 = refused.find(r => r.type === 'prediction' && r.row === 1) as Extract<LogRecord, { type: 'prediction' }>;
    assert.strictEqual(row1.status, 400);
    assert.match(row1.error!, /bill_length_mm/);
    assert.strictEqual(row1.inputs.bill_length_mm, 700);
    assert.ok(records.some(r => r.type === 'feedback' && r.request_id === ok.json.request_id && r.row === 1 && r.label === 'Gentoo'));
    assert.ok(records.some(r => r.type === 'event' && r.kind === 'start'));
    assert.ok(fs.readdirSync(logDir).every(n => /^predictions-\d+-\d+\.jsonl$/.test(n)));
  });

  it('/metrics parses as Prometheus text: requests by version and status, latency, in-flight, process, model version', async () => {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    const families = parsePrometheusTextFormat(text) as Array<{ name: string; type: string; metrics: Array<{ labels?: Record<string, string>; value?: string; buckets?: Record<string, string> }> }>;
    const byName = new Map(families.map(f => [f.name, f]));
    const requests = byName.get('edd_serve_requests_total')!;
    assert.ok(requests.metrics.some(m => m.labels?.version === '1' && m.labels?.status === '200' && Number(m.value) >= 1));
    assert.ok(requests.metrics.some(m => m.labels?.status === '400'));
    assert.strictEqual(byName.get('edd_serve_request_duration_seconds')?.type, 'HISTOGRAM');
    assert.ok(byName.has('edd_serve_in_flight_requests'));
    assert.ok(byName.has('process_cpu_seconds_total'));
    assert.ok(byName.has('process_resident_memory_bytes'));
    const version = byName.get('edd_serve_model_version')!;
    assert.ok(version.metrics.some(m => m.labels?.active === '1' && m.value === '1'));
  });

  it('a version whose warm-up fails (output outside [0, 1]) is not switched to; the old one keeps answering', async () => {
    await promoteElsewhere(storeFile, 3);
    const logDir = path.join(dir, '.edd/serving/penguins');
    await until(() => logRecords(logDir).some(r => r.type === 'event' && r.kind === 'warmup_failed'), 'the warmup_failed event', 20_000);
    const ev = logRecords(logDir).find(r => r.type === 'event' && r.kind === 'warmup_failed') as Extract<LogRecord, { type: 'event' }>;
    assert.strictEqual(ev.from_version, 1);
    assert.strictEqual(ev.to_version, 3);
    assert.match(ev.message!, /outside \[0, 1\]/);
    const r = await post(predictUrl, { instances: [ADELIE] });
    assert.strictEqual(r.json.model_version, 1);
  });

  it('blue-green: a promotion during a load of concurrent requests switches with zero failed requests', async () => {
    let stop = false;
    const statuses = new Map<number, number>();
    const versions = new Set<number>();
    let sent = 0;
    const worker = async () => {
      while (!stop) {
        const r = await post(predictUrl, { instances: [ADELIE, GENTOO] });
        sent++;
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
        if (r.status === 200) versions.add(r.json.model_version);
      }
    };
    const workers = Array.from({ length: 16 }, worker);
    await until(() => sent > 100, 'load before the switch', 20_000);
    await promoteElsewhere(storeFile, 2);
    await until(() => versions.has(2), 'answers from version 2', 20_000);
    const after = sent;
    await until(() => sent > after + 100, 'load after the switch', 20_000);
    stop = true;
    await Promise.all(workers);
    assert.deepStrictEqual([...statuses.keys()], [200], JSON.stringify([...statuses]));
    assert.deepStrictEqual([...versions].sort(), [1, 2]);
    const ev = logRecords(path.join(dir, '.edd/serving/penguins')).find(r => r.type === 'event' && r.kind === 'switch') as Extract<LogRecord, { type: 'event' }>;
    assert.deepStrictEqual([ev.from_version, ev.to_version], [1, 2]);
    assert.strictEqual(server.service.current?.name, 'green');
  });
});

describe('serve: the bearer token', function () {
  this.timeout(60_000);
  it('with EDD_SERVE_TOKEN every endpoint but health needs "Authorization: Bearer <token>"', async () => {
    const { dir } = await servingWorkspace();
    const server = await startServer({ spec: loadServiceSpec('penguins.service.yaml', dir), port: 0, token: 's3cret' });
    try {
      const url = `${server.url}/v1/models/penguins:predict`;
      assert.strictEqual((await post(url, { instances: [ADELIE] })).status, 401);
      assert.strictEqual((await post(url, { instances: [ADELIE] }, { authorization: 'Bearer wrong' })).status, 401);
      assert.strictEqual((await post(url, { instances: [ADELIE] }, { authorization: 'Bearer s3cret' })).status, 200);
      assert.strictEqual((await fetch(`${server.url}/v2/health/ready`)).status, 200);
    } finally {
      await server.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('serve: following an alias', function () {
  this.timeout(60_000);
  it('`alias: champion` serves the version the alias names and switches when the alias moves', async () => {
    const { dir, storeFile } = await servingWorkspace(SPEC.replace('stage: production', 'alias: champion'));
    const point = async (version: number) => {
      const store = await RunStore.open(storeFile, { autoSave: false });
      setAlias(store, { model: 'penguins', ref: version, alias: 'champion', actor: 'tester' });
      await store.close();
    };
    await point(2);
    const server = await startServer({ spec: loadServiceSpec('penguins.service.yaml', dir), port: 0, pollMs: 60_000 });
    try {
      const url = `${server.url}/v1/models/penguins:predict`;
      assert.strictEqual((await post(url, { instances: [ADELIE] })).json.model_version, 2);
      await point(1);
      await server.follow();
      assert.strictEqual((await post(url, { instances: [ADELIE] })).json.model_version, 1);
    } finally {
      await server.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('serve: output validation on every answer', function () {
  this.timeout(60_000);
  it('an answer whose output breaks the `output` rules is a 500 problem, counted, logged with its error', async () => {
    const spec = SPEC.replace('reference: data/reference.csv\n', '').replace('output: { range: [0, 1], sum_to_one: true }', 'output: { range: [0, 0.9] }');
    const { dir } = await servingWorkspace(spec);
    const server = await startServer({ spec: loadServiceSpec('penguins.service.yaml', dir), port: 0 });
    try {
      const r = await post(`${server.url}/v1/models/penguins:predict`, { instances: [GENTOO] });
      assert.strictEqual(r.status, 500, JSON.stringify(r.json));
      assert.strictEqual(r.type.split(';')[0], 'application/problem+json');
      assert.match(r.json.detail, /outside \[0, 0\.9\]/);
      const metrics = await (await fetch(`${server.url}/metrics`)).text();
      assert.match(metrics, /edd_serve_output_validation_failures_total\{version="1"\} 1/);
      assert.match(metrics, /edd_serve_requests_total\{endpoint="predict",version="1",status="500"\} 1/);
      const line = logRecords(path.join(dir, '.edd/serving/penguins')).find(x => x.type === 'prediction' && x.request_id === r.json.request_id) as Extract<LogRecord, { type: 'prediction' }>;
      assert.strictEqual(line.status, 500);
      assert.match(line.error!, /outside/);
    } finally {
      await server.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
