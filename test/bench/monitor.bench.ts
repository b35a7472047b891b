/**
 * `npm run bench:monitor`: writes a prediction log of 1,000,000 penguin predictions over 24 hours (10% with feedback,
 * a server sample every 10 s, segments of about 64 MB, drift in the last 6 hours) and times `edd monitor --json` on it
 * as a real process, end to end. Target: ≤ 5 s. Prints the figures; never fails on a miss.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { performance } from 'perf_hooks';
import { mulberry32 } from '../../src/core/stats/prng';
import { penguins, repo, workspace } from '../unit/monitor.fixtures';

const RECORDS = 1_000_000;
const HOURS = 24;
const SEGMENT_BYTES = 64 * 1024 * 1024;
const CLASSES = ['Adelie', 'Chinstrap', 'Gentoo'];

function writeLog(dir: string): { bytes: number; segments: number } {
  const rows = penguins().filter(r => r.bill_length_mm !== null);
  const rnd = mulberry32(11);
  const logDir = path.join(dir, '.edd/serving/penguins');
  const end = Math.floor(Date.now() / 3_600_000) * 3_600_000;
  const start = end - HOURS * 3_600_000;
  const step = (HOURS * 3_600_000) / RECORDS;
  let fd = -1, written = 0, total = 0, segments = 0;
  let lines: string[] = [];
  const flush = () => { const s = lines.join('\n') + '\n'; fs.writeSync(fd, s); written += Buffer.byteLength(s); total += Buffer.byteLength(s); lines = []; };
  let nextSample = start;
  for (let i = 0; i < RECORDS; i++) {
    const time = Math.floor(start + i * step);
    if (fd < 0 || written >= SEGMENT_BYTES) {
      if (fd >= 0) { flush(); fs.closeSync(fd); }
      fd = fs.openSync(path.join(logDir, `predictions-${time}-${1000 + segments}.jsonl`), 'w');
      written = 0; segments++;
    }
    const row = rows[Math.floor(rnd() * rows.length)];
    const drift = time > end - 6 * 3_600_000 ? 15 : 0;
    const truth = String(row.species);
    const prediction = rnd() < 0.95 ? truth : CLASSES[Math.floor(rnd() * 3)];
    const probabilities = CLASSES.map(c => (c === prediction ? 0.9 : 0.05));
    const request_id = `req-${i.toString(36)}`;
    lines.push(JSON.stringify({
      type: 'prediction', request_id, row: 0, time, model: 'penguins', version: 3, slot: 'blue', latency_ms: Math.round(rnd() * 400) / 100, status: rnd() < 0.001 ? 500 : 200,
      inputs: { bill_length_mm: row.bill_length_mm, bill_depth_mm: row.bill_depth_mm, flipper_length_mm: Number(row.flipper_length_mm) + drift, body_mass_g: row.body_mass_g, island: row.island, sex: row.sex },
      outputs: { prediction, probabilities },
    }));
    if (i % 10 === 0) lines.push(JSON.stringify({ type: 'feedback', request_id, row: 0, time: time + 5, label: truth }));
    if (time >= nextSample) { lines.push(JSON.stringify({ type: 'sample', time, cpu_percent: 20 + rnd() * 10, rss_bytes: 120e6, heap_bytes: 60e6, in_flight: 3 })); nextSample += 10_000; }
    if (lines.length >= 10_000) flush();
  }
  flush();
  fs.closeSync(fd);
  return { bytes: total, segments };
}

function main(): void {
  const dir = workspace();
  try {
    let t0 = performance.now();
    const log = writeLog(dir);
    console.log(`log: ${RECORDS.toLocaleString('en')} predictions, ${(log.bytes / 1048576).toFixed(0)} MB in ${log.segments} segments, written in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const runs: number[] = [];
    let out = '';
    for (let k = 0; k < Number(process.env.EDD_BENCH_RUNS ?? 3); k++) {
      t0 = performance.now();
      out = execFileSync(process.execPath, [path.join(repo, 'dist/cli.js'), 'monitor', 'penguins.service.yaml', '--json'], { cwd: dir, maxBuffer: 1 << 28, encoding: 'utf8' });
      runs.push(performance.now() - t0);
    }
    const r = JSON.parse(out);
    const best = Math.min(...runs) / 1000;
    console.log(`edd monitor --json: ${runs.map(x => (x / 1000).toFixed(2)).join(' s, ')} s (best ${best.toFixed(2)} s; target ≤ 5 s: ${best <= 5 ? 'met' : 'MISSED'})`);
    console.log(`  ${r.read.lines.toLocaleString('en')} lines, ${r.windows.length} windows, ${r.alerts.length} alerts (${[...new Set(r.alerts.map((a: { metric: string }) => a.metric))].join(', ')})`);
  } finally {
    // EDD_BENCH_KEEP=1 keeps the log for profiling (`node --cpu-prof dist/cli.js monitor …` in that folder).
    if (process.env.EDD_BENCH_KEEP) console.log(`kept: ${dir}`); else fs.rmSync(dir, { recursive: true, force: true });
  }
}

main();
