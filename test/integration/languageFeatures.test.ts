import * as assert from 'assert';
import * as vscode from 'vscode';
import { activateEdd, byCode, diagnosticsWhen, hasCode, rangeOf, workspaceUri } from './helpers';

async function applyFix(doc: vscode.TextDocument, range: vscode.Range, title: RegExp): Promise<void> {
  const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', doc.uri, range, vscode.CodeActionKind.QuickFix.value);
  const action = actions.find(a => title.test(a.title));
  assert.ok(action, `no quick fix matching ${title} among [${actions.map(a => a.title).join(' | ')}]`);
  assert.ok(action.edit, 'the quick fix carries an edit');
  assert.ok(await vscode.workspace.applyEdit(action.edit));
}

describe('completion, hover and quick fixes from the schema', () => {
  before(async () => {
    await activateEdd();
  });

  afterEach(async () => {
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('completes the keys the schema allows and that are not there yet', async () => {
    const doc = await vscode.workspace.openTextDocument(workspaceUri('experiments/missing.yaml'));
    const editor = await vscode.window.showTextDocument(doc);
    const end = doc.lineAt(2).range.end; // after `  name: ...`
    await editor.edit(e => e.insert(end, '\n  '));
    const pos = new vscode.Position(3, 2);
    const list = await vscode.commands.executeCommand<vscode.CompletionList>('vscode.executeCompletionItemProvider', doc.uri, pos);
    const labels = list.items.map(i => (typeof i.label === 'string' ? i.label : i.label.label));
    for (const k of ['hypothesis', 'objective', 'random_seed', 'data', 'environment', 'run', 'results']) assert.ok(labels.includes(k), `missing ${k} in [${labels.join(', ')}]`);
    for (const k of ['id', 'name', 'parameters']) assert.ok(!labels.includes(k), `${k} is already present and must not be offered`);
    const hypothesis = list.items.find(i => i.label === 'hypothesis')!;
    assert.match((hypothesis.documentation as vscode.MarkdownString).value, /falsifiable/);
  });

  it('completes values from the schema (default of random_seed)', async () => {
    const doc = await vscode.workspace.openTextDocument(workspaceUri('experiments/missing.yaml'));
    const editor = await vscode.window.showTextDocument(doc);
    await editor.edit(e => e.insert(doc.lineAt(2).range.end, '\n  random_seed: '));
    const list = await vscode.commands.executeCommand<vscode.CompletionList>('vscode.executeCompletionItemProvider', doc.uri, new vscode.Position(3, 15));
    assert.ok(list.items.some(i => i.label === '42'), `items: ${list.items.map(i => String(i.label)).join(', ')}`);
  });

  it('shows the schema description on hover', async () => {
    const doc = await vscode.workspace.openTextDocument(workspaceUri('experiments/baseline.yaml'));
    const at = rangeOf(doc, 'learning_rate').start.translate(0, 3);
    const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', doc.uri, at);
    const text = hovers.flatMap(h => h.contents.map(c => (typeof c === 'string' ? c : c.value))).join('\n');
    assert.match(text, /experiment\.parameters\.learning_rate/);
    assert.match(text, /Step size of the optimiser/);
  });

  it('quick fix: renames a typo\'d key to the suggested key', async () => {
    const uri = workspaceUri('experiments/broken.yaml');
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(doc);
    const ds = await diagnosticsWhen(uri, hasCode('unknown-key'));
    await applyFix(doc, byCode(ds, 'unknown-key').range, /Rename `hypotesis` to `hypothesis`/);
    assert.match(doc.getText(), /\n {2}hypothesis: "Larger batches/);
    await diagnosticsWhen(uri, d => !hasCode('unknown-key')(d) && !hasCode('missing-key')(d));
  });

  it('quick fix: a quoted number becomes a number, and a number version becomes a string', async () => {
    const uri = workspaceUri('experiments/broken.yaml');
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(doc);
    let ds = await diagnosticsWhen(uri, d => d.filter(x => x.code === 'wrong-type').length === 2);
    await applyFix(doc, rangeOf(doc, '"0.01"'), /Remove the quotes/);
    assert.match(doc.getText(), /learning_rate: 0\.01\n/);
    ds = await diagnosticsWhen(uri, d => d.filter(x => x.code === 'wrong-type').length === 1);
    await applyFix(doc, ds.find(d => d.code === 'wrong-type')!.range, /Quote it as the string "3\.10"/);
    assert.match(doc.getText(), /python_version: "3\.10"/);
    await diagnosticsWhen(uri, d => !hasCode('wrong-type')(d));
  });

  it('quick fix: inserts a missing required key with a placeholder', async () => {
    const uri = workspaceUri('experiments/missing.yaml');
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(doc);
    const ds = await diagnosticsWhen(uri, hasCode('missing-key'));
    await applyFix(doc, byCode(ds, 'missing-key').range, /Add the missing key `hypothesis`/);
    assert.match(doc.getText(), /\n {2}hypothesis: "TODO: hypothesis"/);
    await diagnosticsWhen(uri, d => d.length === 0);
  });

  it('quick fix: sets f1_score to the value precision and recall imply', async () => {
    const uri = workspaceUri('experiments/broken.yaml');
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(doc);
    const ds = await diagnosticsWhen(uri, hasCode('f1-inconsistent'));
    await applyFix(doc, byCode(ds, 'f1-inconsistent').range, /Set `f1_score` to 0\.6857/);
    await diagnosticsWhen(uri, d => !hasCode('f1-inconsistent')(d));
  });
});
