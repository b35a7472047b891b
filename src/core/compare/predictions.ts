import * as fs from 'fs';
import { parse } from 'csv-parse/sync';
import { t } from '../l10n';

/** Per-example predictions of one run: what the significance tests on correctness need. */
export interface Predictions {
  file: string;
  /** `row_id` column when present (runs are paired on it), else the row number. */
  ids: string[];
  yTrue: string[];
  yPred: string[];
  /** `score_<class>` columns, by class name. */
  scores: Record<string, number[]>;
  /** Every other column (sensitive attributes and the like), as text. */
  extra: Record<string, string[]>;
}

/** A problem reading a predictions file: the file, the line and what to fix. */
export class PredictionsError extends Error {
  constructor(readonly file: string, readonly line: number | undefined, message: string) {
    super(line === undefined ? `${file}: ${message}` : `${file}:${line}: ${message}`);
    this.name = 'PredictionsError';
  }
}

/** Read a predictions CSV with at least `y_true` and `y_pred` columns. Bad rows are errors with their line number. */
export function readPredictions(file: string, text = fs.readFileSync(file, 'utf8')): Predictions {
  // csv-parse (the maintained parser the gate's data reader uses too): quoted fields may hold commas, quotes and line
  // breaks; `info.lines` is the line a record ends on, which is the line of a one-line record.
  let records: Array<{ record: string[]; info: { lines: number } }>;
  try {
    records = parse(text, { bom: true, info: true, relax_column_count: true, skip_empty_lines: true, skip_records_with_empty_values: false }) as unknown as typeof records;
  } catch (e) {
    const line = (e as { lines?: number }).lines;
    throw new PredictionsError(file, typeof line === 'number' ? line : undefined, t('not valid CSV: {0}', (e as Error).message));
  }
  records = records.filter(r => !(r.record.length === 1 && r.record[0].trim() === ''));
  if (records.length === 0) throw new PredictionsError(file, undefined, t('the file is empty; expected a header with y_true and y_pred.'));
  const header = records[0].record.map(h => h.trim());
  const col = (name: string) => header.indexOf(name);
  if (col('y_true') < 0 || col('y_pred') < 0) {
    throw new PredictionsError(file, 1, t('the header needs `y_true` and `y_pred` columns (it has: {0}).', header.join(', ')));
  }
  const scoreCols = header.map((h, i) => [h, i] as const).filter(([h]) => h.startsWith('score_'));
  const extraCols = header.map((h, i) => [h, i] as const).filter(([h]) => !['y_true', 'y_pred', 'row_id'].includes(h) && !h.startsWith('score_'));
  const p: Predictions = { file, ids: [], yTrue: [], yPred: [], scores: {}, extra: {} };
  for (const [h] of scoreCols) p.scores[h.slice('score_'.length)] = [];
  for (const [h] of extraCols) p.extra[h] = [];
  const idCol = col('row_id');
  for (let i = 1; i < records.length; i++) {
    const { record: cells, info } = records[i];
    if (cells.length !== header.length) {
      throw new PredictionsError(file, info.lines, t('{0} fields, but the header has {1}.', cells.length, header.length));
    }
    p.ids.push(idCol >= 0 ? cells[idCol] : String(i));
    p.yTrue.push(cells[col('y_true')]);
    p.yPred.push(cells[col('y_pred')]);
    for (const [h, c] of scoreCols) {
      const v = Number(cells[c]);
      if (cells[c].trim() === '' || !Number.isFinite(v)) throw new PredictionsError(file, info.lines, t('`{0}` is "{1}", not a number.', h, cells[c]));
      p.scores[h.slice('score_'.length)].push(v);
    }
    for (const [h, c] of extraCols) p.extra[h].push(cells[c]);
  }
  if (p.yTrue.length === 0) throw new PredictionsError(file, undefined, t('the file has a header but no rows.'));
  return p;
}

/**
 * Pair two runs' predictions example by example (on `row_id` when both have it). They must cover the same examples
 * with the same true labels, or a paired test would compare different things.
 */
export function pairPredictions(a: Predictions, b: Predictions): { yTrue: string[]; predA: string[]; predB: string[] } {
  const index = new Map(b.ids.map((id, i) => [id, i]));
  if (index.size !== b.ids.length) throw new PredictionsError(b.file, undefined, t('`row_id` values repeat: each example must appear once.'));
  if (a.ids.length !== b.ids.length) {
    throw new PredictionsError(b.file, undefined, t('{0} rows, but {1} has {2}: both runs must be evaluated on the same examples.', b.ids.length, a.file, a.ids.length));
  }
  const yTrue: string[] = [];
  const predA: string[] = [];
  const predB: string[] = [];
  for (let i = 0; i < a.ids.length; i++) {
    const j = index.get(a.ids[i]);
    if (j === undefined) throw new PredictionsError(b.file, undefined, t('example `{0}` of {1} is missing.', a.ids[i], a.file));
    if (a.yTrue[i] !== b.yTrue[j]) throw new PredictionsError(b.file, j + 2, t('example `{0}` has true label "{1}" here but "{2}" in {3}.', a.ids[i], b.yTrue[j], a.yTrue[i], a.file));
    yTrue.push(a.yTrue[i]);
    predA.push(a.yPred[i]);
    predB.push(b.yPred[j]);
  }
  return { yTrue, predA, predB };
}
