import * as assert from 'assert';
import * as vscode from 'vscode';
import { activateEdd, byCode, codes, diagnosticsWhen, hasCode, rangeOf, sameRange, workspaceUri } from './helpers';

describe('experiment config validation in the extension host', () => {
  before(async () => {
    await activateEdd();
  });

  afterEach(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('underlines each mistake of an open config at its exact key or value', async () => {
    const uri = workspaceUri('experiments/broken.yaml');
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(doc);
    const ds = await diagnosticsWhen(uri, d => d.length >= 5);
    assert.deepStrictEqual(codes(ds), ['f1-inconsistent', 'missing-key', 'unknown-key', 'wrong-type', 'wrong-type']);
    sameRange(byCode(ds, 'unknown-key').range, rangeOf(doc, 'hypotesis'), 'the typo key');
    assert.match(byCode(ds, 'unknown-key').message, /Did you mean `hypothesis`\?/);
    sameRange(byCode(ds, 'f1-inconsistent').range, rangeOf(doc, '0.9'), 'f1_score value');
    const wrongTypes = ds.filter(d => d.code === 'wrong-type').map(d => doc.getText(d.range)).sort();
    assert.deepStrictEqual(wrongTypes, ['"0.01"', '3.10']);
    assert.strictEqual(byCode(ds, 'f1-inconsistent').severity, vscode.DiagnosticSeverity.Error);
    assert.ok(ds.every(d => d.source === 'edd'));
  });

  it('validates configs that are not open, including a duplicate id across two files', async () => {
    const a = workspaceUri('experiments/baseline.yaml');
    const b = workspaceUri('experiments/dup-id.yaml');
    const da = await diagnosticsWhen(a, hasCode('duplicate-experiment-id'));
    const db = await diagnosticsWhen(b, hasCode('duplicate-experiment-id'));
    assert.match(byCode(da, 'duplicate-experiment-id').message, /experiments\/dup-id\.yaml:2/);
    assert.match(byCode(db, 'duplicate-experiment-id').message, /experiments\/baseline\.yaml:2/);
    const doc = await vscode.workspace.openTextDocument(b);
    sameRange(byCode(db, 'duplicate-experiment-id').range, rangeOf(doc, '"exp_20250101_001"'), 'the id value');
  });

  it('treats a YAML file with "# edd: experiment" as a config, and leaves other YAML alone', async () => {
    const marked = workspaceUri('other/marked.yml');
    const ds = await diagnosticsWhen(marked, hasCode('learning-rate-not-positive'));
    const doc = await vscode.workspace.openTextDocument(marked);
    sameRange(byCode(ds, 'learning-rate-not-positive').range, rangeOf(doc, '-0.5'), 'learning_rate value');
    const plain = await vscode.workspace.openTextDocument(workspaceUri('other/not-a-config.yaml'));
    await vscode.window.showTextDocument(plain);
    const api = await activateEdd();
    assert.strictEqual(await api.validation.validateDocument(plain), undefined);
    assert.deepStrictEqual(vscode.languages.getDiagnostics(plain.uri).filter(d => d.source === 'edd'), []);
  });

  it('re-validates as the user types, and clears the problem when it is fixed', async () => {
    const uri = workspaceUri('experiments/baseline.yaml');
    const doc = await vscode.workspace.openTextDocument(uri);
    const editor = await vscode.window.showTextDocument(doc);
    await diagnosticsWhen(uri, ds => !hasCode('learning-rate-not-positive')(ds));
    const lr = rangeOf(doc, '0.01');
    await editor.edit(e => e.replace(lr, '0'));
    const ds = await diagnosticsWhen(uri, hasCode('learning-rate-not-positive'));
    sameRange(byCode(ds, 'learning-rate-not-positive').range, new vscode.Range(lr.start, lr.start.translate(0, 1)), 'the new value');
    await editor.edit(e => e.replace(new vscode.Range(lr.start, lr.start.translate(0, 1)), '0.01'));
    await diagnosticsWhen(uri, d => !hasCode('learning-rate-not-positive')(d));
    await vscode.commands.executeCommand('workbench.action.files.revert');
  });

  it('validates a document just under the 1 MiB limit without blocking the extension host; refuses a 10 MB one', async function () {
    this.timeout(120000);
    const build = (bytes: number) => {
      const lines = ['# edd: experiment', 'experiment:', '  id: "exp_20250105_001"', '  name: huge', '  hypothesis: "big files do not hang"', '  parameters:', '    model_type: mlp', '    learning_rate: 0'];
      let size = lines.join('\n').length;
      for (let i = 0; size < bytes; i++) {
        const l = `    extra_parameter_${i}: ${(i % 1000) / 7}`;
        lines.push(l);
        size += l.length + 1;
      }
      return lines.join('\n') + '\n';
    };
    const doc = await vscode.workspace.openTextDocument({ language: 'yaml', content: build(1_000_000) });
    // Measure how late a 20 ms timer fires while the document is validated: the worker thread keeps it small.
    let worstLag = 0;
    let last = Date.now();
    const ticker = setInterval(() => {
      const now = Date.now();
      worstLag = Math.max(worstLag, now - last - 20);
      last = now;
    }, 20);
    try {
      const ds = await diagnosticsWhen(doc.uri, hasCode('learning-rate-not-positive'), 110000);
      assert.strictEqual(byCode(ds, 'learning-rate-not-positive').range.start.line, 7);
    } finally {
      clearInterval(ticker);
    }
    console.log(`      1 MB document: worst timer lag in the extension host while validating ${worstLag} ms`);
    const huge = await vscode.workspace.openTextDocument({ language: 'yaml', content: build(10 * 1024 * 1024) });
    const refused = await diagnosticsWhen(huge.uri, hasCode('file-too-large'), 60000);
    assert.strictEqual(byCode(refused, 'file-too-large').range.start.line, 0);
  });

  it('"Validate All Experiment Configs" reports the counts of the whole workspace', async () => {
    const result = await vscode.commands.executeCommand<{ files: number; errors: number; warnings: number }>('edd.validateWorkspace');
    assert.ok(result.files >= 5, `files: ${result.files}`);
    assert.ok(result.errors >= 8, `errors: ${result.errors}`);
  });
});
