/**
 * Data schema files: what the evaluation data of a promotion policy must look like (the gate's `data_schema` check).
 *
 * ```yaml
 * columns:
 *   age:     { type: integer, min: 0, max: 120 }
 *   income:  { type: number, min: 0, nullable: true }
 *   sex:     { type: category, allowed: [F, M] }
 *   comment: { type: string, required: false, nullable: true }
 * allow_extra_columns: true      # optional, default true; false → columns not listed are violations
 * ```
 *
 * A file is one when it is named `*.data.yaml` / `*.data.yml` or says `# edd: data-schema` in its first five lines.
 * It is validated against `schemas/data-schema.schema.json` (types, keys, allowed values, `min`/`max` only on number
 * and integer columns) with the same problems as experiment configs, plus what JSON Schema cannot say (`min` ≤ `max`,
 * column names that are plain strings). The editor, `edd validate` and the gate all read it through
 * {@link validateDataSchema}, so they accept and refuse exactly the same files.
 */
import { isMap, isScalar, type Document, type Node } from 'yaml';
import dataSchemaSchema from '../../../schemas/data-schema.schema.json';
import { t } from '../l10n';
import { ProblemCode, type Problem } from './problem';
import { schemaProblems, type RefineProblem, type SchemaNode } from './schema';
import { keyName, lastPair, locate, readYaml, span } from './yamlAst';

export const dataSchemaSchemaJson = dataSchemaSchema as SchemaNode;

/** Column types, as the schema's `type` enum lists them. */
export const COLUMN_TYPES = ['number', 'integer', 'string', 'category'] as const;
export type SchemaType = (typeof COLUMN_TYPES)[number];

/** One column's rules, with the defaults filled in. */
export interface ColumnRule {
  type: SchemaType;
  /** Inclusive bounds (number and integer columns only). */
  min?: number;
  max?: number;
  /** Permitted values (compared as text; numbers in canonical form). */
  allowed?: Array<string | number | boolean>;
  /** Missing values permitted. Default false. */
  nullable: boolean;
  /** The column must be present. Default true. */
  required: boolean;
}

/** A valid data schema: the columns in the order the file lists them. */
export interface DataSchema {
  columns: Map<string, ColumnRule>;
  allowExtraColumns: boolean;
}

export interface DataSchemaValidation {
  problems: Problem[];
  /** Only when there is no error. */
  schema?: DataSchema;
}

/** `# edd: data-schema` in the first five lines. */
export function hasDataSchemaMarker(text: string): boolean {
  return /^[ \t]*#[ \t]*edd:[ \t]*data-schema\b/m.test(text.split('\n', 5).join('\n'));
}

/** A YAML file is a data schema when it is named `*.data.yaml` / `*.data.yml` or carries the marker comment. */
export function isDataSchemaFile(file: string, text?: string): boolean {
  return /\.data\.ya?ml$/i.test(file) || (text !== undefined && hasDataSchemaMarker(text));
}

/** Validate a data schema's text: YAML, duplicate keys, the data-schema schema, then min ≤ max and column names. */
export function validateDataSchema(text: string): DataSchemaValidation {
  const { doc, problems, value, readable, syntaxOk } = readYaml(text);
  if (!readable) return { problems };
  if (syntaxOk) {
    const firstLine = Math.max(1, text.indexOf('\n') === -1 ? text.length : text.indexOf('\n'));
    if (value === null || value === undefined) {
      problems.push({ offset: 0, length: Math.max(1, Math.min(text.length, 1)), severity: 'error', code: ProblemCode.notAMapping, message: t('The file is empty: a data schema is a mapping with `columns:` (column name → `{ type: … }`).') });
    } else if (typeof value !== 'object' || Array.isArray(value)) {
      problems.push({ offset: 0, length: firstLine, severity: 'error', code: ProblemCode.notAMapping, message: t('A data schema is a mapping with `columns:` (column name → `{ type: … }`); this file holds {0}.', Array.isArray(value) ? t('a list') : t('a single value')) });
    } else {
      problems.push(...schemaProblems(doc, text, value, dataSchemaSchemaJson, refine));
      problems.push(...ruleProblems(doc, text, value as Record<string, unknown>));
    }
  }
  problems.sort((a, b) => a.offset - b.offset || a.code.localeCompare(b.code));
  if (problems.some(p => p.severity === 'error')) return { problems };
  return { problems, schema: build(doc, value as RawSchema) };
}

interface RawRule { type: SchemaType; min?: number; max?: number; allowed?: Array<string | number | boolean>; nullable?: boolean; required?: boolean }
interface RawSchema { columns: Record<string, RawRule>; allow_extra_columns?: boolean }

const own = (o: object, k: string) => Object.prototype.hasOwnProperty.call(o, k);

function build(doc: Document.Parsed, value: RawSchema): DataSchema {
  const columnsNode = locate(doc, ['columns'])?.value;
  const names = isMap(columnsNode) ? columnsNode.items.map(keyName).filter((n): n is string => n !== undefined) : Object.keys(value.columns);
  const columns = new Map<string, ColumnRule>();
  for (const name of names) {
    if (columns.has(name) || !own(value.columns, name)) continue;
    const r = value.columns[name];
    columns.set(name, {
      type: r.type,
      ...(r.min !== undefined ? { min: r.min } : {}),
      ...(r.max !== undefined ? { max: r.max } : {}),
      ...(r.allowed !== undefined ? { allowed: r.allowed } : {}),
      nullable: r.nullable ?? false,
      required: r.required ?? true,
    });
  }
  return { columns, allowExtraColumns: value.allow_extra_columns ?? true };
}

/** A column's path segments in an ajv instance path: `/columns/<name>/<key>…`. */
function columnPath(instancePath: string): { name: string; rest: string[] } | undefined {
  const segs = instancePath.split('/').slice(1).map(s => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  return segs[0] === 'columns' && segs.length >= 2 ? { name: segs[1], rest: segs.slice(2) } : undefined;
}

/** The data schema's own wording for the errors where the generic one does not say enough. */
const refine: RefineProblem = (err, problem, doc) => {
  if (!problem) return problem;
  const col = columnPath(err.instancePath);
  if (!col) return problem;
  // `min`/`max` on a string or category column (the schema's if/then forbids them there).
  if (err.keyword === 'false schema' && col.rest.length === 1 && (col.rest[0] === 'min' || col.rest[0] === 'max')) {
    const typeNode = locate(doc, ['columns', col.name, 'type'])?.value;
    const type = isScalar(typeNode) ? String(typeNode.value) : '';
    return {
      ...problem, code: ProblemCode.boundsNotNumeric,
      message: t('`{0}` applies to `number` and `integer` columns only; column `{1}` is of type `{2}`. Remove it, or change the type.', col.rest[0], col.name, type),
    };
  }
  // `age: number` instead of `age: { type: number }`.
  if (err.keyword === 'type' && col.rest.length === 0 && typeof err.data === 'string' && (COLUMN_TYPES as readonly string[]).includes(err.data)) {
    const node = locate(doc, ['columns', col.name])?.value;
    const r = span(node);
    return {
      ...problem,
      message: t('Column `{0}` needs a mapping of its rules, e.g. `{ type: {1} }`, not just its type.', col.name, err.data),
      fixes: r ? [{ title: t('Write it as `{ type: {0} }`', err.data), preferred: true, edits: [{ offset: r[0], length: r[1], newText: `{ type: ${err.data} }` }] }] : undefined,
    };
  }
  // `allowed: Adelie, Gentoo` instead of a list: the generic fix would split it like a command line.
  if (err.keyword === 'type' && col.rest.length === 1 && col.rest[0] === 'allowed' && typeof err.data === 'string' && err.data.trim() !== '') {
    const node = locate(doc, ['columns', col.name, 'allowed'])?.value;
    const r = span(node);
    const items = err.data.split(',').map(s => s.trim()).filter(Boolean);
    const list = `[${items.map(flowItem).join(', ')}]`;
    return { ...problem, fixes: r ? [{ title: t('Make it a list: {0}', list), preferred: true, edits: [{ offset: r[0], length: r[1], newText: list }] }] : undefined };
  }
  return problem;
};

/** A value as an item of a YAML flow list: plain when it reads back as the same string, else quoted. */
function flowItem(s: string): string {
  return /^[A-Za-z_][\w.-]*$/.test(s) && !/^(true|false|null|yes|no|on|off|~)$/i.test(s) ? s : JSON.stringify(s);
}

/** What the schema cannot say: each column's min ≤ max, and column names that are plain strings. */
function ruleProblems(doc: Document.Parsed, text: string, value: Record<string, unknown>): Problem[] {
  const problems: Problem[] = [];
  const root = doc.contents;
  const columnsNode = isMap(root) ? lastPair(root, 'columns')?.value : undefined;
  if (!isMap(columnsNode)) return problems;
  const columns = value.columns as Record<string, unknown>;
  for (const pair of columnsNode.items) {
    const keyNode = pair.key as Node | null;
    if (!isScalar(keyNode) || keyNode.value === null) {
      const r = span(keyNode) ?? span(pair.value as Node | null) ?? [0, 1];
      problems.push({ offset: r[0], length: r[1], severity: 'error', code: ProblemCode.invalidValue, message: t('A column name must be a plain string, e.g. `age:`.') });
      continue;
    }
    const name = String(keyNode.value);
    const rule = own(columns, name) ? columns[name] as Record<string, unknown> | null : null;
    if (!rule || typeof rule !== 'object' || Array.isArray(rule)) continue;
    const { min, max } = rule;
    if (typeof min === 'number' && typeof max === 'number' && Number.isFinite(min) && Number.isFinite(max) && min > max) {
      const at = locate(doc, ['columns', name, 'min']);
      const r = span(at?.value) ?? span(at?.key) ?? span(keyNode) ?? [0, 1];
      problems.push({
        offset: r[0], length: trimmed(text, r), severity: 'error', code: ProblemCode.minAboveMax,
        message: t('`min` ({0}) of column `{1}` is above its `max` ({2}): no value could pass. Swap them or correct one.', min, name, max),
      });
    }
  }
  return problems;
}

function trimmed(text: string, [offset, length]: [number, number]): number {
  let n = length;
  while (n > 1 && /\s/.test(text[offset + n - 1])) n--;
  return n;
}
