import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import type { ExperimentNode } from '../../src/extension/runs/experimentsTree';
import { activateEdd, experimentNode, when } from './helpers';

/** An MLflow file store written as MLflow 2/3 writes one: one experiment, two finished runs. */
function writeMlruns(root: string): { runIds: string[] } {
  const exp = path.join(root, '7');
  fs.mkdirSync(exp, { recursive: true });
  fs.writeFileSync(path.join(exp, 'meta.yaml'), [
    `artifact_location: file://${exp}`, 'creation_time: 1760000000000', "experiment_id: '7'", 'last_update_time: 1760000000000',
    'lifecycle_stage: active', 'name: iris-from-mlflow', '',
  ].join('\n'));
  const runIds = ['0a1b2c3d4e5f40718293a4b5c6d7e8f9', 'f9e8d7c6b5a44938271605f4e3d2c1b0'];
  runIds.forEach((id, i) => {
    const dir = path.join(exp, id);
    for (const sub of ['metrics', 'params', 'tags', 'artifacts']) fs.mkdirSync(path.join(dir, sub), { recursive: true });
    const start = 1760000100000 + i * 60000;
    fs.writeFileSync(path.join(dir, 'meta.yaml'), [
      `artifact_uri: file://${dir}/artifacts`, `end_time: ${start + 30000}`, "entry_point_name: ''", "experiment_id: '7'", 'lifecycle_stage: active',
      `run_id: ${id}`, `run_name: run-${i}`, `run_uuid: ${id}`, "source_name: ''", 'source_type: 4', "source_version: ''",
      `start_time: ${start}`, 'status: 3', 'tags: []', 'user_id: alice', '',
    ].join('\n'));
    fs.writeFileSync(path.join(dir, 'params/learning_rate'), i === 0 ? '0.01' : '0.1');
    fs.writeFileSync(path.join(dir, 'tags/mlflow.runName'), `run-${i}`);
    fs.writeFileSync(path.join(dir, 'metrics/accuracy'), `${start + 1000} 0.${70 + i * 10} 0\n${start + 2000} 0.${80 + i * 10} 1\n`);
  });
  return { runIds };
}

describe('MLflow: EDD: Import MLflow Runs… from an mlruns folder', () => {
  let dir: string;
  before(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edd-mlruns-')); });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('imports the runs (in the store worker) and they show in the Experiments view with their metrics and params', async function () {
    this.timeout(60000);
    const api = await activateEdd();
    const { runIds } = writeMlruns(dir);
    await vscode.commands.executeCommand('edd.importMlflow', vscode.Uri.file(dir));
    const store = await api.stores.get(vscode.workspace.workspaceFolders![0]);
    const imported = await store.listRuns({ experimentId: 'iris-from-mlflow' });
    assert.deepStrictEqual(imported.map(r => r.externalId).sort(), runIds.map(id => `mlflow:${id}`).sort(), 'both runs, keyed by their MLflow run id');
    assert.ok(imported.every(r => r.status === 'finished'), JSON.stringify(imported.map(r => r.status)));

    const runs = await when(api, async () => {
      const exp = await experimentNode(api, 'iris-from-mlflow');
      if (!exp) return undefined;
      const children = (await api.experiments.getChildren(exp)).filter((n): n is Extract<ExperimentNode, { kind: 'run' }> => n.kind === 'run');
      return children.length === 2 ? children : undefined;
    }, 'the imported experiment with two runs in the Experiments view');
    for (const run of runs) {
      const item = await api.experiments.getTreeItem(run);
      assert.match(String(item.description), /imported/, 'an imported run says so in the Experiments view');
    }
    const groups = await api.experiments.getChildren(runs[0]);
    const group = (name: string) => {
      const g = groups.find(x => x.kind === 'group' && x.group === name);
      assert.ok(g, `a ${name} group under the run`);
      return g;
    };
    const metrics = await api.experiments.getChildren(group('metrics'));
    const accuracy = metrics.find((m): m is Extract<ExperimentNode, { kind: 'metric' }> => m.kind === 'metric' && m.key === 'accuracy');
    assert.ok(accuracy, `an accuracy metric among ${JSON.stringify(metrics)}`);
    assert.ok([0.8, 0.9].includes(accuracy.value), String(accuracy.value));
    const params = await api.experiments.getChildren(group('params'));
    assert.ok(params.some(p => p.kind === 'param' && /learning_rate/.test(p.key)), JSON.stringify(params));

    // Importing again adds nothing (runs are matched by their MLflow run id).
    await vscode.commands.executeCommand('edd.importMlflow', vscode.Uri.file(dir));
    assert.strictEqual((await store.listRuns({ experimentId: 'iris-from-mlflow' })).length, 2);
  });
});
