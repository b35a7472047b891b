/**
 * The `data_schema` check: the evaluation data against a data schema file.
 *
 * Policy entry: `- data_schema: { file: schemas/eval-data.yaml }` (relative to the workspace root).
 *
 * Schema file format (YAML):
 * ```yaml
 * columns:
 *   age:     { type: integer, min: 0, max: 120 }
 *   income:  { type: number, min: 0, nullable: true }
 *   sex:     { type: category, allowed: [F, M] }
 *   comment: { type: string, required: false, nullable: true }
 * allow_extra_columns: true      # optional, default true; false → columns not listed are violations
 * ```
 * Per column:
 * - `type` (required): `number` (every value a finite decimal number), `integer` (a number without fraction),
 *   `string` (any value, numbers included) or `category` (any value, usually with `allowed`).
 * - `min`, `max` (number/integer only): inclusive bounds.
 * - `allowed`: the list of permitted values (compared as text; numbers in canonical form, so `1` matches `1.0`).
 * - `nullable` (default false): whether missing values (empty cells, NA, null, …) are permitted.
 * - `required` (default true): whether the column must be present.
 *
 * Violations per column, with counts and up to 5 example rows (1-based data rows): `missing_column`,
 * `type_mismatch`, `below_min`, `above_max`, `not_allowed`, `nulls`, `unexpected_column`. A schema file that cannot
 * be read or is not of this form gives status `error` with file:line:column and what is wrong.
 */
import * as fs from 'fs';
import * as path from 'path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import { t } from '../l10n';
import { canonicalLabel } from './bias';
import { CheckInputError, listNames, parseDecimal, runCheck, specObject } from './dataset';
import type { CheckResult, Column, GateContext } from './types';

export interface DataSchemaSpec { file: string }

export type SchemaType = 'number' | 'integer' | 'string' | 'category';

export interface ColumnRule {
  type: SchemaType;
  min?: number;
  max?: number;
  allowed?: Array<string | number | boolean>;
  nullable: boolean;
  required: boolean;
}

export interface DataSchema {
  columns: Map<string, ColumnRule>;
  allowExtraColumns: boolean;
}

const TYPES: readonly SchemaType[] = ['number', 'integer', 'string', 'category'];
const RULE_KEYS = new Set(['type', 'min', 'max', 'allowed', 'nullable', 'required']);

/** Parses a data schema document; throws CheckInputError `file:line:col: what is wrong`. */
export function parseDataSchema(text: string, file: string): DataSchema {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: false, prettyErrors: false });
  const where = (offset: number | undefined) => {
    const pos = lineCounter.linePos(offset ?? 0);
    return `${file}:${pos.line}:${pos.col}`;
  };
  const fail = (node: Node | null | undefined, message: string): never => {
    throw new CheckInputError(`data_schema: ${where(node?.range?.[0])}: ${message}`);
  };
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    throw new CheckInputError(t('data_schema: {0}: invalid YAML: {1}', where(e.pos[0]), e.message.split('\n')[0]));
  }
  const root = doc.contents;
  if (!isMap(root)) return fail(root as Node | null, t('a data schema is a mapping with a `columns:` mapping (column name → {type, …})'));
  let columnsNode: Node | null = null;
  let allowExtra = true;
  for (const pair of root.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : '';
    if (key === 'columns') columnsNode = pair.value as Node | null;
    else if (key === 'allow_extra_columns') {
      const v = pair.value;
      if (!isScalar(v) || typeof v.value !== 'boolean') fail(v as Node, t('allow_extra_columns must be true or false'));
      allowExtra = (v as { value: boolean }).value;
    } else fail(pair.key as Node, t('unknown key "{0}"; a data schema has columns and allow_extra_columns', key));
  }
  if (!columnsNode) return fail(root, t('missing `columns:` (a mapping of column name → {type, …})'));
  if (!isMap(columnsNode)) return fail(columnsNode, t('`columns` must be a mapping of column name → {type, …}'));
  const columns = new Map<string, ColumnRule>();
  for (const pair of columnsNode.items) {
    const keyNode = pair.key as Node;
    if (!isScalar(keyNode) || keyNode.value === null) fail(keyNode, t('a column name must be a plain string'));
    const name = String((keyNode as { value: unknown }).value);
    if (columns.has(name)) fail(keyNode, t('column "{0}" is listed twice', name));
    const ruleNode = pair.value as Node | null;
    if (!isMap(ruleNode)) { fail(ruleNode ?? keyNode, t('column "{0}" needs a mapping such as {type: number}', name)); continue; }
    const rule: Partial<ColumnRule> & { nullable: boolean; required: boolean } = { nullable: false, required: true };
    for (const rp of ruleNode.items) {
      const rk = isScalar(rp.key) ? String(rp.key.value) : '';
      const vn = rp.value as Node | null;
      const value = isScalar(vn) ? vn.value : undefined;
      if (!RULE_KEYS.has(rk)) fail(rp.key as Node, t('unknown key "{0}" for column "{1}"; the keys are {2}', rk, name, listNames([...RULE_KEYS])));
      if (rk === 'type') {
        if (typeof value !== 'string' || !TYPES.includes(value as SchemaType)) fail(vn ?? ruleNode, t('type of "{0}" must be one of {1}, got {2}', name, TYPES.join(', '), JSON.stringify(value ?? null)));
        rule.type = value as SchemaType;
      } else if (rk === 'min' || rk === 'max') {
        if (typeof value !== 'number' || !Number.isFinite(value)) fail(vn ?? ruleNode, t('{0} of "{1}" must be a number', rk, name));
        rule[rk] = value as number;
      } else if (rk === 'nullable' || rk === 'required') {
        if (typeof value !== 'boolean') fail(vn ?? ruleNode, t('{0} of "{1}" must be true or false', rk, name));
        rule[rk] = value as boolean;
      } else if (rk === 'allowed') {
        if (!isSeq(vn) || vn.items.length === 0) { fail(vn ?? ruleNode, t('allowed of "{0}" must be a non-empty list of values', name)); continue; }
        const list: Array<string | number | boolean> = [];
        for (const item of vn.items) {
          const iv = isScalar(item) ? item.value : undefined;
          if (typeof iv !== 'string' && typeof iv !== 'number' && typeof iv !== 'boolean') fail(item as Node, t('allowed values of "{0}" must be strings, numbers or booleans', name));
          list.push(iv as string | number | boolean);
        }
        rule.allowed = list;
      }
    }
    if (!rule.type) fail(ruleNode, t('column "{0}" needs a type ({1})', name, TYPES.join(', ')));
    if ((rule.min !== undefined || rule.max !== undefined) && rule.type !== 'number' && rule.type !== 'integer') {
      fail(ruleNode, t('min/max of "{0}" apply to number and integer columns, not {1}', name, String(rule.type)));
    }
    if (rule.min !== undefined && rule.max !== undefined && rule.min > rule.max) fail(ruleNode, t('min ({0}) of "{1}" is above max ({2})', rule.min, name, rule.max));
    columns.set(name, rule as ColumnRule);
  }
  return { columns, allowExtraColumns: allowExtra };
}

type ViolationKind = 'missing_column' | 'type_mismatch' | 'below_min' | 'above_max' | 'not_allowed' | 'nulls' | 'unexpected_column';

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
    for (const key of Object.keys(s)) if (key !== 'file') throw new CheckInputError(t('data_schema: unknown option "{0}"; the only option is file', key));
    if (typeof s.file !== 'string' || s.file === '') throw new CheckInputError(t('data_schema: file must name the data schema (YAML), e.g. file: schemas/eval-data.yaml'));
    const file = path.resolve(ctx.root, s.file);
    let text: string;
    try {
      text = await fs.promises.readFile(file, 'utf8');
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
        : `${e.column}: ${describe(e.violation)} ×${e.count}`)).join('; ');
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
