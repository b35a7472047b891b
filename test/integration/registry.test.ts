import * as assert from 'assert';
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { onnx } from 'onnx-proto';
import * as vscode from 'vscode';
import type { ModelNode } from '../../src/extension/registry/modelsTree';
import { activateEdd, asked, workspaceUri } from './helpers';

const MODEL = 'penguins-it';

/** Answers the open quick input the way a user pressing Enter (after arrow-down `down` times) would. */
async function answer(down = 0): Promise<void> {
  for (let i = 0; i < down; i++) await vscode.commands.executeCommand('workbench.action.quickOpenSelectNext');
  await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
}

/** The fixture model with its weights negated: a real model that gets most rows wrong (so its gate fails). */
function flippedModel(src: string, dest: string): void {
  const model = onnx.ModelProto.decode(fs.readFileSync(src));
  const init = model.graph!.initializer!.find(t => (t.rawData?.length ?? 0) >= 8)!;
  const raw = Buffer.from(init.rawData!);
  for (let i = 0; i + 4 <= raw.length; i += 4) raw.writeFloatLE(-raw.readFloatLE(i), i);
  init.rawData = raw;
  fs.writeFileSync(dest, onnx.ModelProto.encode(model).finish());
}

describe('registry: the Models view', () => {
  const policy = workspaceUri('gates/registry-it.policy.yaml');
  after(() => fs.rmSync(policy.fsPath, { force: true }));

  it('registers two runs\' models, refuses the one whose gate failed, promotes the other from the tree, and follows the CLI', async function () {
    this.timeout(180000);
    const api = await activateEdd();
    const folder = vscode.workspace.workspaceFolders![0];
    const root = folder.uri.fsPath;
    fs.writeFileSync(policy.fsPath, `model: ${MODEL}
data:
  eval: gates/data/eval.csv
  label: species
  features: [bill_length_mm, bill_depth_mm, flipper_length_mm, body_mass_g]
checks:
  - metric: { name: accuracy, min: 0.9 }
`);
    flippedModel(path.join(root, 'models/penguins.onnx'), path.join(root, 'models/flipped.onnx'));
    const store = await api.stores.get(folder);
    const runOf = async (experimentId: string, model: string) => {
      const r = await store.createRun({ experimentId, status: 'finished', startedAt: Date.now(), endedAt: Date.now() });
      await store.addMetrics([{ runId: r.id, key: 'val_accuracy', step: 1, value: experimentId === 'reg-good' ? 0.97 : 0.31 }]);
      await store.addArtifact({ runId: r.id, path: model, kind: 'model', sha256: null, size: null });
      return { kind: 'run' as const, folder: folder.uri.toString(), runId: r.id, experimentId };
    };
    const good = await runOf('reg-good', 'models/penguins.onnx');
    const bad = await runOf('reg-bad', 'models/flipped.onnx');

    // Register both from the Experiments view: the input box offers the policy's model name; Enter accepts it.
    for (const node of [good, bad]) {
      const registering = vscode.commands.executeCommand('edd.registerModel', node);
      await asked(api.registry.steps, 'model-name');
      await answer();
      await registering;
    }
    const versions = await store.listModelVersions(MODEL);
    assert.deepStrictEqual(versions.map(v => [v.version, v.runId]), [[2, bad.runId], [1, good.runId]], JSON.stringify(await store.listModels()));

    // Gate both versions (the reports are stored with them), from the Models view's "Check Promotion".
    assert.strictEqual((await vscode.commands.executeCommand<{ passed: boolean }>('edd.checkVersion', { kind: 'version', folder: folder.uri.toString(), model: MODEL, version: 1 }))?.passed, true);
    assert.strictEqual((await vscode.commands.executeCommand<{ passed: boolean }>('edd.checkVersion', { kind: 'version', folder: folder.uri.toString(), model: MODEL, version: 2 }))?.passed, false);

    const tree = api.models;
    const modelNode = (await tree.getChildren()).find(n => n.model === MODEL)!;
    assert.ok(modelNode, 'the model is in the Models view');
    const item = async (version: number) => tree.getTreeItem({ kind: 'version', folder: folder.uri.toString(), model: MODEL, version });
    assert.deepStrictEqual((await tree.getChildren(modelNode)).map(n => (n as Extract<ModelNode, { kind: 'version' }>).version), [2, 1]);
    assert.strictEqual(((await item(2)).iconPath as vscode.ThemeIcon).id, 'error', 'a failed gate shows as an error icon');
    assert.strictEqual(((await item(1)).iconPath as vscode.ThemeIcon).id, 'pass');

    // Promote v2 to production: refused by its gate; the override question's first answer is Cancel.
    const v2 = { kind: 'version' as const, folder: folder.uri.toString(), model: MODEL, version: 2 };
    const refused = vscode.commands.executeCommand('edd.promoteVersion', v2);
    await asked(api.registry.steps, 'stage');
    await answer(); // production
    await asked(api.registry.steps, 'override');
    await answer(); // Cancel
    assert.strictEqual(await refused, undefined);
    assert.strictEqual((await store.findModelVersion(MODEL, 2))!.stage, 'none');
    assert.deepStrictEqual([(await store.auditLog(MODEL)).at(-1)!.action, (await store.auditLog(MODEL)).at(-1)!.version], ['promote-refused', 2], 'the refused attempt is recorded');

    // Promote v1 to production: the reason box is prefilled with the gate that passed; Enter accepts.
    const v1 = { kind: 'version' as const, folder: folder.uri.toString(), model: MODEL, version: 1 };
    const promoting = vscode.commands.executeCommand('edd.promoteVersion', v1);
    await asked(api.registry.steps, 'stage');
    await answer();
    await asked(api.registry.steps, 'reason');
    await answer();
    await promoting;
    assert.strictEqual((await store.findModelVersion(MODEL, 1))!.stage, 'production');
    const promoted = await item(1);
    assert.match(String(promoted.description), /\[production\]/);
    assert.strictEqual((promoted.iconPath as vscode.ThemeIcon).id, 'verified-filled');
    assert.strictEqual(promoted.contextValue, 'edd.version.production.passed');
    // its stored gate report opens in the gate report panel
    const shown = await vscode.commands.executeCommand<{ passed: boolean; candidate: { model?: string } }>('edd.showVersionGateReport', v1);
    assert.deepStrictEqual([shown?.passed, shown?.candidate.model], [true, `${MODEL}@1`]);
    const postedModel = () => (api.gate.reportPanel.lastPosted as { report?: { candidate: { model?: string } } } | undefined)?.report?.candidate.model;
    for (const until = Date.now() + 20000; postedModel() !== `${MODEL}@1` && Date.now() < until;) await new Promise(r => setTimeout(r, 100));
    assert.strictEqual(postedModel(), `${MODEL}@1`, 'the panel got the stored report');
    const entry = (await store.auditLog(MODEL)).at(-1)!;
    assert.deepStrictEqual([entry.action, entry.version, entry.toStage], ['promote', 1, 'production']);
    assert.match(entry.reason ?? '', /registry-it\.policy\.yaml/);

    // The CLI sets an alias: the view follows (the store's file watcher loads the other process's save).
    await store.save();
    const changed = new Promise<void>(resolve => { const sub = tree.onDidChangeTreeData(() => { sub.dispose(); resolve(); }); });
    await new Promise<void>((resolve, reject) => execFile(process.execPath, [path.join(__dirname, '../../../dist/cli.js'), 'alias', `${MODEL}@1`, 'champion', '--reason', 'from the CLI'], { cwd: root }, (err, _o, stderr) => (err ? reject(new Error(stderr)) : resolve())));
    await changed;
    const deadline = Date.now() + 20000;
    while (!/@champion/.test(String((await item(1)).description)) && Date.now() < deadline) await new Promise(r => setTimeout(r, 100));
    assert.match(String((await item(1)).description), /@champion/);

    // Shadow evaluation of v2 against production (v1), from the tree: agreement, McNemar, the disagreeing rows.
    const shadow = await vscode.commands.executeCommand<{ report: { checks: Array<{ measured: Record<string, number>; evidence: { disagreement_count: number } }> } }>('edd.compareWithProduction', v2);
    assert.ok(shadow, 'the shadow evaluation ran');
    const measured = shadow.report.checks[0].measured;
    assert.ok(measured.agreement_rate < 0.9 && measured.mcnemar_p_value < 0.001, JSON.stringify(measured));
    const shadowDoc = vscode.window.activeTextEditor!.document.getText();
    assert.match(shadowDoc, new RegExp(`Shadow evaluation: ${MODEL}@2 against ${MODEL}@1`));
    assert.match(shadowDoc, /\| Row \| True \| Candidate \| Production \|/);

    // The CLI forces v2 into production (recorded); the tree's rollback (reason optional) restores v1.
    await store.save();
    await new Promise<void>((resolve, reject) => execFile(process.execPath, [path.join(__dirname, '../../../dist/cli.js'), 'promote', `${MODEL}@2`, '--to', 'production', '--force', '--reason', 'hotfix'], { cwd: root }, (err, _o, stderr) => (err ? reject(new Error(stderr)) : resolve())));
    for (const until = Date.now() + 20000; (await store.findModelVersion(MODEL, 2))?.stage !== 'production' && Date.now() < until;) await new Promise(r => setTimeout(r, 100));
    assert.strictEqual((await store.findModelVersion(MODEL, 2))!.stage, 'production', 'the extension loaded the CLI\'s promotion');
    const rollingBack = vscode.commands.executeCommand('edd.rollbackModel', modelNode);
    await asked(api.registry.steps, 'confirm-rollback');
    await answer();
    await rollingBack;
    assert.deepStrictEqual([(await store.findModelVersion(MODEL, 1))!.stage, (await store.findModelVersion(MODEL, 2))!.stage], ['production', 'archived']);
    assert.match(String((await item(1)).description), /\[production\]/);

    // The audit log opens as a document with every step.
    await vscode.commands.executeCommand('edd.showAuditLog', modelNode);
    const text = vscode.window.activeTextEditor!.document.getText();
    for (const needle of ['register v1', 'register v2', 'promote v1 (none → production)', 'alias @champion → v1', 'from the CLI', 'promote v2 (none → production) **FORCED over the gate**', 'rollback v1 (archived → production)']) assert.ok(text.includes(needle), `${needle} in\n${text}`);
  });
});
