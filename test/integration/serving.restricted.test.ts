import * as assert from 'assert';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as vscode from 'vscode';
import { activateEdd, workspaceUri } from './helpers';

/** The extension host's child processes running `edd serve` (there must be none). */
function serveChildren(): string[] {
  let out = '';
  try {
    out = execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(process.pid)], { encoding: 'utf8' });
  } catch {
    return []; // ps exits 1 when the host has no children at all
  }
  return out.split('\n').filter(l => /cli\.js serve/.test(l));
}

// This suite runs in a window whose workspace is NOT trusted (run-integration.js --restricted).
describe('Restricted Mode: serving', () => {
  it('refuses Start Serving, Start Canary…, Canary Status and Stop Canary: no server spawned, no request written', async () => {
    const api = await activateEdd();
    assert.strictEqual(vscode.workspace.isTrusted, false);
    const spec = workspaceUri('restricted.service.yaml');
    fs.writeFileSync(spec.fsPath, 'model: penguins\nstage: production\nfeatures: [bill_length_mm, bill_depth_mm, flipper_length_mm, body_mass_g]\n');
    try {
      const folder = vscode.workspace.workspaceFolders![0];
      const node = { kind: 'model', folder: folder.uri.toString(), model: 'penguins' };
      assert.strictEqual(await vscode.commands.executeCommand('edd.startServing', spec), undefined, 'Start Serving on the spec did nothing');
      assert.strictEqual(await vscode.commands.executeCommand('edd.startServing', node), undefined, 'Start Serving on the model did nothing');
      for (const command of ['edd.startCanary', 'edd.canaryStatus', 'edd.stopCanary', 'edd.stopServing']) {
        assert.strictEqual(await vscode.commands.executeCommand(command, node), undefined, `${command} did nothing`);
      }
      assert.strictEqual(api.serving.spawned, 0, 'no server was spawned');
      assert.strictEqual(api.serving.services.length, 0);
      assert.strictEqual(api.serving.statusText, '');
      assert.deepStrictEqual(serveChildren(), [], 'no edd serve process');
      assert.ok(!fs.existsSync(workspaceUri('.edd/serving').fsPath), 'no canary request or prediction log written');
    } finally {
      fs.rmSync(spec.fsPath, { force: true });
    }
  });
});
