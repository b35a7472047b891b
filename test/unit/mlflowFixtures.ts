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
