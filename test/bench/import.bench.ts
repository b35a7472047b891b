/**
 * Benchmark: MLflow interop.
 *
 *   npm run bench:import
 *
 * (a) The same mlflow.db of 500 runs × 100 metric points read by MLflow 3.17's own client (search_runs over every run
 *     plus get_metric_history for each run's metric, in a Python subprocess that times itself, interpreter start-up
 *     not counted) and imported by EDD (sql.js reading MLflow's tables, the import into a fresh store, its save).
 *     MLflow's reader does not finish 10,000 runs in 25 minutes on the development machine, so the comparison is on
 *     a subset both finish.
 * (b) EDD alone on 10,000 runs × 100 points.
 * (c) push of 1,000 runs (20 points each) to a local `mlflow server` (SQLite backend): runs per second.
 *
 * EDD_BENCH_SUBSET, EDD_BENCH_RUNS and EDD_BENCH_PUSH change the three sizes. Prints; never asserts on timings.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { performance } from 'perf_hooks';
import { importMlflow, pushRuns, readMlflowSqlite } from '../../src/core/mlflow';
import { RunStore } from '../../src/core/store';
import { freePort, MlflowServer } from '../unit/mlflowServer';
import { venvPython } from '../unit/mlflowFixtures';

const root = path.resolve(__dirname, '../../..');
const script = path.join(root, 'test', 'python', 'mlflow_bench.py');

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edd-bench-import-'));
  try {
    const subset = Number(process.env.EDD_BENCH_SUBSET ?? 500);
    const runs = Number(process.env.EDD_BENCH_RUNS ?? 10_000);
    const points = 100;
    const make = (db: string, n: number) => {
      const t = performance.now();
      execFileSync(venvPython, [script, 'make', db, String(n), String(points)], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, MLFLOW_ALLOW_FILE_STORE: 'true' } });
      console.log(`mlflow.db: ${n} runs × ${points} points, ${(fs.statSync(db).size / 1e6).toFixed(0)} MB (made in ${((performance.now() - t) / 1000).toFixed(1)} s)`);
    };
    const eddImport = async (db: string, name: string) => {
      const t = performance.now();
      const data = await readMlflowSqlite(db);
      const read = performance.now() - t;
      const store = await RunStore.open(path.join(dir, name, 'edd.sqlite'), { autoSave: false });
      const t2 = performance.now();
      const result = await importMlflow(store, data, { origin: 'mlflow-import' });
      const imported = performance.now() - t2;
      await store.close();
      const total = performance.now() - t;
      console.log(`EDD import: ${(total / 1000).toFixed(2)} s (read ${(read / 1000).toFixed(2)} s, write ${(imported / 1000).toFixed(2)} s, save ${((total - read - imported) / 1000).toFixed(2)} s): ${result.runsCreated} runs, ${result.points} points`);
      return total / 1000;
    };

    const small = path.join(dir, 'subset.db');
    make(small, subset);
    const out = execFileSync(venvPython, [script, 'read', small], { encoding: 'utf8', env: { ...process.env, MLFLOW_ALLOW_FILE_STORE: 'true' } });
    const mlflow = JSON.parse(out.trim().split('\n').pop()!) as { seconds: number; runs: number; points: number };
    console.log(`MLflow search_runs + get_metric_history: ${mlflow.seconds.toFixed(2)} s for ${mlflow.runs} runs, ${mlflow.points} points`);
    const eddSmall = await eddImport(small, 'edd-subset');
    console.log(`ratio on ${subset} runs: MLflow's client only reading takes ${(mlflow.seconds / eddSmall).toFixed(1)}× EDD's whole import (read, write, save)`);

    const db = path.join(dir, 'mlflow.db');
    make(db, runs);
    await eddImport(db, 'edd');

    const pushRunsCount = Number(process.env.EDD_BENCH_PUSH ?? 1000);
    const pushStore = await RunStore.open(path.join(dir, 'push', 'edd.sqlite'), { autoSave: false });
    for (let r = 0; r < pushRunsCount; r++) {
      const run = pushStore.createRun({ experimentId: 'bench-push', status: 'finished', params: { lr: r, depth: 3 }, startedAt: 1_700_000_000_000 + r, endedAt: 1_700_000_001_000 + r });
      pushStore.addMetrics(Array.from({ length: 20 }, (_, s) => ({ runId: run.id, key: 'loss', step: s, value: 1 / (s + 1), time: 1_700_000_000_000 + s })));
    }
    const server = new MlflowServer(path.join(dir, 'server'), await freePort());
    await server.start();
    try {
      const t = performance.now();
      const pushed = await pushRuns(pushStore, { trackingUri: server.url });
      const s = (performance.now() - t) / 1000;
      console.log(`push: ${pushed.pushed} runs (${pushed.metricPoints} points, ${pushed.requests} requests) in ${s.toFixed(1)} s = ${(pushed.pushed / s).toFixed(1)} runs/s`);
    } finally {
      await server.stop();
      await pushStore.close();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch(e => {
  console.error(e);
  process.exitCode = 1;
});
