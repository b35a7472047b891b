import * as assert from 'assert';
import * as vscode from 'vscode';
import type { GateReport } from '../../src/core/checks/types';
import type { GateReportPanel } from '../../src/extension/gate/reportPanel';
import type { ExperimentNode } from '../../src/extension/runs/experimentsTree';
import type { HostMessage } from '../../src/protocol/gate';
import { activateEdd, rangeOf, workspaceUri } from './helpers';

type RunNode = Extract<ExperimentNode, { kind: 'run' }>;

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

/** Resolve once the report panel has posted what the test needs (checked now and on every message it posts). */
function panelWhen(panel: GateReportPanel, check: () => boolean, what: string, timeoutMs = 30000): Promise<void> {
  return new Promise((resolve, reject) => {
    if (check()) return resolve();
    const timer = setTimeout(() => {
      sub.dispose();
      reject(new Error(`timed out waiting for ${what}; received ${JSON.stringify(panel.trace.received)}, sent ${JSON.stringify(panel.trace.sent.map(m => m.type))}`));
    }, timeoutMs);
    const sub = panel.onDidPost(() => {
      if (!check()) return;
      clearTimeout(timer);
      sub.dispose();
      resolve();
    });
  });
}

const reportPosted = (panel: GateReportPanel, report: GateReport) => () => {
  const m = panel.lastPosted;
  return panel.trace.received.includes('ready') && m?.type === 'report' && m.report?.startedAt === report.startedAt;
};

describe('gate: the report panel', () => {
  it('opens after a full check and gets the report after the webview says ready; "Go to check" selects the policy line', async function () {
    this.timeout(90000);
    const api = await activateEdd();
    const panel = api.gate.reportPanel;
    const uri = workspaceUri('gates/fixture.policy.yaml');
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(doc);
    const report = await vscode.commands.executeCommand<GateReport>('edd.checkPromotion', uri, { onnx: workspaceUri('models/penguins.onnx').fsPath });
    assert.ok(report);
    assert.ok(panel.isOpen, 'the panel opened');
    await panelWhen(panel, reportPosted(panel, report), 'ready → report');
    const posted = panel.lastPosted as Extract<HostMessage, { type: 'report' }>;
    assert.deepStrictEqual(posted.report, report, 'the webview got the report the command returned');
    assert.strictEqual(posted.policyUri, uri.toString());
    assert.strictEqual(panel.trace.received[0], 'ready', 'the webview spoke first');
    // The panel opened beside the policy without taking the focus.
    assert.strictEqual(vscode.window.activeTextEditor?.document.uri.toString(), uri.toString());

    const editor = await panel.revealCheck('2-rule');
    assert.ok(editor);
    assert.strictEqual(editor.document.uri.toString(), uri.toString());
    assert.strictEqual(editor.selection.start.line, rangeOf(doc, 'rule:').start.line, 'the rule\'s list item is selected');
    assert.match(editor.document.getText(editor.selection), /^rule: \{ when/);

    // "EDD: Show Gate Report" shows the last report of the active policy.
    const shown = await vscode.commands.executeCommand<GateReport>('edd.showGateReport');
    assert.strictEqual(shown?.startedAt, report.startedAt);
    panel.close();
    assert.ok(!panel.isOpen);
    // Closed, it opens again on the next request and says ready again.
    const again = await vscode.commands.executeCommand<GateReport>('edd.showGateReport', uri);
    assert.strictEqual(again?.startedAt, report.startedAt);
    await panelWhen(panel, () => panel.trace.received.filter(r => r === 'ready').length >= 2 && reportPosted(panel, report)(), 'ready → report after reopening');
    panel.close();
  });

  it('checks a finished run from the Experiments view against the open policy, with the run as the candidate', async function () {
    this.timeout(90000);
    const api = await activateEdd();
    const r = await api.runs.run({ uri: workspaceUri('experiments/pred-a.yaml'), progress: 'none' });
    assert.strictEqual(r.run.status, 'finished', r.run.error ?? '');
    const uri = workspaceUri('gates/fixture.policy.yaml');
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri));
    const folder = vscode.workspace.workspaceFolders![0].uri.toString();
    const node: RunNode = { kind: 'run', folder, runId: r.run.id, experimentId: r.run.experimentId };
    // As the tree's context menu calls it: the clicked node, then the selection.
    const report = await vscode.commands.executeCommand<GateReport>('edd.checkPromotion', node, [node]);
    assert.ok(report, 'the gate ran');
    assert.strictEqual(report.candidate.run, r.run.id);
    assert.match(report.candidate.onnx ?? '', /model\.onnx$/);
    assert.deepStrictEqual(report.checks.map(c => `${c.id}:${c.status}`), ['1-metric:pass', '2-rule:fail', '3-output:pass']);
    await panelWhen(api.gate.reportPanel, reportPosted(api.gate.reportPanel, report), 'the run\'s report in the panel');
    api.gate.reportPanel.close();
  });
});
