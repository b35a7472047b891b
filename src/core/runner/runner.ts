/**
 * Run a training command: spawn it (argv, never a shell), stream its log, parse the metrics protocol from stdout
 * and `$EDD_METRICS_FILE`, watch its memory, stop its whole process tree on cancel/timeout, and report the outcome.
 *
 *     const run = startRun({ command: ['python', 'train.py'], workspaceRoot, runId, artifactDir, metricsFile,
 *                            onEvent: e => { … } });
 *     const outcome = await run.done;   // never rejects
 *
 * `startRun` throws {@link RunRefusedError} (synchronously, before anything is spawned) when the options are not
 * acceptable: empty command, cwd or artifact dir outside the workspace, missing cwd, bad timeout. Everything that
 * happens after that — command not found, crash, timeout — is reported through `done`.
 */
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { formatBytes, hashPath, HashLimitError } from './hash';
import { resolveInside, workspaceRelative } from './paths';
import { processesOfRun, processTree, procfsAvailable, readPeakRss, readProcStat, stillAlive } from './procfs';
import {
  ArtifactEvent,
  DEFAULT_MAX_LINE_BYTES,
  FileTailer,
  LineSplitter,
  lineTooLong,
  parseMetricsFileLine,
  parseStdoutLine,
  ProtocolErrorEvent,
  ProtocolEvent,
  SplitLine,
} from './protocol';

// ---------------------------------------------------------------------------------------------------------------
// Types

/** A line of the run's log (everything on stdout/stderr that is not a valid protocol line). */
export interface LogEvent {
  type: 'log';
  stream: 'stdout' | 'stderr';
  text: string;
  /** 1-based line number within its stream. */
  line: number;
  time: number;
  /** The line was longer than `maxLineBytes` and was cut. */
  truncated?: boolean;
}

export type RunEvent = ProtocolEvent | LogEvent;

export interface RunOptions {
  /** argv: `[program, ...args]`. Spawned directly, without a shell; `program` is looked up on `PATH`. */
  command: string[];
  /** Absolute path of the workspace; every path below must stay inside it. */
  workspaceRoot: string;
  /** Working directory, relative to `workspaceRoot` (or absolute inside it). Default: the workspace root. */
  cwd?: string;
  /** Extra environment variables (on top of this process's environment unless `inheritEnv` is false). */
  env?: Record<string, string | number | boolean>;
  /** Start from an empty environment instead of `process.env` (default true = inherit). */
  inheritEnv?: boolean;
  /** Stop the process tree and fail the run after this many seconds. */
  timeoutS?: number;
  runId: string;
  /** Created if missing; relative to `workspaceRoot` or absolute; must be inside the workspace. `$EDD_ARTIFACT_DIR`. */
  artifactDir: string;
  /** `$EDD_METRICS_FILE`, relative to `workspaceRoot` or absolute. Created empty (truncated) before the start. */
  metricsFile: string;
  /** `$EDD_CONFIG` (resolved against `workspaceRoot`), when given. */
  configPath?: string;
  /** Called synchronously for every event, in order per source; exceptions it throws are swallowed. */
  onEvent?: (event: RunEvent) => void;
  /** The log (same lines as the `log` events, stdout and stderr interleaved) is written here when given. */
  logFile?: string;
  /** Time between SIGTERM and SIGKILL when stopping the tree (default 5000 ms). */
  killGraceMs?: number;
  /** Memory sampling interval (default 200 ms). */
  memorySampleMs?: number;
  /** Per-line cap (default 1 MiB). */
  maxLineBytes?: number;
  /** Log lines kept for `logTail` / the error message (default 20). */
  logTailLines?: number;
  /** Bounds on hashing the reported artifacts after the run (defaults: {@link DEFAULT_HASH_LIMITS}). */
  hashLimits?: Partial<ArtifactHashLimits>;
}

/** What hashing a run's artifacts may cost: bytes and files per artifact, and time for all of them together. */
export interface ArtifactHashLimits {
  maxBytes: number;
  maxFiles: number;
  timeoutMs: number;
}

/** Large enough for a 7B-parameter checkpoint in fp32; small enough that a mistaken `/` or dataset link ends. */
export const DEFAULT_HASH_LIMITS: ArtifactHashLimits = { maxBytes: 64 * 1024 ** 3, maxFiles: 100_000, timeoutMs: 10 * 60_000 };

export type RunStatus = 'finished' | 'failed' | 'cancelled';

/** Machine-readable reason for `error`, so the caller can localise or react. */
export type RunErrorCode = 'exit-code' | 'signal' | 'timeout' | 'command-not-found' | 'permission-denied' | 'spawn-failed' | 'internal';

export interface ArtifactRecord {
  /** Workspace-relative, `/`-separated. */
  path: string;
  absolutePath: string;
  kind?: string;
  /** For a folder: combined over its files (see `hashPath`). Missing when the file could not be read. */
  sha256?: string;
  sizeBytes?: number;
  /** For a folder: number of files in it. */
  files?: number;
  /** e.g. `not found` when the script reported a path it never wrote, or why it was not hashed. */
  error?: string;
  /** Something the user should know about a hashed artifact (e.g. links inside a folder that were not followed). */
  warning?: string;
}

export interface RunCounts {
  metrics: number;
  params: number;
  artifacts: number;
  progress: number;
  protocolErrors: number;
  logLines: number;
}

export interface RunOutcome {
  status: RunStatus;
  exitCode: number | null;
  signal: string | null;
  durationMs: number;
  /** Max over samples of the summed RSS of the process tree (Linux); `undefined` where it cannot be measured. */
  peakMemoryBytes: number | undefined;
  /** Human-readable (English): `exited with code 3; last output: …`, `timed out after 5 s`, `command not found: foo`. */
  error?: string;
  errorCode?: RunErrorCode;
  pid: number | undefined;
  /** ISO 8601. */
  startedAt: string;
  endedAt: string;
  /** Reported artifacts inside the workspace, hashed after the run (in report order, de-duplicated by path). */
  artifacts: ArtifactRecord[];
  /** The last log lines (stdout and stderr). */
  logTail: string[];
  counts: RunCounts;
}

export interface RunHandle {
  /** `undefined` only when the command could not be started (then `done` reports why). */
  pid: number | undefined;
  /**
   * Stop the whole process tree; the run ends `cancelled`. Once the training has exited, this stops the hashing of
   * the artifacts instead (they are recorded without a hash). Idempotent; a no-op after the run ended.
   */
  cancel(): void;
  /** Resolves once the process tree is gone, the log is flushed and artifacts are hashed. Never rejects. */
  done: Promise<RunOutcome>;
}

export type RunRefusedCode = 'empty-command' | 'workspace-missing' | 'cwd-outside-workspace' | 'cwd-missing' | 'artifact-dir-outside-workspace' | 'invalid-timeout' | 'invalid-env' | 'io-error';

/** The options were refused before anything was started. */
export class RunRefusedError extends Error {
  constructor(readonly code: RunRefusedCode, message: string) {
    super(message);
    this.name = 'RunRefusedError';
  }
}

// ---------------------------------------------------------------------------------------------------------------

const delay = (ms: number) => new Promise<void>(resolve => setTimeout(resolve, ms));

/** `promise` or `ms`, whichever comes first. The timer is cleared when the promise wins: a pending drain timer kept
 * `edd run` alive a second after the training had exited and everything was recorded. */
async function within(promise: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([promise, new Promise<void>(resolve => { timer = setTimeout(resolve, ms); })]);
  } finally {
    clearTimeout(timer);
  }
}

/** How long to wait for stdout/stderr to close after the main process exited before stopping leftovers. */
const EXIT_DRAIN_MS = 1000;
/** After SIGKILL, how long to wait for the tree to disappear before giving up. */
const KILL_WAIT_MS = 2000;

export function startRun(options: RunOptions): RunHandle {
  const prepared = prepare(options);
  return new Run(options, prepared).handle;
}

interface Prepared {
  root: string;
  cwd: string;
  artifactDir: string;
  metricsFile: string;
  env: NodeJS.ProcessEnv;
}

function prepare(o: RunOptions): Prepared {
  if (!Array.isArray(o.command) || o.command.length === 0 || typeof o.command[0] !== 'string' || o.command[0] === '') {
    throw new RunRefusedError('empty-command', 'the command is empty: give an argv list such as ["python", "train.py"]');
  }
  if (o.command.some(a => typeof a !== 'string')) throw new RunRefusedError('empty-command', 'every command argument must be a string');
  const root = path.resolve(o.workspaceRoot);
  if (!isDir(root)) throw new RunRefusedError('workspace-missing', `workspace folder does not exist: ${root}`);
  const cwd = resolveInside(root, o.cwd ?? '.');
  if (cwd === undefined) throw new RunRefusedError('cwd-outside-workspace', `working directory "${o.cwd}" is outside the workspace`);
  if (!isDir(cwd)) throw new RunRefusedError('cwd-missing', `working directory "${o.cwd}" does not exist`);
  const artifactDir = resolveInside(root, o.artifactDir);
  if (artifactDir === undefined) throw new RunRefusedError('artifact-dir-outside-workspace', `artifact folder "${o.artifactDir}" is outside the workspace`);
  if (o.timeoutS !== undefined && !(typeof o.timeoutS === 'number' && Number.isFinite(o.timeoutS) && o.timeoutS > 0)) {
    throw new RunRefusedError('invalid-timeout', `timeout must be a positive number of seconds, got ${String(o.timeoutS)}`);
  }
  for (const k of Object.keys(o.env ?? {})) {
    if (k === '' || k.includes('=') || k.includes('\0')) throw new RunRefusedError('invalid-env', `invalid environment variable name ${JSON.stringify(k)}`);
  }
  const metricsFile = path.resolve(root, o.metricsFile);
  try {
    fs.mkdirSync(artifactDir, { recursive: true });
    fs.mkdirSync(path.dirname(metricsFile), { recursive: true });
    fs.writeFileSync(metricsFile, '');
    if (o.logFile) fs.mkdirSync(path.dirname(path.resolve(root, o.logFile)), { recursive: true });
  } catch (e) {
    throw new RunRefusedError('io-error', `cannot prepare the run folders: ${(e as Error).message}`);
  }

  const extra: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(o.env ?? {})) extra[k] = String(v);
  const env: NodeJS.ProcessEnv = {
    // Python block-buffers a piped stdout: without this, metrics would arrive in 8 KB bursts.
    PYTHONUNBUFFERED: '1',
    PYTHONIOENCODING: 'utf-8',
    ...(o.inheritEnv === false ? {} : process.env),
    ...extra,
    EDD_RUN_ID: o.runId,
    EDD_METRICS_FILE: metricsFile,
    EDD_ARTIFACT_DIR: artifactDir,
  };
  if (o.configPath !== undefined) env.EDD_CONFIG = path.resolve(root, o.configPath);
  else delete env.EDD_CONFIG;
  return { root, cwd, artifactDir, metricsFile, env };
}

function isDir(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

class Run {
  readonly handle: RunHandle;
  private readonly started = Date.now();
  private readonly startedHr = performance.now();
  /** When the main process exited (or failed to start): the run's duration ends here, not after hashing. */
  private endedHr: number | undefined;
  private endedWall: number | undefined;
  private child: ChildProcess | undefined;
  private pid: number | undefined;
  private rootStartTime: number | undefined;
  private exited = false;
  private exitCode: number | null = null;
  private exitSignal: string | null = null;
  private spawnError: NodeJS.ErrnoException | undefined;
  private stopReason: 'cancel' | 'timeout' | undefined;
  private terminating: Promise<void> | undefined;
  private finishing = false;
  private ended = false;
  /** Descendants ever seen (pid to start time), also those that left the process group. */
  private readonly tracked = new Map<number, number>();
  private peak = 0;
  private sampled = false;
  private sampler: NodeJS.Timeout | undefined;
  private timeout: NodeJS.Timeout | undefined;
  private readonly tail: string[] = [];
  private readonly counts: RunCounts = { metrics: 0, params: 0, artifacts: 0, progress: 0, protocolErrors: 0, logLines: 0 };
  private readonly artifacts = new Map<string, ArtifactRecord>();
  private readonly log: fs.WriteStream | undefined;
  private readonly stdout: LineSplitter;
  private readonly stderr: LineSplitter;
  private readonly tailer: FileTailer;
  private readonly maxLineBytes: number;
  private resolveDone!: (o: RunOutcome) => void;
  private readonly hashing = new AbortController();

  constructor(private readonly o: RunOptions, private readonly p: Prepared) {
    this.maxLineBytes = o.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    const done = new Promise<RunOutcome>(resolve => (this.resolveDone = resolve));
    if (o.logFile) {
      this.log = fs.createWriteStream(path.resolve(p.root, o.logFile), { flags: 'w' });
      this.log.on('error', () => undefined); // a full disk must not crash the host; the run itself goes on
    }
    this.stdout = new LineSplitter(l => this.onStdoutLine(l), { maxLineBytes: this.maxLineBytes, splitOnCR: true });
    this.stderr = new LineSplitter(l => this.onLog('stderr', l), { maxLineBytes: this.maxLineBytes, splitOnCR: true });
    this.tailer = new FileTailer(p.metricsFile, l => this.onFileLine(l), { maxLineBytes: this.maxLineBytes });
    this.tailer.start();

    try {
      this.child = spawn(o.command[0], o.command.slice(1), {
        cwd: p.cwd,
        env: p.env,
        shell: false,
        detached: process.platform !== 'win32', // own process group (and session): the tree can be signalled as one
        stdio: ['ignore', 'pipe', 'pipe'],
        windowsHide: true,
      });
    } catch (e) {
      // Synchronous refusals by Node (e.g. a NUL byte in an argument).
      this.markEnd();
      this.spawnError = e as NodeJS.ErrnoException;
    }
    const child = this.child;
    this.pid = child?.pid;
    if (child) {
      child.stdout?.on('data', (b: Buffer) => this.stdout.push(b));
      child.stderr?.on('data', (b: Buffer) => this.stderr.push(b));
      child.on('error', err => {
        // Only a failed start has no pid (ENOENT, EACCES…); later errors (a failed kill) change nothing.
        if (this.pid === undefined) {
          this.markEnd();
          this.spawnError = err as NodeJS.ErrnoException;
          void this.finish();
        }
      });
      child.on('exit', (code, signal) => {
        this.markEnd();
        this.exited = true;
        this.exitCode = code;
        this.exitSignal = signal;
        void this.finish();
      });
    }
    if (this.pid !== undefined) {
      this.sample();
      const every = o.memorySampleMs ?? 200;
      // Short runs end before the first interval: sample densely at the start (VmHWM keeps the peak so far).
      for (const ms of [10, 25, 50, 100, 150]) if (ms < every) setTimeout(() => { if (!this.exited) this.sample(); }, ms).unref();
      this.sampler = setInterval(() => this.sample(), every);
      this.sampler.unref();
      if (o.timeoutS !== undefined) {
        this.timeout = setTimeout(() => this.stop('timeout'), o.timeoutS * 1000);
      }
    } else if (!child) {
      void this.finish();
    }

    this.handle = {
      pid: this.pid,
      cancel: () => {
        this.hashing.abort();
        this.stop('cancel');
      },
      done,
    };
  }

  private markEnd(): void {
    if (this.endedHr !== undefined) return;
    this.endedHr = performance.now();
    this.endedWall = Date.now();
  }

  // -- events ---------------------------------------------------------------------------------------------------

  private emit(event: RunEvent): void {
    const cb = this.o.onEvent;
    if (!cb) return;
    try {
      cb(event);
    } catch {
      /* a listener's bug must not break the run */
    }
  }

  private onStdoutLine(l: SplitLine): void {
    if (l.truncated && l.text.startsWith('EDD ')) {
      this.onRecord(lineTooLong('stdout', l.line, l.text, this.maxLineBytes));
      this.onLog('stdout', l);
      return;
    }
    const ev = parseStdoutLine(l.text, l.line);
    if (ev === undefined) {
      this.onLog('stdout', l);
      return;
    }
    this.onRecord(ev);
    // A line that looked like protocol but was not valid stays in the log, where the user will look for it.
    if (ev.type === 'protocol-error') this.onLog('stdout', l);
  }

  private onFileLine(l: SplitLine): void {
    const ev = l.truncated ? lineTooLong('file', l.line, l.text, this.maxLineBytes) : parseMetricsFileLine(l.text, l.line);
    if (ev) this.onRecord(ev);
  }

  private onRecord(ev: ProtocolEvent): void {
    switch (ev.type) {
      case 'metric':
        this.counts.metrics++;
        break;
      case 'param':
        this.counts.params++;
        break;
      case 'progress':
        this.counts.progress++;
        break;
      case 'artifact': {
        const resolved = this.resolveArtifact(ev);
        if (resolved.type === 'protocol-error') {
          this.counts.protocolErrors++;
          this.emit(resolved);
          return;
        }
        this.counts.artifacts++;
        ev = resolved;
        break;
      }
      case 'protocol-error':
        this.counts.protocolErrors++;
        break;
    }
    this.emit(ev);
  }

  private resolveArtifact(ev: ArtifactEvent): ArtifactEvent | ProtocolErrorEvent {
    const abs = resolveInside(this.p.root, ev.path, this.p.cwd);
    if (abs === undefined || abs === this.p.root) {
      return {
        type: 'protocol-error',
        source: ev.source,
        line: ev.line,
        time: ev.time,
        code: 'outside-workspace',
        message: `artifact "${ev.path}" is outside the workspace; it was ignored`,
        text: JSON.stringify({ artifact: ev.path, ...(ev.kind !== undefined ? { kind: ev.kind } : {}) }),
      };
    }
    const rel = workspaceRelative(this.p.root, abs);
    const previous = this.artifacts.get(abs);
    this.artifacts.delete(abs); // re-reported: move to the end, keep the newest kind
    this.artifacts.set(abs, { path: rel, absolutePath: abs, ...(ev.kind !== undefined ? { kind: ev.kind } : previous?.kind !== undefined ? { kind: previous.kind } : {}) });
    return { ...ev, absolutePath: abs, workspacePath: rel };
  }

  private onLog(stream: 'stdout' | 'stderr', l: SplitLine): void {
    this.counts.logLines++;
    this.tail.push(l.text.length > 500 ? l.text.slice(0, 500) + '…' : l.text);
    if (this.tail.length > (this.o.logTailLines ?? 20)) this.tail.shift();
    this.log?.write(l.text + '\n');
    const ev: LogEvent = { type: 'log', stream, text: l.text, line: l.line, time: Date.now() };
    if (l.truncated) ev.truncated = true;
    this.emit(ev);
  }

  // -- process tree ---------------------------------------------------------------------------------------------

  /** Sum the RSS of the tree (and of escaped descendants); remember every descendant for stopping. */
  private sample(): void {
    if (!procfsAvailable || this.pid === undefined) return;
    let sum = 0;
    const inTree = new Set<number>();
    if (!this.exited) {
      const tree = processTree(this.pid);
      if (tree.length > 0) {
        if (this.rootStartTime === undefined) this.rootStartTime = tree[0].startTime;
        if (tree[0].startTime === this.rootStartTime) {
          for (const p of tree) {
            inTree.add(p.pid);
            if (p.state !== 'Z') sum += p.rssBytes;
            if (p.pid !== this.pid) this.tracked.set(p.pid, p.startTime);
          }
          const hwm = readPeakRss(this.pid);
          if (hwm !== undefined && !this.exited) this.peak = Math.max(this.peak, hwm);
        }
      }
    }
    for (const [pid, start] of this.tracked) {
      if (inTree.has(pid)) continue;
      const info = readProcStat(pid);
      if (info && info.startTime === start && info.state !== 'Z') sum += info.rssBytes;
      else this.tracked.delete(pid);
    }
    this.sampled = true;
    this.peak = Math.max(this.peak, sum);
  }

  private stop(reason: 'cancel' | 'timeout'): void {
    if (this.ended || this.stopReason !== undefined || this.exited || this.pid === undefined) return;
    this.stopReason = reason;
    void this.terminate();
  }

  /** SIGTERM the group and every tracked descendant, wait up to the grace period, then SIGKILL. Idempotent. */
  private terminate(): Promise<void> {
    if (!this.terminating) {
      this.terminating = (async () => {
        this.signalAll('SIGTERM');
        const grace = this.o.killGraceMs ?? 5000;
        if (await this.waitGone(grace)) return;
        this.signalAll('SIGKILL');
        await this.waitGone(KILL_WAIT_MS);
      })();
    }
    return this.terminating;
  }

  private signalAll(sig: NodeJS.Signals): void {
    const pid = this.pid;
    if (pid === undefined) return;
    this.sample(); // walk the tree now, while parent links still lead to the escaped grandchildren
    if (process.platform === 'win32') {
      try {
        this.child?.kill(sig);
      } catch {
        /* gone */
      }
      return;
    }
    const kill = (target: number) => {
      try {
        process.kill(target, sig);
      } catch {
        /* ESRCH: already gone */
      }
    };
    kill(-pid);
    if (!this.exited) kill(pid); // in case it moved itself to another process group
    for (const [p, start] of this.tracked) if (stillAlive(p, start)) kill(p);
    // Descendants that left the tree before a sample saw them (double fork, setsid) still carry the run's id.
    for (const p of processesOfRun(this.o.runId)) if (stillAlive(p.pid, p.startTime)) kill(p.pid);
  }

  /**
   * Something of the run is still alive: the main process, a (non-zombie) group member, a tracked descendant, or any
   * process carrying the run's `EDD_RUN_ID`.
   */
  private anyAlive(): boolean {
    return this.treeAlive() || processesOfRun(this.o.runId).length > 0;
  }

  private treeAlive(): boolean {
    const pid = this.pid;
    if (pid === undefined) return false;
    if (!this.exited) return true;
    for (const [p, start] of this.tracked) if (stillAlive(p, start)) return true;
    if (process.platform === 'win32') return false;
    try {
      process.kill(-pid, 0);
    } catch (e) {
      return (e as NodeJS.ErrnoException).code === 'EPERM';
    }
    // The group exists; with /proc, ignore zombies (an orphan's zombie waits for init, which may never reap it).
    if (!procfsAvailable) return true;
    return groupHasLiveMember(pid);
  }

  private async waitGone(ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    for (;;) {
      if (!this.anyAlive()) return true;
      if (Date.now() >= deadline) return false;
      await delay(25);
    }
  }

  // -- the end --------------------------------------------------------------------------------------------------

  private async finish(): Promise<void> {
    if (this.finishing) return;
    this.finishing = true;
    if (this.timeout) clearTimeout(this.timeout);
    const child = this.child;
    try {
      if (child && this.spawnError === undefined) {
        const closed = new Promise<void>(resolve => {
          if (child.stdout?.closed !== false && child.stderr?.closed !== false) resolve();
          child.once('close', () => resolve());
        });
        if (this.terminating) await this.terminating;
        await within(closed, EXIT_DRAIN_MS);
        // The run owns its tree: whatever is still alive now (a worker that outlived the main process, a daemon
        // holding stdout) is stopped, so the run ends and nothing keeps GPU memory or files busy.
        if (this.anyAlive()) await this.terminate();
        await within(closed, 500);
      }
      child?.stdout?.destroy();
      child?.stderr?.destroy();
      this.stdout.end();
      this.stderr.end();
      if (this.sampler) clearInterval(this.sampler);
      await this.tailer.stop();
      if (this.log) await new Promise<void>(resolve => this.log!.end(() => resolve()));
      const artifacts = await this.describeArtifacts();
      this.ended = true;
      this.resolveDone(this.outcome(artifacts));
    } catch (e) {
      this.ended = true;
      const o = this.outcome([]);
      this.resolveDone({ ...o, status: 'failed', error: `internal error: ${(e as Error).message}`, errorCode: 'internal' });
    }
  }

  private async describeArtifacts(): Promise<ArtifactRecord[]> {
    const limits = { ...DEFAULT_HASH_LIMITS, ...this.o.hashLimits };
    const deadline = Date.now() + limits.timeoutMs;
    const out: ArtifactRecord[] = [];
    for (const a of this.artifacts.values()) {
      try {
        const h = await hashPath(a.absolutePath, { maxBytes: limits.maxBytes, maxFiles: limits.maxFiles, deadline, signal: this.hashing.signal, within: this.p.root });
        const warning = h.skipped ? `links that lead outside the workspace were not followed: ${h.skipped.slice(0, 5).join(', ')}${h.skipped.length > 5 ? ', …' : ''}` : undefined;
        out.push({ ...a, sha256: h.sha256, sizeBytes: h.sizeBytes, ...(h.files !== undefined ? { files: h.files } : {}), ...(warning ? { warning } : {}) });
      } catch (e) {
        out.push({ ...a, error: describeHashError(e, a.path, limits) });
      }
    }
    return out;
  }

  private outcome(artifacts: ArtifactRecord[]): RunOutcome {
    const base = {
      exitCode: this.exitCode,
      signal: this.exitSignal,
      durationMs: Math.round((this.endedHr ?? performance.now()) - this.startedHr),
      peakMemoryBytes: procfsAvailable && this.sampled && this.peak > 0 ? this.peak : undefined,
      pid: this.pid,
      startedAt: new Date(this.started).toISOString(),
      endedAt: new Date(this.endedWall ?? Date.now()).toISOString(),
      artifacts,
      logTail: [...this.tail],
      counts: { ...this.counts },
    };
    const withTail = (msg: string) => (this.tail.length > 0 ? `${msg}; last output:\n${this.tail.join('\n')}` : msg);
    if (this.spawnError) {
      const e = this.spawnError;
      const program = this.o.command[0];
      if (e.code === 'ENOENT') return { ...base, status: 'failed', error: `command not found: ${program}`, errorCode: 'command-not-found' };
      if (e.code === 'EACCES') return { ...base, status: 'failed', error: `permission denied: ${program} (is it executable?)`, errorCode: 'permission-denied' };
      return { ...base, status: 'failed', error: `could not start ${program}: ${e.message}`, errorCode: 'spawn-failed' };
    }
    if (this.stopReason === 'cancel') return { ...base, status: 'cancelled' };
    if (this.stopReason === 'timeout') return { ...base, status: 'failed', error: `timed out after ${this.o.timeoutS} s`, errorCode: 'timeout' };
    if (this.exitCode === 0) return { ...base, status: 'finished' };
    if (this.exitCode !== null) return { ...base, status: 'failed', error: withTail(`exited with code ${this.exitCode}`), errorCode: 'exit-code' };
    const sig = this.exitSignal ?? 'unknown signal';
    const hint = sig === 'SIGKILL' ? ' (the system may have run out of memory)' : '';
    return { ...base, status: 'failed', error: withTail(`killed by signal ${sig}${hint}`), errorCode: 'signal' };
  }
}

/** Why an artifact has no hash, in a sentence naming it by its workspace path. */
function describeHashError(e: unknown, rel: string, limits: ArtifactHashLimits): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'not found';
  if (!(e instanceof HashLimitError)) return (e as Error).message;
  switch (e.code) {
    case 'not-regular': return `not hashed: ${rel} is ${e.what ?? 'not a regular file'}, not a regular file`;
    case 'too-large': return `not hashed: ${rel} is larger than the limit of ${formatBytes(limits.maxBytes)}`;
    case 'too-many-files': return `not hashed: ${rel} has more than ${limits.maxFiles} files`;
    case 'timeout': return `not hashed: hashing the artifacts took longer than ${Math.round(limits.timeoutMs / 1000)} s`;
    case 'cancelled': return 'not hashed: cancelled';
    case 'outside': return `not hashed: ${rel} is a link to a place outside the workspace`;
  }
}

/** A non-zombie process whose process group is `pgid` (full /proc scan: used only while stopping a run). */
function groupHasLiveMember(pgid: number): boolean {
  let names: string[];
  try {
    names = fs.readdirSync('/proc');
  } catch {
    return true;
  }
  for (const n of names) {
    if (n.charCodeAt(0) < 48 || n.charCodeAt(0) > 57) continue;
    const info = readProcStat(Number(n));
    if (info && info.pgrp === pgid && info.state !== 'Z' && info.state !== 'X') return true;
  }
  return false;
}
