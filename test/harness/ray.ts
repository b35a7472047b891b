// A real Ray head for tests: `ray start --head --block` from the project's Python test environment, its dashboard
// (the Jobs REST API) on 127.0.0.1 and a free port, its files in a fresh temporary folder, stopped by `stop()`.
import { spawn, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';

const root = path.resolve(__dirname, '../../..');
const venvBin = path.join(root, '.venv', 'bin');

/** Arguments a shell would otherwise expand, split, run or choke on. */
export const HOSTILE_ARGS = [
  "it's", '"double"', '$HOME', '${PATH}', '$(touch pwned)', '`touch pwned2`', 'a b  c', '; touch pwned3', '&& exit 9',
  '| cat', '*', '~', '-n', '--', '', '\\', 'line\nbreak', 'tab\there', 'ünïcødé ✓', "'", "''", '#comment', '!', '>out',
];

export interface RayHead {
  /** The dashboard URL, e.g. `http://127.0.0.1:41213`. */
  address: string;
  tempDir: string;
  /** ms from spawn until the Jobs API answered. */
  startupMs: number;
  /** The output of `ray start` (for failure messages). */
  output(): string;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Every process of the session `sid` (ray start and everything it started: they share its session). */
function sessionMembers(sid: number): number[] {
  const out: number[] = [];
  for (const n of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(n)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${n}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // After the command: state, ppid, pgrp, session.
      if (Number(fields[3]) === sid && fields[0] !== 'Z') out.push(Number(n));
    } catch {
      // Gone meanwhile.
    }
  }
  return out;
}

async function waitFor(cond: () => Promise<boolean> | boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await cond()) return true;
    await new Promise(r => setTimeout(r, 200));
  }
  return false;
}

export async function startRayHead(options: { numCpus?: number; startTimeoutMs?: number } = {}): Promise<RayHead> {
  const ray = path.join(venvBin, 'ray');
  if (!fs.existsSync(ray)) {
    throw new Error(`${ray} is missing: the Python test environment needs ray[default] (npm test's setup installs it; see test/harness/setup.js)`);
  }
  // Short: Ray puts unix sockets under it, and their paths are limited to 107 bytes.
  const tempDir = fs.mkdtempSync(path.join('/tmp', 'edd-ray-'));
  const [dashboardPort, clientPort, agentPort] = [await freePort(), await freePort(), await freePort()];
  const log = path.join(tempDir, 'ray-start.log');
  const out = fs.openSync(log, 'w');
  const started = Date.now();
  const child: ChildProcess = spawn(ray, [
    'start', '--head', '--block', '--port=0', '--disable-usage-stats',
    '--include-dashboard=true', '--dashboard-host=127.0.0.1', `--dashboard-port=${dashboardPort}`,
    `--ray-client-server-port=${clientPort}`, `--dashboard-agent-listen-port=${agentPort}`,
    `--num-cpus=${options.numCpus ?? 2}`, `--temp-dir=${tempDir}`,
  ], {
    // Its own session: stop() finds every process it started, and nothing else.
    detached: true,
    stdio: ['ignore', out, out],
    // Jobs run `python` from the test environment, whatever is first on this machine's PATH.
    env: { ...process.env, PATH: `${venvBin}${path.delimiter}${process.env.PATH ?? ''}`, RAY_USAGE_STATS_ENABLED: '0' },
  });
  fs.closeSync(out);
  const sid = child.pid!;
  let exited = false;
  child.once('exit', () => (exited = true));
  const output = () => fs.readFileSync(log, 'utf8');
  const killAll = () => {
    for (const pid of sessionMembers(sid)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Gone meanwhile.
      }
    }
  };
  // If the test process dies without stop(), take the head with it.
  process.once('exit', killAll);
  const stop = async () => {
    if (!exited) {
      child.kill('SIGTERM');
      // Ray drains the node for up to 30 s, then stops its processes.
      await waitFor(() => exited, 45_000);
    }
    await waitFor(() => sessionMembers(sid).length === 0, 5_000);
    killAll();
    process.removeListener('exit', killAll);
    fs.rmSync(tempDir, { recursive: true, force: true });
  };

  const address = `http://127.0.0.1:${dashboardPort}`;
  const up = await waitFor(async () => {
    if (exited) return true;
    try {
      const r = await fetch(`${address}/api/jobs/`, { signal: AbortSignal.timeout(2000) });
      return r.ok;
    } catch {
      return false;
    }
  }, options.startTimeoutMs ?? 120_000);
  if (!up || exited) {
    const text = output();
    await stop();
    throw new Error(`the Ray head did not start (${exited ? 'ray start exited' : 'no answer from the Jobs API'}):\n${text.slice(-3000)}`);
  }
  return { address, tempDir, startupMs: Date.now() - started, output, stop };
}

