import { isAlias, isMap, isPair, isScalar, isSeq, parseDocument, visit, type Document, type Node, type Pair, type YAMLMap } from 'yaml';
import { t } from '../l10n';
import { LineIndex } from './lines';
import { ProblemCode, type Problem } from './problem';

/** A YAML document parsed with source ranges, plus the syntax problems found while parsing. */
export interface ParsedYaml {
  doc: Document.Parsed;
  problems: Problem[];
}

/** Parse without the `yaml` library's own duplicate-key check (quadratic); {@link duplicateKeys} replaces it. */
export function parseYaml(text: string): ParsedYaml {
  const doc = parseDocument(text, { uniqueKeys: false, prettyErrors: false, keepSourceTokens: false, strict: true });
  const problems: Problem[] = [];
  for (const e of doc.errors) {
    const [start, end] = e.pos;
    problems.push({
      offset: start,
      length: Math.max(1, end - start),
      severity: 'error',
      code: ProblemCode.yamlSyntax,
      message: t('YAML syntax error: {0}', firstLine(e.message)),
    });
  }
  return { doc, problems };
}

function firstLine(s: string): string {
  const i = s.indexOf('\n');
  return (i === -1 ? s : s.slice(0, i)).trim();
}

/** String form of a scalar key, or undefined for complex keys (which a config never uses). */
export function keyName(pair: Pair): string | undefined {
  const k = pair.key;
  if (isScalar(k)) return k.value === null ? 'null' : String(k.value);
  if (k === null || typeof k !== 'object') return k === null ? undefined : String(k);
  return undefined;
}

/** Duplicate keys in every mapping of the document, in one linear pass (a Set per mapping). */
export function duplicateKeys(doc: Document.Parsed, text: string): Problem[] {
  const problems: Problem[] = [];
  let lines: LineIndex | undefined;
  visit(doc, {
    Map(_, map) {
      const seen = new Map<string, Pair>();
      for (const pair of map.items) {
        const name = keyName(pair);
        if (name === undefined || name === '<<') continue;
        const first = seen.get(name);
        const range = isScalar(pair.key) ? pair.key.range : undefined;
        if (first && range) {
          const firstRange = isScalar(first.key) ? first.key.range : undefined;
          problems.push({
            offset: range[0],
            length: Math.max(1, range[1] - range[0]),
            severity: 'error',
            code: ProblemCode.duplicateKey,
            message: t('Duplicate key `{0}`: it is already defined above{1}. YAML keeps only the last value; remove one of them.',
              name, firstRange ? t(' (line {0})', (lines ??= new LineIndex(text)).position(firstRange[0]).line + 1) : ''),
            // The remove edit deletes whole lines: only right in a block mapping, not in `{a: 1, a: 2}`.
            fixes: map.flow ? undefined : [{ title: t('Remove this duplicate `{0}` entry', name), edits: [removePairEdit(text, pair)] }],
          });
        } else if (!first) {
          seen.set(name, pair);
        }
      }
    },
  });
  return problems;
}

/** An edit that deletes a block-mapping pair's whole lines (key, value and nested block). */
function removePairEdit(text: string, pair: Pair): { offset: number; length: number; newText: string } {
  const start = (pair.key as Node).range![0];
  const valueNode = pair.value as Node | null;
  const end = valueNode && valueNode.range ? valueNode.range[1] : (pair.key as Node).range![1];
  const lineStart = text.lastIndexOf('\n', start - 1) + 1;
  const nl = text.indexOf('\n', Math.max(start, end - 1));
  const lineEnd = nl === -1 ? text.length : nl + 1;
  return { offset: lineStart, length: lineEnd - lineStart, newText: '' };
}

/** Where a JSON-pointer path of the instance lives in the YAML: the pair (if any), its key and its value node. */
export interface Located {
  pair?: Pair;
  key?: Node;
  value?: Node | null;
}

/** Follow `segments` (object keys / array indices) from the document root; aliases are resolved. */
export function locate(doc: Document.Parsed, segments: readonly string[]): Located | undefined {
  let node: unknown = doc.contents;
  let found: Located = { value: doc.contents as Node | null };
  for (const seg of segments) {
    node = resolve(doc, node);
    if (isMap(node)) {
      const pair = lastPair(node, seg);
      if (!pair) return undefined;
      found = { pair, key: isScalar(pair.key) ? pair.key : undefined, value: pair.value as Node | null };
      node = pair.value;
    } else if (isSeq(node)) {
      const item = node.items[Number(seg)];
      if (item === undefined) return undefined;
      found = { value: isPair(item) ? (item.value as Node) : (item as Node) };
      node = item;
    } else {
      return undefined;
    }
  }
  if (found.value) found.value = resolve(doc, found.value) as Node;
  return found;
}

function resolve(doc: Document.Parsed, node: unknown): unknown {
  for (let i = 0; i < 10 && isAlias(node); i++) node = node.resolve(doc);
  return node;
}

/** Key → last pair of large mappings, built on the first lookup (parsed documents are not modified while checked). */
const pairIndex = new WeakMap<YAMLMap, Map<string, Pair>>();

/** The last pair with that key: with duplicate keys, the value that `toJS` keeps. O(1) after the first lookup. */
export function lastPair(map: YAMLMap, key: string): Pair | undefined {
  if (map.items.length <= 16) {
    for (let i = map.items.length - 1; i >= 0; i--) if (keyName(map.items[i]) === key) return map.items[i];
    return undefined;
  }
  let index = pairIndex.get(map);
  if (!index) {
    index = new Map();
    for (const pair of map.items) {
      const name = keyName(pair);
      if (name !== undefined) index.set(name, pair);
    }
    pairIndex.set(map, index);
  }
  return index.get(key);
}

/** [offset, length] of a node's own text (without trailing comments/newlines), or undefined if it has no range. */
export function span(node: Node | null | undefined): [number, number] | undefined {
  if (!node || !node.range) return undefined;
  return [node.range[0], Math.max(1, node.range[1] - node.range[0])];
}

