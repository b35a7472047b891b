import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { installPythonClient, PythonInstallError } from '../../src/core/python/install';

// EDD: Install Python Helper's core: a real pip install of python/ into a fresh virtual environment.
const root = path.resolve(__dirname, '../../..');
const python = process.env.EDD_PYTHON || 'python3';

describe('python client install (pip into a real venv)', function () {
  this.timeout(180000);
  let dir: string;
  before(function () {
    assert.strictEqual(spawnSync(python, ['-c', 'import venv']).status, 0, `${python} cannot make a venv: npm test's setup installs python3-venv`);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edd-pyinst-'));
    const made = spawnSync(python, ['-m', 'venv', path.join(dir, 'venv')], { encoding: 'utf8' });
    assert.strictEqual(made.status, 0, made.stderr);
  });
  after(() => { if (dir) fs.rmSync(dir, { recursive: true, force: true }); });

  it('installs the helper; `import edd` works in that interpreter; the source folder stays clean', async () => {
    const venvPython = path.join(dir, 'venv', 'bin', 'python');
    const lines: string[] = [];
    const r = await installPythonClient({ python: venvPython, source: path.join(root, 'python'), onOutput: l => lines.push(l) });
    assert.match(r.version, /^3\.\d+\.\d+$/);
    assert.strictEqual(r.clientVersion, '0.1.0');
    assert.ok(lines.some(l => /Successfully installed edd-client/.test(l)), lines.join('\n'));
    const check = spawnSync(venvPython, ['-c', 'import edd, sys; print(edd.__file__)'], { encoding: 'utf8', cwd: os.tmpdir() });
    assert.match(check.stdout, /site-packages/);
    assert.ok(!fs.existsSync(path.join(root, 'python', 'build')), 'pip built in a copy, not in the shipped folder');
  });

  it('a missing interpreter or one without pip is a clear error', async () => {
    await assert.rejects(installPythonClient({ python: path.join(dir, 'no-such-python'), source: path.join(root, 'python') }),
      (e: Error) => e instanceof PythonInstallError && /Cannot start the Python interpreter .*no-such-python/.test(e.message));
    await assert.rejects(installPythonClient({ python, source: dir }),
      (e: Error) => e instanceof PythonInstallError && /missing/.test(e.message));
  });
});
