import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import { activateEdd } from './helpers';

// EDD: Install Python Helper, run as the user runs it, into a fresh virtual environment named by edd.python.path.
describe('EDD: Install Python Helper', function () {
  this.timeout(180000);
  let dir: string | undefined;
  const settings = () => vscode.workspace.getConfiguration('edd');

  after(async () => {
    await settings().update('python.path', undefined, vscode.ConfigurationTarget.Workspace);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('installs the shipped client into the configured interpreter; `import edd` works there', async function () {
    assert.strictEqual(spawnSync('python3', ['-c', 'import venv']).status, 0, 'python3 cannot make a venv: npm test\'s setup installs python3-venv');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edd-it-py-'));
    const made = spawnSync('python3', ['-m', 'venv', path.join(dir, 'venv')], { encoding: 'utf8' });
    assert.strictEqual(made.status, 0, made.stderr);
    const venvPython = path.join(dir, 'venv', 'bin', 'python');
    await settings().update('python.path', venvPython, vscode.ConfigurationTarget.Workspace);
    const api = await activateEdd();
    assert.deepStrictEqual(await api.python.interpreter(vscode.workspace.workspaceFolders?.[0]), { python: venvPython, from: 'edd.python.path' });
    const result = await vscode.commands.executeCommand<{ clientVersion: string; executable: string } | undefined>('edd.installPythonHelper');
    assert.ok(result, 'the command reported an installation');
    assert.strictEqual(result.clientVersion, '0.1.0');
    const check = spawnSync(venvPython, ['-c', 'import edd; print(edd.__version__)'], { encoding: 'utf8', cwd: os.tmpdir() });
    assert.strictEqual(check.stdout.trim(), '0.1.0', check.stderr);
  });

  it('a bad interpreter path ends with an error, not an installation', async () => {
    await settings().update('python.path', '/nonexistent/python3', vscode.ConfigurationTarget.Workspace);
    const result = await vscode.commands.executeCommand('edd.installPythonHelper');
    assert.strictEqual(result, undefined);
  });
});
