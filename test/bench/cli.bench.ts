/**
 * Benchmark: the CLI's cold start, as a user sees it: each command is a fresh `node dist/cli.js …` process, timed
 * from spawn to exit, against `node -e 0` (the floor no CLI in node can beat).
 *
 *   npm run bench:cli
 *
 * `edd runs` in an empty folder (no store: nothing to load), `edd --help`, and `edd run` of a config whose command is
 * `node -e 0` in a fresh workspace (so the run's own child process is a second `node -e 0`). EDD_BENCH_REPS=N changes
 * the number of runs of each (default 15); medians are compared.
 *
 * Prints; never asserts on timings (exit code 0 on a missed target). Exits non-zero only if something is broken.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { performance } from 'perf_hooks';
import { stats } from './stats';

const root = path.resolve(__dirname, '../../..');
const cli = path.join(root, 'dist/cli.js');
const REPS = Number(process.env.EDD_BENCH_REPS ?? 15);

const TARGET_RUNS = 2;
const TARGET_RUN = 3;

function check(condition: unknown, what: string): void {
  if (!condition) {
    console.error(`broken: ${what}`);
    process.exit(1);
  }
}

/** Milliseconds from spawn to exit of `node args…` in `cwd`; the exit code must be 0. */
function time(args: string[], cwd: string): number {
  const start = performance.now();
  const r = spawnSync(process.execPath, args, { cwd, encoding: 'utf8' });
  const ms = performance.now() - start;
  check(r.status === 0, `node ${args.join(' ')} in ${cwd} exited ${r.status}: ${r.stderr}`);
  return ms;
}

const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'edd-bench-cli-empty-'));
const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'edd-bench-cli-run-'));
fs.writeFileSync(path.join(workspace, 'trivial.yaml'), [
  'experiment:',
  '  id: "exp_20250101_001"',
  '  name: trivial',
  '  hypothesis: the CLI starts quickly',
  '  parameters:',
  '    model_type: none',
  '  run:',
  `    command: [${JSON.stringify(process.execPath)}, "-e", "0"]`,
  '',
].join('\n'));

const cases: { name: string; args: string[]; cwd: string; target?: number }[] = [
  { name: 'node -e 0', args: ['-e', '0'], cwd: empty },
  { name: 'edd runs (empty folder)', args: [cli, 'runs'], cwd: empty, target: TARGET_RUNS },
  { name: 'edd --help', args: [cli, '--help'], cwd: empty },
  { name: 'edd run trivial.yaml', args: [cli, 'run', 'trivial.yaml', '--quiet'], cwd: workspace, target: TARGET_RUN },
];

try {
  check(fs.existsSync(cli), `${cli} is missing: run \`node esbuild.mjs\` first`);
  // One untimed round first: the OS file cache, not the CLI, would otherwise decide the first sample.
  for (const c of cases) time(c.args, c.cwd);
  const samples = cases.map(() => [] as number[]);
  // Interleaved, so a burst of load on the machine falls on every case alike.
  for (let i = 0; i < REPS; i++) cases.forEach((c, j) => samples[j].push(time(c.args, c.cwd)));
  check(!fs.existsSync(path.join(empty, '.edd')), '`edd runs` in an empty folder created .edd/');
  const medians = samples.map(s => stats(s).median);
  const floor = medians[0];
  console.log(`CLI cold start: medians of ${REPS} runs each, node ${process.version}, ${os.cpus().length} cores\n`);
  const rows = cases.map((c, j) => {
    const s = stats(samples[j]);
    const ratio = s.median / floor;
    const verdict = c.target === undefined ? '' : `${ratio <= c.target ? 'PASS' : 'MISS'} (target ≤ ${c.target}×)`;
    return [c.name, `${s.median.toFixed(0)} ms`, `${s.p90.toFixed(0)} ms`, `${ratio.toFixed(2)}×`, verdict];
  });
  const header = ['command', 'median', 'p90', 'vs node -e 0', ''];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map(r => r[i].length)));
  for (const r of [header, ...rows]) console.log(r.map((c, i) => (i === 0 || i === 4 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd());
} finally {
  fs.rmSync(empty, { recursive: true, force: true });
  fs.rmSync(workspace, { recursive: true, force: true });
}
