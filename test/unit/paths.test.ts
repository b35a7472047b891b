import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { validatePolicy } from '../../src/core/checks/policy';
import { placeProblems, validateExperiment, type Problem } from '../../src/core/config';
import { readRunSpec, ConfigNotRunnableError } from '../../src/core/runs';
import { confinePath } from '../../src/core/runner/paths';
import { runGate } from '../../src/core/checks/gate';
import { readDataset } from '../../src/core/checks/dataset';
import { PolicyError } from '../../src/core/checks/policy';
import { pathsWorkspace } from './pathsWorkspace';

const repo = path.resolve(__dirname, '../../..');
const fixture = (name: string) => fs.readFileSync(path.join(repo, 'test/fixtures/paths', name), 'utf8');

/** `line:col code` of each problem, as `edd validate` prints them. */
const where = (text: string, problems: Problem[]) => placeProblems(text, problems).map(p => `${p.line}:${p.column} ${p.code}`);

describe('confinePath: a path a YAML file names stays inside the workspace, symbolic links included', () => {
  let w: ReturnType<typeof pathsWorkspace>;
  before(() => { w = pathsWorkspace(); });
  after(() => fs.rmSync(w.base, { recursive: true, force: true }));

  it('accepts relative paths inside, absolute paths inside, and paths that go out and come back in', () => {
    for (const p of ['data/eval.csv', path.join(w.ws, 'data/eval.csv'), '../ws/data/eval.csv', './data/../data/eval.csv']) {
      const c = confinePath(w.ws, p);
      assert.deepStrictEqual(c, { inside: true, abs: path.join(w.ws, 'data/eval.csv'), real: path.join(w.ws, 'data/eval.csv') }, p);
    }
  });

  it('refuses `..` and absolute paths that leave the workspace', () => {
    assert.deepStrictEqual(confinePath(w.ws, '../outside/secret.csv'), { inside: false, abs: path.join(w.outside, 'secret.csv') });
    assert.deepStrictEqual(confinePath(w.ws, '/etc/passwd'), { inside: false, abs: '/etc/passwd' });
    assert.strictEqual(confinePath(w.ws, 'data/../../outside/secret.csv').inside, false);
    assert.strictEqual(confinePath(w.ws, '..').inside, false);
  });

  it('refuses a symbolic link inside that leads outside: to a file, through a folder, and when the target does not exist', () => {
    assert.deepStrictEqual(confinePath(w.ws, 'data/secret-link.csv'), { inside: false, abs: path.join(w.ws, 'data/secret-link.csv'), via: path.join(w.outside, 'secret.csv') });
    assert.deepStrictEqual(confinePath(w.ws, 'data/link/secret.csv'), { inside: false, abs: path.join(w.ws, 'data/link/secret.csv'), via: path.join(w.outside, 'secret.csv') });
    // Not there yet: the folder decides, and a dangling link counts by its target.
    assert.strictEqual(confinePath(w.ws, 'data/link/later.csv').inside, false);
    assert.deepStrictEqual(confinePath(w.ws, 'data/dangling.csv'), { inside: false, abs: path.join(w.ws, 'data/dangling.csv'), via: path.join(w.outside, 'not-yet.csv') });
  });

  it('follows a symbolic link that stays inside, and accepts a file that does not exist yet', () => {
    assert.deepStrictEqual(confinePath(w.ws, 'data/inner-link.csv'), { inside: true, abs: path.join(w.ws, 'data/inner-link.csv'), real: path.join(w.ws, 'data/eval.csv') });
    assert.deepStrictEqual(confinePath(w.ws, 'data/new/file.csv'), { inside: true, abs: path.join(w.ws, 'data/new/file.csv'), real: path.join(w.ws, 'data/new/file.csv') });
    // `link/..` is normalised before anything is opened, so it names the workspace's own folder, not the link's parent.
    assert.deepStrictEqual(confinePath(w.ws, 'data/link/../eval.csv'), { inside: true, abs: path.join(w.ws, 'data/eval.csv'), real: path.join(w.ws, 'data/eval.csv') });
  });

  it('accepts a workspace opened through a symbolic link, with paths written either way', () => {
    const alias = path.join(w.base, 'ws-alias');
    fs.symlinkSync(w.ws, alias);
    assert.strictEqual(confinePath(alias, 'data/eval.csv').inside, true);
    assert.strictEqual(confinePath(alias, path.join(w.ws, 'data/eval.csv')).inside, true);
    assert.strictEqual(confinePath(alias, 'data/link/secret.csv').inside, false);
  });

  it('resolves against another base folder when one is given', () => {
    assert.strictEqual(confinePath(w.ws, 'eval.csv', path.join(w.ws, 'data')).inside, true);
    assert.strictEqual(confinePath(w.ws, '../../outside/secret.csv', path.join(w.ws, 'data')).inside, false);
  });
});

describe('validation: paths outside the workspace are problems at the value', () => {
  let w: ReturnType<typeof pathsWorkspace>;
  before(() => { w = pathsWorkspace(); });
  after(() => fs.rmSync(w.base, { recursive: true, force: true }));

  it('a policy: data.eval, data.reference, predictions and a data_schema file, each at its line:col', () => {
    const text = fixture('outside.policy.yaml');
    const { problems, policy } = validatePolicy(text, { root: w.ws });
    assert.strictEqual(policy, undefined);
    assert.deepStrictEqual(where(text, problems), ['3:9 path-outside-workspace', '4:14 path-outside-workspace', '6:14 path-outside-workspace', '9:26 path-outside-workspace']);
    assert.match(problems[0].message, /`data\.eval` "\.\.\/outside\/secret\.csv" is outside the workspace/);
    assert.match(problems[2].message, /`predictions` "data\/link\/secret\.csv" leads outside the workspace through a symbolic link/);
    assert.match(problems[3].message, /`checks\[2\]\.data_schema\.file`/);
    assert.strictEqual(text.slice(problems[3].offset, problems[3].offset + problems[3].length), '"../outside/schema.data.yaml"');
  });

  it('a policy whose paths stay inside (out and back in, a link inside, an absolute path inside) has no problem', () => {
    const text = fixture('inside.policy.yaml');
    assert.deepStrictEqual(validatePolicy(text, { root: w.ws }).problems, []);
    const absolute = text.replace('eval: data/eval.csv', `eval: ${path.join(w.ws, 'data/eval.csv')}`);
    assert.deepStrictEqual(validatePolicy(absolute, { root: w.ws }).problems, []);
  });

  it('without a workspace root, a policy still may not climb out with `..`', () => {
    const text = fixture('outside.policy.yaml');
    assert.deepStrictEqual(where(text, validatePolicy(text).problems), ['3:9 path-outside-workspace', '9:26 path-outside-workspace']);
  });

  it('an experiment config: data.files and run.cwd, symbolic links included', () => {
    const text = fixture('outside.experiment.yaml');
    const { problems } = validateExperiment(text, { root: w.ws });
    assert.deepStrictEqual(where(text, problems), ['12:9 path-outside-workspace', '13:9 path-outside-workspace', '16:10 cwd-outside-workspace']);
    assert.match(problems[0].message, /`data\.files\[2\]` "\.\.\/outside\/secret\.csv" is outside the workspace/);
    assert.match(problems[2].message, /`run\.cwd` "data\/link" leads outside the workspace through a symbolic link/);
    // No root (a file outside any workspace folder): only what is certain without one.
    assert.deepStrictEqual(where(text, validateExperiment(text).problems), ['12:9 path-outside-workspace']);
  });

  it('a run is refused before it starts, with the same problems', () => {
    const text = fixture('outside.experiment.yaml');
    assert.throws(() => readRunSpec(text, 'experiments/outside.yaml', w.ws), (e: Error) => {
      assert.ok(e instanceof ConfigNotRunnableError);
      assert.match(e.message, /experiments\/outside\.yaml:13:9 path-outside-workspace/);
      assert.match(e.message, /experiments\/outside\.yaml:16:10 cwd-outside-workspace/);
      return true;
    });
  });
});

describe('at run time: the gate refuses before it opens a file outside the workspace', () => {
  let w: ReturnType<typeof pathsWorkspace>;
  before(() => { w = pathsWorkspace(); });
  after(() => fs.rmSync(w.base, { recursive: true, force: true }));

  it('a policy validated without a root (as the editor hands it over) is refused, naming the policy file and the key', async () => {
    const text = fixture('outside.policy.yaml').replace('reference: /etc/passwd', 'reference: data/reference.csv')
      .replace('../outside/secret.csv', 'data/secret-link.csv').replace('"../outside/schema.data.yaml"', 'data/penguins.data.yaml');
    const { policy } = validatePolicy(text);
    assert.ok(policy, 'valid without a root: the links are only found against the workspace');
    await assert.rejects(runGate(path.join(w.ws, 'p.policy.yaml'), { root: w.ws, policy }), (e: Error) => {
      assert.ok(e instanceof PolicyError, String(e));
      assert.match(e.message, /^p\.policy\.yaml is not a valid promotion policy/);
      assert.match(e.message, /path-outside-workspace `data\.eval` "data\/secret-link\.csv" leads outside the workspace/);
      assert.match(e.message, /path-outside-workspace `predictions` "data\/link\/secret\.csv" leads outside/);
      assert.doesNotMatch(e.message, /TOPSECRET/);
      return true;
    });
  });

  it('checks given in code (not from the policy file) are held to the same rule', async () => {
    const { policy } = validatePolicy('data: { eval: data/eval.csv, label: species }\nchecks:\n  - metric: { name: accuracy, min: 0 }\n');
    await assert.rejects(runGate(path.join(w.ws, 'p.policy.yaml'), { root: w.ws, policy, checks: [{ kind: 'data_schema', spec: { file: '../outside/schema.data.yaml' } }] }),
      /path-outside-workspace `checks\[1\]\.data_schema\.file` "\.\.\/outside\/schema\.data\.yaml" is outside the workspace/);
  });

  it('readDataset with a root refuses a file outside it, and opens a link inside at its target', async () => {
    await assert.rejects(readDataset(path.join(w.ws, 'data/link/secret.csv'), { root: w.ws, shown: 'data/link/secret.csv' }),
      /^DatasetError: data\/link\/secret\.csv: outside the workspace/);
    const ds = await readDataset(path.join(w.ws, 'data/inner-link.csv'), { root: w.ws, label: 'species' });
    assert.ok(ds.rows > 0);
  });
});
