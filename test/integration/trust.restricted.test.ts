import * as assert from 'assert';
import * as fs from 'fs';
import * as vscode from 'vscode';
import { activateEdd, diagnosticsWhen, hasCode, workspaceUri } from './helpers';

// This suite runs in a window whose workspace is NOT trusted (run-integration.js --restricted).
describe('Restricted Mode (untrusted workspace)', () => {
  it('is really untrusted', () => {
    assert.strictEqual(vscode.workspace.isTrusted, false);
  });

  it('still validates experiment configs (reading files runs no code)', async () => {
    await activateEdd();
    const uri = workspaceUri('experiments/broken.yaml');
    await diagnosticsWhen(uri, hasCode('unknown-key'));
  });

  it('refuses to run training: nothing is spawned, nothing recorded', async () => {
    const api = await activateEdd();
    const result = await vscode.commands.executeCommand('edd.runExperiment', workspaceUri('experiments/quick.yaml'));
    assert.strictEqual(result, undefined, 'the command did not run anything');
    const folder = vscode.workspace.workspaceFolders![0];
    assert.ok(!fs.existsSync(api.stores.storeFile(folder)), 'no run store was even created');
    await assert.rejects(api.runs.run({ uri: workspaceUri('experiments/quick.yaml') }), /not trusted/);
  });

  it('refuses to run a sweep: no trial spawned, nothing recorded', async () => {
    const api = await activateEdd();
    const result = await vscode.commands.executeCommand('edd.runSweep', workspaceUri('experiments/sweep-small.yaml'));
    assert.strictEqual(result, undefined, 'the command did not run anything');
    assert.ok(!fs.existsSync(api.stores.storeFile(vscode.workspace.workspaceFolders![0])), 'no run store was even created');
  });

  it('refuses to run a model or change the registry: no gate, no promotion, no registration', async () => {
    const api = await activateEdd();
    const folder = vscode.workspace.workspaceFolders![0];
    const version = { kind: 'version', folder: folder.uri.toString(), model: 'penguins', version: 1 };
    const run = { kind: 'run', folder: folder.uri.toString(), runId: 'r', experimentId: 'e' };
    assert.strictEqual(await vscode.commands.executeCommand('edd.checkPromotion', workspaceUri('gates/fixture.policy.yaml'), { onnx: workspaceUri('models/penguins.onnx').fsPath }), undefined);
    for (const [command, arg] of [['edd.promoteVersion', version], ['edd.setAlias', version], ['edd.compareWithProduction', version], ['edd.rollbackModel', version], ['edd.registerModel', run]] as const) {
      assert.strictEqual(await vscode.commands.executeCommand(command, arg), undefined, `${command} did nothing`);
    }
    assert.ok(!fs.existsSync(api.stores.storeFile(folder)), 'no run store was created');
  });

  it('refuses to install the Python helper (it would run an interpreter the workspace may name)', async () => {
    await activateEdd();
    assert.strictEqual(await vscode.commands.executeCommand('edd.installPythonHelper'), undefined);
  });
});
