// edd codegen: hyperparameter types inferred across configs, the Python module run against the real client in
// .venv's Python, the TypeScript compiled with the project's tsc (including a wrong use that must not compile).
import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { main } from '../../src/cli/main';
import type { Io } from '../../src/cli/io';
import { inferParameters, missingParameters, parameterKeys, readGeneratedHeader } from '../../src/core/codegen';

const root = path.resolve(__dirname, '../../..');
const venvPython = path.join(root, '.venv/bin/python');
const python = fs.existsSync(venvPython) ? venvPython : 'python3';
const tsc = path.join(root, 'node_modules/typescript/bin/tsc');

const config = (id: string, params: string) =>
  `experiment:\n  id: "${id}"\n  name: "n"\n  hypothesis: "h"\n  parameters:\n    model_type: "rf"\n    learning_rate: 0.1\n${params}`;

const A = config('exp_20250101_001', '    n_estimators: 100\n    max_depth: 3\n    criterion: gini\n    layers: [64, 32]\n    use_bias: true\n    alpha: 1\n');
const B = config('exp_20250101_002', '    n_estimators: 200\n    max_depth: null\n    alpha: 0.5\n    layers: [64]\n    bad-name: 1\n');

function capture(cwd: string): Io & { outLines: string[]; errLines: string[] } {
  const outLines: string[] = [];
  const errLines: string[] = [];
  return { cwd, outLines, errLines, out: l => outLines.push(l), err: l => errLines.push(l) };
}

describe('typed config code generation (edd codegen)', function () {
  this.timeout(120000);
  let work: string;
  beforeEach(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'edd-codegen-'));
    fs.mkdirSync(path.join(work, 'experiments'));
    fs.writeFileSync(path.join(work, 'experiments/a.yaml'), A);
    fs.writeFileSync(path.join(work, 'experiments/b.yaml'), B);
  });
  afterEach(() => fs.rmSync(work, { recursive: true, force: true }));

  it('infers int vs float, str, bool, lists, and optional when a config lacks a value', () => {
    const inf = inferParameters([{ file: 'a.yaml', text: A }, { file: 'b.yaml', text: B }, { file: 'bad.yaml', text: 'experiment: [' }, { file: 'p.yaml', text: 'model: m\n' }]);
    const by = Object.fromEntries(inf.parameters.map(p => [p.name, p]));
    assert.deepStrictEqual(Object.keys(by), ['alpha', 'bad-name', 'criterion', 'layers', 'max_depth', 'n_estimators', 'use_bias'], 'schema keys (model_type, learning_rate) are not extra');
    assert.deepStrictEqual([by.alpha.type.scalars, by.alpha.optional], [['float'], false], '1 and 0.5: a float');
    assert.deepStrictEqual([by.n_estimators.type.scalars, by.n_estimators.optional], [['int'], false]);
    assert.deepStrictEqual([by.max_depth.type.scalars, by.max_depth.optional], [['int'], true], 'null in one config: optional');
    assert.deepStrictEqual([by.criterion.type.scalars, by.criterion.optional, by.criterion.files], [['str'], true, ['a.yaml']]);
    assert.deepStrictEqual([by.layers.type.listOf, by.layers.optional], [['int'], false]);
    assert.deepStrictEqual(by.use_bias.type.scalars, ['bool']);
    assert.deepStrictEqual(inf.configs, ['a.yaml', 'b.yaml']);
    assert.deepStrictEqual(inf.skipped, [{ file: 'bad.yaml', reason: 'yaml' }, { file: 'p.yaml', reason: 'not-experiment' }]);
  });

  it('python: the module gives typed hyperparameters over edd.config() in a real Python, and refuses a wrong type', async () => {
    const io = capture(work);
    assert.strictEqual(await main(['codegen', 'python'], io), 0, io.errLines.join('\n'));
    const file = path.join(work, 'edd_config.py');
    const text = fs.readFileSync(file, 'utf8');
    const header = readGeneratedHeader(text)!;
    assert.deepStrictEqual(header.configs, ['experiments/a.yaml', 'experiments/b.yaml']);
    assert.strictEqual(header.language, 'python');
    assert.match(text, /def criterion\(self\) -> Optional\[str\]:\n\s+"""from experiments\/a\.yaml \(not in every config\)"""/);
    const script = `
import json, os, sys, typing
import edd_config
cfg = edd_config.config()
p = cfg.parameters
assert isinstance(cfg, edd_config.ExperimentConfig) and isinstance(p, edd_config.ExperimentParameters)
assert p.model_type == "rf" and p.learning_rate == 0.1
assert p.n_estimators == 100 and type(p.n_estimators) is int
assert p.alpha == 1.0 and type(p.alpha) is float, repr(p.alpha)
assert p.max_depth == 3 and p.criterion == "gini" and p.layers == [64, 32] and p.use_bias is True
assert p.get("bad-name") is None
hints = typing.get_type_hints(edd_config.ExperimentParameters.n_estimators.fget)
assert hints["return"] is int, hints
assert cfg.to_dict()["parameters"]["n_estimators"] == 100
try:
    edd_config.ExperimentConfig.from_dict({"experiment": dict(cfg.to_dict(), parameters={"model_type": "rf", "n_estimators": "many", "alpha": 1, "layers": []})})
except edd_config.ConfigError as e:
    print("refused:", e)
else:
    sys.exit("a string n_estimators was accepted")
`;
    const cfg = { experiment: { id: 'exp_20250101_001', name: 'n', hypothesis: 'h', parameters: { model_type: 'rf', learning_rate: 0.1, n_estimators: 100, max_depth: 3, criterion: 'gini', layers: [64, 32], use_bias: true, alpha: 1 } } };
    fs.writeFileSync(path.join(work, 'cfg.json'), JSON.stringify(cfg));
    const r = spawnSync(python, ['-c', script], {
      cwd: work, encoding: 'utf8',
      env: { ...process.env, PYTHONPATH: [work, path.join(root, 'python')].join(path.delimiter), EDD_CONFIG_JSON: path.join(work, 'cfg.json') },
    });
    assert.strictEqual(r.status, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /refused: experiment\.parameters\.n_estimators must be int, got 'many'/);
  });

  it('typescript: the interfaces compile with tsc, and a wrong type does not', async () => {
    const io = capture(work);
    assert.strictEqual(await main(['codegen', 'typescript', 'experiments', '--out', 'src/eddConfig.ts'], io), 0, io.errLines.join('\n'));
    assert.match(io.outLines.join('\n'), /src\/eddConfig\.ts: 7 hyperparameters from 2 configs/);
    const good = `import type { ExperimentConfig } from './eddConfig';
const c: ExperimentConfig = { experiment: { id: 'exp_20250101_001', name: 'n', hypothesis: 'h',
  parameters: { model_type: 'rf', n_estimators: 1, alpha: 0.5, layers: [1, 2], max_depth: null, other: 'x' },
  run: { command: ['python', 'train.py'], env: { A: '1' } }, results: { accuracy: 0.9 } } };
const n: number = c.experiment.parameters.n_estimators;
export { n };
`;
    const compile = (body: string) => {
      fs.writeFileSync(path.join(work, 'src/use.ts'), body);
      return spawnSync(process.execPath, [tsc, '--strict', '--noEmit', '--skipLibCheck', '--types', 'node', '--target', 'es2020', '--moduleResolution', 'node', path.join(work, 'src/use.ts')], { encoding: 'utf8' });
    };
    const ok = compile(good);
    assert.strictEqual(ok.status, 0, ok.stdout + ok.stderr);
    const bad = compile(good.replace('n_estimators: 1,', "n_estimators: 'many',"));
    assert.notStrictEqual(bad.status, 0, 'a string n_estimators compiled');
    assert.match(bad.stdout, /use\.ts\(3,\d+\): error TS2322: Type 'string' is not assignable to type 'number'/);
  });

  it('records the configs and parameters it came from; a config with a new one is found missing; --check', async () => {
    const io = capture(work);
    assert.strictEqual(await main(['codegen', 'python'], io), 0);
    const header = readGeneratedHeader(fs.readFileSync(path.join(work, 'edd_config.py'), 'utf8'))!;
    const grown = A.replace('    alpha: 1\n', '    alpha: 1\n    subsample: 0.8\n');
    const keys = parameterKeys(grown);
    assert.deepStrictEqual(missingParameters(header, keys.map(k => k.name)), ['subsample']);
    assert.strictEqual(grown.slice(keys.find(k => k.name === 'subsample')!.offset).slice(0, 9), 'subsample');
    assert.deepStrictEqual(missingParameters(header, parameterKeys(B).map(k => k.name)), []);

    const check = capture(work);
    assert.strictEqual(await main(['codegen', 'python', '--check'], check), 0, check.outLines.join('\n'));
    fs.writeFileSync(path.join(work, 'experiments/a.yaml'), grown);
    const stale = capture(work);
    assert.strictEqual(await main(['codegen', 'python', '--check'], stale), 1);
    assert.match(stale.outLines.join('\n'), /edd_config\.py is out of date/);
  });

  it('usage errors exit 2', async () => {
    for (const args of [['codegen'], ['codegen', 'rust'], ['codegen', 'python', 'nowhere.yaml']]) {
      const io = capture(work);
      assert.strictEqual(await main(args, io), 2, args.join(' '));
      assert.ok(io.errLines.length > 0);
    }
  });
});
