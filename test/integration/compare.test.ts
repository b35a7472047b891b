import * as assert from 'assert';
import * as vscode from 'vscode';
import type { ComparePanel } from '../../src/extension/compare/panel';
import type { ExperimentNode } from '../../src/extension/runs/experimentsTree';
import { activateEdd, workspaceUri } from './helpers';

type RunNode = Extract<ExperimentNode, { kind: 'run' }>;

/** Resolve once the panel has received and sent what the test needs (checked on every message it posts). */
function panelWhen(panel: ComparePanel, check: () => boolean, what: string, timeoutMs = 30000): Promise<void> {
  return new Promise((resolve, reject) => {
    if (check()) return resolve();
    const timer = setTimeout(() => { sub.dispose(); reject(new Error(`timed out waiting for ${what}; trace ${JSON.stringify(panel.trace)}`)); }, timeoutMs);
    const sub = panel.onDidPost(() => {
      if (!check()) return;
      clearTimeout(timer);
      sub.dispose();
      resolve();
    });
  });
}

describe('compare: the comparison panel opened from the tree\'s multi-selection', () => {
  it('runs two configs, opens the panel on both runs, gets `ready` and sends the comparison rows', async function () {
    this.timeout(90000);
    const api = await activateEdd();
    const a = await api.runs.run({ uri: workspaceUri('experiments/pred-a.yaml'), progress: 'none' });
    const b = await api.runs.run({ uri: workspaceUri('experiments/pred-b.yaml'), progress: 'none' });
    assert.strictEqual(a.run.status, 'finished', a.run.error ?? '');
    assert.strictEqual(b.run.status, 'finished', b.run.error ?? '');
    const folder = vscode.workspace.workspaceFolders![0].uri.toString();
    const nodes: RunNode[] = [a, b].map(r => ({ kind: 'run', folder, runId: r.run.id, experimentId: r.run.experimentId }));
    const panel = await vscode.commands.executeCommand<ComparePanel>('edd.compareRuns', nodes[0], nodes);
    assert.ok(panel, 'the command returned the panel');
    await panelWhen(panel, () => panel.trace.received.includes('ready') && panel.trace.sent.includes('comparison'), 'ready → comparison');
    assert.strictEqual(panel.trace.received[0], 'ready', 'the webview spoke first');
    const c = panel.current!;
    assert.deepStrictEqual(c.runs.map(r => r.runId), [a.run.id, b.run.id]);
    assert.ok(c.metrics.some(m => m.key === 'accuracy' && m.bestRun === 1), 'the better run is marked best');
    const mc = c.significance.find(s => s.test.startsWith('mcnemar'))!;
    assert.strictEqual(mc.outcome, 'better', mc.verdict);
    assert.ok(c.costs.every(k => k.latency_p50_ms! > 0), JSON.stringify(c.costs));
    // The webview asks for curves; the host answers with every point of every run.
    await panelWhen(panel, () => panel.trace.received.includes('requestCurves') ? panel.trace.sent.includes('curves') : true, 'curves');
    panel.dispose();
  });
});

describe('compare: the link `edd compare --open` sends', () => {
  it('opens the panel for the runs and baseline the URI names', async function () {
    this.timeout(60000);
    const api = await activateEdd();
    const folder = vscode.workspace.workspaceFolders![0];
    const store = await api.stores.get(folder);
    const runs = (await store.listRuns({})).filter(r => r.experimentId.startsWith('exp_20250120_')).slice(0, 2);
    assert.strictEqual(runs.length, 2, 'the previous test recorded two prediction runs');
    const uri = vscode.Uri.parse(`${vscode.env.uriScheme}://edd.edd/compare?runs=${runs.map(r => r.id).join(',')}&baseline=${runs[1].id}`);
    const panel = api.compare.handleUri(uri)!;
    await panelWhen(panel, () => panel.trace.sent.includes('comparison'), 'comparison');
    assert.strictEqual(panel.current!.runs[panel.current!.baselineIndex].runId, runs[1].id);
    panel.dispose();
  });
});

describe('compare: live update while a compared run is still running', () => {
  it('sends a new comparison as the running run logs metrics', async function () {
    this.timeout(90000);
    const api = await activateEdd();
    const folder = vscode.workspace.workspaceFolders![0];
    const store = await api.stores.get(folder);
    const finished = (await store.listRuns({ status: 'finished' }))[0];
    let runningId: string | undefined;
    const pending = api.runs.run({ uri: workspaceUri('experiments/slow.yaml'), progress: 'none', onEvent: () => undefined });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the slow run did not start')), 30000);
      const sub = api.runs.onDidChangeActive(() => void store.listRuns({ experimentId: 'exp_20250110_002', status: 'running' }).then(([r]) => {
        if (r && !runningId) { runningId = r.id; clearTimeout(timer); sub.dispose(); resolve(); }
      }));
    });
    const uri = vscode.Uri.parse(`${vscode.env.uriScheme}://edd.edd/compare?runs=${finished.id},${runningId}`);
    const panel = api.compare.handleUri(uri)!;
    await panelWhen(panel, () => panel.trace.sent.filter(t => t === 'comparison').length >= 2, 'a second comparison while the run logs metrics');
    const loss = panel.current!.metrics.find(m => m.key === 'loss')!;
    assert.ok(loss.final[1] !== null, 'the running run has metrics in the comparison');
    api.runs.cancel(runningId!);
    assert.strictEqual((await pending).run.status, 'cancelled');
    panel.dispose();
  });
});
