import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { MonitorPanel } from '../../src/extension/monitor/panel';
import { HOUR, SPEC, penguins, records, repo, writeSegment } from '../unit/monitor.fixtures';
import { activateEdd, byCode, diagnosticsWhen, rangeOf, sameRange, workspaceUri } from './helpers';

/** Resolve with the `edd-monitor` diagnostics of `uri` once `accept` holds for them. */
function monitorProblemsWhen(uri: vscode.Uri, accept: (d: vscode.Diagnostic[]) => boolean, timeoutMs = 30000): Promise<vscode.Diagnostic[]> {
  const mine = () => vscode.languages.getDiagnostics(uri).filter(d => d.source === 'edd-monitor');
  return new Promise((resolve, reject) => {
    const check = () => {
      if (!accept(mine())) return;
      cleanup();
      resolve(mine());
    };
    const sub = vscode.languages.onDidChangeDiagnostics(e => { if (e.uris.some(u => u.toString() === uri.toString())) check(); });
    const timer = setTimeout(() => { cleanup(); reject(new Error(`monitoring Problems of ${uri.path}: [${mine().map(d => d.code).join(', ')}] after ${timeoutMs} ms`)); }, timeoutMs);
    const cleanup = () => { clearTimeout(timer); sub.dispose(); };
    check();
  });
}

function panelWhen(panel: MonitorPanel, check: () => boolean, what: string, timeoutMs = 60000): Promise<void> {
  return new Promise((resolve, reject) => {
    if (check()) return resolve();
    const timer = setTimeout(() => { sub.dispose(); reject(new Error(`timed out waiting for ${what}; sent ${JSON.stringify(panel.sent.map(m => m.type))}`)); }, timeoutMs);
    const sub = panel.onDidPost(() => {
      if (!check()) return;
      clearTimeout(timer);
      sub.dispose();
      resolve();
    });
  });
}

describe('monitoring: a service spec and its prediction log', () => {
  const root = () => vscode.workspace.workspaceFolders![0].uri.fsPath;
  const created: string[] = [];
  after(async () => {
    // Later suites list the workspace's configs and runs and answer quick inputs: leave the workspace and the window as
    // they were (no editor on a deleted file, no alert notification).
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await vscode.commands.executeCommand('notifications.clearAll');
    for (const f of created) fs.rmSync(f, { recursive: true, force: true });
  });

  it('EDD: Open Monitoring reads the log; a drift alert is a Problem on the spec\'s alert line; an experiment made from it validates', async function () {
    this.timeout(120000);
    await activateEdd();
    // The layout of the unit tests' monitoring workspace, at the root of the test workspace: the reference rows, the
    // spec, and two hours of log in the fixed format (the second hour with flipper_length_mm shifted by 25 mm).
    fs.mkdirSync(path.join(root(), 'data'), { recursive: true });
    fs.copyFileSync(path.join(repo, 'examples/penguins-sklearn/data/penguins.csv'), path.join(root(), 'data/penguins.csv'));
    const specFile = path.join(root(), 'penguins.service.yaml');
    fs.writeFileSync(specFile, SPEC);
    fs.mkdirSync(path.join(root(), '.edd/serving/penguins'), { recursive: true });
    created.push(path.join(root(), 'data'), specFile, path.join(root(), '.edd/serving'));
    const rows = penguins();
    const a = Math.floor((Date.now() - 4 * HOUR) / HOUR) * HOUR;
    writeSegment(root(), records(rows, { start: a, step: 10_000, feedback: true, tag: 'a' }), a);
    const drifted = rows.map(r => ({ ...r, flipper_length_mm: r.flipper_length_mm === null ? null : Number(r.flipper_length_mm) + 25 }));
    writeSegment(root(), records(drifted, { start: a + HOUR, step: 10_000, tag: 'b' }), a + HOUR);

    const spec = vscode.Uri.file(specFile);
    const panel = await vscode.commands.executeCommand<MonitorPanel>('edd.openMonitoring', spec);
    assert.ok(panel, 'the command returned the panel');
    await panelWhen(panel, () => panel.sent.some(m => m.type === 'result' || m.type === 'error'), 'the monitoring result');
    const error = panel.sent.find(m => m.type === 'error');
    assert.ok(!error, `the panel got an error: ${JSON.stringify(error)}`);
    const result = panel.current!;
    assert.strictEqual(result.model, 'penguins');
    assert.ok(result.windows.length >= 2, `windows: ${result.windows.length}`);
    const drift = result.alerts.findIndex(x => x.metric === 'drift_psi' && x.column === 'flipper_length_mm');
    assert.ok(drift >= 0, `a drift alert on flipper_length_mm among ${JSON.stringify(result.alerts.map(x => `${x.metric}:${x.column ?? ''}`))}`);

    // The alert is a Problem on the threshold that fired: `psi` of `monitoring.alerts.drift`.
    const problems = await monitorProblemsWhen(spec, ds => ds.some(d => d.code === 'drift_psi'));
    const doc = await vscode.workspace.openTextDocument(spec);
    const psi = byCode(problems, 'drift_psi');
    assert.strictEqual(psi.severity, vscode.DiagnosticSeverity.Warning);
    assert.strictEqual(psi.range.start.line, rangeOf(doc, 'drift: { psi: 0.2').start.line, 'on the drift line of monitoring.alerts');
    sameRange(psi.range, rangeOf(doc, 'psi'), 'the drift_psi Problem (the `psi` key under alerts.drift)');
    assert.match(psi.message, /flipper_length_mm/);

    // EDD: Create Experiment from Alert writes a config the validator accepts.
    const made = await vscode.commands.executeCommand<vscode.Uri>('edd.createExperimentFromAlert', { specUri: spec.toString(), index: drift });
    assert.ok(made, 'the command returned the new config');
    created.push(made.fsPath);
    assert.ok(fs.existsSync(made.fsPath), made.fsPath);
    assert.match(path.relative(root(), made.fsPath), /^experiments[\\/]penguins-drift_psi-flipper_length_mm\.yaml$/);
    const ds = await diagnosticsWhen(made, () => true);
    assert.deepStrictEqual(ds.filter(d => d.severity === vscode.DiagnosticSeverity.Error).map(d => `${d.code}: ${d.message}`), [], 'the experiment made from the alert validates');
    panel.dispose();
  });
});

describe('service specs: diagnostics at the exact key', () => {
  it('a wrong type and an unknown key in a *.service.yaml are errors on those keys', async function () {
    this.timeout(60000);
    await activateEdd();
    const file = workspaceUri('other/bad.service.yaml');
    fs.writeFileSync(file.fsPath, [
      'model: penguins',
      'stage: production',
      'features: [a, b]',
      'monitoring:',
      '  window: 1h',
      '  alerts:',
      '    error_rate: 0.01',
      '    drift: { psi: "high" }',
      '  retention: 3',
      '',
    ].join('\n'));
    try {
      const doc = await vscode.workspace.openTextDocument(file);
      await vscode.window.showTextDocument(doc);
      const ds = await diagnosticsWhen(file, d => d.length >= 2);
      sameRange(byCode(ds, 'wrong-type').range, rangeOf(doc, '"high"'), 'wrong-type');
      sameRange(byCode(ds, 'unknown-key').range, rangeOf(doc, 'retention'), 'unknown-key');
      assert.match(byCode(ds, 'unknown-key').message, /`retention` in `monitoring`/);
      await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
    } finally {
      fs.rmSync(file.fsPath, { force: true });
    }
  });
});
