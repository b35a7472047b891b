/**
 * `npm run bench:monitor`: writes a prediction log of 1,000,000 penguin predictions over 24 hours (10% with feedback,
 * a server sample every 10 s, segments of about 64 MB, drift in the last 6 hours) and times `edd monitor --json` on it
 * as a real process, end to end: wall time and the process's CPU time (all its threads, the log readers included).
 * Target: ≤ 5 s wall for 1M. Prints the figures; never fails on a miss.
 *
 * EDD_BENCH_RECORDS=N writes N predictions instead (the target is for 1M); EDD_BENCH_RUNS=K times K runs (3);
 * EDD_BENCH_BASELINE=/path/to/an/older/cli.js times that CLI too, run for run alternating with this one, and checks both
 * print the same JSON (a machine shared with other work slows both alike, so the ratio is the figure to trust);
 * EDD_BENCH_KEEP=1 keeps the log.
 */
import { execFileSync } from 'child_process';
import * as os from 'os';
import * as fs from 'fs';
import * as path from 'path';
import { performance } from 'perf_hooks';
import { mulberry32 } from '../../src/core/stats/prng';
import { penguins, repo, workspace } from '../unit/monitor.fixtures';

const RECORDS = Number(process.env.EDD_BENCH_RECORDS ?? 1_000_000);
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

/**
 * Run by each timed CLI with --require: at exit, writes the process's CPU time (every thread's) to $EDD_BENCH_CPU, and
 * each thread's own, sampled from /proc every 20 ms while it lives (Linux; a thread's last < 20 ms may be missed).
 * The main thread's CPU plus the busiest other thread's is about what the run takes on an idle machine with a core
 * per thread: the figure that a shared machine's wall clock cannot show.
 */
const CPU_PRELOAD = `
const fs = require('fs');
const threads = new Map();
const sample = () => {
  let tids = [];
  try { tids = fs.readdirSync('/proc/self/task'); } catch { return; }
  for (const tid of tids) {
    try {
      const stat = fs.readFileSync('/proc/self/task/' + tid + '/stat', 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      threads.set(tid, (Number(f[11]) + Number(f[12])) / 100);
    } catch {}
  }
};
setInterval(sample, 20).unref();
process.on('exit', () => {
  sample();
  const u = process.cpuUsage();
  const main = threads.get(String(process.pid)) || 0;
  const others = [...threads].filter(([tid]) => tid !== String(process.pid)).map(([, s]) => s);
  fs.writeFileSync(process.env.EDD_BENCH_CPU, JSON.stringify({ ...u, main, busiestOther: Math.max(0, ...others) }));
});
`;

interface Timing { wall: number; user: number; system: number; main: number; busiestOther: number; out: string }

function timeCli(cli: string, dir: string, preload: string): Timing {
  const cpuFile = path.join(dir, 'cpu.json');
  const t0 = performance.now();
  const out = execFileSync(process.execPath, ['--require', preload, cli, 'monitor', 'penguins.service.yaml', '--json'], {
    cwd: dir, maxBuffer: 1 << 28, encoding: 'utf8', env: { ...process.env, EDD_BENCH_CPU: cpuFile },
  });
  const wall = performance.now() - t0;
  const u = JSON.parse(fs.readFileSync(cpuFile, 'utf8')) as { user: number; system: number; main: number; busiestOther: number };
  return { wall: wall / 1000, user: u.user / 1e6, system: u.system / 1e6, main: u.main, busiestOther: u.busiestOther, out };
}

const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor((s.length - 1) / 2)]; };
const secs = (xs: number[]) => xs.map(x => x.toFixed(2)).join(', ');

function main(): void {
  const dir = workspace();
  try {
    const t0 = performance.now();
    const log = writeLog(dir);
    const preload = path.join(dir, 'cpu-preload.js');
    fs.writeFileSync(preload, CPU_PRELOAD);
    console.log(`log: ${RECORDS.toLocaleString('en')} predictions, ${(log.bytes / 1048576).toFixed(0)} MB in ${log.segments} segments, written in ${((performance.now() - t0) / 1000).toFixed(1)} s; ${os.cpus().length} CPUs, load ${os.loadavg()[0].toFixed(2)}`);
    const baseline = process.env.EDD_BENCH_BASELINE ? path.resolve(process.env.EDD_BENCH_BASELINE) : undefined;
    const clis = [{ name: 'edd monitor --json', cli: path.join(repo, 'dist/cli.js'), runs: [] as Timing[] }];
    if (baseline) clis.push({ name: `baseline ${baseline}`, cli: baseline, runs: [] });
    for (let k = 0; k < Number(process.env.EDD_BENCH_RUNS ?? 3); k++) {
      // Alternating, so a burst of other work on the machine falls on both.
      for (const c of (k % 2 ? [...clis].reverse() : clis)) c.runs.push(timeCli(c.cli, dir, preload));
    }
    for (const c of clis) {
      const wall = c.runs.map(r => r.wall), cpu = c.runs.map(r => r.user + r.system);
      const target = RECORDS === 1_000_000 && c === clis[0] ? ` (target ≤ 5 s: ${median(wall) <= 5 ? 'met' : 'MISSED'})` : '';
      const path = c.runs.map(r => r.main + r.busiestOther);
      console.log(`${c.name}: wall ${secs(wall)} s, median ${median(wall).toFixed(2)} s${target}`);
      console.log(`  CPU (user+system, all threads) ${secs(cpu)} s, median ${median(cpu).toFixed(2)} s; main thread + busiest other thread ${secs(path)} s, median ${median(path).toFixed(2)} s`);
    }
    const r = JSON.parse(clis[0].runs[clis[0].runs.length - 1].out);
    console.log(`  ${r.read.lines.toLocaleString('en')} lines read by ${r.read.threads || 'no'} worker threads, ${r.windows.length} windows, ${r.alerts.length} alerts (${[...new Set(r.alerts.map((a: { metric: string }) => a.metric))].join(', ')})`);
    if (baseline) {
      const [now, base] = clis;
      const ratio = (f: (t: Timing) => number) => (median(now.runs.map(f)) / median(base.runs.map(f))).toFixed(2);
      console.log(`ratio this / baseline: wall ${ratio(x => x.wall)}, CPU ${ratio(x => x.user + x.system)}, main + busiest other thread ${ratio(x => x.main + x.busiestOther)}`);
      // The same numbers or the comparison is void (the log folder's path is the same for both; how many threads read
      // the log is not a monitoring number).
      const strip = (out: string) => { const j = JSON.parse(out); delete j.read.threads; return JSON.stringify(j); };
      const same = strip(now.runs[now.runs.length - 1].out) === strip(base.runs[base.runs.length - 1].out);
      console.log(`  output identical to the baseline's: ${same ? 'yes' : 'NO'}`);
    }
  } finally {
    // EDD_BENCH_KEEP=1 keeps the log for profiling (`node --cpu-prof dist/cli.js monitor …` in that folder).
    if (process.env.EDD_BENCH_KEEP) console.log(`kept: ${dir}`); else fs.rmSync(dir, { recursive: true, force: true });
  }
}

main();
