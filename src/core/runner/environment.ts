/**
 * What a run record needs to be reproducible: OS, Node, Python and its packages (when the command is Python),
 * git commit and dirty state, and a fingerprint of the dataset files.
 *
 * `captureEnvironment` never throws: whatever cannot be determined is left out.
 */
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as fsp from 'fs/promises';
import * as os from 'os';
import * as path from 'path';
import { combineHashes, compareCodeUnits, hashFile, listFiles } from './hash';
import { resolveInside, workspaceRelative } from './paths';

export interface PythonInfo {
  /** e.g. `3.11.7`. */
  version: string;
  /** `sys.executable`: the interpreter actually used (through shims and venvs). */
  executable: string;
  /** Distribution name → version, for every installed distribution `importlib.metadata` sees. */
  packages: Record<string, string>;
}

export interface GitInfo {
  /** Full commit hash of HEAD; `null` in a repository without commits. */
  commit: string | null;
  /** `null` when HEAD is detached. */
  branch: string | null;
  /** Any tracked change or untracked (not ignored) file. */
  dirty: boolean;
  /** Changed and untracked paths, relative to the repository root (`/`-separated; untracked folders end with `/`). */
  dirtyFiles: string[];
}

export interface EnvironmentInfo {
  os: { platform: string; release: string; arch: string };
  node: string;
  python?: PythonInfo;
  git?: GitInfo;
}

export interface CaptureOptions {
  workspaceRoot: string;
  /** The run's argv; Python is inspected when `command[0]` is `python`, `python3`, `python3.11`, `.venv/bin/python`… */
  command: string[];
  /** The run's cwd (relative to the workspace), to resolve a relative interpreter path. Default: the workspace root. */
  cwd?: string;
  /** The run's extra environment variables (PATH, VIRTUAL_ENV, PYTHONPATH change what Python sees). */
  env?: Record<string, string | number | boolean>;
  /** Per external command (default 15 s). */
  timeoutMs?: number;
}

/** `python`, `python3`, `python3.11`, `python.exe`, `/opt/venv/bin/python3`… */
export function isPythonCommand(program: string | undefined): boolean {
  if (!program) return false;
  const base = program.split(/[\\/]/).pop() ?? '';
  return /^python[0-9.]*(\.exe)?$/i.test(base);
}

export async function captureEnvironment(options: CaptureOptions): Promise<EnvironmentInfo> {
  const info: EnvironmentInfo = {
    os: { platform: process.platform, release: os.release(), arch: process.arch },
    node: process.version,
  };
  const [python, git] = await Promise.all([
    isPythonCommand(options.command[0]) ? pythonInfo(options).catch(() => undefined) : Promise.resolve(undefined),
    gitInfo(path.resolve(options.workspaceRoot), options.timeoutMs ?? 15_000).catch(() => undefined),
  ]);
  if (python) info.python = python;
  if (git) info.git = git;
  return info;
}

interface ExecResult {
  stdout: string;
  stderr: string;
}

function run(file: string, args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number }): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      { cwd: opts.cwd, env: opts.env, timeout: opts.timeoutMs, killSignal: 'SIGKILL', maxBuffer: 64 * 1024 * 1024, encoding: 'utf8', windowsHide: true },
      (err, stdout, stderr) => (err ? reject(err) : resolve({ stdout, stderr })),
    );
  });
}

/**
 * Standard library only. `sys.path[0]` (the cwd for `-c`) is removed while importing json/platform/importlib, so
 * a workspace file named `json.py` cannot shadow them, and put back before listing distributions, so packages
 * the run would see from its cwd are listed.
 */
const PYTHON_PROBE = [
  'import sys',
  'p0 = sys.path.pop(0) if sys.path and sys.path[0] in ("", ".") else None',
  'import json, platform',
  'from importlib import metadata',
  'if p0 is not None: sys.path.insert(0, p0)',
  'pk = {}',
  'for d in metadata.distributions():',
  '    try:',
  '        n = d.metadata["Name"]',
  '        if n and n not in pk: pk[n] = d.version',
  '    except Exception:',
  '        pass',
  'sys.stdout.write(json.dumps({"version": platform.python_version(), "executable": sys.executable, "packages": dict(sorted(pk.items(), key=lambda kv: kv[0].lower()))}))',
].join('\n');

async function pythonInfo(o: CaptureOptions): Promise<PythonInfo | undefined> {
  const root = path.resolve(o.workspaceRoot);
  const cwd = resolveInside(root, o.cwd ?? '.') ?? root;
  let program = o.command[0];
  if (/[\\/]/.test(program)) program = path.resolve(cwd, program);
  const env: NodeJS.ProcessEnv = { ...process.env, PYTHONIOENCODING: 'utf-8' };
  for (const [k, v] of Object.entries(o.env ?? {})) env[k] = String(v);
  const { stdout } = await run(program, ['-c', PYTHON_PROBE], { cwd, env, timeoutMs: o.timeoutMs ?? 15_000 });
  const parsed = JSON.parse(stdout) as { version?: unknown; executable?: unknown; packages?: unknown };
  if (typeof parsed.version !== 'string') return undefined;
  const packages: Record<string, string> = {};
  if (parsed.packages && typeof parsed.packages === 'object') {
    for (const [k, v] of Object.entries(parsed.packages as Record<string, unknown>)) if (typeof v === 'string') packages[k] = v;
  }
  return { version: parsed.version, executable: typeof parsed.executable === 'string' ? parsed.executable : program, packages };
}

/**
 * Whether git could find a repository for `root`: a `.git` (folder, or file for a worktree or submodule) in it or a
 * folder above, or GIT_DIR set. Without one, git is not started (a process start is milliseconds of every `edd run`
 * outside a repository); with one, git decides (ceilings, safe.directory, a `.git` that is not a repository).
 */
function mayBeRepository(root: string): boolean {
  if (process.env.GIT_DIR) return true;
  for (let dir = root; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, '.git'))) return true;
    if (path.dirname(dir) === dir) return false;
  }
}

async function gitInfo(root: string, timeoutMs: number): Promise<GitInfo | undefined> {
  if (!mayBeRepository(root)) return undefined;
  // No optional locks: `git status` must not take index.lock while the user's own git (or VS Code's) works.
  const env: NodeJS.ProcessEnv = { ...process.env, GIT_OPTIONAL_LOCKS: '0', LC_ALL: 'C', GIT_TERMINAL_PROMPT: '0' };
  const git = (...args: string[]) => run('git', args, { cwd: root, env, timeoutMs });
  try {
    const inside = await git('rev-parse', '--is-inside-work-tree');
    if (inside.stdout.trim() !== 'true') return undefined;
  } catch {
    return undefined; // not a repository, git missing, or refused (e.g. "dubious ownership")
  }
  const [commit, branch, status] = await Promise.all([
    git('rev-parse', '--verify', '-q', 'HEAD').then(r => r.stdout.trim() || null, () => null),
    git('symbolic-ref', '--short', '-q', 'HEAD').then(r => r.stdout.trim() || null, () => null),
    git('status', '--porcelain=v1', '-z', '--untracked-files=normal'),
  ]);
  const dirtyFiles = parsePorcelainZ(status.stdout);
  return { commit, branch, dirty: dirtyFiles.length > 0, dirtyFiles };
}

/** `git status --porcelain=v1 -z`: `XY path\0`, renames and copies `XY new\0old\0`. Returns the (new) paths. */
export function parsePorcelainZ(out: string): string[] {
  const files: string[] = [];
  const parts = out.split('\0');
  for (let i = 0; i < parts.length; i++) {
    const entry = parts[i];
    if (entry.length < 4) continue;
    const xy = entry.slice(0, 2);
    files.push(entry.slice(3));
    if (xy[0] === 'R' || xy[0] === 'C') i++; // the original path follows
  }
  return [...new Set(files)].sort(compareCodeUnits);
}

// ---------------------------------------------------------------------------------------------------------------
// Dataset fingerprint

export interface DatasetFileHash {
  /** Workspace-relative, `/`-separated. */
  path: string;
  sha256: string;
  sizeBytes: number;
}

export interface DatasetFingerprint {
  /**
   * sha256 over `<path>\0<file sha256>\n` for every file, sorted by path (code-unit order): stable across machines
   * and the order of `files`, and changed by any renamed, added, removed or modified byte.
   */
  sha256: string;
  files: DatasetFileHash[];
  totalBytes: number;
}

export class DatasetError extends Error {
  constructor(readonly code: 'not-found' | 'outside-workspace' | 'unreadable', readonly file: string, message: string) {
    super(message);
    this.name = 'DatasetError';
  }
}

/**
 * Fingerprint the dataset files (relative to the workspace, or absolute inside it). A folder stands for every file
 * below it. Rejects with a {@link DatasetError} naming the file when one is missing, unreadable or outside the
 * workspace.
 */
export async function datasetFingerprint(files: string[], workspaceRoot: string): Promise<DatasetFingerprint> {
  const root = path.resolve(workspaceRoot);
  const wanted = new Map<string, string>(); // workspace-relative → absolute
  for (const f of files) {
    const abs = resolveInside(root, f);
    if (abs === undefined || abs === root) throw new DatasetError('outside-workspace', f, `dataset file "${f}" is outside the workspace`);
    let st;
    try {
      st = await fsp.stat(abs);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new DatasetError('not-found', f, `dataset file not found: ${f}`);
      throw new DatasetError('unreadable', f, `cannot read dataset file ${f}: ${(e as Error).message}`);
    }
    if (st.isDirectory()) {
      for (const rel of await listFiles(abs)) {
        const child = path.join(abs, ...rel.split('/'));
        wanted.set(workspaceRelative(root, child), child);
      }
    } else {
      wanted.set(workspaceRelative(root, abs), abs);
    }
  }
  const out: DatasetFileHash[] = [];
  let total = 0;
  for (const rel of [...wanted.keys()].sort(compareCodeUnits)) {
    let h;
    try {
      h = await hashFile(wanted.get(rel)!);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new DatasetError('not-found', rel, `dataset file not found: ${rel}`);
      throw new DatasetError('unreadable', rel, `cannot read dataset file ${rel}: ${(e as Error).message}`);
    }
    out.push({ path: rel, sha256: h.sha256, sizeBytes: h.sizeBytes });
    total += h.sizeBytes;
  }
  return { sha256: combineHashes(out), files: out, totalBytes: total };
}
