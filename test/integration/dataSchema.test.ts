import * as assert from 'assert';
import * as vscode from 'vscode';
import { activateEdd, byCode, codes, diagnosticsWhen, hasCode, rangeOf, sameRange, workspaceUri } from './helpers';

const labelsOf = (list: vscode.CompletionList) => list.items.map(i => (typeof i.label === 'string' ? i.label : i.label.label));

describe('data schemas in the editor', () => {
  before(async () => {
    await activateEdd();
  });

  afterEach(async () => {
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('underlines a *.data.yaml file\'s mistakes with the data-schema schema, each at its place with its code', async () => {
    const uri = workspaceUri('gates/data/broken.data.yaml');
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(doc);
    const ds = await diagnosticsWhen(uri, d => ['min-above-max', 'bounds-not-numeric', 'invalid-value', 'unknown-key'].every(c => hasCode(c)(d)));
    assert.deepStrictEqual(codes(ds), ['bounds-not-numeric', 'invalid-value', 'min-above-max', 'unknown-key']);
    sameRange(byCode(ds, 'min-above-max').range, rangeOf(doc, '10'), 'the min above max');
    assert.match(byCode(ds, 'min-above-max').message, /`min` \(10\) of column `age` is above its `max` \(5\)/);
    const sexLine = rangeOf(doc, 'sex:').start.line;
    sameRange(byCode(ds, 'bounds-not-numeric').range, new vscode.Range(sexLine, doc.lineAt(sexLine).text.indexOf('min'), sexLine, doc.lineAt(sexLine).text.indexOf('min') + 3), 'min on a category column');
    sameRange(byCode(ds, 'invalid-value').range, rangeOf(doc, 'strng'), 'the misspelled type');
    assert.match(byCode(ds, 'invalid-value').message, /Did you mean `string`\?/);
    sameRange(byCode(ds, 'unknown-key').range, rangeOf(doc, 'nulable'), 'the misspelled key');
    assert.match(byCode(ds, 'unknown-key').message, /Did you mean `nullable`\?/);
    assert.ok(ds.every(d => d.severity === vscode.DiagnosticSeverity.Error && d.source === 'edd'));
    assert.ok(!ds.some(d => /experiment|policy/.test(d.message)), 'no experiment-config or policy messages on a data schema');

    const state = (await activateEdd()).validation.state(uri);
    assert.strictEqual(state?.kind, 'data-schema');
  });

  it('recognises the `# edd: data-schema` marker, found by the workspace scan, with its quick fix', async () => {
    const uri = workspaceUri('other/eval-schema.yml');
    const api = await activateEdd();
    await api.validation.scanWorkspace();
    assert.strictEqual(api.validation.state(uri)?.kind, 'data-schema', 'found on disk without being opened');
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(doc);
    const ds = await diagnosticsWhen(uri, hasCode('wrong-type'));
    sameRange(byCode(ds, 'wrong-type').range, rangeOf(doc, '"1"'), 'the quoted bound');
    const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', uri, byCode(ds, 'wrong-type').range, vscode.CodeActionKind.QuickFix.value);
    const unquote = actions.find(a => /Remove the quotes: use the number 1/.test(a.title));
    assert.ok(unquote?.edit, `actions: ${actions.map(a => a.title).join(' | ')}`);
    assert.ok(await vscode.workspace.applyEdit(unquote.edit));
    assert.match(doc.getText(), /score: \{ type: number, max: 1 \}/);
    await diagnosticsWhen(uri, d => d.length === 0);
  });

  it('completes column keys and type values, and explains keys on hover', async () => {
    const uri = workspaceUri('gates/data/broken.data.yaml');
    const doc = await vscode.workspace.openTextDocument(uri);
    const editor = await vscode.window.showTextDocument(doc);
    const typeLine = rangeOf(doc, 'type: string').start.line;
    await editor.edit(e => e.insert(doc.lineAt(typeLine).range.end, '\n    '));
    const keys = labelsOf(await vscode.commands.executeCommand<vscode.CompletionList>('vscode.executeCompletionItemProvider', uri, new vscode.Position(typeLine + 1, 4)));
    for (const k of ['min', 'max', 'allowed', 'nullable', 'required']) assert.ok(keys.includes(k), `missing ${k} in [${keys.join(', ')}]`);
    assert.ok(!keys.includes('type'), 'type is already there');
    await editor.edit(e => e.insert(new vscode.Position(typeLine + 1, 4), 'required: '));
    const values = labelsOf(await vscode.commands.executeCommand<vscode.CompletionList>('vscode.executeCompletionItemProvider', uri, new vscode.Position(typeLine + 1, 14)));
    assert.ok(values.includes('true') && values.includes('false'), values.join(', '));

    const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', uri, rangeOf(doc, 'allow_extra_columns').start.translate(0, 2));
    const text = hovers.flatMap(h => h.contents.map(c => (typeof c === 'string' ? c : c.value))).join('\n');
    assert.match(text, /\*\*allow_extra_columns\*\* — `boolean`/);
    assert.match(text, /columns the schema does not list/);
  });
});
