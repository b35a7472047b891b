import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { validateAny } from '../../src/extension/validationWorkerClient';
import { edd } from './registryFixtures';
import { isServiceFile, loadServiceSpec, parseDuration, ServiceSpecError, validateService } from '../../src/core/serve/spec';

const MINIMAL = `model: penguins
stage: production                 # or alias: champion
input: data/penguins.data.yaml    # the existing data-schema format
features: [bill_length_mm, bill_depth_mm, flipper_length_mm, body_mass_g]
classes: [Adelie, Chinstrap, Gentoo]
`;

const made: string[] = [];
after(() => { for (const d of made) fs.rmSync(d, { recursive: true, force: true }); });

function workspace(spec: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edd-serve-spec-'));
  made.push(dir);
  fs.mkdirSync(path.join(dir, 'data'));
  fs.copyFileSync(path.resolve(__dirname, '../../../examples/penguins/data/penguins.data.yaml'), path.join(dir, 'data/penguins.data.yaml'));
  fs.writeFileSync(path.join(dir, 'penguins.service.yaml'), spec);
  return dir;
}

describe('serve: the service spec', () => {
  it('the minimal spec of the issue loads as written, with the defaults filled in', () => {
    const dir = workspace(MINIMAL);
    const spec = loadServiceSpec('penguins.service.yaml', dir);
    assert.deepStrictEqual(spec.target, { kind: 'stage', stage: 'production' });
    assert.strictEqual(spec.input?.file, path.join(dir, 'data/penguins.data.yaml'));
    assert.strictEqual(spec.input?.schema.columns.get('bill_length_mm')?.max, 70);
    assert.deepStrictEqual(spec.classes, ['Adelie', 'Chinstrap', 'Gentoo']);
    assert.strictEqual(spec.monitoring.window_ms, 3_600_000);
    assert.strictEqual(spec.monitoring.log.dir, path.join(dir, '.edd/serving/penguins'));
    assert.strictEqual(spec.monitoring.log.segment_mb, 64);
    assert.strictEqual(spec.output.finite, true);
  });

  it('the full monitoring section of the issue is accepted and read as written', () => {
    const dir = workspace(`${MINIMAL}monitoring:
  window: 1h
  reference: data/penguins.csv
  label: species
  sensitive: [island, sex]
  positive_class: Adelie
  alerts:
    error_rate: 0.01
    latency_p95_ms: 50
    drift: { psi: 0.2, ks_p_value: 0.01 }
    prediction_psi: 0.2
    accuracy_min: 0.9
    bias: { demographic_parity_difference: 0.1, equal_opportunity_difference: 0.1 }
    kpis: [{ name: adelie_share, expr: "mean(prediction == 'Adelie')", min: 0.1, max: 0.8 }]
  log: { dir: .edd/serving/penguins, segment_mb: 64, retention_days: 30 }
  redact: { hash: [], drop: [] }
  auto_correct: false
`);
    const spec = loadServiceSpec('penguins.service.yaml', dir);
    assert.strictEqual(spec.monitoring.reference, path.join(dir, 'data/penguins.csv'));
    assert.strictEqual(spec.reference, path.join(dir, 'data/penguins.csv'));
    assert.deepStrictEqual(spec.monitoring.alerts.drift, { psi: 0.2, ks_p_value: 0.01 });
    assert.strictEqual(spec.monitoring.alerts.kpis[0].expr, "mean(prediction == 'Adelie')");
    assert.strictEqual(spec.monitoring.positive_class, 'Adelie');
  });

  it('problems sit at the exact key or value: unknown key, wrong type, stage and alias together, path outside', () => {
    const text = `model: penguins\nstage: production\nalias: champion\nfeatures: [a, a]\npostprocess: { top_k: 0 }\nmonitoring: { window: 1x, log: { dir: ../elsewhere } }\nfeaturs: 1\n`;
    const { problems } = validateService(text, { root: os.tmpdir() });
    const where = (code: string) => problems.filter(p => p.code === code).map(p => text.slice(p.offset, p.offset + p.length));
    assert.deepStrictEqual(where('unknown-key'), ['featurs']);
    assert.ok(where('invalid-value').includes('alias'), JSON.stringify(problems));
    assert.ok(where('invalid-value').includes('a'), JSON.stringify(problems));
    assert.ok(where('path-outside-workspace').includes('../elsewhere'));
    assert.ok(problems.some(p => text.slice(p.offset, p.offset + p.length) === '1x'));
    assert.ok(problems.some(p => text.slice(p.offset, p.offset + p.length) === '0'));
  });

  it('loadServiceSpec throws a ServiceSpecError with file:line:col lines', () => {
    const dir = workspace('model: penguins\nfeatures: []\n');
    assert.throws(() => loadServiceSpec('penguins.service.yaml', dir), (e: unknown) => e instanceof ServiceSpecError && /penguins\.service\.yaml:2:\d+/.test(e.message));
  });

  it('a file is a service spec by its name or its marker', () => {
    assert.ok(isServiceFile('x/penguins.service.yaml'));
    assert.ok(isServiceFile('x/a.yaml', '# edd: service\nmodel: p\n'));
    assert.ok(!isServiceFile('x/a.yaml', 'model: p\n'));
    assert.strictEqual(parseDuration('90s'), 90_000);
    assert.strictEqual(parseDuration('1.5d'), 129_600_000);
    assert.strictEqual(parseDuration('0h'), undefined);
  });
});

describe('serve: service specs in `edd validate` and the editor\'s validator', function () {
  this.timeout(60_000);
  it('`edd validate` finds a service spec in a folder and places its problems at file:line:col', async () => {
    const dir = workspace(`${MINIMAL}postprocess: { top_k: 9 }\n`);
    fs.writeFileSync(path.join(dir, 'other.yaml'), '# edd: service\nmodel: penguins\nfeatures: [a]\nstage: live\n');
    const r = await edd(['validate', '.'], dir);
    assert.strictEqual(r.code, 1, r.stderr);
    assert.match(r.stdout, /penguins\.service\.yaml:6:16 error out-of-range/);
    assert.match(r.stdout, /other\.yaml:4:8 error invalid-value/);
    fs.writeFileSync(path.join(dir, 'penguins.service.yaml'), MINIMAL);
    fs.rmSync(path.join(dir, 'other.yaml'));
    assert.strictEqual((await edd(['validate', '.'], dir)).code, 0);
  });

  it('the worker validates the `service` kind with the workspace root', () => {
    const answer = validateAny({ kind: 'service', text: 'model: penguins\nfeatures: [a]\ninput: ../x.data.yaml\n', options: { root: os.tmpdir() } });
    assert.deepStrictEqual(answer.problems.map(p => p.code), ['path-outside-workspace']);
  });
});
