/**
 * Benchmark: the run store (sql.js, in memory, atomic file saves) against better-sqlite3 (native SQLite on the file)
 * doing the same work in the same process, on the same schema.
 *
 *   npm run bench:store
 *
 * (a) ingest of 1,000,000 metric points in batches of 1,000 (one transaction per batch, prepared statements, the
 *     final-value upsert per run and key);
 * (b) stores of 10k, 50k and 100k runs × 100 points: the cost of recording one more run (against one better-sqlite3
 *     transaction on a file holding the same data), open + the runs tree's first level, peak memory of a process;
 * (c) a 5 GB metric history (scaled down if the disk has less than three times that free): it records and opens.
 *
 * EDD_BENCH_SIZES=10000,50000 and EDD_BENCH_BIG_BYTES=1e9 shrink the run for a quick look.
 *
 * Prints; never asserts on timings (exit code 0 on a missed target). Exits non-zero only if something is broken.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { performance } from 'perf_hooks';
import { logFileOf, MIGRATIONS, RunStore, type MetricPoint } from '../../src/core/store';
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
const SIZES = (process.env.EDD_BENCH_SIZES ?? '10000,50000,100000').split(',').map(Number);
const POINTS_PER_RUN = 100;
const OPEN_REPS = 7;

const TARGET_RATE = 200_000;
const TARGET_RATIO = 3;
const TARGET_OPEN_MS = 300;
const TARGET_PEAK_MB = 250;
const BIG_HISTORY_BYTES = Number(process.env.EDD_BENCH_BIG_BYTES ?? 5e9);


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

/** The store's schema; `points`: keep a metric_points table (better-sqlite3's layout: the points in the one file). */
function createSchema(db: BDatabase, points: boolean): void {
  // schema 8: one file holding every run, as stores were before segments (ours is converted by its first save)
  for (const m of MIGRATIONS.filter(m => m.version <= 8)) db.exec(m.sql);
  db.pragma('user_version = 8');
  // schema 5 parks version 4's points in metric_points_v4 until the store moves them to the runs' files
  db.exec(points ? 'ALTER TABLE metric_points_v4 RENAME TO metric_points' : 'DROP TABLE metric_points_v4');
}

/** better-sqlite3 doing what `addMetrics` does: resolve ids, insert the points, upsert the last point per run and key. */
function betterIngest(dir: string, runIds: string[], batches: MetricPoint[][]): { insertMs: number; totalMs: number } {
  const file = path.join(dir, `better-${Math.random().toString(36).slice(2)}.sqlite`);
  const db = new BetterSqlite3(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  createSchema(db, true);
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
  fs.rmSync(`${file}.runs`, { recursive: true, force: true });
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

const EXPERIMENTS = 20;
const runId = (r: number) => `00000000-0000-4000-8000-${String(r).padStart(12, '0')}`;
const snapshotOf = (r: number) => CONFIG_SNAPSHOT.replaceAll('{E}', String(r % EXPERIMENTS)).replace('{S}', String(r));
const paramsOf = (r: number) => ({ learning_rate: 0.001 * (1 + (r % 7)), batch_size: 64, hidden_sizes: [256, 128], dropout: 0.2, seed: r });

/**
 * The per-run files of `runs` runs (100 points and a run.json each), written directly (not through the store: that
 * would fsync 100k files). Shared by the stores of every size through a symlinked `runs` folder.
 */
function writeRunFiles(folder: string, from: number, to: number): void {
  for (let r = from; r < to; r++) {
    const dir = path.join(folder, runId(r));
    fs.mkdirSync(dir, { recursive: true });
    let lines = '';
    const created = 1_700_000_000_000 + r * 60_000;
    for (let i = 0; i < POINTS_PER_RUN; i++) lines += `[${i % 2 ? '"val/loss"' : '"val/f1"'},${i >> 1},${Math.random()},${created + i * 1000}]\n`;
    fs.writeFileSync(path.join(dir, 'metrics.jsonl'), lines);
    fs.writeFileSync(path.join(dir, 'run.json'), JSON.stringify({ configSnapshot: snapshotOf(r), environment: ENVIRONMENT }));
  }
}

/** A schema-5 index of `runs` runs written with better-sqlite3 (the same rows the store writes), in rollback-journal mode as sql.js reads it. */
function writeIndex(file: string, runs: number, withEverything: boolean): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const db = new BetterSqlite3(file);
  db.pragma('journal_mode = DELETE');
  db.pragma('synchronous = OFF');
  // better-sqlite3's natural layout: everything in the one file, points included
  createSchema(db, withEverything);
  if (!withEverything) db.exec("INSERT INTO meta (key, value) VALUES ('generation', '1'), ('save_id', 'bench'), ('run_files', 'moved')");
  const insertExperiment = db.prepare('INSERT INTO experiments (id, name, hypothesis, config_path, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)');
  const insertRun = db.prepare(`INSERT INTO runs (id, experiment_id, config_path, config_snapshot, params, status, created_at, started_at, ended_at, duration_ms, exit_code,
    git_commit, git_dirty, environment, seed, dataset_fingerprint, peak_memory_bytes, log_path) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  const insertFinal = db.prepare('INSERT INTO metric_final (run_seq, key_id, step, value, time) VALUES (?, ?, ?, ?, ?)');
  const insertPoint = withEverything ? db.prepare('INSERT INTO metric_points (run_seq, key_id, step, value, time) VALUES (?, ?, ?, ?, ?)') : undefined;
  db.transaction(() => {
    for (let e = 0; e < EXPERIMENTS; e++) insertExperiment.run(`exp_${e}`, `Sweep ${String(e).padStart(2, '0')}`, 'A wider hidden layer improves F1', `experiments/exp_${e}.yaml`, 1, 1);
    db.exec("INSERT INTO metric_keys (id, name) VALUES (1, 'val/f1'), (2, 'val/loss')");
    const env = JSON.stringify(ENVIRONMENT);
    for (let r = 0; r < runs; r++) {
      const created = 1_700_000_000_000 + r * 60_000;
      const e = r % EXPERIMENTS;
      insertRun.run(runId(r), `exp_${e}`, `experiments/exp_${e}.yaml`, withEverything ? snapshotOf(r) : null, JSON.stringify(paramsOf(r)), r % 50 === 0 ? 'failed' : 'finished',
        created, created + 100, created + 50_000, 49_900, r % 50 === 0 ? 1 : 0, '3f2a9c1d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a39', r % 3 === 0 ? 1 : 0,
        withEverything ? env : null, r, 'sha256:9b1c0e6f', 2_147_483_648 + r, `.edd/runs/${r}/log.txt`);
      insertFinal.run(r + 1, 1, 49, Math.random(), created + 98_000);
      insertFinal.run(r + 1, 2, 49, Math.random(), created + 99_000);
      if (insertPoint) for (let i = 0; i < POINTS_PER_RUN; i++) insertPoint.run(r + 1, 1 + (i % 2), i >> 1, Math.random(), created + i * 1000);
    }
  })();
  db.close();
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

/** The runs tree's first level as the Experiments view asks for it: all experiments, and the first page (101 runs) of one. */
const TREE_PAGE = 101;

function betterTree(file: string, page: number): { openMs: number; treeMs: number } {
  const t0 = performance.now();
  const db = new BetterSqlite3(file, { readonly: true });
  const t1 = performance.now();
  const experiments = db.prepare(SQL_EXPERIMENTS).raw().all();
  const runs = db.prepare(SQL_RUNS.replace('LIMIT -1', `LIMIT ${TREE_PAGE}`)).raw().all('exp_0').map(r => ({ seq: r[0], id: r[1], params: JSON.parse(String(r[4])), finalMetrics: {} as Record<string, number> }));
  const bySeq = new Map(runs.map(r => [r.seq, r]));
  for (const [seq, key, value] of db.prepare(SQL_FINALS.replace('LIMIT -1', `LIMIT ${TREE_PAGE}`)).raw().all('exp_0')) bySeq.get(seq)!.finalMetrics[String(key)] = Number(value);
  const t2 = performance.now();
  check(experiments.length === EXPERIMENTS && runs.length === page, 'better-sqlite3: wrong tree');
  db.close();
  return { openMs: t1 - t0, treeMs: t2 - t1 };
}

async function oursTree(file: string, page: number): Promise<{ openMs: number; treeMs: number }> {
  const t0 = performance.now();
  const store = await RunStore.open(file);
  const t1 = performance.now();
  const experiments = store.listExperiments();
  const runs = store.listRuns({ experimentId: 'exp_0', limit: TREE_PAGE });
  const t2 = performance.now();
  // (the newest run of exp_0 may be the one the new-process measurement recorded, with one metric)
  check(experiments.length === EXPERIMENTS && runs.length === page && Object.keys(runs[0].finalMetrics).length >= 1, 'ours: wrong tree');
  await store.close();
  return { openMs: t1 - t0, treeMs: t2 - t1 };
}

/**
 * In a new node process (so sql.js is loaded and compiled too, and the peak memory is the store's): open, first tree
 * level, a whole experiment's runs, one curve, one more run recorded and saved. Prints timings and the peak RSS.
 */
function coldProcess(file: string): { openMs: number; treeMs: number; peakMb: number } {
  const script = `
    const { performance } = require('perf_hooks');
    const t0 = performance.now();
    const { RunStore } = require(${JSON.stringify(path.resolve(__dirname, '../../src/core/store'))});
    RunStore.open(${JSON.stringify(file)}, { autoSave: false }).then(async store => {
      const t1 = performance.now();
      store.listExperiments(); const page = store.listRuns({ experimentId: 'exp_0', limit: ${TREE_PAGE} });
      const t2 = performance.now();
      store.listRuns({ experimentId: 'exp_0' }); store.getMetrics(page[0].id); store.getRun(page[0].id);
      const run = store.createRun({ experimentId: 'exp_0', configSnapshot: 'x: 1', environment: { node: process.version } });
      store.addMetrics([{ runId: run.id, key: 'val/f1', step: 0, value: 0.5 }]);
      await store.close();
      console.log(JSON.stringify({ openMs: t1 - t0, treeMs: t2 - t1, peakMb: process.resourceUsage().maxRSS / 1024 }));
    });`;
  return JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' })) as { openMs: number; treeMs: number; peakMb: number };
}

const RECORD_REPS = 5;

/** Records one more run as a training would (created with its snapshot and environment, 100 points, finished) and saves. */
async function recordRun(store: RunStore, rep: number): Promise<void> {
  const run = store.createRun({ experimentId: 'exp_1', configPath: 'experiments/exp_1.yaml', configSnapshot: snapshotOf(rep), params: paramsOf(rep), status: 'running', environment: ENVIRONMENT, seed: rep });
  const points: MetricPoint[] = [];
  for (let i = 0; i < POINTS_PER_RUN; i++) points.push({ runId: run.id, key: i % 2 ? 'val/loss' : 'val/f1', step: i >> 1, value: Math.random() });
  store.addMetrics(points);
  store.updateRun(run.id, { status: 'finished', exitCode: 0, endedAt: Date.now() });
  await store.save();
}

/** The cost of recording one more run ({@link recordRun}). */
async function oursRecord(file: string, reps: number): Promise<number[]> {
  const store = await RunStore.open(file, { autoSave: false, verify: 'header' });
  const out: number[] = [];
  for (let rep = 0; rep < reps; rep++) {
    const t0 = performance.now();
    await recordRun(store, rep);
    out.push(performance.now() - t0);
  }
  await store.close();
  return out;
}

const LOG_LIMIT = 256 * 1024; // RunStoreOptions.logCheckpointBytes' default

/**
 * What the operation log adds: saves append to it until it would pass its limit, then one save checkpoints (rewrites
 * the index file). Records runs as `oursRecord` does until the log is full (the next save would checkpoint), then
 * measures open + first tree level with that full log (an open replays it) and the checkpoint itself.
 */
async function logCosts(file: string, page: number): Promise<{ runsPerLog: number; openTreeFullMs: number; checkpointMs: number }> {
  const log = logFileOf(file);
  const store = await RunStore.open(file, { autoSave: false, verify: 'header' });
  const logSize = () => (fs.existsSync(log) ? fs.statSync(log).size : 0);
  let runsInLog = 0;
  for (let rep = 0; ; rep++) {
    const before = logSize();
    await recordRun(store, rep);
    const after = logSize();
    runsInLog = after > before ? runsInLog + 1 : 0; // (a checkpoint removed the log)
    const record = after - before;
    if (after > before && after + 1.5 * record > LOG_LIMIT) break;
  }
  await store.close();
  const trees: number[] = [];
  for (let rep = 0; rep < OPEN_REPS; rep++) {
    const t = await oursTree(file, page);
    trees.push(t.openMs + t.treeMs);
  }
  const again = await RunStore.open(file, { autoSave: false, verify: 'header' });
  const t0 = performance.now();
  await again.checkpoint();
  const checkpointMs = performance.now() - t0;
  await again.close();
  check(!fs.existsSync(log), 'the checkpoint did not remove the log');
  return { runsPerLog: runsInLog + 1, openTreeFullMs: stats(trees).median, checkpointMs };
}

/** The same with better-sqlite3 on a file holding everything (points included): one transaction, default (durable) settings. */
function betterRecord(file: string, reps: number): number[] {
  const db = new BetterSqlite3(file);
  const insertRun = db.prepare(`INSERT INTO runs (id, experiment_id, config_path, config_snapshot, params, status, created_at, environment, seed)
    VALUES (?, 'exp_1', 'experiments/exp_1.yaml', ?, ?, 'running', ?, ?, ?)`);
  const seqOf = db.prepare('SELECT seq FROM runs WHERE id = ?');
  const insertPoint = db.prepare('INSERT OR REPLACE INTO metric_points (run_seq, key_id, step, value, time) VALUES (?, ?, ?, ?, ?)');
  const upsert = db.prepare(FINAL_UPSERT);
  const finish = db.prepare("UPDATE runs SET status = 'finished', exit_code = 0, ended_at = ? WHERE seq = ?");
  const out: number[] = [];
  for (let rep = 0; rep < reps; rep++) {
    const t0 = performance.now();
    db.transaction(() => {
      const id = `bench-${rep}-${Math.random()}`;
      insertRun.run(id, snapshotOf(rep), JSON.stringify(paramsOf(rep)), Date.now(), JSON.stringify(ENVIRONMENT), rep);
      const seq = (seqOf.raw().all(id)[0] as number[])[0];
      const now = Date.now();
      for (let i = 0; i < POINTS_PER_RUN; i++) insertPoint.run(seq, 1 + (i % 2), i >> 1, Math.random(), now);
      upsert.run(seq, 1, 49, Math.random(), now);
      upsert.run(seq, 2, 49, Math.random(), now);
      finish.run(now, seq);
    })();
    out.push(performance.now() - t0);
  }
  db.close();
  return out;
}

/** A metric history of about `bytes` (written directly, one file per run) with a small index, opened and written. */
async function bigHistory(dir: string, bytes: number): Promise<string[]> {
  const file = path.join(dir, 'big', '.edd', 'edd.sqlite');
  const perRun = 50 * 1024 * 1024;
  const runs = Math.max(1, Math.round(bytes / perRun));
  writeIndex(file, runs, false);
  let block = '';
  for (let i = 0; block.length < perRun; i++) block += `["val/loss",${i},${Math.random()},${1_700_000_000_000 + i}]\n`;
  const t0 = performance.now();
  for (let r = 0; r < runs; r++) {
    const run = path.join(path.dirname(file), 'runs', runId(r));
    fs.mkdirSync(run, { recursive: true });
    fs.writeFileSync(path.join(run, 'metrics.jsonl'), block);
  }
  const written = runs * Buffer.byteLength(block);
  const t1 = performance.now();
  const store = await RunStore.open(file, { autoSave: false });
  const t2 = performance.now();
  const tree = store.listRuns({ experimentId: 'exp_0', limit: TREE_PAGE });
  const curveStart = performance.now();
  const curve = store.getMetrics(tree[0].id, 'val/loss');
  const curveMs = performance.now() - curveStart;
  const run = store.createRun({ experimentId: 'exp_0', status: 'running' });
  store.addMetrics(Array.from({ length: POINTS_PER_RUN }, (_, i) => ({ runId: run.id, key: 'val/loss', step: i, value: 1 / (i + 1) })));
  store.updateRun(run.id, { status: 'finished' });
  const t3 = performance.now();
  await store.close();
  const t4 = performance.now();
  const reopened = await RunStore.open(file, { readOnly: true });
  check(reopened.getRun(run.id)?.status === 'finished' && reopened.getMetrics(run.id).length === POINTS_PER_RUN, 'big history: the new run is not there after reopening');
  await reopened.close();
  const index = fs.statSync(file).size;
  fs.rmSync(path.join(dir, 'big'), { recursive: true, force: true });
  return [
    `history of ${(written / 1e9).toFixed(2)} GB in ${runs} runs' files (written in ${(t1 - t0) / 1000 < 1 ? ms(t1 - t0) + ' ms' : ((t1 - t0) / 1000).toFixed(1) + ' s'}), index ${mb(index)}`,
    `open ${ms(t2 - t1)} ms; one run's curve (${curve.length} points, ${mb(perRun)}) read in ${ms(curveMs)} ms; one more run recorded and saved in ${ms(t4 - t3 + (t3 - t2 - curveMs))} ms; reopened: the new run is there`,
  ];
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
    console.log('    ours: addMetrics per batch (final values in the index, points appended to per-run files), "total" includes save() (fsync of the files, index export + temp file + fsync + rename)');
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

    // (b) stores of 10k, 50k, 100k runs -------------------------------------------------------------------------
    const shared = path.join(dir, 'runs-shared');
    console.log(`\n(b) stores of ${SIZES.map(kfmt).join(', ')} runs × ${POINTS_PER_RUN} points (${EXPERIMENTS} experiments; each run with a config snapshot, params and environment)`);
    console.log('    ours: the schema-5 index + per-run files; better-sqlite3: one file with everything (points, snapshots) — the same data');
    console.log(`    record one more run = createRun + ${POINTS_PER_RUN} points + finish + save (better-sqlite3: one transaction, default journal and sync), median of ${RECORD_REPS},`);
    console.log(`      plus the share of the checkpoint that follows every ${LOG_LIMIT / 1024} KiB of operation log (measured below)`);
    console.log(`    first tree level = listExperiments() + listRuns({ experimentId, limit: ${TREE_PAGE} }) (what the Experiments view asks for), median of ${OPEN_REPS}`);
    console.log('    peak memory: a new process that opens, lists the tree and a whole experiment, reads a curve and records a run\n');
    let filesDone = 0;
    const rows: string[][] = [];
    const logRows: string[][] = [];
    const results: { runs: number; ratio: number; openTree: number; peakMb: number }[] = [];
    for (const runs of SIZES) {
      const t0 = performance.now();
      writeRunFiles(shared, filesDone, runs);
      filesDone = runs;
      const file = path.join(dir, `s${runs}`, '.edd', 'edd.sqlite');
      writeIndex(file, runs, false);
      fs.symlinkSync(shared, path.join(path.dirname(file), 'runs'));
      const betterFile = path.join(dir, `better-${runs}.sqlite`);
      writeIndex(betterFile, runs, true);
      const buildS = (performance.now() - t0) / 1000;
      // The index was written as one file (the layout before schema 9): the first save seals its old runs into
      // segments, once; what follows measures the store as it is from then on.
      const c0 = performance.now();
      await (await RunStore.open(file, { autoSave: false })).close();
      const convertS = (performance.now() - c0) / 1000;
      const segmentsDir = path.join(path.dirname(file), 'segments');
      const segmentBytes = fs.existsSync(segmentsDir) ? fs.readdirSync(segmentsDir).reduce((n, f) => n + fs.statSync(path.join(segmentsDir, f)).size, 0) : 0;
      const oursTrees: { openMs: number; treeMs: number }[] = [];
      const betterTrees: { openMs: number; treeMs: number }[] = [];
      for (let rep = 0; rep < OPEN_REPS; rep++) {
        const page = Math.min(TREE_PAGE, runs / EXPERIMENTS);
        oursTrees.push(await oursTree(file, page));
        betterTrees.push(betterTree(betterFile, page));
      }
      const cold = coldProcess(file);
      const oursAppend = stats(await oursRecord(file, RECORD_REPS)).median;
      const betterRec = stats(betterRecord(betterFile, RECORD_REPS)).median;
      const logCost = await logCosts(file, Math.min(TREE_PAGE, runs / EXPERIMENTS));
      // the honest cost of one more run: its append, plus its share of the checkpoint every `runsPerLog` runs
      const oursRec = oursAppend + logCost.checkpointMs / logCost.runsPerLog;
      const openTree = Math.max(stats(oursTrees.map(x => x.openMs + x.treeMs)).median, logCost.openTreeFullMs);
      logRows.push([kfmt(runs), ms(oursAppend), ms(logCost.checkpointMs), String(logCost.runsPerLog), ms(logCost.checkpointMs / logCost.runsPerLog), ms(oursRec),
        ms(stats(oursTrees.map(x => x.openMs + x.treeMs)).median), ms(logCost.openTreeFullMs)]);
      const betterOpenTree = stats(betterTrees.map(x => x.openMs + x.treeMs)).median;
      const index = fs.statSync(file).size;
      rows.push([kfmt(runs), `${mb(index)} + ${mb(segmentBytes)}`, mb(fs.statSync(betterFile).size), ms(oursRec), ms(betterRec), `${(oursRec / betterRec).toFixed(1)}×`,
        ms(openTree), ms(cold.openMs + cold.treeMs), ms(betterOpenTree), `${cold.peakMb.toFixed(0)} MB`, `${buildS.toFixed(0)} s`, `${convertS.toFixed(1)} s`]);
      results.push({ runs, ratio: oursRec / betterRec, openTree, peakMb: cold.peakMb });
      fs.rmSync(betterFile, { force: true });
      fs.rmSync(path.join(dir, `s${runs}`), { recursive: true, force: true });
    }
    console.log(table(
      ['runs', 'head + segments', 'better file', 'record ms', 'better ms', 'ratio', 'open+tree ms', 'new process', 'better ms', 'peak RSS', 'built in', 'converted in'],
      rows,
      [true, true, true, true, true, true, true, true, true, true, true, true],
    ));
    console.log('\n    record ms = one append (median) + the checkpoint\'s share; open+tree ms = the worse of a fresh log and a full one');
    console.log(table(
      ['runs', 'append ms', 'checkpoint ms', 'runs per log', 'share ms', 'record ms', 'open+tree (log empty)', 'open+tree (log full)'],
      logRows,
      [true, true, true, true, true, true, true, true],
    ));
    fs.rmSync(shared, { recursive: true, force: true });

    // (c) a history far past 2 GiB ---------------------------------------------------------------------------------
    const free = fs.statfsSync(dir);
    const freeBytes = free.bavail * free.bsize;
    const bigBytes = Math.min(BIG_HISTORY_BYTES, Math.floor(freeBytes / 3));
    console.log(`\n(c) a ${(bigBytes / 1e9).toFixed(1)} GB metric history (free on ${dir}: ${(freeBytes / 1e9).toFixed(0)} GB${bigBytes < BIG_HISTORY_BYTES ? '; scaled down to a third of it' : ''})`);
    for (const line of await bigHistory(dir, bigBytes)) console.log(`    ${line}`);

    // targets ----------------------------------------------------------------------------------------------------
    const oursRate = rate(POINTS, oTot);
    const ratio = bTot / oTot;
    const verdict = (ok: boolean, miss: string) => (ok ? 'PASS' : `MISS (${miss})`);
    console.log('\ntargets');
    console.log(table(
      ['target', 'measured', 'result'],
      [
        [`ingest ≥ ${kfmt(TARGET_RATE)} points/s (incl. save)`, `${kfmt(oursRate)}/s`, verdict(oursRate >= TARGET_RATE, `${(oursRate / TARGET_RATE).toFixed(2)}× the target`)],
        [`ingest within ${TARGET_RATIO}× of better-sqlite3 (totals)`, ratio >= 1 ? `${ratio.toFixed(2)}× faster` : `${(1 / ratio).toFixed(2)}× slower`, verdict(1 / ratio <= TARGET_RATIO, `${(1 / ratio).toFixed(2)}× slower`)],
        ...results.flatMap(r => [
          [`${kfmt(r.runs)} runs: one more run ≤ ${TARGET_RATIO}× better-sqlite3`, `${r.ratio.toFixed(1)}×`, verdict(r.ratio <= TARGET_RATIO, `${(r.ratio / TARGET_RATIO).toFixed(1)}× the target`)],
          [`${kfmt(r.runs)} runs: open + first tree level ≤ ${TARGET_OPEN_MS} ms`, `${ms(r.openTree)} ms`, verdict(r.openTree <= TARGET_OPEN_MS, `+${ms(r.openTree - TARGET_OPEN_MS)} ms`)],
          [`${kfmt(r.runs)} runs: peak memory ≤ ${TARGET_PEAK_MB} MB`, `${r.peakMb.toFixed(0)} MB`, verdict(r.peakMb <= TARGET_PEAK_MB, `+${(r.peakMb - TARGET_PEAK_MB).toFixed(0)} MB`)],
        ]),
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
