import * as assert from 'assert';
import * as vscode from 'vscode';
import { activateEdd, byCode, diagnosticsWhen, hasCode, rangeOf, sameRange, workspaceUri } from './helpers';

describe('promotion policies in the editor', () => {
  before(async () => {
    await activateEdd();
  });

  it('underlines policy mistakes with the promotion schema, not the experiment one', async () => {
    const uri = workspaceUri('gates/broken.policy.yaml');
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(doc);
    const ds = await diagnosticsWhen(uri, d => hasCode('unknown-key')(d) && hasCode('wrong-type')(d));
    sameRange(byCode(ds, 'unknown-key').range, rangeOf(doc, 'drfit'), 'the misspelled check');
    assert.match(byCode(ds, 'unknown-key').message, /Did you mean `drift`\?/);
    sameRange(byCode(ds, 'wrong-type').range, rangeOf(doc, '"20"'), 'the quoted number');
    assert.ok(!ds.some(d => /experiment/.test(d.message)), 'no experiment-config messages on a policy');
  });

  it('completes policy keys and offers the quote fix', async () => {
    const uri = workspaceUri('gates/broken.policy.yaml');
    const doc = await vscode.workspace.openTextDocument(uri);
    const editor = await vscode.window.showTextDocument(doc);
    await editor.edit(e => e.insert(doc.lineAt(3).range.end, '\n  '));
    const list = await vscode.commands.executeCommand<vscode.CompletionList>('vscode.executeCompletionItemProvider', uri, new vscode.Position(4, 2));
    const labels = list.items.map(i => String(typeof i.label === 'string' ? i.label : i.label.label));
    assert.ok(labels.includes('reference') && labels.includes('features'), labels.join(', '));
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  });
});
