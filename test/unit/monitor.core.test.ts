import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { biasCheck } from '../../src/core/checks/bias';
import { readDataset } from '../../src/core/checks/dataset';
import { driftCheck } from '../../src/core/checks/drift';
import { metricCheck } from '../../src/core/checks/metric';
import type { Column, GateContext } from '../../src/core/checks/types';
import { validateExperiment } from '../../src/core/config';
import { alertKeyPath, loadServiceView, locateKey, monitorService, MonitorInputError, type WindowRows } from '../../src/core/monitor';
import { LineIndex } from '../../src/core/config';
import { experimentFromAlert, pickAlert } from '../../src/core/monitor/experiment';
import { applyThresholds, measure, suggestThresholds, writeGroupThresholds } from '../../src/core/monitor/thresholds';
import { CLASSES, HOUR, penguins, records, SPEC, workspace, writeSegment, type PenguinRow } from './monitor.fixtures';

const hourAgo = (h: number) => Math.floor((Date.now() - h * HOUR) / HOUR) * HOUR;

describe('monitor: the prediction log per window', () => {
  let dir: string;
  beforeEach(() => { dir = workspace(); });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const view = () => loadServiceView(path.join(dir, 'penguins.service.yaml'));

  it('a quiet hour has no alert; the layers hold the expected numbers', async () => {
    const rows = penguins();
    const start = hourAgo(3);
    const served = records(rows, { start, step: 10_000, feedback: true }) as Array<Record<string, unknown>>;
    // a shadow candidate's answers (same request ids, never served) must not count as traffic or meet the feedback
    const shadow = served.filter(r => r.type === 'prediction').map(r => ({ ...r, slot: 'shadow', outputs: { prediction: 'Gentoo', probabilities: [0, 0, 1] } }));
    writeSegment(dir, [...served, ...shadow], start);
    const { result } = await monitorService(view(), { root: dir });
    assert.strictEqual(result.windows.length, 1);
    const w = result.windows[0];
    assert.strictEqual(w.start_ms, start);
    assert.strictEqual(w.application.records, rows.length);
    assert.strictEqual(w.model.labelled, rows.length);
    assert.ok(w.model.accuracy! > 0.9 && w.model.accuracy! < 1, String(w.model.accuracy));
    assert.ok(w.model.drift.flipper_length_mm.psi < 1e-9, 'the reference rows themselves do not drift');
    assert.strictEqual(w.model.drift.flipper_length_mm.ks_p_value, 1);
    assert.ok(Math.abs(w.business.adelie_share! - rows.filter((r, i) => (i % 20 === 3 ? r.species === 'Chinstrap' : r.species === 'Adelie')).length / rows.length) < 1e-12);
    assert.deepStrictEqual(result.alerts, []);
  });

  it('drift, errors and latency in a later window raise alerts on that window only', async () => {
    const rows = penguins();
    const a = hourAgo(4), b = a + HOUR;
    writeSegment(dir, records(rows, { start: a, step: 10_000, feedback: true, tag: 'a' }), a);
    const drifted = rows.map(r => ({ ...r, flipper_length_mm: r.flipper_length_mm === null ? null : Number(r.flipper_length_mm) + 25 }));
    writeSegment(dir, records(drifted, { start: b, step: 10_000, tag: 'b', latency: i => (i % 10 === 0 ? 80 : 1), status: i => (i % 25 === 0 ? 500 : 200) }), b);
    const { result } = await monitorService(view(), { root: dir });
    assert.strictEqual(result.windows.length, 2);
    assert.deepStrictEqual(result.windows[0].alerts, []);
    const metrics = result.windows[1].alerts.map(x => `${x.metric}${x.column ? `:${x.column}` : ''}`).sort();
    assert.deepStrictEqual(metrics, ['drift_ks_p_value:flipper_length_mm', 'drift_psi:flipper_length_mm', 'error_rate', 'latency_p95_ms']);
    assert.strictEqual(result.windows[1].model.labelled, 0, 'no feedback yet in the second window');
    assert.strictEqual(result.windows[1].model.accuracy, null);
    // --window 2h puts both hours in one window
    const two = await monitorService(view(), { root: dir, windowMs: 2 * HOUR });
    assert.strictEqual(two.result.windows.reduce((n, w) => n + w.application.records, 0), 2 * rows.length);
    assert.ok(two.result.windows.length <= 2);
  });

  it('monitoring numbers equal the gate\'s statistics (drift, bias, accuracy, macro F1) on the same rows', async () => {
    const rows = penguins();
    const start = hourAgo(3);
    // A shifted, noisier copy so every statistic is away from its trivial value.
    const shifted = rows.map((r, i) => ({ ...r, flipper_length_mm: r.flipper_length_mm === null ? null : Number(r.flipper_length_mm) + (i % 3), body_mass_g: r.body_mass_g === null ? null : Number(r.body_mass_g) * 1.05 }));
    writeSegment(dir, records(shifted, { start, step: 10_000, feedback: true, predict: (r, i) => {
      const p = i % 5 === 0 ? 'Gentoo' : String(r.species);
      return { prediction: p, probabilities: CLASSES.map(c => (c === p ? 0.7 : 0.15)) };
    } }), start);
    const { result, aggregator } = await monitorService(view(), { root: dir });
    const w = result.windows[0];
    const wr = aggregator.windowRows().get(start)!;
    const columns = new Map<string, Column>(wr.data.columns);
    columns.set('species', { kind: 'string', values: wr.yTrue });
    const ctx: GateContext = {
      root: dir, eval: { ...wr.data, names: [...wr.data.names, 'species'], columns },
      reference: await readDataset(path.join(dir, 'data/penguins.csv'), { label: 'species' }),
      label: 'species', features: ['bill_length_mm', 'bill_depth_mm', 'flipper_length_mm', 'body_mass_g'],
      outputs: { classes: CLASSES, scores: wr.scores, yPred: wr.yPred },
    };
    const drift = await driftCheck(ctx, { columns: ['bill_length_mm', 'bill_depth_mm', 'flipper_length_mm', 'body_mass_g', 'island', 'sex'], ks: { alpha: 0.01 }, psi: { max: 0.2 } }, '1-drift');
    const gateCols = (drift.measured as { columns: Record<string, { psi: number; ks_p_value?: number; ks_statistic?: number }> }).columns;
    for (const name of ['bill_length_mm', 'bill_depth_mm', 'flipper_length_mm', 'body_mass_g', 'island', 'sex']) {
      assert.strictEqual(w.model.drift[name].psi, gateCols[name].psi, `psi of ${name}`);
      assert.strictEqual(w.model.drift[name].ks_p_value, gateCols[name].ks_p_value, `KS p of ${name}`);
      assert.strictEqual(w.model.drift[name].ks_statistic, gateCols[name].ks_statistic, `KS D of ${name}`);
    }
    assert.ok(w.model.drift.body_mass_g.psi > 0.01);
    const bias = await biasCheck(ctx, { sensitive: 'sex', demographic_parity_difference: { max: 1 }, equal_opportunity_difference: { max: 1 }, positive_label: 'Adelie' }, '2-bias');
    const sex = (bias.measured as { sensitive_features: Record<string, { demographic_parity_difference: number; equal_opportunity_difference: number }> }).sensitive_features.sex;
    assert.strictEqual(w.bias.sex.demographic_parity_difference, sex.demographic_parity_difference);
    assert.strictEqual(w.bias.sex.equal_opportunity_difference, sex.equal_opportunity_difference);
    const acc = await metricCheck(ctx, { name: 'accuracy', min: 0 }, '3-metric');
    const f1 = await metricCheck(ctx, { name: 'f1', average: 'macro', min: 0 }, '4-metric');
    assert.strictEqual(w.model.accuracy, (acc.measured as Record<string, number>).accuracy);
    assert.strictEqual(w.model.macro_f1, (f1.measured as Record<string, number>).f1);
  });

  it('--since skips whole segments by the time in their names; a torn last line is skipped', async () => {
    const rows = penguins().slice(0, 100);
    const old = hourAgo(30), middle = hourAgo(26), recent = hourAgo(2);
    // A segment covers records up to the next one's time: `old` ends before `since` and is not read; `middle` is read
    // (its successor opened after `since`) and its records, older than `since`, are left out.
    writeSegment(dir, records(rows, { start: old, step: 1000, tag: 'old' }), old, 1);
    writeSegment(dir, records(rows, { start: middle, step: 1000, tag: 'mid' }), middle, 1);
    writeSegment(dir, records(rows, { start: recent, step: 1000, tag: 'new' }), recent, 2, '{"type":"prediction","request_id":"torn","ti');
    const { result } = await monitorService(view(), { root: dir, since: Date.now() - 24 * HOUR });
    assert.strictEqual(result.read.skipped, 1);
    assert.strictEqual(result.read.segments, 2);
    assert.strictEqual(result.read.torn, 1);
    assert.strictEqual(result.read.bad, 0);
    assert.strictEqual(result.windows.reduce((n, w) => n + w.application.records, 0), 100);
  });

  it('KPI expressions: mean, count, a bare condition, scores and labels; a bad one names the spot', async () => {
    const text = fs.readFileSync(path.join(dir, 'penguins.service.yaml'), 'utf8').replace(
      /kpis: \[.*\]/,
      'kpis: [{ name: share, expr: "mean(prediction == \'Adelie\')" }, { name: wrong, expr: "count(label != null and prediction != label)" }, { name: sure, expr: "score[\'Gentoo\'] >= 0.5 and island == \'Biscoe\'" }]',
    );
    fs.writeFileSync(path.join(dir, 'penguins.service.yaml'), text);
    const rows = penguins();
    const start = hourAgo(3);
    writeSegment(dir, records(rows, { start, step: 10_000, feedback: true }), start);
    const w = (await monitorService(view(), { root: dir })).result.windows[0];
    const preds = rows.map((r, i) => (i % 20 === 3 ? (r.species === 'Chinstrap' ? 'Adelie' : 'Chinstrap') : String(r.species)));
    assert.strictEqual(w.business.share, preds.filter(p => p === 'Adelie').length / rows.length);
    assert.strictEqual(w.business.wrong, preds.filter((p, i) => p !== rows[i].species).length);
    assert.strictEqual(w.business.sure, preds.filter((p, i) => p === 'Gentoo' && rows[i].island === 'Biscoe').length / rows.length);
    fs.writeFileSync(path.join(dir, 'penguins.service.yaml'), text.replace(/kpis: \[.*\]/, 'kpis: [{ name: bad, expr: "mean(predicton == \'Adelie\')" }]'));
    await assert.rejects(monitorService(view(), { root: dir }), (e: Error) => e instanceof MonitorInputError && /predicton/.test(e.message) && /did you mean `prediction`/.test(e.message) && e.message.includes('     ^'));
  });

  it('a wrong monitoring value is refused with file:line:col', () => {
    fs.writeFileSync(path.join(dir, 'penguins.service.yaml'), fs.readFileSync(path.join(dir, 'penguins.service.yaml'), 'utf8').replace('window: 1h', 'window: soon'));
    assert.throws(() => view(), (e: Error) => e instanceof MonitorInputError && /penguins\.service\.yaml:8:11: `monitoring\.window` is not valid \(`soon`\)/.test(e.message));
  });

  it('every wrong monitoring value is refused by the service spec\'s validator, at its line, before monitoring reads it', () => {
    const spec = fs.readFileSync(path.join(dir, 'penguins.service.yaml'), 'utf8');
    const cases: Array<[string, string, RegExp]> = [
      ['error_rate: 0.01', 'error_rate: high', /:14:17: `monitoring\.alerts\.error_rate` must be a number/],
      ['sensitive: [sex]', 'sensitive: sex', /:11:14: `monitoring\.sensitive` must be a list/],
      ['kpis: [{ name: adelie_share, expr: "mean(prediction == \'Adelie\')", min: 0.1, max: 0.8 }]', 'kpis: [{ name: adelie_share, min: 0.1 }]', /:\d+:\d+: `monitoring\.alerts\.kpis\[0\]` is missing the required key `expr`/],
      ['auto_correct: false', 'auto_correct: maybe', /:23:17: `monitoring\.auto_correct` must be true or false/],
      ['  log: { dir: .edd/serving/penguins, segment_mb: 64, retention_days: 30 }', '  log: .edd/serving/penguins', /:21:8: `monitoring\.log` must be a mapping/],
    ];
    for (const [from, to, where] of cases) {
      assert.ok(spec.includes(from), from);
      fs.writeFileSync(path.join(dir, 'penguins.service.yaml'), spec.replace(from, to));
      assert.throws(() => view(), (e: Error) => e instanceof MonitorInputError && where.test(e.message) && e.message.startsWith(path.join(dir, 'penguins.service.yaml')), to);
    }
  });
});

/** A synthetic binary-ish task where group B's scores are shifted down: the model selects B less often. */
function biasedRows(n: number, seed: number): WindowRows {
  let s = seed;
  const rnd = () => { s = (s * 1103515245 + 12345) % 2147483648; return s / 2147483648; };
  const groups: Array<string | null> = [], yTrue: string[] = [], yPred: string[] = [];
  const scores = new Float32Array(n * 3);
  for (let i = 0; i < n; i++) {
    const g = rnd() < 0.5 ? 'A' : 'B';
    const positive = rnd() < 0.5;
    let p = Math.min(0.99, Math.max(0.01, (positive ? 0.65 : 0.35) + (rnd() - 0.5) * 0.5 - (g === 'B' ? 0.15 : 0)));
    p = Math.fround(p);
    scores[i * 3] = p; scores[i * 3 + 1] = (1 - p) * 0.6; scores[i * 3 + 2] = (1 - p) * 0.4;
    groups.push(g);
    yTrue.push(positive ? 'Adelie' : rnd() < 0.6 ? 'Chinstrap' : 'Gentoo');
    yPred.push(p >= (1 - p) * 0.6 ? 'Adelie' : 'Chinstrap');
  }
  return { data: { file: 'x', rows: n, names: ['group'], columns: new Map([['group', { kind: 'string', values: groups }]]) }, classes: CLASSES, yPred, yTrue, scores };
}

describe('monitor: bias thresholds and experiments from alerts', () => {
  it('per-group thresholds meet the bound on a held-back window, at a small cost in accuracy', () => {
    const fit = biasedRows(6000, 1), held = biasedRows(6000, 2);
    for (const metric of ['demographic_parity_difference', 'equal_opportunity_difference'] as const) {
      const before = measure(held, 'group', 'Adelie', metric, held.yPred);
      assert.ok(before.metric > 0.15, `${metric} is biased before: ${before.metric}`);
      assert.strictEqual(suggestThresholds(fit, 'group', 'Adelie', metric, 0.9).needed, false, 'within a loose bound nothing is suggested');
      const s = suggestThresholds(fit, 'group', 'Adelie', metric, 0.05);
      assert.ok(s.needed);
      assert.ok(s.feasible);
      assert.ok(s.after.metric <= s.search_bound + 1e-12);
      const after = measure(held, 'group', 'Adelie', metric, applyThresholds(held, 'group', 'Adelie', s.thresholds));
      assert.ok(after.metric <= 0.05, `${metric} on the held-back window: ${after.metric}`);
      assert.ok(after.accuracy > before.accuracy - 0.08, `accuracy ${before.accuracy} → ${after.accuracy}`);
    }
  });

  it('--apply writes postprocess.group_thresholds and keeps the comments', () => {
    const dir = workspace();
    try {
      const file = path.join(dir, 'penguins.service.yaml');
      writeGroupThresholds(file, 'sex', { FEMALE: 0.41, MALE: 0.5 });
      const text = fs.readFileSync(file, 'utf8');
      assert.ok(text.startsWith('# the penguins service\n'));
      assert.ok(text.includes('reference: data/penguins.csv # reference rows for drift') || text.includes('reference: data/penguins.csv      # reference rows for drift'));
      assert.ok(/postprocess:\n {2}group_thresholds:\n {4}sex:\n {6}FEMALE: 0.41\n {6}MALE: 0.5\n/.test(text), text);
      assert.strictEqual(loadServiceView(file).model, 'penguins');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an alert becomes a valid experiment config that states the problem', () => {
    const alert = { window_start: '2026-12-06T10:00:00.000Z', layer: 'model' as const, metric: 'drift_psi', column: 'flipper_length_mm', value: 0.41, threshold: 0.2, direction: 'above' as const, message: 'model: drift_psi (flipper_length_mm) = 0.4100 is above the alert threshold 0.2' };
    assert.strictEqual(pickAlert([{ ...alert, layer: 'application', metric: 'error_rate' }, alert]), alert);
    const e = experimentFromAlert({ alert, model: 'penguins', spec: 'penguins.service.yaml', windows: [], dir: '/nonexistent', reference: 'data/penguins.csv', now: new Date('2026-12-07T12:00:00Z') });
    assert.strictEqual(e.id, 'exp_20261207_901');
    assert.ok(e.text.includes('flipper_length_mm'), e.text);
    assert.ok(e.text.includes('since 2026-12-06'));
    assert.ok(e.text.includes('Retraining on the last 30 days restores macro F1 ≥ 0.90'));
    const v = validateExperiment(e.text);
    assert.deepStrictEqual(v.problems.filter(p => p.severity === 'error').map(p => p.message), []);
  });
});

describe('monitor: where an alert goes in the spec (the Problems of the editor)', () => {
  it('each alert kind points at the line of the threshold it broke', () => {
    const lines = new LineIndex(SPEC);
    const lineOf = (alert: { metric: string; layer: string }) => {
      const s = locateKey(SPEC, alertKeyPath(alert, [{ name: 'adelie_share' }]))!;
      const start = lines.lineStart(lines.position(s[0]).line);
      return SPEC.slice(start, lines.lineEnd(lines.position(s[0]).line)).trim();
    };
    assert.strictEqual(lineOf({ metric: 'drift_psi', layer: 'model' }), 'drift: { psi: 0.2, ks_p_value: 0.01 }');
    assert.strictEqual(lineOf({ metric: 'accuracy', layer: 'model' }), 'accuracy_min: 0.9');
    assert.strictEqual(lineOf({ metric: 'error_rate', layer: 'application' }), 'error_rate: 0.01');
    assert.strictEqual(lineOf({ metric: 'equal_opportunity_difference', layer: 'bias' }), 'bias: { demographic_parity_difference: 0.1, equal_opportunity_difference: 0.2 }');
    assert.match(lineOf({ metric: 'adelie_share', layer: 'business' }), /^kpis: \[\{ name: adelie_share/);
    assert.deepStrictEqual(alertKeyPath({ metric: 'unknown', layer: 'business' }, []), ['monitoring']);
  });
});

void ({} as PenguinRow);
