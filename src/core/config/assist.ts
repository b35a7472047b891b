import { t } from '../l10n';
import { experimentSchemaJson, schemaAt, type SchemaNode } from './schema';

/**
 * Completion and hover from the schema. They work on the text around the cursor (indentation and `key:` lines)
 * rather than on a parse tree, because while the user types the YAML is usually incomplete.
 */

export interface CompletionEntry {
  label: string;
  kind: 'property' | 'value';
  /** Text to insert; a snippet (`${1}` tab stops) when `snippet` is true. */
  insertText: string;
  snippet: boolean;
  /** Short type, e.g. `number`. */
  detail?: string;
  /** Markdown. */
  documentation?: string;
  /** Replace this many characters before the cursor (the partly typed word). */
  replaceLength: number;
  /** Listed first (required keys, the default value). */
  preselect?: boolean;
}

export interface HoverInfo {
  /** Markdown. */
  contents: string;
  offset: number;
  length: number;
}

interface LineInfo {
  start: number;
  text: string;
}

function lineAt(text: string, offset: number): LineInfo {
  const start = text.lastIndexOf('\n', offset - 1) + 1;
  let end = text.indexOf('\n', offset);
  if (end === -1) end = text.length;
  return { start, text: text.slice(start, end).replace(/\r$/, '') };
}

const keyLine = /^(\s*)(?:- +)?(["']?)([^\s:#"'][^:#]*?)\2\s*:(?:\s|$)/;

function indentOf(line: string): number {
  return line.length - line.trimStart().length;
}

/** Keys of the enclosing block mappings, found by walking up to lines with smaller indentation. */
function parentPath(text: string, lineStart: number, indent: number): string[] {
  const path: string[] = [];
  let bound = indent;
  let end = lineStart - 1;
  while (end > 0 && bound > 0) {
    const start = text.lastIndexOf('\n', end - 1) + 1;
    const line = text.slice(start, end).replace(/\r$/, '');
    end = start - 1;
    if (!line.trim() || line.trimStart().startsWith('#')) continue;
    const ind = indentOf(line);
    if (ind >= bound) continue;
    const m = keyLine.exec(line);
    if (!m) return path; // a list item or flow content: no key path we can follow
    path.unshift(m[3].trim());
    bound = ind;
  }
  return path;
}

/** Keys already present in the block that holds the line at `lineStart`, at exactly `indent`. */
function siblingKeys(text: string, lineStart: number, indent: number): Set<string> {
  const keys = new Set<string>();
  const visit = (line: string): boolean => {
    if (!line.trim() || line.trimStart().startsWith('#')) return true;
    const ind = indentOf(line);
    if (ind < indent) return false; // left the block
    const m = ind === indent ? keyLine.exec(line) : null;
    if (m) keys.add(m[3].trim());
    return true;
  };
  // forwards from the next line
  for (let start = text.indexOf('\n', lineStart) + 1; start > 0 && start < text.length;) {
    const nl = text.indexOf('\n', start);
    if (!visit(text.slice(start, nl === -1 ? text.length : nl).replace(/\r$/, ''))) break;
    start = nl + 1;
  }
  // backwards from the previous line
  for (let end = lineStart - 1; end >= 0;) {
    const start = text.lastIndexOf('\n', end - 1) + 1;
    if (!visit(text.slice(start, end).replace(/\r$/, ''))) break;
    end = start - 1;
  }
  return keys;
}

function typeLabel(s: SchemaNode | undefined): string | undefined {
  if (!s?.type) return undefined;
  return Array.isArray(s.type) ? s.type.join(' | ') : s.type;
}

function primaryType(s: SchemaNode): string | undefined {
  return Array.isArray(s.type) ? s.type[0] : s.type;
}

function docOf(s: SchemaNode | undefined): string | undefined {
  return s?.markdownDescription ?? s?.description;
}

function yamlScalar(v: unknown): string {
  if (typeof v === 'string') return /^[A-Za-z_][\w.-]*$/.test(v) && !/^(true|false|null|yes|no|on|off|~)$/i.test(v) ? v : JSON.stringify(v);
  return String(v);
}

/** Completion entries at `offset`: keys of the enclosing mapping, or values of the key on the cursor's line. */
export function completeAt(text: string, offset: number, schema: SchemaNode = experimentSchemaJson): CompletionEntry[] {
  const line = lineAt(text, offset);
  const before = line.text.slice(0, offset - line.start);

  const value = /^(\s*)(?:- +)?([\w.-]+)\s*:\s*(["']?)([^"'#]*)$/.exec(before);
  if (value) {
    const path = [...parentPath(text, line.start, value[1].length), value[2]];
    const node = schemaAt(path, schema);
    if (!node) return [];
    const typed = value[3] + value[4];
    const out: CompletionEntry[] = [];
    const seen = new Set<string>();
    const push = (v: unknown, preselect = false) => {
      const text = yamlScalar(v);
      if (seen.has(text)) return;
      seen.add(text);
      out.push({ label: text, kind: 'value', insertText: text, snippet: false, detail: typeLabel(node), documentation: docOf(node), replaceLength: typed.length, preselect });
    };
    if (node.default !== undefined) push(node.default, true);
    for (const v of node.enum ?? []) push(v);
    for (const v of node.examples ?? []) push(v);
    if (primaryType(node) === 'boolean') {
      push(true);
      push(false);
    }
    return out;
  }

  const key = /^(\s*)(- +)?([\w.-]*)$/.exec(before);
  if (!key) return [];
  const indent = key[1].length + (key[2]?.length ?? 0);
  const path = parentPath(text, line.start, indent);
  const node = schemaAt(path, schema);
  if (!node?.properties) return [];
  const present = siblingKeys(text, line.start, indent);
  const required = new Set(node.required ?? []);
  const out: CompletionEntry[] = [];
  for (const [name, child] of Object.entries(node.properties)) {
    if (present.has(name)) continue;
    out.push({
      label: name,
      kind: 'property',
      insertText: keyInsertText(name, child, indent),
      snippet: true,
      detail: [typeLabel(child), required.has(name) ? t('required') : undefined].filter(Boolean).join(' · ') || undefined,
      documentation: docOf(child),
      replaceLength: key[3].length,
      preselect: required.has(name),
    });
  }
  return out;
}

function keyInsertText(name: string, s: SchemaNode, indent: number): string {
  const child = ' '.repeat(indent + 2);
  const type = primaryType(s);
  if (type === 'object') {
    const first = s.required?.[0];
    return first ? `${name}:\n${child}${first}: \${1}` : `${name}:\n${child}\${1}`;
  }
  if (type === 'array') return `${name}: [\${1}]`;
  if (s.default !== undefined) return `${name}: \${1:${yamlScalar(s.default).replace(/[$}\\]/g, '\\$&')}}`;
  if (type === 'string') return `${name}: \${1}`;
  return `${name}: \${1}`;
}

/** Hover for the key (or its value) under the cursor: the key's path, type, default and description. */
export function hoverAt(text: string, offset: number, schema: SchemaNode = experimentSchemaJson): HoverInfo | undefined {
  const line = lineAt(text, offset);
  const m = keyLine.exec(line.text);
  if (!m) return undefined;
  const name = m[3].trim();
  const keyStart = line.start + line.text.indexOf(name, m[1].length);
  const commentAt = line.text.search(/\s#/);
  const lineEnd = line.start + (commentAt === -1 ? line.text.length : commentAt);
  if (offset < keyStart || offset > lineEnd) return undefined;
  const path = [...parentPath(text, line.start, m[1].length + (line.text.slice(m[1].length).match(/^- +/)?.[0].length ?? 0)), name];
  const node = schemaAt(path, schema);
  if (!node) return undefined;
  const parts = [`**${path.join('.')}**${typeLabel(node) ? ` — \`${typeLabel(node)}\`` : ''}`];
  const doc = docOf(node);
  if (doc) parts.push(doc);
  if (node.default !== undefined) parts.push(t('Default: `{0}`', yamlScalar(node.default)));
  const parent = schemaAt(path.slice(0, -1), schema);
  if (parent?.required?.includes(name)) parts.push(t('Required.'));
  return { contents: parts.join('\n\n'), offset: keyStart, length: name.length };
}
