/**
 * The `data_schema` check: the evaluation data against a data schema file.
 *
 * Policy entry: `- data_schema: { file: schemas/eval-data.yaml }` (relative to the workspace root).
 *
 * The schema file (`*.data.yaml`; format in src/core/config/dataSchema.ts and schemas/data-schema.schema.json) lists
 * each column's `type` (`number`, `integer`, `string`, `category`), `min`/`max`, `allowed` values, `nullable` (default
 * false) and `required` (default true), and `allow_extra_columns` (default true). It is read with the same validation
 * the editor and `edd validate` use, so a file they accept is exactly a file the gate accepts.
 *
 * Violations per column, with counts and up to 5 example rows (1-based data rows): `missing_column`,
 * `type_mismatch`, `not_finite` (an infinite value, `inf` in a CSV, in a `number` or `integer` column: a schema's
 * numbers are finite, as JSON's are; its min/max are not checked then), `below_min`, `above_max`, `not_allowed`,
 * `nulls`, `unexpected_column`. A schema file that cannot
 * be read or is not valid gives status `error` with `file:line:col code message` for its problems.
 */
import * as fs from 'fs';
import * as path from 'path';
import { t } from '../l10n';
import { placeProblems } from '../config/validate';
import { confinePath } from '../runner/paths';
import { validateDataSchema, type ColumnRule, type DataSchema } from '../config/dataSchema';
import { canonicalLabel } from './bias';
import { parseDecimal, runCheck } from './dataset';
import { CheckInputError, rejectUnknownOptions, specObject } from './harness';
import type { CheckResult, Column, GateContext } from './types';

export type { ColumnRule, DataSchema, SchemaType } from '../config/dataSchema';

export interface DataSchemaSpec { file: string }

/** Problems shown in a gate message; `edd validate <file>` lists them all. */
const SHOWN_PROBLEMS = 3;

/**
 * Reads a data schema document with {@link validateDataSchema}; throws CheckInputError
 * `data_schema: <file> is not a valid data schema: <file>:<line>:<col> <code> <message>; …` when it has errors.
 */
export function parseDataSchema(text: string, file: string): DataSchema {
  const { problems, schema } = validateDataSchema(text);
  if (schema) return schema;
  const errors = placeProblems(text, problems.filter(p => p.severity === 'error'));
  const shown = errors.slice(0, SHOWN_PROBLEMS).map(p => `${file}:${p.line}:${p.column} ${p.code} ${p.message}`).join('; ');
  throw new CheckInputError(errors.length > SHOWN_PROBLEMS
    ? t('data_schema: {0} is not a valid data schema: {1} (and {2} more; `edd validate {0}` lists them all)', file, shown, errors.length - SHOWN_PROBLEMS)
    : t('data_schema: {0} is not a valid data schema: {1}', file, shown));
}

type ViolationKind = 'missing_column' | 'type_mismatch' | 'not_finite' | 'below_min' | 'above_max' | 'not_allowed' | 'nulls' | 'unexpected_column';

interface Tally { count: number; examples: Array<{ row: number; value: string | number | null }> }

/** Counts each kind of violation of one rule in one column; marks the offending rows in `hit` when given. */
export function columnViolations(col: Column, rule: ColumnRule, hit?: Uint8Array): Partial<Record<ViolationKind, Tally>> {
  const out: Partial<Record<ViolationKind, Tally>> = {};
  const add = (kind: ViolationKind, row: number, value: string | number | null) => {
    if (hit) hit[row] = 1;
    const tally = (out[kind] ??= { count: 0, examples: [] });
    tally.count++;
    if (tally.examples.length < 5) tally.examples.push({ row: row + 1, value });
  };
  const allowed = rule.allowed ? new Set(rule.allowed.map(a => canonicalLabel(a) ?? String(a))) : undefined;
  const numericType = rule.type === 'number' || rule.type === 'integer';
  const checkNumber = (x: number, row: number, shown: string | number) => {
    if (x === Infinity || x === -Infinity) { add('not_finite', row, typeof shown === 'number' ? String(shown) : shown); return; }
    if (rule.type === 'integer' && !Number.isInteger(x)) add('type_mismatch', row, shown);
    if (rule.min !== undefined && x < rule.min) add('below_min', row, shown);
    if (rule.max !== undefined && x > rule.max) add('above_max', row, shown);
  };
  if (col.kind === 'number') {
    const v = col.values;
    for (let i = 0; i < v.length; i++) {
      const x = v[i];
      if (x !== x) { if (!rule.nullable) add('nulls', i, null); continue; }
      if (numericType) checkNumber(x, i, x);
      if (allowed && !allowed.has(String(x))) add('not_allowed', i, x);
    }
  } else {
    const v = col.values;
    for (let i = 0; i < v.length; i++) {
      const s = v[i];
      if (s === null) { if (!rule.nullable) add('nulls', i, null); continue; }
      if (numericType) {
        const x = parseDecimal(s);
        if (Number.isNaN(x)) add('type_mismatch', i, s);
        else checkNumber(x, i, s);
      }
      if (allowed && !allowed.has(s)) {
        const x = parseDecimal(s);
        if (Number.isNaN(x) || !allowed.has(String(x))) add('not_allowed', i, s);
      }
    }
  }
  return out;
}

/** A short label for a kind of violation, for the message. */
function describe(kind: ViolationKind): string {
  switch (kind) {
    case 'missing_column': return t('missing column');
    case 'type_mismatch': return t('wrong type');
    case 'not_finite': return t('infinite value');
    case 'below_min': return t('below min');
    case 'above_max': return t('above max');
    case 'not_allowed': return t('value not allowed');
    case 'nulls': return t('missing values');
    case 'unexpected_column': return t('column not in the schema');
  }
}

/** Checks ctx.eval against the schema file `spec.file`. Never throws. */
export async function dataSchemaCheck(ctx: GateContext, spec: DataSchemaSpec | Record<string, unknown>, id: string): Promise<CheckResult> {
  const fileName = spec && typeof spec === 'object' && typeof (spec as Record<string, unknown>).file === 'string' ? (spec as { file: string }).file : undefined;
  return runCheck('data_schema', id, fileName ? t('data schema {0}', fileName) : t('data schema'), spec, async () => {
    const s = specObject('data_schema', spec);
    rejectUnknownOptions('data_schema', s, ['file']);
    if (typeof s.file !== 'string' || s.file === '') throw new CheckInputError(t('data_schema: file must name the data schema (YAML), e.g. file: schemas/eval-data.yaml'));
    const file = path.resolve(ctx.root, s.file);
    const confined = confinePath(ctx.root, s.file);
    if (!confined.inside) throw new CheckInputError(t('data_schema: {0} is outside the workspace ({1}); EDD only reads data schemas inside it.', s.file, ctx.root));
    let text: string;
    try {
      text = await fs.promises.readFile(confined.real, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new CheckInputError(code === 'ENOENT'
        ? t('data_schema: cannot read {0} (file not found; paths resolve against the workspace root)', file)
        : t('data_schema: cannot read {0}: {1}', file, (e as Error).message));
    }
    const schema = parseDataSchema(text, file);
    const ds = ctx.eval;

    const perColumn: Record<string, Record<string, unknown>> = {};
    const evidence: Array<{ column: string; violation: ViolationKind; count: number; examples?: Tally['examples'] }> = [];
    let violations = 0;
    const rowsHit = new Uint8Array(ds.rows);
    for (const [name, rule] of schema.columns) {
      const col = ds.columns.get(name);
      if (!col) {
        if (rule.required) {
          perColumn[name] = { type: rule.type, missing: true, violations: { missing_column: 1 } };
          evidence.push({ column: name, violation: 'missing_column', count: 1 });
          violations++;
        } else perColumn[name] = { type: rule.type, missing: true, violations: {} };
        continue;
      }
      const v = columnViolations(col, rule, rowsHit);
      const counts: Record<string, number> = {};
      for (const [kind, tally] of Object.entries(v) as Array<[ViolationKind, Tally]>) {
        counts[kind] = tally.count;
        violations += tally.count;
        evidence.push({ column: name, violation: kind, count: tally.count, examples: tally.examples });
      }
      perColumn[name] = { type: rule.type, violations: counts };
    }
    const extra = ds.names.filter(n => !schema.columns.has(n));
    if (!schema.allowExtraColumns) {
      for (const n of extra) {
        perColumn[n] = { unexpected: true, violations: { unexpected_column: 1 } };
        evidence.push({ column: n, violation: 'unexpected_column', count: 1 });
        violations++;
      }
    }
    let badRows = 0;
    for (let i = 0; i < rowsHit.length; i++) badRows += rowsHit[i];
    evidence.sort((a, b) => b.count - a.count);
    const withViolations = Object.values(perColumn).filter(c => Object.keys(c.violations as object).length > 0).length;
    const measured = {
      schema: file, rows: ds.rows, columns_checked: schema.columns.size, columns_with_violations: withViolations,
      violations, rows_with_violations: badRows, ...(schema.allowExtraColumns && extra.length ? { extra_columns: extra } : {}),
      columns: perColumn,
    };
    if (violations > 0) {
      const top = evidence.slice(0, 3).map(e => (e.examples?.length
        ? t('{0}: {1} ×{2} (e.g. row {3}: {4})', e.column, describe(e.violation), e.count, e.examples[0].row, JSON.stringify(e.examples[0].value))
        : t('{0}: {1} ×{2}', e.column, describe(e.violation), e.count))).join('; ');
      return {
        status: 'fail', measured, evidence: evidence.slice(0, 50),
        message: violations === 1
          ? t('1 schema violation in 1 column of {0} against {1}: {2} — fix the data or update the schema if the change is intended.', ds.file, s.file, top)
          : withViolations === 1
            ? t('{0} schema violations in 1 column of {1} against {2}: {3} — fix the data or update the schema if the change is intended.', violations, ds.file, s.file, top)
            : t('{0} schema violations in {1} columns of {2} against {3}: {4} — fix the data or update the schema if the change is intended.', violations, withViolations, ds.file, s.file, top),
      };
    }
    return {
      status: 'pass', measured,
      message: t('All {0} rows of {1} match the {2} columns of {3}.', ds.rows, ds.file, schema.columns.size, s.file),
    };
  });
}
