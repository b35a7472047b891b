import { Composer, Document, isAlias, isMap, isPair, isScalar, isSeq, Parser, visit, YAMLParseError, type CST, type Node, type Pair, type YAMLMap } from 'yaml';
import { t } from '../l10n';
import { LineIndex } from './lines';
import { ProblemCode, type Problem } from './problem';
import { yamlErrorReason } from './schemaMessages';

/**
 * The one YAML reader of EDD: experiment configs, promotion policies and data schemas all go through {@link readYaml},
 * so they accept and refuse exactly the same text, with the same messages.
 */
export interface YamlRead {
  doc: Document.Parsed;
  /** Syntax errors, control characters, duplicate keys, refused aliases, nesting and size limits. */
  problems: Problem[];
  /** The JavaScript value (`toJS`), when it could be built. */
  value?: unknown;
  /** `value` was built (no alias bomb, not refused for size or depth). */
  readable: boolean;
  /** No syntax error: the tree is what the author wrote, so schema and rule checks make sense. */
  syntaxOk: boolean;
}

export interface ReadOptions {
  /** Aliases expanded at most this many times when building the value; more is refused as an alias bomb. */
  maxAliasCount?: number;
  /** Texts longer than this many characters are refused without parsing. */
  maxChars?: number;
}

/** Default of {@link ReadOptions.maxAliasCount}. */
export const MAX_ALIASES = 100;
/**
 * Largest text read, in characters (1 MiB of ASCII). Reading YAML with ranges costs about 0.25 s and 35-60 MB of
 * memory per MB with the `yaml` library (measured; see the README), so a larger config is refused with a problem
 * instead of stalling the editor or CI. A 5,000-line config is about 0.2 MB.
 */
export const MAX_YAML_CHARS = 1024 * 1024;
/**
 * Deepest nesting of collections read. The `yaml` library composes recursively: at 800-1,000 levels it runs out of
 * stack (and at a few thousand V8 can abort the whole process), so deeper documents are refused before composing.
 * Configs use fewer than ten levels.
 */
export const MAX_YAML_DEPTH = 200;

/** Characters YAML does not allow in a stream (outside the printable set): C0 controls but tab/LF/CR, DEL, C1 but NEL. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ufffe\uffff]/g;
/** Report at most this many control characters (one is enough to act on; thousands would drown the rest). */
const MAX_CONTROL_PROBLEMS = 20;

const firstLineLength = (text: string) => Math.max(1, Math.min(text.indexOf('\n') === -1 ? text.length : text.indexOf('\n'), 200));

/**
 * Parse with `yaml` (ranges, no token stream kept), then check what the library does not: duplicate keys in one
 * linear pass (its own check is quadratic), control characters, and the size and depth limits that keep a hostile
 * or generated file from exhausting time, memory or the stack. Never throws for any input text.
 */
export function readYaml(text: string, options: ReadOptions = {}): YamlRead {
  const maxChars = options.maxChars ?? MAX_YAML_CHARS;
  const maxAliasCount = options.maxAliasCount ?? MAX_ALIASES;
  if (text.length > maxChars) {
    return {
      doc: new Document() as Document.Parsed, readable: false, syntaxOk: false,
      problems: [{
        offset: 0, length: firstLineLength(text), severity: 'error', code: ProblemCode.tooLarge,
        message: t('This file is {0} MB; EDD reads YAML files of up to {1} MB (larger ones take seconds and hundreds of MB to check). Move bulk data (long metric tables, generated lists) into a separate JSON or CSV file and keep the config small.',
          (text.length / 1048576).toFixed(1), (maxChars / 1048576).toFixed(1)),
      }],
    };
  }
  let deep: { offset: number } | undefined;
  let doc: Document.Parsed | undefined;
  const problems: Problem[] = [];
  try {
    const composer = new Composer({ uniqueKeys: false, prettyErrors: false, keepSourceTokens: false, strict: true });
    const tokens = guardDepth(new Parser().parse(text), MAX_YAML_DEPTH, offset => { deep = { offset }; });
    for (const d of composer.compose(tokens, true, text.length)) {
      if (!doc) {
        doc = d;
      } else {
        doc.errors.push(new YAMLParseError([d.range[0], d.range[1]], 'MULTIPLE_DOCS', 'Source contains multiple documents'));
        break;
      }
    }
  } catch (e) {
    // The library reports what it understands as errors; anything thrown is a limit it hit (or a bug in it).
    problems.push({ offset: 0, length: firstLineLength(text), severity: 'error', code: ProblemCode.yamlSyntax, message: t('The YAML could not be read: {0}', e instanceof Error ? e.message : String(e)) });
    return { doc: new Document() as Document.Parsed, problems, readable: false, syntaxOk: false };
  }
  doc ??= new Document() as Document.Parsed;
  if (deep) {
    problems.push({
      offset: deep.offset, length: 1, severity: 'error', code: ProblemCode.tooDeep,
      message: t('The YAML is nested more than {0} levels deep here; EDD reads at most {0} levels (deeper nesting exhausts the parser\'s stack). Flatten the structure, or move deeply nested data into a separate JSON file.', MAX_YAML_DEPTH),
    });
    return { doc, problems, readable: false, syntaxOk: false };
  }
  for (const e of doc.errors) {
    const [start, end] = e.pos;
    problems.push({
      offset: start,
      length: Math.max(1, end - start),
      severity: 'error',
      code: ProblemCode.yamlSyntax,
      message: t('YAML syntax error: {0}', yamlErrorReason(e.code, firstLine(e.message))),
    });
  }
  problems.push(...controlCharacters(text));
  problems.push(...duplicateKeys(doc, text));
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount });
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    // No position comes with the library's alias error: the document start is the honest place for it.
    problems.push({
      offset: 0, length: firstLineLength(text), severity: 'error', code: ProblemCode.aliasLimit,
      message: /alias/i.test(message)
        ? t('Refused to expand the YAML aliases: they would expand more than {0} times (an "alias bomb"). Write the values out or use fewer nested aliases.', maxAliasCount)
        : t('The YAML could not be read: {0}', message),
    });
    return { doc, problems, readable: false, syntaxOk: doc.errors.length === 0 };
  }
  return { doc, problems, value, readable: true, syntaxOk: doc.errors.length === 0 };
}

/**
 * Pass the parser's documents through, stopping at the first one whose collections nest deeper than `max`
 * (measured on the concrete syntax tree with an explicit stack, so any depth is safe to measure).
 */
function* guardDepth(tokens: Iterable<CST.Token>, max: number, tooDeep: (offset: number) => void): Generator<CST.Token> {
  for (const token of tokens) {
    if (token.type === 'document' && token.value) {
      const offset = deeperThan(token.value, max);
      if (offset !== undefined) {
        tooDeep(offset);
        return;
      }
    }
    yield token;
  }
}

function deeperThan(root: CST.Token, max: number): number | undefined {
  const stack: Array<[CST.Token, number]> = [[root, 1]];
  while (stack.length) {
    const [token, depth] = stack.pop()!;
    if (token.type !== 'block-map' && token.type !== 'block-seq' && token.type !== 'flow-collection') continue;
    if (depth > max) return token.offset;
    for (const item of token.items as CST.CollectionItem[]) {
      if (item.key) stack.push([item.key, depth + 1]);
      if (item.value) stack.push([item.value, depth + 1]);
    }
  }
  return undefined;
}

/** Each control character YAML does not allow, at its position (the `yaml` library reads them silently). */
function controlCharacters(text: string): Problem[] {
  const problems: Problem[] = [];
  CONTROL.lastIndex = 0;
  for (let m = CONTROL.exec(text); m && problems.length < MAX_CONTROL_PROBLEMS; m = CONTROL.exec(text)) {
    const code = m[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
    problems.push({
      offset: m.index, length: 1, severity: 'error', code: ProblemCode.yamlSyntax,
      message: t('Control character U+{0} is not allowed in YAML. Remove it, or inside a double-quoted string write it as the escape `\\u{0}`.', code),
    });
  }
  return problems;
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

