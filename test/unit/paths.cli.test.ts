import * as assert from 'assert';
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { RunStore } from '../../src/core/store';
import { pathsWorkspace } from './pathsWorkspace';

const repo = path.resolve(__dirname, '../../..');

function edd(args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise(resolve => {
    execFile(process.execPath, [path.join(repo, 'dist/cli.js'), ...args], { cwd }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

/** A policy that copies the `secret` column of its evaluation data into the evidence of a failed rule. */
const leaky = (evalPath: string, extra = '') => `data:
  eval: ${evalPath}
  label: species
  features: [bill_length_mm, bill_depth_mm, flipper_length_mm, body_mass_g]
checks:
  - rule: { when: "island == 'Torgersen'", expect: "secret == 'x'" }
${extra}`;

describe('paths outside the workspace, through the real `edd` process', function () {
  this.timeout(60000);
  let w: ReturnType<typeof pathsWorkspace>;
  before(() => {
    w = pathsWorkspace();
    fs.copyFileSync(path.join(repo, 'test/fixtures/paths/outside.policy.yaml'), path.join(w.ws, 'outside.policy.yaml'));
    fs.copyFileSync(path.join(repo, 'test/fixtures/workspace/models/penguins.onnx'), path.join(w.ws, 'model.onnx'));
  });
  after(() => fs.rmSync(w.base, { recursive: true, force: true }));

  it('`edd validate` exits 1 and prints each path at file:line:col', async () => {
    const r = await edd(['validate', 'outside.policy.yaml'], w.ws);
    assert.strictEqual(r.code, 1, r.stdout + r.stderr);
    const lines = r.stdout.trim().split('\n').map(l => l.split(' ').slice(0, 3).join(' '));
    assert.deepStrictEqual(lines, [
      'outside.policy.yaml:3:9 error path-outside-workspace',
      'outside.policy.yaml:4:14 error path-outside-workspace',
      'outside.policy.yaml:6:14 error path-outside-workspace',
      'outside.policy.yaml:9:26 error path-outside-workspace',
    ]);
  });

  for (const [how, evalPath] of [
    ['a relative path with ..', '../outside/secret.csv'],
    ['an absolute path', '<outside>/secret.csv'],
    ['a symbolic link to a file', 'data/secret-link.csv'],
    ['a symbolic link to a folder', 'data/link/secret.csv'],
  ]) {
    it(`\`edd gate\` refuses data.eval as ${how} (exit 2): no secret in the output or the store`, async () => {
      const storeFile = path.join(w.ws, '.edd/edd.sqlite');
      fs.rmSync(path.join(w.ws, '.edd'), { recursive: true, force: true });
      const store = await RunStore.open(storeFile);
      store.upsertExperiment({ id: 'exp_20250101_001' }); // a store on disk, so the gate would record its report
      await store.save();
      await store.close();
      fs.writeFileSync(path.join(w.ws, 'leaky.policy.yaml'), leaky(evalPath.replace('<outside>', w.outside)));
      const r = await edd(['gate', 'leaky.policy.yaml', '--onnx', 'model.onnx', '--json'], w.ws);
      assert.strictEqual(r.code, 2, r.stdout + r.stderr);
      assert.match(r.stderr, /leaky\.policy\.yaml:2:9 path-outside-workspace `data\.eval`/);
      assert.doesNotMatch(r.stdout + r.stderr, /TOPSECRET/);
      assert.doesNotMatch(fs.readFileSync(storeFile).toString('latin1'), /TOPSECRET/);
      const after = await RunStore.open(storeFile, { readOnly: true });
      try {
        assert.deepStrictEqual(after.listGateReports(), []);
      } finally {
        await after.close();
      }
    });
  }

  it('`edd gate` refuses a data_schema file outside the workspace (exit 2)', async () => {
    fs.writeFileSync(path.join(w.ws, 'schema.policy.yaml'), leaky('data/eval.csv', '  - data_schema: { file: data/link/schema.data.yaml }\n'));
    const r = await edd(['gate', 'schema.policy.yaml', '--onnx', 'model.onnx'], w.ws);
    assert.strictEqual(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /schema\.policy\.yaml:7:26 path-outside-workspace `checks\[2\]\.data_schema\.file` "data\/link\/schema\.data\.yaml" leads outside the workspace/);
    assert.doesNotMatch(r.stdout + r.stderr, /TOPSECRET/);
  });

  it('`edd gate` still reads data through a symbolic link that stays inside', async () => {
    fs.writeFileSync(path.join(w.ws, 'inner.policy.yaml'), leaky('data/inner-link.csv').replace("secret == 'x'", "pred != 'nothing'"));
    const r = await edd(['gate', 'inner.policy.yaml', '--onnx', 'model.onnx', '--no-record'], w.ws);
    assert.strictEqual(r.code, 0, r.stdout + r.stderr);
  });
});
