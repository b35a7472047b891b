import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { paramValue } from '../../src/core/mlflow';
import type { RunStore } from '../../src/core/store';
import { root } from './registryFixtures';

export const venvPython = path.join(root, '.venv', 'bin', 'python');
export const WRITER = path.join(root, 'test', 'python', 'mlflow_write.py');

/** What MLflow's own client read back after writing the fixture (test/python/mlflow_write.py). */
export interface Expected {
  experiments: Array<{ id: string; name: string; runs: ExpectedRun[] }>;
  models: Array<{ name: string; versions: Array<{ version: number; stage: string; run_id: string; source: string; aliases: string[] }> }>;
}
export interface ExpectedRun {
  run_id: string; run_name: string; status: string; start_time: number; end_time: number; user_id: string; artifact_uri: string;
  params: Record<string, string>; tags: Record<string, string>; history: Record<string, Array<[number, number, number | string]>>;
}

/** Runs MLflow's client from the project's Python test environment (a missing venv is a failure, not a skip). */
export function python(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): string {
  assert.ok(fs.existsSync(venvPython), `${venvPython} is missing: npm test (or node test/harness/setup.js) makes it first`);
  const r = spawnSync(venvPython, args, { cwd, encoding: 'utf8', env: { ...process.env, MLFLOW_ALLOW_FILE_STORE: 'true', ...env }, timeout: 120_000 });
  assert.strictEqual(r.status, 0, `python ${args.join(' ')} failed:\n${r.stderr}`);
  return r.stdout;
}

const expectedNumber = (v: number | string) => (v === 'nan' ? NaN : v === 'inf' ? Infinity : v === '-inf' ? -Infinity : (v as number));

/** Every run MLflow has is in the store under its external id, value by value; nothing else came from MLflow. */
export function assertSameRuns(store: RunStore, expected: Expected, origin: string): void {
  let count = 0;
  for (const exp of expected.experiments) {
    for (const run of exp.runs) {
      count++;
      const got = store.findRunByExternalId(`mlflow:${run.run_id}`);
      assert.ok(got, `run ${run.run_id} was not imported`);
      assert.strictEqual(got.experimentId, exp.name);
      assert.strictEqual(got.status, { FINISHED: 'finished', FAILED: 'failed', KILLED: 'cancelled', RUNNING: 'running', SCHEDULED: 'queued' }[run.status]);
      assert.strictEqual(got.startedAt, run.start_time);
      assert.strictEqual(got.endedAt, run.end_time);
      assert.strictEqual(got.gitCommit, run.tags['mlflow.source.git.commit'] ?? null);
      if (run.user_id) assert.strictEqual(got.tags['mlflow.user'], run.user_id);
      if (run.run_name) assert.strictEqual(got.tags['mlflow.runName'], run.run_name);
      assert.strictEqual(got.tags['mlflow.note.content'], run.tags['mlflow.note.content']);
      assert.deepStrictEqual(got.params, Object.fromEntries(Object.entries(run.params).map(([k, v]) => [k, paramValue(v)])));
      for (const [k, v] of Object.entries(run.params)) assert.strictEqual(String(got.params[k]), v, `param ${k} of ${run.run_id}`);
      const derived = { ...(run.run_name ? { 'mlflow.runName': run.run_name } : {}), ...(run.user_id ? { 'mlflow.user': run.user_id } : {}) };
      assert.deepStrictEqual(got.tags, { ...derived, ...run.tags, 'edd.origin': origin, 'mlflow.experiment': exp.name });
      assert.ok(store.getArtifacts(got.id).some(a => a.path === run.artifact_uri && a.kind === 'mlflow-artifacts'));
      const points = store.getMetrics(got.id);
      const want = Object.entries(run.history).flatMap(([key, h]) => h.map(([step, time, value]) => ({ key, step, time, value: expectedNumber(value) })));
      assert.strictEqual(points.length, want.length, `metric points of ${run.run_id}`);
      for (const w of want) {
        const p = points.find(x => x.key === w.key && x.step === w.step);
        assert.ok(p, `${run.run_id} ${w.key}@${w.step} missing`);
        assert.ok(Object.is(p.value, w.value), `${run.run_id} ${w.key}@${w.step}: ${p.value} != ${w.value}`);
        assert.strictEqual(p.time, w.time);
      }
    }
  }
  assert.strictEqual(store.listRuns().filter(r => r.externalId?.startsWith('mlflow:')).length, count, 'deleted runs must not be imported, nor any run twice');
  assert.ok(count > 0);
}

/** A training that logs 1,500 points, waits until the test lets it go on (a file appears), then logs 10 more. */
export const PAUSING_TRAINING = `
const fs = require('fs');
for (let s = 0; s < 1500; s++) console.log('EDD ' + JSON.stringify({ metric: 'loss', value: 1 / (s + 1), step: s }));
const until = Date.now() + 240000;
const wait = () => {
  if (fs.existsSync('release')) {
    for (let s = 1500; s < 1510; s++) console.log('EDD ' + JSON.stringify({ metric: 'loss', value: 1 / (s + 1), step: s }));
    return;
  }
  if (Date.now() > until) process.exit(3);
  setTimeout(wait, 50);
};
wait();
`;

export const LIVE_CONFIG = (id: string) => `experiment:\n  id: "${id}"\n  name: "live"\n  hypothesis: "logs reach the server while the run goes on"\n  parameters:\n    model_type: "mlp"\n    lr: 0.5\n  run:\n    command: [node, train.js]\n    timeout: 300\n`;

/** What MLflow's Python client reads from the server at `url`: its runs by their `edd.run_id` tag. */
export function serverRunsByEddId(url: string, dir: string): Map<string, ExpectedRun[]> {
  const out = path.join(dir, `server-${Date.now()}.json`);
  python([WRITER, url, out, '--dump'], dir, { MLFLOW_TRACKING_URI: url });
  const e = JSON.parse(fs.readFileSync(out, 'utf8')) as Expected;
  fs.rmSync(out);
  const map = new Map<string, ExpectedRun[]>();
  for (const x of e.experiments) for (const r of x.runs) if (r.tags['edd.run_id']) map.set(r.tags['edd.run_id'], [...(map.get(r.tags['edd.run_id']) ?? []), r]);
  return map;
}

/** A POST to the server's REST API. */
export async function mlflowApi<T>(url: string, endpoint: string, body: unknown): Promise<T> {
  return (await (await fetch(`${url}/api/2.0/mlflow/${endpoint}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) })).json()) as T;
}

/**
 * Waits until the server holds at least `count` points of `loss` in a RUNNING run of `experiment` (read through its
 * REST API while the training still goes on). `alive` fails the wait early when the run ended.
 */
export async function waitForLivePoints(url: string, experiment: string, count: number, alive: () => void, deadlineMs = 180_000): Promise<number> {
  const deadline = Date.now() + deadlineMs;
  let seen = 0;
  for (;;) {
    alive();
    assert.ok(Date.now() < deadline, `no live points on the server (last seen ${seen})`);
    const exp = await mlflowApi<{ experiments?: Array<{ experiment_id: string; name: string }> }>(url, 'experiments/search', { max_results: 100 });
    const id = exp.experiments?.find(e => e.name === experiment)?.experiment_id;
    if (id) {
      const runs = await mlflowApi<{ runs?: Array<{ info: { run_id: string; status: string } }> }>(url, 'runs/search', { experiment_ids: [id] });
      const r = runs.runs?.[0];
      if (r) {
        assert.strictEqual(r.info.status, 'RUNNING');
        const h = (await (await fetch(`${url}/api/2.0/mlflow/metrics/get-history?run_id=${r.info.run_id}&metric_key=loss&max_results=25000`)).json()) as { metrics?: unknown[] };
        seen = h.metrics?.length ?? 0;
        if (seen >= count) return seen;
      }
    }
    await new Promise(r => setTimeout(r, 200));
  }
}

/** The registry MLflow's client read is EDD's, version by version: stages mapped, aliases, runs, audit entries. */
export function assertSameRegistry(store: RunStore, expected: Expected): void {
  const stage: Record<string, string> = { None: 'none', Staging: 'staging', Production: 'production', Archived: 'archived' };
  assert.deepStrictEqual(store.listModels().map(m => m.name).sort(), expected.models.map(m => m.name).sort(), 'deleted models are skipped');
  for (const m of expected.models) {
    assert.deepStrictEqual(store.listModelVersions(m.name).map(v => v.version).sort((a, b) => a - b), m.versions.map(v => v.version), `${m.name}: the versions MLflow lists, no deleted one`);
    for (const v of m.versions) {
      const got = store.findModelVersion(m.name, v.version)!;
      assert.strictEqual(got.stage, stage[v.stage], `${m.name} v${v.version} stage`);
      assert.deepStrictEqual([...got.aliases].sort(), v.aliases, `${m.name} v${v.version} aliases`);
      assert.strictEqual(got.runId, store.findRunByExternalId(`mlflow:${v.run_id}`)!.id);
      assert.strictEqual(got.sourcePath, `mlflow:models:/${m.name}/${v.version}`);
    }
    const log = store.auditLog(m.name);
    assert.ok(log.length >= m.versions.length && log.every(e => /imported from MLflow/.test(e.actor) && /^Imported from MLflow/.test(e.reason ?? '')), 'every entry says it was imported');
  }
  assert.strictEqual(store.verifyAuditLog().ok, true);
}
