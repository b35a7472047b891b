/**
 * Installing EDD's Python client (the `python/` folder shipped with the extension) into an interpreter with pip.
 *
 * The source folder is copied to a temporary folder first: pip builds in place and would otherwise write `build/`
 * and `*.egg-info` into the extension's install folder, which may be read-only. The interpreter is started as argv,
 * never through a shell.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { t } from '../l10n';
import { LineSplitter } from '../runner/protocol';

export interface InstallOptions {
  /** The interpreter: a path or a command on PATH (`python3`). */
  python: string;
  /** The client's source folder (with pyproject.toml). */
  source: string;
  /** Every line pip prints, as it comes. */
  onOutput?: (line: string) => void;
  signal?: AbortSignal;
}

export interface InstallResult {
  /** The interpreter's `sys.executable` and version, e.g. `3.11.7`. */
  executable: string;
  version: string;
  /** The installed client's version (`edd.__version__` read back from the interpreter). */
  clientVersion: string;
}

/** The interpreter cannot be used or pip failed; `message` says which and what to do. */
export class PythonInstallError extends Error {}

interface Spawned { code: number | null; stdout: string; stderr: string }

function runPython(python: string, args: string[], opts: { cwd?: string; onOutput?: (line: string) => void; signal?: AbortSignal } = {}): Promise<Spawned> {
  return new Promise((resolve, reject) => {
    const child = spawn(python, args, { cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PIP_NO_INPUT: '1' } });
    let stdout = '';
    let stderr = '';
    // One splitter per stream (a half line of one must not join the other's); pip redraws progress with CR.
    const splitter = () => (opts.onOutput ? new LineSplitter(l => opts.onOutput!(l.text), { splitOnCR: true }) : undefined);
    const outLines = splitter();
    const errLines = splitter();
    child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; outLines?.push(d); });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; errLines?.push(d); });
    const abort = () => child.kill('SIGTERM');
    opts.signal?.addEventListener('abort', abort, { once: true });
    child.on('error', e => { opts.signal?.removeEventListener('abort', abort); reject(e); });
    child.on('close', code => {
      opts.signal?.removeEventListener('abort', abort);
      outLines?.end();
      errLines?.end();
      resolve({ code, stdout, stderr });
    });
  });
}

/** Check the interpreter (Python ≥ 3.9 with pip), then `pip install` the client into it and read its version back. */
export async function installPythonClient(o: InstallOptions): Promise<InstallResult> {
  if (!fs.existsSync(path.join(o.source, 'pyproject.toml'))) {
    throw new PythonInstallError(t('The Python helper is missing from {0}: reinstall the extension.', o.source));
  }
  let probe: Spawned;
  try {
    probe = await runPython(o.python, ['-c', 'import sys, pip; print(sys.executable); print("%d.%d.%d" % sys.version_info[:3])'], { signal: o.signal });
  } catch (e) {
    throw new PythonInstallError(t('Cannot start the Python interpreter {0}: {1}. Select an interpreter (Python: Select Interpreter) or set edd.python.path.', o.python, (e as Error).message));
  }
  if (o.signal?.aborted) throw new PythonInstallError(t('Cancelled.'));
  if (probe.code !== 0) {
    throw new PythonInstallError(t('{0} cannot run pip ({1}). Install pip into it (python -m ensurepip) or pick another interpreter.', o.python, lastLine(probe.stderr)));
  }
  const [executable, version] = probe.stdout.trim().split(/\r?\n/);
  const [major, minor] = version.split('.').map(Number);
  if (major < 3 || (major === 3 && minor < 9)) {
    throw new PythonInstallError(t('{0} is Python {1}; the helper needs Python 3.9 or newer.', executable, version));
  }
  const temp = fs.mkdtempSync(path.join(os.tmpdir(), 'edd-python-client-'));
  try {
    const copy = path.join(temp, 'edd-client');
    fs.cpSync(o.source, copy, { recursive: true, filter: src => !/(^|[\\/])(tests|build|__pycache__|[^\\/]*\.egg-info)$/.test(src) });
    const pip = await runPython(o.python, ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', copy], { cwd: temp, onOutput: o.onOutput, signal: o.signal });
    if (o.signal?.aborted) throw new PythonInstallError(t('Cancelled.'));
    if (pip.code !== 0) {
      throw new PythonInstallError(t('pip could not install the helper into {0}: {1}', executable, lastLine(pip.stderr || pip.stdout)));
    }
  } finally {
    fs.rmSync(temp, { recursive: true, force: true });
  }
  const check = await runPython(o.python, ['-c', 'import edd; print(edd.__version__)'], { cwd: os.tmpdir() });
  if (check.code !== 0) throw new PythonInstallError(t('The helper was installed but `import edd` fails in {0}: {1}', executable, lastLine(check.stderr)));
  return { executable, version, clientVersion: check.stdout.trim() };
}

function lastLine(text: string): string {
  const lines = text.trim().split(/\r?\n/).filter(l => l.trim());
  return lines.length ? lines[lines.length - 1].trim() : t('no output');
}
