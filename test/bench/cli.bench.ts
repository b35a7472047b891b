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
 * `edd run` compiles its bundle with a V8 code cache that its first run saves (src/cli/codeCache.ts): the bench gives
 * the CLI a cache folder of its own (made by the untimed first round, as a user's first `edd run` makes theirs), and
 * times `edd run` without the cache too (`EDD_CODE_CACHE=off`: every first run after an install or an update).
 *
 * EDD_BENCH_CLI_BASELINE=path/to/other/dist/cli.js adds the same commands of another build (a copy of dist/ made
 * before a change), interleaved with this one's, so both meet the same load on a shared machine. On Linux the CPU
 * time of each process (user + system, its children included, from /proc/self/stat's cutime and cstime: 10 ms ticks,
 * so means, not medians) is printed too: less disturbed by other processes than the wall clock. "per round" is the
 * median of the ratios taken within each round (a command against the `node -e 0` run just before it): less moved by
 * the machine's speed drifting over the bench; the verdict is on the ratio of the medians.
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

const TICK_MS = 10; // USER_HZ is 100 on Linux

/** CPU milliseconds of the waited-for children so far (Linux), or undefined. */
function childrenCpuMs(): number | undefined {
  try {
    const stat = fs.readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[13]) + Number(fields[14])) * TICK_MS; // cutime, cstime (fields 16 and 17 of the line)
  } catch {
    return undefined;
  }
}

const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'edd-bench-cli-empty-'));
const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'edd-bench-cli-cache-'));
const withCache = { ...process.env, EDD_CACHE_DIR: cacheDir, EDD_CODE_CACHE: '' };
const withoutCache = { ...process.env, EDD_CODE_CACHE: 'off' };

/** Milliseconds from spawn to exit of `node args…` in `cwd`, and its CPU time if known; the exit code must be 0. */
function time(args: string[], cwd: string, env: NodeJS.ProcessEnv = withCache): { ms: number; cpu: number | undefined } {
  const cpuBefore = childrenCpuMs();
  const start = performance.now();
  const r = spawnSync(process.execPath, args, { cwd, encoding: 'utf8', env });
  const ms = performance.now() - start;
  const cpuAfter = childrenCpuMs();
  check(r.status === 0, `node ${args.join(' ')} in ${cwd} exited ${r.status}: ${r.stderr}`);
  return { ms, cpu: cpuBefore === undefined || cpuAfter === undefined ? undefined : cpuAfter - cpuBefore };
}

const baseline = process.env.EDD_BENCH_CLI_BASELINE ? path.resolve(process.env.EDD_BENCH_CLI_BASELINE) : undefined;
const workspaces: string[] = [];

/** A fresh workspace with a config whose command is `node -e 0` (one per build: each has its own store). */
function trivialWorkspace(): string {
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'edd-bench-cli-run-'));
  workspaces.push(workspace);
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
  return workspace;
}

function commands(script: string, label: string) {
  return [
    { name: `${label}runs (empty folder)`, args: [script, 'runs'], cwd: empty, target: TARGET_RUNS },
    { name: `${label}--help`, args: [script, '--help'], cwd: empty },
    { name: `${label}run trivial.yaml`, args: [script, 'run', 'trivial.yaml', '--quiet'], cwd: trivialWorkspace(), target: TARGET_RUN },
    { name: `${label}run trivial.yaml, no code cache`, args: [script, 'run', 'trivial.yaml', '--quiet'], cwd: trivialWorkspace(), env: withoutCache },
  ];
}

const cases: { name: string; args: string[]; cwd: string; target?: number; env?: NodeJS.ProcessEnv }[] = [
  { name: 'node -e 0', args: ['-e', '0'], cwd: empty },
  ...commands(cli, 'edd '),
  ...(baseline ? commands(baseline, 'baseline edd ') : []),
];

try {
  check(fs.existsSync(cli), `${cli} is missing: run \`node esbuild.mjs\` first`);
  check(!baseline || fs.existsSync(baseline), `EDD_BENCH_CLI_BASELINE: ${baseline} is missing`);
  // One untimed round first: the OS file cache, not the CLI, would otherwise decide the first sample.
  for (const c of cases) time(c.args, c.cwd, c.env);
  const samples = cases.map(() => [] as number[]);
  const cpu = cases.map(() => [] as number[]);
  // Interleaved, so a burst of load on the machine falls on every case alike.
  for (let i = 0; i < REPS; i++) {
    cases.forEach((c, j) => {
      const r = time(c.args, c.cwd, c.env);
      samples[j].push(r.ms);
      if (r.cpu !== undefined) cpu[j].push(r.cpu);
    });
  }
  check(!fs.existsSync(path.join(empty, '.edd')), '`edd runs` in an empty folder created .edd/');
  check(fs.readdirSync(cacheDir).some(f => f.endsWith('.v8')), `\`edd run\` saved no code cache in ${cacheDir}`);
  const medians = samples.map(s => stats(s).median);
  const floor = medians[0];
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const cpuFloor = cpu[0].length ? mean(cpu[0]) : undefined;
  console.log(`CLI cold start: medians of ${REPS} runs each, node ${process.version}, ${os.cpus().length} cores, load ${os.loadavg()[0].toFixed(1)}\n`);
  const rows = cases.map((c, j) => {
    const s = stats(samples[j]);
    const ratio = s.median / floor;
    const verdict = c.target === undefined ? '' : `${ratio <= c.target ? 'PASS' : 'MISS'} (target ≤ ${c.target}×)`;
    const cpuCols = cpuFloor === undefined || cpu[j].length === 0 ? ['', ''] : [`${mean(cpu[j]).toFixed(0)} ms`, `${(mean(cpu[j]) / cpuFloor).toFixed(2)}×`];
    // The same ratio taken within each round (this command against the `node -e 0` just before it), then the median:
    // less moved by the machine's speed drifting over the bench. Shown beside; the verdict stays on the first.
    const paired = stats(samples[j].map((ms, i) => ms / samples[0][i])).median;
    return [c.name, `${s.median.toFixed(0)} ms`, `${s.p90.toFixed(0)} ms`, `${ratio.toFixed(2)}×`, `${paired.toFixed(2)}×`, ...cpuCols, verdict];
  });
  const header = ['command', 'median', 'p90', 'vs node -e 0', 'per round', 'cpu (mean)', 'cpu vs node', ''];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map(r => r[i].length)));
  for (const r of [header, ...rows]) console.log(r.map((c, i) => (i === 0 || i === header.length - 1 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd());
} finally {
  for (const dir of [empty, cacheDir, ...workspaces]) fs.rmSync(dir, { recursive: true, force: true });
}
