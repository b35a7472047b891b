/**
 * Benchmark: the run store (sql.js, in memory, atomic file saves) against better-sqlite3 (native SQLite on the file)
 * doing the same work in the same process, on the same schema.
 *
 *   npm run bench:store
 *
 * (a) ingest of 1,000,000 metric points in batches of 1,000 (one transaction per batch, prepared statements, the
 *     final-value upsert per run and key);
 * (b) a store of 10,000 runs / 1,000,000 points: open, and the runs tree's first level (listExperiments + listRuns of
 *     the first experiment with final metrics).
 *
 * Prints; never asserts on timings (exit code 0 on a missed target). Exits non-zero only if something is broken.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { performance } from 'perf_hooks';
import { MIGRATIONS, RunStore, type MetricPoint } from '../../src/core/store';
import { stats } from './stats';

// better-sqlite3 has no type package in this project; the little we use:
interface BStatement {
  run(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[][];
  raw(on?: boolean): BStatement;
}
interface BDatabase {
  exec(sql: string): void;
  pragma(sql: string): unknown;
  prepare(sql: string): BStatement;
  transaction<A extends unknown[]>(fn: (...args: A) => void): (...args: A) => void;
  close(): void;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const BetterSqlite3 = require('better-sqlite3') as new (file: string, options?: { readonly?: boolean }) => BDatabase;

const POINTS = 1_000_000;
const BATCH = 1_000;
const INGEST_RUNS = 100;
const INGEST_REPS = 3;
const TREE_RUNS = 10_000;
const TREE_EXPERIMENTS = 20;
const POINTS_PER_RUN = 100;
const OPEN_REPS = 7;

const TARGET_RATE = 200_000;
const TARGET_RATIO = 3;
const TARGET_OPEN_MS = 300;
const TARGET_TREE_MS = 100;


const ms = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const rate = (points: number, msTaken: number) => Math.round((points / msTaken) * 1000);
const kfmt = (n: number) => (n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : `${Math.round(n / 1e3)}k`);
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

function table(header: string[], rows: string[][], right: boolean[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map(r => r[i].length)));
  const fmt = (r: string[]) => r.map((c, i) => (right[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ');
  return [fmt(header), widths.map(w => '-'.repeat(w)).join('  '), ...rows.map(fmt)].join('\n');
}

function check(condition: unknown, what: string): void {
  if (!condition) {
    console.error(`broken: ${what}`);
    process.exit(1);
  }
}

/** The batches of the ingest test: each batch is one run's next 1,000 points (two keys, steps in order). */
function ingestBatches(runIds: string[]): MetricPoint[][] {
  const batches: MetricPoint[][] = [];
  const perRun = POINTS / runIds.length;
  const time = Date.now();
  for (const runId of runIds) {
    for (let start = 0; start < perRun; start += BATCH) {
      const batch: MetricPoint[] = [];
      for (let i = start; i < start + BATCH; i++) batch.push({ runId, key: i % 2 ? 'loss' : 'accuracy', step: i >> 1, value: Math.random(), time: time + i });
      batches.push(batch);
    }
  }
  return batches;
}

const FINAL_UPSERT =
  'INSERT INTO metric_final (run_seq, key_id, step, value, time) VALUES (?, ?, ?, ?, ?) ' +
  'ON CONFLICT (run_seq, key_id) DO UPDATE SET step = excluded.step, value = excluded.value, time = excluded.time ' +
  'WHERE excluded.step >= metric_final.step';

function createSchema(db: BDatabase): void {
  for (const m of MIGRATIONS) db.exec(m.sql);
  db.pragma(`user_version = ${MIGRATIONS[MIGRATIONS.length - 1].version}`);
}

/** better-sqlite3 doing what `addMetrics` does: resolve ids, insert the points, upsert the last point per run and key. */
function betterIngest(dir: string, runIds: string[], batches: MetricPoint[][]): { insertMs: number; totalMs: number } {
  const file = path.join(dir, `better-${Math.random().toString(36).slice(2)}.sqlite`);
  const db = new BetterSqlite3(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  createSchema(db);
  const insertRun = db.prepare("INSERT INTO runs (id, experiment_id, params, status, created_at) VALUES (?, 'ingest', '{}', 'running', ?)");
  const seqs = new Map<string, number>();
  runIds.forEach((id, i) => {
    insertRun.run(id, Date.now());
    seqs.set(id, i + 1);
  });
  db.exec("INSERT INTO metric_keys (name) VALUES ('accuracy'), ('loss')");
  const keyIds = new Map([['accuracy', 1], ['loss', 2]]);
  const insert = db.prepare('INSERT OR REPLACE INTO metric_points (run_seq, key_id, step, value, time) VALUES (?, ?, ?, ?, ?)');
  const upsert = db.prepare(FINAL_UPSERT);
  const addBatch = db.transaction((batch: MetricPoint[]) => {
    const finals = new Map<string, MetricPoint>();
    for (const p of batch) {
      insert.run(seqs.get(p.runId), keyIds.get(p.key), p.step, p.value, p.time);
      const k = `${p.runId}\0${p.key}`;
      const prev = finals.get(k);
      if (!prev || p.step >= prev.step) finals.set(k, p);
    }
    for (const p of finals.values()) upsert.run(seqs.get(p.runId), keyIds.get(p.key), p.step, p.value, p.time);
  });
  const t0 = performance.now();
  for (const b of batches) addBatch(b);
  const t1 = performance.now();
  db.close(); // checkpoints the WAL into the file
  const t2 = performance.now();
  for (const suffix of ['', '-wal', '-shm']) fs.rmSync(file + suffix, { force: true });
  return { insertMs: t1 - t0, totalMs: t2 - t0 };
}

async function oursIngest(dir: string, runIds: string[], batches: MetricPoint[][]): Promise<{ insertMs: number; totalMs: number; bytes: number }> {
  const file = path.join(dir, `ours-${Math.random().toString(36).slice(2)}.sqlite`);
  const store = await RunStore.open(file, { autoSave: false });
  for (const id of runIds) store.createRun({ id, experimentId: 'ingest', status: 'running' });
  await store.save();
  let bytes = 0;
  store.onDidSave(s => (bytes = s.bytes));
  const t0 = performance.now();
  for (const b of batches) store.addMetrics(b);
  const t1 = performance.now();
  await store.save();
  const t2 = performance.now();
  check(store.getMetrics(runIds[0], 'loss').length === POINTS / runIds.length / 2, 'ours: points missing after ingest');
  await store.close();
  fs.rmSync(file, { force: true });
  return { insertMs: t1 - t0, totalMs: t2 - t0, bytes };
}

// ---------------------------------------------------------------------------------------------------------------

const CONFIG_SNAPSHOT = [
  'experiment:', '  id: "exp_{E}"', '  name: "Sweep {E}"', '  hypothesis: "A wider hidden layer improves F1 by 2 points"',
  '  parameters:', '    model_type: "mlp"', '    hidden_sizes: [256, 128]', '    learning_rate: 0.001', '    batch_size: 64',
  '    epochs: 50', '    dropout: 0.2', '  data:', '    train: "data/train.parquet"', '    validation: "data/val.parquet"',
  '    test_size: 0.2', '  metrics:', '    primary: "f1"', '    f1: 0.84', '    precision: 0.86', '    recall: 0.82',
  '  run:', '    command: ["python", "train.py", "--config", "experiments/exp_{E}.yaml"]', '    seed: {S}',
].join('\n');
const ENVIRONMENT = { python: '3.12.4', platform: 'linux-x86_64', packages: { torch: '2.5.1', numpy: '2.1.3', 'scikit-learn': '1.5.2', pandas: '2.2.3' }, cuda: null };

async function buildTreeStore(file: string): Promise<{ firstExperiment: string; buildMs: number; saveMs: number; bytes: number }> {
  const store = await RunStore.open(file, { autoSave: false });
  const t0 = performance.now();
  const start = Date.now() - TREE_RUNS * 60_000;
  for (let e = 0; e < TREE_EXPERIMENTS; e++) store.upsertExperiment({ id: `exp_${e}`, name: `Sweep ${String(e).padStart(2, '0')}`, hypothesis: 'A wider hidden layer improves F1', configPath: `experiments/exp_${e}.yaml` });
  for (let r = 0; r < TREE_RUNS; r++) {
    const e = r % TREE_EXPERIMENTS;
    const created = start + r * 60_000;
    const run = store.createRun({
      experimentId: `exp_${e}`,
      configPath: `experiments/exp_${e}.yaml`,
      configSnapshot: CONFIG_SNAPSHOT.replaceAll('{E}', String(e)).replace('{S}', String(r)),
      params: { learning_rate: 0.001 * (1 + (r % 7)), batch_size: 64, hidden_sizes: [256, 128], dropout: 0.2, seed: r },
      status: r % 50 === 0 ? 'failed' : 'finished',
      createdAt: created, startedAt: created + 100, endedAt: created + 50_000, durationMs: 49_900, exitCode: r % 50 === 0 ? 1 : 0,
      gitCommit: '3f2a9c1d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a39', gitDirty: r % 3 === 0, environment: ENVIRONMENT, seed: r,
      datasetFingerprint: 'sha256:9b1c0e6f', peakMemoryBytes: 2_147_483_648 + r, logPath: `.edd/runs/${r}/log.txt`,
    });
    const points: MetricPoint[] = [];
    for (let i = 0; i < POINTS_PER_RUN; i++) points.push({ runId: run.id, key: i % 2 ? 'val/loss' : 'val/f1', step: i >> 1, value: Math.random(), time: created + i * 1000 });
    store.addMetrics(points);
  }
  const t1 = performance.now();
  let bytes = 0;
  store.onDidSave(s => (bytes = s.bytes));
  await store.save();
  const t2 = performance.now();
  await store.close();
  return { firstExperiment: 'exp_0', buildMs: t1 - t0, saveMs: t2 - t1, bytes };
}

// The same queries as listExperiments / listRuns, for better-sqlite3.
const SQL_EXPERIMENTS = `SELECT id, name, hypothesis, config_path, hypothesis_status, created_at, updated_at,
  (SELECT COUNT(*) FROM runs r WHERE r.experiment_id = e.id), (SELECT MAX(r.created_at) FROM runs r WHERE r.experiment_id = e.id)
  FROM experiments e ORDER BY e.name COLLATE NOCASE, e.id`;
const RUN_PAGE = 'FROM runs WHERE experiment_id = ? ORDER BY created_at DESC, seq DESC LIMIT -1 OFFSET 0';
const SQL_RUNS = `SELECT seq, id, experiment_id, config_path, params, status, created_at, started_at, ended_at, duration_ms, exit_code,
  git_commit, git_dirty, seed, dataset_fingerprint, peak_memory_bytes, log_path, error ${RUN_PAGE}`;
const SQL_FINALS = `WITH page AS (SELECT seq ${RUN_PAGE}) SELECT f.run_seq, k.name, f.value FROM page
  JOIN metric_final f ON f.run_seq = page.seq JOIN metric_keys k ON k.id = f.key_id ORDER BY k.name`;

function betterTree(file: string, experimentId: string): { openMs: number; treeMs: number; runs: number } {
  const t0 = performance.now();
  const db = new BetterSqlite3(file, { readonly: true });
  const t1 = performance.now();
  const experiments = db.prepare(SQL_EXPERIMENTS).raw().all();
  const runs = db.prepare(SQL_RUNS).raw().all(experimentId).map(r => ({ seq: r[0], id: r[1], params: JSON.parse(String(r[4])), finalMetrics: {} as Record<string, number> }));
  const bySeq = new Map(runs.map(r => [r.seq, r]));
  for (const [seq, key, value] of db.prepare(SQL_FINALS).raw().all(experimentId)) bySeq.get(seq)!.finalMetrics[String(key)] = Number(value);
  const t2 = performance.now();
  check(experiments.length === TREE_EXPERIMENTS && runs.length === TREE_RUNS / TREE_EXPERIMENTS, 'better-sqlite3: wrong tree');
  db.close();
  return { openMs: t1 - t0, treeMs: t2 - t1, runs: runs.length };
}

async function oursTree(file: string, experimentId: string, verify: 'quick' | 'header'): Promise<{ openMs: number; treeMs: number }> {
  const t0 = performance.now();
  const store = await RunStore.open(file, { verify });
  const t1 = performance.now();
  const experiments = store.listExperiments();
  const runs = store.listRuns({ experimentId });
  const t2 = performance.now();
  check(experiments.length === TREE_EXPERIMENTS && runs.length === TREE_RUNS / TREE_EXPERIMENTS && Object.keys(runs[0].finalMetrics).length === 2, 'ours: wrong tree');
  await store.close();
  return { openMs: t1 - t0, treeMs: t2 - t1 };
}

/** Open + first level in a new node process: includes loading sql.js and compiling its wasm. */
function coldProcess(file: string, experimentId: string): { openMs: number; treeMs: number } {
  const script = `
    const { performance } = require('perf_hooks');
    const t0 = performance.now();
    const { RunStore } = require(${JSON.stringify(path.resolve(__dirname, '../../src/core/store'))});
    RunStore.open(${JSON.stringify(file)}).then(async store => {
      const t1 = performance.now();
      store.listExperiments(); store.listRuns({ experimentId: ${JSON.stringify(experimentId)} });
      const t2 = performance.now();
      await store.close();
      console.log(JSON.stringify({ openMs: t1 - t0, treeMs: t2 - t1 }));
    });`;
  return JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' })) as { openMs: number; treeMs: number };
}

async function main(): Promise<void> {
  console.log(`EDD run store benchmark — node ${process.version}, ${process.platform}/${process.arch}, ${os.cpus()[0]?.model ?? 'cpu'}`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edd-store-bench-'));
  try {
    // (a) ingest -------------------------------------------------------------------------------------------------
    const runIds = Array.from({ length: INGEST_RUNS }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
    const batches = ingestBatches(runIds);
    console.log(`\n(a) ingest: ${kfmt(POINTS)} points, ${batches.length} batches of ${BATCH} (${INGEST_RUNS} runs × 2 keys), median of ${INGEST_REPS}`);
    console.log('    better-sqlite3: file, journal_mode=WAL, synchronous=NORMAL, one transaction per batch, "total" includes close (WAL checkpoint)');
    console.log('    ours: addMetrics per batch in memory, "total" includes save() (export + temp file + fsync + rename)');
    const ours: { insertMs: number; totalMs: number; bytes: number }[] = [];
    const better: { insertMs: number; totalMs: number }[] = [];
    for (let rep = 0; rep < INGEST_REPS; rep++) {
      // interleaved, so that neither tool always runs on a warmer (or more fragmented) heap
      ours.push(await oursIngest(dir, runIds, batches));
      better.push(betterIngest(dir, runIds, batches));
    }
    const oIns = stats(ours.map(r => r.insertMs)).median;
    const oTot = stats(ours.map(r => r.totalMs)).median;
    const bIns = stats(better.map(r => r.insertMs)).median;
    const bTot = stats(better.map(r => r.totalMs)).median;
    console.log('');
    console.log(table(
      ['ingest', 'inserts ms', 'points/s', 'total ms', 'points/s (total)'],
      [
        ['ours (sql.js)', ms(oIns), kfmt(rate(POINTS, oIns)), ms(oTot), kfmt(rate(POINTS, oTot))],
        ['better-sqlite3', ms(bIns), kfmt(rate(POINTS, bIns)), ms(bTot), kfmt(rate(POINTS, bTot))],
      ],
      [false, true, true, true, true],
    ));
    console.log(`saved file after ingest: ${mb(ours[0].bytes)}`);

    // (b) open + first tree level --------------------------------------------------------------------------------
    const treeFile = path.join(dir, 'tree', '.edd', 'edd.sqlite');
    console.log(`\n(b) a store of ${kfmt(TREE_RUNS)} runs (${TREE_EXPERIMENTS} experiments, each run with a config snapshot, params and environment) / ${kfmt(TREE_RUNS * POINTS_PER_RUN)} points`);
    const built = await buildTreeStore(treeFile);
    console.log(`    built in ${ms(built.buildMs)} ms, saved in ${ms(built.saveMs)} ms, file ${mb(built.bytes)}`);
    const betterFile = path.join(dir, 'better-tree.sqlite');
    fs.copyFileSync(treeFile, betterFile); // the same file, read by native SQLite
    const oursQuick: { openMs: number; treeMs: number }[] = [];
    const oursHeader: { openMs: number; treeMs: number }[] = [];
    const betterRuns: { openMs: number; treeMs: number }[] = [];
    for (let rep = 0; rep < OPEN_REPS; rep++) {
      oursQuick.push(await oursTree(treeFile, built.firstExperiment, 'quick'));
      oursHeader.push(await oursTree(treeFile, built.firstExperiment, 'header'));
      betterRuns.push(betterTree(betterFile, built.firstExperiment));
    }
    const cold = [0, 1, 2].map(() => coldProcess(treeFile, built.firstExperiment));
    const row = (name: string, r: { openMs: number; treeMs: number }[]) => {
      const o = stats(r.map(x => x.openMs));
      const t = stats(r.map(x => x.treeMs));
      return [name, ms(o.median), `${ms(o.min)}–${ms(o.max)}`, ms(t.median), `${ms(t.min)}–${ms(t.max)}`];
    };
    console.log(`    median of ${OPEN_REPS} (cold process: of 3); first level = listExperiments() + listRuns({ experimentId }) → ${TREE_EXPERIMENTS} experiments + ${TREE_RUNS / TREE_EXPERIMENTS} runs with final metrics\n`);
    console.log(table(
      ['open + first tree level', 'open ms', 'range', 'first level ms', 'range'],
      [
        row('ours, verify: quick (default)', oursQuick),
        row('ours, verify: header', oursHeader),
        row('ours, new process (loads sql.js)', cold),
        row('better-sqlite3', betterRuns),
      ],
      [false, true, true, true, true],
    ));

    // extras the extension will care about
    const store = await RunStore.open(treeFile, { verify: 'header' });
    const t0 = performance.now();
    const all = store.listRuns();
    const t1 = performance.now();
    const oneRun = store.getMetrics(all[0].id);
    const t2 = performance.now();
    store.createRun({ experimentId: 'exp_0' });
    const t3 = performance.now();
    await store.save();
    const t4 = performance.now();
    await store.close();
    console.log(`\nalso: listRuns() of all ${all.length} runs ${ms(t1 - t0)} ms; getMetrics of one run (${oneRun.length} points) ${ms(t2 - t1)} ms; save after one change ${ms(t4 - t3)} ms`);

    // targets ----------------------------------------------------------------------------------------------------
    const oursRate = rate(POINTS, oTot);
    const ratio = bTot / oTot;
    const openMed = stats(oursQuick.map(x => x.openMs)).median;
    const treeMed = stats(oursQuick.map(x => x.treeMs)).median;
    const verdict = (ok: boolean, miss: string) => (ok ? 'PASS' : `MISS (${miss})`);
    console.log('\ntargets');
    console.log(table(
      ['target', 'measured', 'result'],
      [
        [`ingest ≥ ${kfmt(TARGET_RATE)} points/s (incl. save)`, `${kfmt(oursRate)}/s`, verdict(oursRate >= TARGET_RATE, `${(oursRate / TARGET_RATE).toFixed(2)}× the target`)],
        [`ingest within ${TARGET_RATIO}× of better-sqlite3 (totals)`, ratio >= 1 ? `${ratio.toFixed(2)}× faster` : `${(1 / ratio).toFixed(2)}× slower`, verdict(1 / ratio <= TARGET_RATIO, `${(1 / ratio).toFixed(2)}× slower`)],
        [`open ≤ ${TARGET_OPEN_MS} ms (${kfmt(TREE_RUNS)} runs / ${kfmt(TREE_RUNS * POINTS_PER_RUN)} points)`, `${ms(openMed)} ms`, verdict(openMed <= TARGET_OPEN_MS, `+${ms(openMed - TARGET_OPEN_MS)} ms`)],
        [`first tree level ≤ ${TARGET_TREE_MS} ms`, `${ms(treeMed)} ms`, verdict(treeMed <= TARGET_TREE_MS, `+${ms(treeMed - TARGET_TREE_MS)} ms`)],
      ],
      [false, true, false],
    ));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch(e => {
  console.error(e);
  process.exit(1);
});
