import * as assert from 'assert';
import { execFile } from 'child_process';
import * as path from 'path';
import * as vscode from 'vscode';
import type { EddApi } from '../../src/extension/extension';
import type { ExperimentNode } from '../../src/extension/runs/experimentsTree';
import type { ExecuteResult } from '../../src/core/runs';
import { activateEdd, experimentNode, when, workspaceUri } from './helpers';

const root = path.resolve(__dirname, '../../..');

async function runNodes(api: EddApi, id: string): Promise<Array<Extract<ExperimentNode, { kind: 'run' }>>> {
  const exp = await experimentNode(api, id);
  if (!exp) return [];
  return (await api.experiments.getChildren(exp)).filter((n): n is Extract<ExperimentNode, { kind: 'run' }> => n.kind === 'run');
}

describe('runs: run a config from the editor, see it in the Experiments tree', () => {
  let api: EddApi;
  before(async () => {
    api = await activateEdd();
  });

  it('runs a config by command and records it with its metrics, params and artifacts', async function () {
    this.timeout(60000);
    const uri = workspaceUri('experiments/quick.yaml');
    const result = await vscode.commands.executeCommand<ExecuteResult>('edd.runExperiment', uri);
    assert.ok(result, 'the command returned the run');
    assert.strictEqual(result.run.status, 'finished', result.run.error ?? '');
    assert.strictEqual(result.finalMetrics.val_accuracy, 0.8);
    assert.strictEqual(result.run.params.optimizer, 'sgd');

    const runs = await when(api, async () => {
      const r = await runNodes(api, 'exp_20250110_001');
      return r.length ? r : undefined;
    }, 'the run in the tree');
    const item = await api.experiments.getTreeItem(runs[0]);
    assert.match(String(item.description), /val_accuracy 0\.8/);
    assert.strictEqual(item.contextValue, 'edd.run.finished');
    const groups = await api.experiments.getChildren(runs[0]);
    const metrics = await api.experiments.getChildren(groups.find(g => g.kind === 'group' && g.group === 'metrics'));
    assert.deepStrictEqual(metrics.map(m => (m.kind === 'metric' ? `${m.key}=${m.value}@${m.step}` : '')), ['loss=0.3333333333333333@3', 'val_accuracy=0.8@3']);
    const artifacts = await api.experiments.getChildren(groups.find(g => g.kind === 'group' && g.group === 'artifacts'));
    assert.ok(artifacts.some(a => a.kind === 'artifact' && a.path.endsWith('model.bin') && a.size === 18), JSON.stringify(artifacts));
    const resolved = await api.experiments.resolveTreeItem(item, runs[0]);
    assert.match((resolved.tooltip as vscode.MarkdownString).value, /optimizer/);
  });

  it('cancels a running run from the tree and records it as cancelled', async function () {
    this.timeout(60000);
    const uri = workspaceUri('experiments/slow.yaml');
    const pending = vscode.commands.executeCommand<ExecuteResult>('edd.runExperiment', uri);
    const running = await when(api, async () => {
      const r = await runNodes(api, 'exp_20250110_002');
      for (const n of r) {
        if (!api.runs.isRunning(n.runId)) continue;
        const item = await api.experiments.getTreeItem(n);
        const metrics = await api.experiments.getChildren({ kind: 'group', folder: n.folder, runId: n.runId, group: 'metrics' });
        if (item.contextValue === 'edd.run.running' && metrics.length) return n;
      }
      return undefined;
    }, 'a running run with live metrics');
    assert.strictEqual(await vscode.commands.executeCommand('edd.cancelRun', running), true);
    const result = await pending;
    assert.strictEqual(result.run.status, 'cancelled');
    const item = await api.experiments.getTreeItem(running);
    assert.strictEqual(item.contextValue, 'edd.run.cancelled');
  });

  it('shows a run that the CLI recorded in the same store (another process)', async function () {
    this.timeout(60000);
    const before = (await runNodes(api, 'exp_20250110_001')).length;
    const folder = vscode.workspace.workspaceFolders![0].uri.fsPath;
    const cli = new Promise<string>((resolve, reject) => {
      execFile(process.execPath, [path.join(root, 'dist/cli.js'), 'run', 'experiments/quick.yaml', '--json'], { cwd: folder }, (err, stdout, stderr) => {
        if (err) reject(new Error(`${err.message}\n${stderr}`));
        else resolve(stdout);
      });
    });
    const out = JSON.parse(await cli) as { run_id: string; status: string };
    assert.strictEqual(out.status, 'finished');
    const runs = await when(api, async () => {
      const r = await runNodes(api, 'exp_20250110_001');
      return r.length > before && r.some(n => n.runId === out.run_id) ? r : undefined;
    }, 'the CLI run in the tree');
    assert.ok(runs.length >= 2);
  });

  it('reproduces a run from its config snapshot and deletes a run', async function () {
    this.timeout(60000);
    const [latest] = await runNodes(api, 'exp_20250110_001');
    const repro = await vscode.commands.executeCommand<ExecuteResult>('edd.reproduceRun', latest, false);
    assert.strictEqual(repro.run.status, 'finished');
    assert.strictEqual(repro.run.params.reproduces, latest.runId);
    assert.strictEqual(repro.finalMetrics.val_accuracy, 0.8);
    const count = (await runNodes(api, 'exp_20250110_001')).length;
    const deleted = await vscode.commands.executeCommand<number>('edd.deleteRun', latest, [latest], false);
    assert.strictEqual(deleted, 1);
    await when(api, async () => ((await runNodes(api, 'exp_20250110_001')).length === count - 1 ? true : undefined), 'the deleted run to leave the tree');
  });

  it('provides an `edd` task per config that runs it and exits with its code', async function () {
    this.timeout(60000);
    const tasks = await vscode.tasks.fetchTasks({ type: 'edd' });
    const task = tasks.find(t => (t.definition as { config?: string }).config === 'experiments/quick.yaml');
    assert.ok(task, `tasks: ${tasks.map(t => t.name).join(', ')}`);
    const ended = new Promise<number | undefined>(resolve => {
      const sub = vscode.tasks.onDidEndTaskProcess(e => {
        if (e.execution.task.name === task.name) {
          sub.dispose();
          resolve(e.exitCode);
        }
      });
    });
    await vscode.tasks.executeTask(task);
    assert.strictEqual(await ended, 0);
  });

  it('stays responsive with 10,000 runs: 100 per page, then "Show more runs…"', async function () {
    this.timeout(120000);
    const folder = vscode.workspace.workspaceFolders![0];
    const store = await api.stores.get(folder);
    const t0 = Date.now();
    // Sent all at once: the worker answers in order, and one round trip per run would measure the messages.
    const runs = await Promise.all(Array.from({ length: 10000 }, (_, i) => store.createRun({ experimentId: 'exp_20250111_001', status: 'finished', params: { i }, durationMs: 1000 + i })));
    await store.addMetrics(runs.map((r, i) => ({ runId: r.id, key: 'val_accuracy', step: 1, value: (i % 100) / 100 })));
    const created = Date.now() - t0;
    let t = Date.now();
    const roots = await api.experiments.getChildren();
    const rootMs = Date.now() - t;
    const exp = roots.find(n => n.kind === 'experiment' && n.experimentId === 'exp_20250111_001')!;
    assert.ok(exp, 'the experiment with 10,000 runs is listed');
    t = Date.now();
    const page = await api.experiments.getChildren(exp);
    const items = await Promise.all(page.map(n => api.experiments.getTreeItem(n)));
    const pageMs = Date.now() - t;
    assert.strictEqual(page.filter(n => n.kind === 'run').length, 100);
    assert.strictEqual(page[page.length - 1].kind, 'more');
    assert.ok(items.slice(0, 100).every(i => /val_accuracy/.test(String(i.description))));
    await vscode.commands.executeCommand('edd.showMoreRuns', page[page.length - 1]);
    const twoPages = await api.experiments.getChildren(exp);
    assert.strictEqual(twoPages.filter(n => n.kind === 'run').length, 200);
    console.log(`      10,000 runs: created in ${created} ms; first level ${rootMs} ms; first page of 100 runs with their items ${pageMs} ms`);
  });
});
