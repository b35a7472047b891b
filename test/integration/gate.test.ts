import * as assert from 'assert';
import * as vscode from 'vscode';
import type { GateReport } from '../../src/core/checks/types';
import { activateEdd, rangeOf, workspaceUri } from './helpers';

describe('gate: "EDD: Check Promotion" in the editor', () => {
  it('runs the gate on a model, puts the failed check on its policy line, and reports each check as a test', async function () {
    this.timeout(90000);
    const api = await activateEdd();
    const uri = workspaceUri('gates/fixture.policy.yaml');
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(doc);
    const onnx = workspaceUri('models/penguins.onnx').fsPath;
    const report = await vscode.commands.executeCommand<GateReport>('edd.checkPromotion', uri, { onnx });
    assert.ok(report, 'the command returned the report');
    assert.strictEqual(report.passed, false);
    assert.deepStrictEqual(report.checks.map(c => `${c.id}:${c.status}`), ['1-metric:pass', '2-rule:fail', '3-output:pass']);

    // The gate's problems are published before the command returns.
    const gate = vscode.languages.getDiagnostics(uri).filter(d => d.source === 'edd-gate');
    assert.strictEqual(gate.length, 1, JSON.stringify(gate.map(d => d.message)));
    const ruleLine = rangeOf(doc, 'rule:').start.line;
    assert.strictEqual(gate[0].range.start.line, ruleLine, 'the failure sits on the line that declared the rule');
    assert.match(gate[0].message, /pred == 'Gentoo'/);

    const item = api.gate.tests.items.get(uri.toString());
    assert.ok(item, 'the policy is in the Test Explorer');
    const ids: string[] = [];
    item.children.forEach(c => ids.push(c.id));
    assert.deepStrictEqual(ids.map(id => id.split('#')[1]), ['1-metric', '2-rule', '3-output']);
    assert.strictEqual(api.gate.results.get(`${uri.toString()}#2-rule`), 'failed');
    assert.strictEqual(api.gate.results.get(`${uri.toString()}#1-metric`), 'passed');
    assert.strictEqual(item.children.get(`${uri.toString()}#2-rule`)!.range!.start.line, ruleLine);
  });
});
