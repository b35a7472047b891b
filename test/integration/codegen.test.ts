import * as assert from 'assert';
import * as fs from 'fs';
import * as vscode from 'vscode';
import { activateEdd, byCode, diagnosticsWhen, hasCode, workspaceUri } from './helpers';

const STALE = 'typed-config-stale';

// EDD: Generate Typed Config writes edd_config.py for the workspace; a config with a hyperparameter the file lacks
// gets an info diagnostic whose quick fix "Regenerate" writes the file again.
describe('EDD: Generate Typed Config', function () {
  this.timeout(60000);
  const generated = () => workspaceUri('edd_config.py');
  const extra = () => workspaceUri('experiments/codegen-extra.yaml');

  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    for (const uri of [generated(), extra()]) fs.rmSync(uri.fsPath, { force: true });
  });

  it('writes edd_config.py with the hyperparameters of the workspace configs', async () => {
    await activateEdd();
    const out = await vscode.commands.executeCommand<vscode.Uri | undefined>('edd.generateTypedConfig', { language: 'python', folder: workspaceUri('.') });
    assert.strictEqual(out?.fsPath, generated().fsPath);
    const text = fs.readFileSync(generated().fsPath, 'utf8');
    // The header the Regenerate diagnostic reads: the configs read and the hyperparameters beyond the schema's
    // (pred-a.yaml and pred-b.yaml have `skill`).
    const header = JSON.parse(/^# edd-codegen: (.*)$/m.exec(text)?.[1] ?? 'null') as { configs: string[]; parameters: string[] } | null;
    assert.ok(header, text.slice(0, 400));
    assert.ok(header.configs.includes('experiments/quick.yaml') && header.configs.includes('experiments/pred-a.yaml'), header.configs.join(', '));
    assert.ok(header.parameters.includes('skill') && !header.parameters.includes('dropout_of_the_test'), header.parameters.join(', '));
    assert.match(text, /\bskill\b.*float/, 'skill is typed as a float');
  });

  it('flags a hyperparameter edd_config.py lacks; the Regenerate quick fix writes it in and the flag goes', async () => {
    const quick = fs.readFileSync(workspaceUri('experiments/quick.yaml').fsPath, 'utf8');
    const copy = quick.replace('exp_20250110_001', 'exp_20250110_099').replace('    epochs: 3\n', '    epochs: 3\n    dropout_of_the_test: 0.25\n');
    assert.notStrictEqual(copy, quick);
    fs.writeFileSync(extra().fsPath, copy);
    const doc = await vscode.workspace.openTextDocument(extra());
    await vscode.window.showTextDocument(doc);
    const ds = await diagnosticsWhen(extra(), hasCode(STALE));
    const stale = byCode(ds, STALE);
    assert.strictEqual(doc.getText(stale.range), 'dropout_of_the_test');
    assert.strictEqual(stale.severity, vscode.DiagnosticSeverity.Information);

    const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', extra(), stale.range, vscode.CodeActionKind.QuickFix.value);
    const regenerate = actions.find(a => a.title === 'Regenerate edd_config.py');
    assert.ok(regenerate?.command, `actions: ${actions.map(a => a.title).join(' | ')}`);
    await vscode.commands.executeCommand(regenerate.command.command, ...(regenerate.command.arguments ?? []));
    assert.match(fs.readFileSync(generated().fsPath, 'utf8'), /\bdropout_of_the_test\b/);
    await diagnosticsWhen(extra(), ds2 => !hasCode(STALE)(ds2));
  });
});
