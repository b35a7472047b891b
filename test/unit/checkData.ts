import type { Column, Dataset } from '../../src/core/checks/types';

/** A data set from plain arrays, as the gate checks see one: all-number columns numeric, the rest text (null = missing). */
export function datasetOf(cols: Record<string, Array<number | string | null>>, file = 'eval.csv'): Dataset {
  const names = Object.keys(cols);
  const columns = new Map<string, Column>();
  for (const n of names) {
    const v = cols[n];
    columns.set(n, v.every(x => typeof x === 'number')
      ? { kind: 'number', values: Float64Array.from(v as number[]) }
      : { kind: 'string', values: v.map(x => (x === null ? null : String(x))) });
  }
  return { file, rows: names.length ? cols[names[0]].length : 0, names, columns };
}
