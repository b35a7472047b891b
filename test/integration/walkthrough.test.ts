import * as assert from 'assert';
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import { activateEdd, EXTENSION_ID } from './helpers';

interface Step {
  id: string;
  title: string;
  description: string;
  media: { markdown?: string };
  completionEvents: string[];
}

/** The commands the walkthrough takes the user through, in order. */
const STEP_COMMANDS = ['edd.createExampleProject', 'edd.installPythonHelper', 'edd.runExperiment', 'edd.compareRuns', 'edd.checkPromotion', 'edd.promoteVersion'];

describe('Getting started walkthrough', function () {
  this.timeout(120000);
  const ext = () => {
    const e = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(e);
    return e;
  };
  let tmp: string | undefined;

  after(() => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('is contributed with one step per command, each with its button, its completion event and its media (English and Korean)', async () => {
    await activateEdd();
    const walkthroughs = (ext().packageJSON as { contributes: { walkthroughs: Array<{ id: string; title: string; steps: Step[] }> } }).contributes.walkthroughs;
    assert.strictEqual(walkthroughs.length, 1);
    const [walkthrough] = walkthroughs;
    assert.ok(walkthrough.title && !walkthrough.title.startsWith('%'), `title localised: ${walkthrough.title}`);
    const registered = new Set(await vscode.commands.getCommands(true));
    assert.deepStrictEqual(walkthrough.steps.map(s => s.completionEvents), STEP_COMMANDS.map(c => [`onCommand:${c}`]));
    const ko = JSON.parse(fs.readFileSync(path.join(ext().extensionPath, 'package.nls.ko.json'), 'utf8')) as Record<string, string>;
    for (const [i, step] of walkthrough.steps.entries()) {
      const command = STEP_COMMANDS[i];
      assert.ok(registered.has(command), `${step.id}: ${command} is registered`);
      assert.ok(step.description.includes(`(command:${command})`), `${step.id}: its description has the ${command} button`);
      const media = step.media.markdown;
      assert.ok(media && !media.startsWith('%'), `${step.id}: media ${media}`);
      assert.ok(fs.existsSync(path.join(ext().extensionPath, media)), `${step.id}: ${media} exists`);
      // The Korean package.nls names the .ko.md twin of each media file, and translates the title and description.
      const key = `walkthrough.${step.id}`;
      assert.strictEqual(ko[`${key}.media`], media.replace(/\.md$/, '.ko.md'), `${key}.media in Korean`);
      assert.ok(fs.existsSync(path.join(ext().extensionPath, ko[`${key}.media`])), `${ko[`${key}.media`]} exists`);
      assert.ok(ko[`${key}.title`] && ko[`${key}.description`]?.includes(`(command:${command})`), `${key} has a Korean title and description with the button`);
    }
  });

  it('EDD: Create Example Project makes a folder that validates and runs on its own', async () => {
    tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'edd-it-example-')));
    const target = path.join(tmp, 'my-project');
    const made = await vscode.commands.executeCommand<vscode.Uri | undefined>('edd.createExampleProject', { example: 'penguins', target: vscode.Uri.file(target), open: false });
    assert.strictEqual(made?.fsPath, target);
    for (const f of ['train.js', 'penguins.policy.yaml', 'experiments/baseline.yaml', 'experiments/higher-lr.yaml', 'data/penguins.json', 'data/eval.csv']) {
      assert.ok(fs.existsSync(path.join(target, 'examples', 'penguins', f)), `examples/penguins/${f} is in the copy`);
    }
    // The copy lives under the OS temp folder: no node_modules of this repository above it, so the run proves that
    // the example carries everything it needs.
    const cli = path.join(ext().extensionPath, 'dist', 'cli.js');
    // Not spawnSync: a blocked extension host stops answering the workbench.
    const edd = (...args: string[]) => new Promise<{ status: number; stdout: string; stderr: string }>(resolve => {
      execFile(process.execPath, [cli, ...args], { cwd: target, encoding: 'utf8', timeout: 90000, env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' } },
        (err, stdout, stderr) => resolve({ status: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }));
    });
    const validate = await edd('validate', 'examples', '--json');
    assert.strictEqual(validate.status, 0, `edd validate: ${validate.stdout}${validate.stderr}`);
    assert.deepStrictEqual(JSON.parse(validate.stdout), []);
    for (const config of ['baseline', 'higher-lr']) {
      const run = await edd('run', `examples/penguins/experiments/${config}.yaml`, '--quiet');
      assert.strictEqual(run.status, 0, `edd run ${config}: ${run.stdout}${run.stderr}`);
    }
    const runs = JSON.parse((await edd('runs', '--json')).stdout) as Array<{ status: string; final_metrics: Record<string, number> }>;
    assert.deepStrictEqual(runs.map(r => r.status), ['finished', 'finished']);
    for (const r of runs) assert.ok(r.final_metrics.test_f1_macro >= 0.9, JSON.stringify(r.final_metrics));
  });

  it('refuses a folder that is not empty, and leaves it as it was', async () => {
    assert.ok(tmp);
    const target = path.join(tmp, 'my-project');
    const config = path.join(target, 'examples', 'penguins', 'experiments', 'baseline.yaml');
    fs.writeFileSync(config, '# mine\n');
    const made = await vscode.commands.executeCommand('edd.createExampleProject', { example: 'penguins', target: vscode.Uri.file(target), open: false });
    assert.strictEqual(made, undefined);
    assert.strictEqual(fs.readFileSync(config, 'utf8'), '# mine\n');
  });
});
