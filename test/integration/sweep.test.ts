import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { SweepResult } from '../../src/core/sweep';
import type { ExperimentNode } from '../../src/extension/runs/experimentsTree';
import { activateEdd, experimentNode, when, workspaceUri } from './helpers';

const repo = path.resolve(__dirname, '../../..');

describe('sweeps: EDD: Run Sweep on a config with a `sweep:` block', () => {
  it('runs every trial (in the store worker) and the Experiments view shows one sweep node holding its runs', async function () {
    this.timeout(120000);
    const api = await activateEdd();
    fs.copyFileSync(path.join(repo, 'test/fixtures/sweep/train.js'), workspaceUri('scripts/train-sweep.js').fsPath);
    const t0 = Date.now();
    const result = await vscode.commands.executeCommand<SweepResult>('edd.runSweep', workspaceUri('experiments/sweep-small.yaml'));
    const ms = Date.now() - t0;
    assert.ok(result, 'the sweep ran');
    assert.strictEqual(result.total, 4);
    assert.strictEqual(result.skipped, 0);
    const outcomes = [...result.outcomes.values()];
    assert.deepStrictEqual(outcomes.map(o => o.status), ['finished', 'finished', 'finished', 'finished'], JSON.stringify(outcomes));
    console.log(`      sweep of 4 trials: ${ms} ms`);

    const sweep = await when(api, async () => {
      const exp = await experimentNode(api, 'exp_20260101_002');
      if (!exp) return undefined;
      const children = await api.experiments.getChildren(exp);
      return children.length === 1 && children[0].kind === 'sweep' ? children[0] : undefined;
    }, 'a sweep node under exp_20260101_002');
    assert.strictEqual(sweep.sweepId, result.sweepId);
    const item = await api.experiments.getTreeItem(sweep);
    assert.ok(String(item.label).length > 0);
    assert.strictEqual(item.description, '4 done · 0 running · 0 failed of 4');
    const runs = (await api.experiments.getChildren(sweep)).filter((n): n is Extract<ExperimentNode, { kind: 'run' }> => n.kind === 'run');
    assert.strictEqual(runs.length, 4, 'the sweep node holds its four runs');
    const store = await api.stores.get(vscode.workspace.workspaceFolders![0]);
    for (const n of runs) {
      const run = await store.getRun(n.runId);
      assert.strictEqual(run?.status, 'finished');
      assert.strictEqual(run?.tags.sweep_id, result.sweepId);
    }
  });
});
