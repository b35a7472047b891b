// A second (third, ...) process writing a run store, for the concurrency tests. Compiled to out/test/store/writer.js
// and spawned with one JSON argument (WriterConfig). It loads the store from the compiled sources like the CLI would.
//
// Protocol on stdout, one line each: `ready` once the store is open; `saved <runId>` after `await save()` resolved
// for a run (so the run is on disk); `merged <n>` (saves that merged another process's save) and `done` after
// close(). With `waitForGo`, the writer starts writing when it reads a line on stdin. Errors: stderr, exit code 1.
import { RunStore } from '../../src/core/store';

export interface WriterConfig {
  file: string;
  /** Runs to write; 0 = until killed. */
  runs: number;
  /** Metric points per run (two keys, alternating). */
  points: number;
  experimentId: string;
  /** Written to each run's `params.writer`, so tests can tell writers apart. */
  tag: string;
  waitForGo?: boolean;
  /** Pause up to this long (random) after each save, as a real writer between runs would; default 0. */
  pauseMs?: number;
  /** RunStoreOptions.segmentRuns (default: the store's). */
  segmentRuns?: number;
  /** RunStoreOptions.logCheckpointBytes (default: the store's). */
  logCheckpointBytes?: number;
}

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2]) as WriterConfig;
  // autoSave off: this process decides when it saves, and prints an id only after that save.
  const store = await RunStore.open(config.file, { autoSave: false, verify: 'header', segmentRuns: config.segmentRuns, logCheckpointBytes: config.logCheckpointBytes });
  let merged = 0;
  store.onDidSave(s => (merged += s.merged ? 1 : 0));
  process.stdout.write('ready\n');
  if (config.waitForGo) await new Promise(resolve => process.stdin.once('data', resolve));
  for (let i = 0; config.runs === 0 || i < config.runs; i++) {
    const run = store.createRun({ experimentId: config.experimentId, status: 'running', params: { writer: config.tag, i }, seed: i });
    const points = [];
    for (let s = 0; s < config.points; s++) points.push({ runId: run.id, key: s % 2 ? 'loss' : 'accuracy', step: s >> 1, value: Math.random() });
    store.addMetrics(points);
    store.updateRun(run.id, { status: 'finished', exitCode: 0, logPath: `${config.tag}/${i}.log` });
    await store.save();
    process.stdout.write(`saved ${run.id}\n`);
    if (config.pauseMs) await new Promise(r => setTimeout(r, Math.random() * config.pauseMs!));
  }
  await store.close();
  process.stdout.write(`merged ${merged}\ndone\n`);
}

main().catch(e => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
