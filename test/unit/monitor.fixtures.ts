import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

export const repo = path.resolve(__dirname, '../../..');
export const CLASSES = ['Adelie', 'Chinstrap', 'Gentoo'];
export const HOUR = 3_600_000;

export const SPEC = `# the penguins service
model: penguins
stage: production
input: data/penguins.data.yaml
features: [bill_length_mm, bill_depth_mm, flipper_length_mm, body_mass_g]
classes: [Adelie, Chinstrap, Gentoo]
monitoring:
  window: 1h
  reference: data/penguins.csv      # reference rows for drift
  label: species
  sensitive: [sex]
  positive_class: Adelie
  alerts:
    error_rate: 0.01
    latency_p95_ms: 50
    drift: { psi: 0.2, ks_p_value: 0.01 }
    prediction_psi: 0.2
    accuracy_min: 0.9
    bias: { demographic_parity_difference: 0.1, equal_opportunity_difference: 0.2 }
    kpis: [{ name: adelie_share, expr: "mean(prediction == 'Adelie')", min: 0.1, max: 0.8 }]
  log: { dir: .edd/serving/penguins, segment_mb: 64, retention_days: 30 }
  redact: { hash: [], drop: [] }
  auto_correct: false
`;

export interface PenguinRow { [k: string]: string | number | null }

/** The example's penguins rows, parsed (numbers as numbers, empty = null). */
export function penguins(): PenguinRow[] {
  const [head, ...lines] = fs.readFileSync(path.join(repo, 'examples/penguins-sklearn/data/penguins.csv'), 'utf8').trim().split('\n');
  const names = head.split(',');
  return lines.map(l => {
    const cells = l.split(',');
    const row: PenguinRow = {};
    names.forEach((n, i) => { const c = cells[i]; row[n] = c === '' || c === undefined ? null : Number.isFinite(Number(c)) ? Number(c) : c; });
    return row;
  });
}

/** A workspace with the reference data and the service spec; the log folder is .edd/serving/penguins. */
export function workspace(spec = SPEC): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edd-monitor-'));
  fs.mkdirSync(path.join(dir, 'data'));
  fs.copyFileSync(path.join(repo, 'examples/penguins-sklearn/data/penguins.csv'), path.join(dir, 'data/penguins.csv'));
  fs.writeFileSync(path.join(dir, 'penguins.service.yaml'), spec);
  fs.mkdirSync(path.join(dir, '.edd/serving/penguins'), { recursive: true });
  return dir;
}

/** A deterministic "model": right except every 20th row (which it calls Chinstrap, or Adelie for a Chinstrap). */
export function predictOf(row: PenguinRow, i: number): { prediction: string; probabilities: number[] } {
  const truth = String(row.species);
  const prediction = i % 20 === 3 ? (truth === 'Chinstrap' ? 'Adelie' : 'Chinstrap') : truth;
  const probabilities = CLASSES.map(c => (c === prediction ? 0.8 : 0.1));
  return { prediction, probabilities };
}

/** Prediction (and feedback) records of `rows`, one request per row, starting at `start`, `step` ms apart. */
export function records(rows: readonly PenguinRow[], o: { start: number; step: number; feedback?: boolean; latency?: (i: number) => number; status?: (i: number) => number; tag?: string; predict?: typeof predictOf }): object[] {
  const out: object[] = [];
  rows.forEach((row, i) => {
    const { species, row_id, ...inputs } = row;
    void row_id;
    const time = o.start + i * o.step;
    const request_id = `${o.tag ?? 'r'}-${i}`;
    const status = o.status?.(i) ?? 200;
    const base = { type: 'prediction', request_id, row: 0, time, model: 'penguins', version: 3, slot: 'blue', latency_ms: o.latency?.(i) ?? 0.4, status, inputs };
    out.push(status === 200 ? { ...base, outputs: (o.predict ?? predictOf)(row, i) } : { ...base, error: 'bad' });
    if (o.feedback && status === 200) out.push({ type: 'feedback', request_id, row: 0, time: time + 1, label: species });
  });
  return out;
}

/** Writes records as a segment named by its first record's time (or `start`). */
export function writeSegment(dir: string, recs: readonly object[], start: number, pid = 4242, tail = ''): string {
  const file = path.join(dir, '.edd/serving/penguins', `predictions-${start}-${pid}.jsonl`);
  fs.writeFileSync(file, recs.map(r => JSON.stringify(r)).join('\n') + '\n' + tail);
  return file;
}
