import type { ErrorObject, ValidateFunction } from 'ajv';
import { isMap, isScalar, Scalar, type Document, type Node } from 'yaml';
import experimentSchema from '../../../schemas/experiment.schema.json';
import { t } from '../l10n';
import { ProblemCode, type Fix, type Problem } from './problem';
import { compileValidator, precompiledValidators } from './schemaValidators';
import { schemaMessage, schemaReason } from './schemaMessages';
import { closest } from './suggest';
import { lastPair, locate, span, type Located } from './yamlAst';

/** The subset of JSON Schema the config schemas use, plus the editor annotations they carry. */
export interface SchemaNode {
  type?: string | string[];
  properties?: Record<string, SchemaNode>;
  additionalProperties?: boolean | SchemaNode;
  propertyNames?: SchemaNode;
  required?: string[];
  items?: SchemaNode;
  enum?: unknown[];
  default?: unknown;
  examples?: unknown[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  minItems?: number;
  pattern?: string;
  description?: string;
  markdownDescription?: string;
  errorMessage?: string;
  title?: string;
}

export const experimentSchemaJson = experimentSchema as SchemaNode;

const compiled = new Map<SchemaNode, ValidateFunction>();

function validatorFor(schema: SchemaNode): ValidateFunction {
  let fn = compiled.get(schema);
  if (!fn) {
    // A bundle carries the schemas/ validators as code (esbuild.mjs): nothing to compile when a process starts.
    const id = (schema as { $id?: unknown }).$id;
    fn = typeof id === 'string' && Object.prototype.hasOwnProperty.call(precompiledValidators, id) ? precompiledValidators[id] : compileValidator(schema);
    compiled.set(schema, fn);
  }
  return fn;
}

/**
 * A file kind's own wording for some schema errors: gets each ajv error with the problem made of it by default, and
 * returns the problem to report (that one, a changed copy, or another) or undefined to drop it.
 */
export type RefineProblem = (err: ErrorObject, problem: Problem | undefined, doc: Document.Parsed) => Problem | undefined;

/** Validate `value` (the document's `toJS()`) against `schema`; each error is placed on its YAML node. */
export function schemaProblems(doc: Document.Parsed, text: string, value: unknown, schema: SchemaNode = experimentSchemaJson, refine?: RefineProblem): Problem[] {
  const validate = validatorFor(schema);
  if (validate(value)) return [];
  const problems: Problem[] = [];
  const seen = new Set<string>();
  for (const err of validate.errors ?? []) {
    if (err.keyword === 'propertyNames') continue; // its inner error (with propertyName) says it better
    if (err.keyword === 'if') continue; // "must match then": the errors of the `then` branch say what is wrong
    const made = toProblem(doc, text, err);
    const p = refine ? refine(err, made, doc) : made;
    if (!p) continue;
    const key = `${p.offset}:${p.length}:${p.code}`;
    if (seen.has(key)) continue; // e.g. one union-type mismatch reported once
    seen.add(key);
    problems.push(p);
  }
  return problems;
}

function pointerSegments(pointer: string): string[] {
  if (!pointer) return [];
  return pointer.slice(1).split('/').map(s => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** Dotted path for messages: `experiment.parameters.learning_rate`, `run.command[0]`. */
export function dottedPath(segments: readonly string[]): string {
  let out = '';
  for (const s of segments) out += /^\d+$/.test(s) ? `[${s}]` : out ? `.${s}` : s;
  return out || t('the document');
}

/** Words for JSON Schema types in messages (translated on each call: the language may change at run time). */
function typeName(type: string): string {
  switch (type) {
    case 'string': return t('a string');
    case 'number': return t('a number');
    case 'integer': return t('an integer');
    case 'boolean': return t('true or false');
    case 'object': return t('a mapping (key: value lines)');
    case 'array': return t('a list');
    case 'null': return t('empty (null)');
    default: return type;
  }
}

function actualType(node: Node | null | undefined, value: unknown): string {
  if (value === null || value === undefined) return t('empty');
  if (Array.isArray(value)) return t('a list');
  if (typeof value === 'object') return t('a mapping');
  if (typeof value === 'string') return isScalar(node) && node.type !== Scalar.PLAIN ? t('a quoted string') : t('a string');
  if (typeof value === 'number' && !Number.isFinite(value)) return t('{0} (not a finite number)', String(value));
  if (typeof value === 'number') return Number.isInteger(value) ? t('an integer') : t('a number');
  return typeof value;
}

function toProblem(doc: Document.Parsed, text: string, err: ErrorObject): Problem | undefined {
  const segments = pointerSegments(err.instancePath);
  const where = locate(doc, segments);
  const parentSchema = (err.parentSchema ?? {}) as SchemaNode;
  const custom = parentSchema.errorMessage;
  const path = dottedPath(segments);

  // A key that does not pass `propertyNames`: ajv reports it on the object with the offending name.
  const propertyName = (err as ErrorObject & { propertyName?: string }).propertyName;
  if (propertyName !== undefined) {
    const keyNode = keyNodeOf(where, propertyName);
    const r = span(keyNode) ?? valueSpan(where, text);
    return {
      ...at(r), severity: 'error', code: ProblemCode.invalidValue,
      message: t('Key `{0}` in `{1}` is not allowed: {2}.', propertyName, path, schemaReason(err, custom)),
    };
  }

  switch (err.keyword) {
    case 'false schema': {
      // A key the schema forbids in this context (an if/then branch with `key: false`).
      const key = segments[segments.length - 1] ?? '';
      const r = span(where?.key) ?? valueSpan(where, text);
      return { ...at(r), severity: 'error', code: ProblemCode.invalidValue, message: t('Key `{0}` is not allowed in `{1}`.', key, dottedPath(segments.slice(0, -1))) };
    }
    case 'additionalProperties': {
      const extra = String((err.params as { additionalProperty: string }).additionalProperty);
      const keyNode = keyNodeOf(where, extra);
      const known = Object.keys(parentSchema.properties ?? {});
      const guess = closest(extra, known);
      const r = span(keyNode) ?? valueSpan(where, text);
      const fixes: Fix[] = [];
      if (guess && keyNode?.range) {
        fixes.push({ title: t('Rename `{0}` to `{1}`', extra, guess), preferred: true, edits: [{ offset: keyNode.range[0], length: keyNode.range[1] - keyNode.range[0], newText: guess }] });
      }
      const expected = known.map(k => `\`${k}\``).join(', ');
      const message = segments.length === 0
        ? guess ? t('Unknown top-level key `{0}`. Did you mean `{1}`?', extra, guess) : t('Unknown top-level key `{0}`: the top level allows only {1}.', extra, expected)
        : guess ? t('Unknown key `{0}` in `{1}`. Did you mean `{2}`?', extra, path, guess) : t('Unknown key `{0}` in `{1}`. Expected one of: {2}.', extra, path, expected);
      return { ...at(r), severity: 'error', code: ProblemCode.unknownKey, message, fixes: fixes.length ? fixes : undefined };
    }
    case 'required': {
      const missing = String((err.params as { missingProperty: string }).missingProperty);
      const r = where?.key ? span(where.key) : firstLineSpan(text);
      const childSchema = parentSchema.properties?.[missing] ?? {};
      const fix = insertKeyFix(text, where, missing, childSchema);
      return {
        ...at(r), severity: 'error', code: ProblemCode.missingKey,
        message: segments.length === 0
          ? t('The file has no top-level `{0}` key (it is required).', missing)
          : t('`{0}` is missing the required key `{1}`{2}.', path, missing, describe(childSchema)),
        fixes: fix ? [fix] : undefined,
      };
    }
    case 'type': {
      const expected = ([] as string[]).concat((err.params as { type: string | string[] }).type as string[]);
      const node = where?.value;
      const r = valueSpan(where, text);
      const expectedText = joinOr(expected.map(typeName));
      const message = custom
        ? t('`{0}` has the wrong type: {1}.', path, schemaMessage(custom))
        : t('`{0}` must be {1}, but it is {2}.', path, expectedText, actualType(node, err.data));
      return { ...at(r), severity: 'error', code: ProblemCode.wrongType, message, fixes: typeFixes(text, node, expected, err.data) };
    }
    case 'enum': {
      const allowed = (err.params as { allowedValues: unknown[] }).allowedValues;
      const guess = typeof err.data === 'string' ? closest(err.data, allowed.map(String)) : undefined;
      return {
        ...at(valueSpan(where, text)), severity: 'error', code: ProblemCode.invalidValue,
        message: guess
          ? t('`{0}` must be one of {1}. Did you mean `{2}`?', path, allowed.map(a => `\`${String(a)}\``).join(', '), guess)
          : t('`{0}` must be one of {1}.', path, allowed.map(a => `\`${String(a)}\``).join(', ')),
      };
    }
    case 'pattern':
    case 'format':
    case 'minLength':
    case 'minItems':
    case 'const': {
      const shown = typeof err.data === 'string' ? `\`${err.data}\`` : JSON.stringify(err.data);
      const message = err.keyword === 'minLength' && err.data === ''
        ? t('`{0}` must not be empty.', path)
        : err.keyword === 'minItems'
          ? t('`{0}` must have at least {1} item(s).', path, String((err.params as { limit: number }).limit))
          : t('`{0}` is not valid ({1}): {2}.', path, shown, schemaReason(err, custom));
      return { ...at(valueSpan(where, text)), severity: 'error', code: ProblemCode.invalidValue, message };
    }
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum': {
      const { comparison, limit } = err.params as { comparison: string; limit: number };
      return {
        ...at(valueSpan(where, text)), severity: 'error', code: ProblemCode.outOfRange,
        message: t('`{0}` must be {1} {2} (it is {3}).', path, comparison, String(limit), String(err.data)),
      };
    }
    default:
      return { ...at(valueSpan(where, text)), severity: 'error', code: ProblemCode.invalidValue, message: t('`{0}` is not valid: {1}.', path, schemaReason(err, custom)) };
  }
}

function at(r: [number, number] | undefined): { offset: number; length: number } {
  return r ? { offset: r[0], length: r[1] } : { offset: 0, length: 1 };
}

function joinOr(items: string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} ${t('or')} ${items[items.length - 1]}`;
}

function describe(schema: SchemaNode): string {
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  return type ? t(' ({0})', typeName(type)) : '';
}

function keyNodeOf(where: Located | undefined, key: string): Node | undefined {
  const map = where?.value;
  if (!isMap(map)) return undefined;
  const k = lastPair(map, key)?.key;
  return isScalar(k) ? k : undefined;
}

/** The value's range; for `key:` with nothing after it, the key's range (the empty value has no width). */
function valueSpan(where: Located | undefined, text: string): [number, number] | undefined {
  const v = where?.value;
  const vs = span(v);
  if (vs && !(isScalar(v) && v.value === null && v.range![0] === v.range![1])) return trimSpan(text, vs);
  return span(where?.key) ?? vs;
}

/** Block collections' ranges include trailing blank and comment lines; keep the underline on the content. */
function trimSpan(text: string, [offset, length]: [number, number]): [number, number] {
  let end = offset + length;
  for (;;) {
    while (end > offset + 1 && /\s/.test(text[end - 1])) end--;
    const lineStart = text.lastIndexOf('\n', end - 1) + 1;
    if (lineStart <= offset || !text.slice(lineStart, end).trimStart().startsWith('#')) return [offset, end - offset];
    end = lineStart;
  }
}

function firstLineSpan(text: string): [number, number] {
  const nl = text.indexOf('\n');
  return [0, Math.max(1, nl === -1 ? text.length : nl)];
}

function typeFixes(text: string, node: Node | null | undefined, expected: string[], value: unknown): Fix[] | undefined {
  if (!isScalar(node) || !node.range) return undefined;
  const start = node.range[0];
  let end = node.range[1];
  while (end > start + 1 && /\s/.test(text[end - 1])) end--; // a block scalar's range includes its line break
  const source = text.slice(start, end);
  const wantsNumber = expected.includes('number') || expected.includes('integer');
  if (wantsNumber && typeof value === 'string' && node.type !== Scalar.PLAIN) {
    const n = Number(value.trim());
    if (value.trim() !== '' && Number.isFinite(n) && (expected.includes('number') || Number.isInteger(n))) {
      return [{ title: t('Remove the quotes: use the number {0}', value.trim()), preferred: true, edits: [{ offset: start, length: end - start, newText: value.trim() }] }];
    }
  }
  if (expected.includes('string') && (typeof value === 'number' || typeof value === 'boolean') && node.type === Scalar.PLAIN) {
    return [{ title: t('Quote it as the string "{0}"', source), preferred: true, edits: [{ offset: start, length: end - start, newText: JSON.stringify(source) }] }];
  }
  if (expected.includes('array') && typeof value === 'string' && value.trim() !== '') {
    const argv = splitArgs(value);
    return [{ title: t('Convert to an argv list: {0}', JSON.stringify(argv)), preferred: true, edits: [{ offset: start, length: end - start, newText: `[${argv.map(a => JSON.stringify(a)).join(', ')}]` }] }];
  }
  return undefined;
}

/** Split a command line into words the way a POSIX shell would for plain words and quotes (no expansion). */
export function splitArgs(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"' && i + 1 < line.length) cur += line[++i];
      else cur += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) out.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += c === '\\' && i + 1 < line.length ? line[++i] : c;
      inWord = true;
    }
  }
  if (inWord) out.push(cur);
  return out;
}

/** Insert `key: placeholder` (and its required children) as the last entry of a block mapping. */
function insertKeyFix(text: string, where: Located | undefined, key: string, schema: SchemaNode): Fix | undefined {
  const map = where?.value;
  if (!isMap(map) || map.flow || map.items.length === 0) return undefined;
  const firstKey = map.items[0].key as Node;
  if (!firstKey?.range) return undefined;
  const indent = firstKey.range[0] - (text.lastIndexOf('\n', firstKey.range[0] - 1) + 1);
  const last = map.items[map.items.length - 1];
  const lastNode = ((last.value as Node | null)?.range ? last.value : last.key) as Node;
  let end = lastNode.range![1];
  while (end > 0 && /[ \t\r\n]/.test(text[end - 1])) end--; // after the last value, before trailing blank lines
  const lineEnd = text.indexOf('\n', end);
  const insertAt = lineEnd === -1 ? text.length : lineEnd > 0 && text[lineEnd - 1] === '\r' ? lineEnd - 1 : lineEnd;
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const block = renderPlaceholder(key, schema, indent, eol);
  return { title: t('Add the missing key `{0}`', key), preferred: true, edits: [{ offset: insertAt, length: 0, newText: eol + block }] };
}

function renderPlaceholder(key: string, schema: SchemaNode, indent: number, eol: string, depth = 0): string {
  const pad = ' '.repeat(indent);
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  if (type === 'object' && depth < 3) {
    const children = (schema.required ?? []).map(k => renderPlaceholder(k, schema.properties?.[k] ?? {}, indent + 2, eol, depth + 1));
    return children.length ? `${pad}${key}:${eol}${children.join(eol)}` : `${pad}${key}: {}`;
  }
  if (type === 'array') return `${pad}${key}: []`;
  const example = schema.default ?? schema.examples?.[0];
  if (example !== undefined && typeof example !== 'object') return `${pad}${key}: ${typeof example === 'string' ? JSON.stringify(example) : String(example)}`;
  if (type === 'number' || type === 'integer') return `${pad}${key}: 0`;
  if (type === 'boolean') return `${pad}${key}: false`;
  return `${pad}${key}: ${JSON.stringify(t('TODO: {0}', key))}`;
}

/** The schema node describing `segments`, following properties, additionalProperties and items. */
export function schemaAt(segments: readonly string[], schema: SchemaNode = experimentSchemaJson): SchemaNode | undefined {
  let node: SchemaNode | undefined = schema;
  for (const seg of segments) {
    if (!node) return undefined;
    if (/^\d+$/.test(seg) && node.items) node = node.items;
    else if (node.properties?.[seg]) node = node.properties[seg];
    else if (typeof node.additionalProperties === 'object') node = node.additionalProperties;
    else return undefined;
  }
  return node;
}

