/**
 * `inf` in a CSV is a number (issue 10 item 7), so the data checks meet infinite values: each must say something
 * sensible about them instead of letting one infinity turn its statistics into NaN.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { anomaliesCheck } from '../../src/core/checks/anomalies';
import { dataSchemaCheck } from '../../src/core/checks/dataSchema';
import { readDataset } from '../../src/core/checks/dataset';
import { driftCheck } from '../../src/core/checks/drift';
import type { Dataset, GateContext } from '../../src/core/checks/types';

describe('checks: infinite values read from a CSV', () => {
  let dir: string;
  let reference: Dataset;
  let evalDs: Dataset;
  const ctx = (extra: Partial<GateContext> = {}): GateContext => ({ root: dir, eval: evalDs, label: 'label', features: [], ...extra });

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edd-inf-'));
    // x: 1..40 in both; the eval data has two infinities at rows 41 and 42
    const rows = (extra: string[]) => ['x,label', ...Array.from({ length: 40 }, (_, i) => `${i + 1},a`), ...extra].join('\n') + '\n';
    fs.writeFileSync(path.join(dir, 'ref.csv'), rows([]));
    fs.writeFileSync(path.join(dir, 'eval.csv'), rows(['inf,a', '-Infinity,a']));
    fs.writeFileSync(path.join(dir, 'schema.yaml'), 'columns:\n  x: { type: number }\n  label: { type: string }\n');
    reference = await readDataset(path.join(dir, 'ref.csv'), { label: 'label' });
    evalDs = await readDataset(path.join(dir, 'eval.csv'), { label: 'label' });
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('the values are numbers, so the column stays numeric', () => {
    const x = evalDs.columns.get('x')!;
    assert.strictEqual(x.kind, 'number');
    assert.deepStrictEqual(Array.from(x.values as Float64Array).slice(-2), [Infinity, -Infinity]);
  });

  it('anomalies: the statistics come from the finite values; an infinite value is always an anomaly, with a readable z', async () => {
    for (const method of ['zscore', 'iqr'] as const) {
      const r = await anomaliesCheck(ctx(), { method, max_rate: 0.01 }, '1-anomalies');
      assert.strictEqual(r.status, 'fail', r.message);
      assert.strictEqual(r.measured.rows_with_anomalies, 2, method);
      const col = (r.measured.columns as Record<string, Record<string, number>>).x;
      assert.strictEqual(col.infinite, 2);
      assert.ok(Number.isFinite(col.low) && Number.isFinite(col.high), JSON.stringify(col));
      const evidence = JSON.parse(JSON.stringify(r.evidence)) as Array<{ row: number; value: unknown; z?: unknown }>;
      assert.deepStrictEqual(evidence.map(e => [e.row, e.value]), [[41, 'Infinity'], [42, '-Infinity']]);
      if (method === 'zscore') assert.deepStrictEqual(evidence.map(e => e.z), ['Infinity', '-Infinity']);
    }
    // statistics from the reference (finite): the same two rows, nothing else
    const fromRef = await anomaliesCheck(ctx({ reference }), { method: 'zscore', max_rate: 0.1 }, '1-anomalies');
    assert.strictEqual(fromRef.measured.rows_with_anomalies, 2);
    assert.strictEqual(fromRef.status, 'pass');
  });

  it('data_schema: an infinite value in a number column is a `not_finite` violation, shown as text', async () => {
    const r = await dataSchemaCheck(ctx(), { file: 'schema.yaml' }, '2-data_schema');
    assert.strictEqual(r.status, 'fail', r.message);
    const cols = r.measured.columns as Record<string, { violations: Record<string, number> }>;
    assert.deepStrictEqual(cols.x.violations, { not_finite: 2 });
    const ev = r.evidence as Array<{ column: string; violation: string; examples: Array<{ row: number; value: unknown }> }>;
    assert.deepStrictEqual(ev[0].examples, [{ row: 41, value: 'Infinity' }, { row: 42, value: '-Infinity' }]);
    assert.match(r.message, /x: infinite value ×2 \(e\.g\. row 41: "Infinity"\)/);
  });

  it('drift: infinities are values (never NaN), counted, and new infinities are drift', async () => {
    const spec = { ks: { alpha: 0.05 }, psi: { max: 0.2 }, wasserstein: { max: 1 }, jensen_shannon: { max: 0.1 } };
    const r = await driftCheck(ctx({ reference }), spec, '3-drift');
    assert.strictEqual(r.status, 'fail', r.message);
    const x = (r.measured.columns as Record<string, Record<string, unknown>>).x;
    for (const k of ['ks_statistic', 'ks_p_value', 'psi', 'jensen_shannon']) assert.ok(Number.isFinite(x[k]), `${k} = ${String(x[k])}`);
    // the shares of +inf differ (0 vs 2 rows): the earth mover's distance is infinite, which is drift above any max
    assert.ok(x.wasserstein === null || x.wasserstein === Infinity, `wasserstein = ${String(x.wasserstein)}`);
    assert.deepStrictEqual([x.infinite_reference, x.infinite_eval], [0, 2]);
    assert.ok((x.failed as string[]).includes('infinite') && (x.failed as string[]).includes('wasserstein'), String(x.failed));
    assert.match(r.message, /2 infinite value\(s\) in the eval data, none in the reference/);
    // the same infinities on both sides are not drift
    const same = await driftCheck(ctx({ reference: evalDs }), spec, '3-drift');
    assert.strictEqual(same.status, 'pass', same.message);
  });
});
