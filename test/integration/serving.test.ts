import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { CanaryStatus } from '../../src/core/serve/canary';
import type { ServedService, ServingController } from '../../src/extension/serve/servingController';
import type { ModelNode } from '../../src/extension/registry/modelsTree';
import { ADELIE, GENTOO } from '../unit/serve.fixtures';
import { repo } from '../unit/monitor.fixtures';
import { flippedModel } from '../unit/registryFixtures';
import { activateEdd, asked } from './helpers';

const MODEL = 'penguins-serve-it';
const SPEC = `model: ${MODEL}
stage: production
input: serve-it/penguins.data.yaml
reference: serve-it/reference.csv
features: [bill_length_mm, bill_depth_mm, flipper_length_mm, body_mass_g]
classes: [Adelie, Chinstrap, Gentoo]
`;

/** Enter on the quick pick's first item, as a user taking the offered default would. */
async function acceptFirst(): Promise<void> {
  await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
}

/** Waits until the status bar's text satisfies `ok`, refreshing it as its poll would. */
async function statusWhen(serving: ServingController, ok: (text: string) => boolean, timeoutMs = 20000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await serving.refresh();
    if (ok(serving.statusText)) return serving.statusText;
    if (Date.now() > deadline) throw new Error(`status bar text stayed ${JSON.stringify(serving.statusText)}`);
    await new Promise<void>(resolve => { const sub = serving.onDidChange(() => { sub.dispose(); resolve(); }); setTimeout(() => { sub.dispose(); resolve(); }, 500); });
  }
}

describe('serving: Start Serving, the status bar, Start Canary…, Canary Status, Stop', () => {
  const root = () => vscode.workspace.workspaceFolders![0].uri.fsPath;
  const created: string[] = [];
  after(async () => {
    const api = await activateEdd();
    await api.serving.stopAll();
    await vscode.commands.executeCommand('notifications.clearAll');
    for (const f of created) fs.rmSync(f, { recursive: true, force: true });
  });

  it('serves the production version on 127.0.0.1, shows it in the status bar, runs a canary of another version and stops', async function () {
    this.timeout(180000);
    const api = await activateEdd();
    const folder = vscode.workspace.workspaceFolders![0];
    // A registry with two versions of the fixture model, version 1 in production, in the workspace's own store.
    // (Version 2 is the fixture model with its weights negated: the same file twice would be one version.)
    fs.mkdirSync(path.join(root(), 'serve-it'), { recursive: true });
    created.push(path.join(root(), 'serve-it'));
    flippedModel(path.join(root(), 'serve-it/flipped.onnx'));
    const store = await api.stores.get(folder);
    for (const [experimentId, model] of [['serve-it-a', 'models/penguins.onnx'], ['serve-it-b', 'serve-it/flipped.onnx']]) {
      const r = await store.createRun({ experimentId, status: 'finished', startedAt: Date.now(), endedAt: Date.now() });
      await store.addArtifact({ runId: r.id, path: model, kind: 'model', sha256: null, size: null });
      await store.op('registerRun', { root: root(), runId: r.id, model: MODEL, actor: 'tester' });
    }
    await store.op('promote', { model: MODEL, ref: 1, to: 'production', actor: 'tester', reason: 'serve it', force: true });
    for (const f of ['penguins.data.yaml', 'reference.csv']) fs.copyFileSync(path.join(repo, 'examples/penguins/data', f), path.join(root(), 'serve-it', f));
    const spec = vscode.Uri.file(path.join(root(), 'serve-it.service.yaml'));
    fs.writeFileSync(spec.fsPath, SPEC);
    created.push(spec.fsPath, path.join(root(), '.edd/serving', MODEL));

    // Start Serving from the Models view's model: the one spec that serves it is found.
    const node = { kind: 'model', folder: folder.uri.toString(), model: MODEL };
    const served = await vscode.commands.executeCommand<ServedService>('edd.startServing', node);
    assert.ok(served, 'Start Serving returned the served service');
    assert.match(served.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.strictEqual(served.spec.fsPath, spec.fsPath);
    const res = await fetch(`${served.url}/v1/models/${MODEL}:predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ instances: [ADELIE, GENTOO] }) });
    const body = await res.json() as { model_version: number; predictions: Array<{ prediction: string }> };
    assert.strictEqual(res.status, 200, JSON.stringify(body));
    assert.strictEqual(body.model_version, 1);
    assert.strictEqual(body.predictions.length, 2);

    assert.strictEqual(await statusWhen(api.serving, t => t.includes('v1')), `$(server) ${MODEL} v1`);
    assert.ok(api.serving.statusTooltip.includes(served.url), api.serving.statusTooltip);
    // The model's node says it is served: Stop Serving and the canary commands are on its menu only then.
    const contextOf = async () => (await api.models.getTreeItem(node as ModelNode)).contextValue ?? '';
    assert.match(await contextOf(), /^edd\.model.*\.served$/);
    // A second Start Serving of the same model gives the running one back instead of a second server.
    assert.strictEqual(await vscode.commands.executeCommand<ServedService>('edd.startServing', spec), served);
    assert.strictEqual(api.serving.services.length, 1);

    // Start Canary… from the model: the version pick offers the non-production version first, then the defaults.
    const starting = vscode.commands.executeCommand<CanaryStatus>('edd.startCanary', node);
    for (const step of ['version', 'mode', 'percent', 'step', 'interval'] as const) {
      await asked(api.serving.steps, step);
      await acceptFirst();
    }
    const started = await starting;
    assert.ok(started, 'the server answered the canary request');
    assert.deepStrictEqual([started.state, started.version, started.share, started.plan.step, started.plan.interval], ['running', 2, 10, 10, '60s']);
    assert.strictEqual(await statusWhen(api.serving, t => t.includes('canary')), `$(server) ${MODEL} v1 · canary v2 10%`);

    const status = await vscode.commands.executeCommand<CanaryStatus>('edd.canaryStatus', node);
    assert.ok(status);
    assert.strictEqual(status.id, started.id);
    assert.deepStrictEqual([status.state, status.share], ['running', 10]);
    assert.deepStrictEqual(status.decisions.map(d => d.decision), ['start']);

    const stopped = await vscode.commands.executeCommand<CanaryStatus>('edd.stopCanary', node);
    assert.strictEqual(stopped?.state, 'stopped');
    assert.strictEqual(await statusWhen(api.serving, t => !t.includes('canary')), `$(server) ${MODEL} v1`);

    // A shadow: the second mode; no share or step is asked, production keeps answering every request.
    const shadowing = vscode.commands.executeCommand<CanaryStatus>('edd.startCanary', node);
    await asked(api.serving.steps, 'version');
    await acceptFirst();
    await asked(api.serving.steps, 'mode');
    await vscode.commands.executeCommand('workbench.action.quickOpenSelectNext');
    await acceptFirst();
    await asked(api.serving.steps, 'interval');
    await acceptFirst();
    const shadow = await shadowing;
    assert.deepStrictEqual([shadow?.state, shadow?.mode, shadow?.version, shadow?.share], ['running', 'shadow', 2, 0]);
    assert.strictEqual(await statusWhen(api.serving, t => t.includes('shadow')), `$(server) ${MODEL} v1 · shadow v2`);
    assert.strictEqual((await vscode.commands.executeCommand<CanaryStatus>('edd.stopCanary', node))?.state, 'stopped');
    await statusWhen(api.serving, t => !t.includes('shadow'));

    assert.strictEqual(await vscode.commands.executeCommand<boolean>('edd.stopServing', node), true);
    assert.ok(served.child.exitCode !== null || served.child.signalCode !== null, 'the server process ended');
    assert.strictEqual(api.serving.services.length, 0);
    assert.strictEqual(api.serving.statusText, '', 'the status bar item is hidden');
    assert.doesNotMatch(await contextOf(), /\.served$/, 'the model\'s node no longer says it is served');
    await assert.rejects(fetch(`${served.url}/v2/health/live`), 'nothing listens any more');
  });

  it('a server that cannot start is reported with the spec\'s name and its stderr; nothing stays served', async function () {
    this.timeout(60000);
    const api = await activateEdd();
    const spec = vscode.Uri.file(path.join(root(), 'serve-none.service.yaml'));
    fs.writeFileSync(spec.fsPath, `model: ${MODEL}-none\nstage: production\nfeatures: [bill_length_mm, bill_depth_mm, flipper_length_mm, body_mass_g]\n`);
    created.push(spec.fsPath);
    await assert.rejects(api.serving.start(spec), (e: Error) => {
      assert.match(e.message, /serve-none\.service\.yaml exited before it was ready \(exit code 2\)/);
      assert.match(e.message, new RegExp(`${MODEL}-none`), 'the server\'s own reason is quoted');
      return true;
    });
    assert.ok(!api.serving.services.some(s => s.model === `${MODEL}-none`), 'nothing of it is served');
    assert.ok(!api.serving.statusText.includes(`${MODEL}-none`), api.serving.statusText);
  });
});
