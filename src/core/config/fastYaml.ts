import { Document, Pair, Scalar, YAMLMap, YAMLSeq } from 'yaml';

/**
 * A single-pass reader for the plain block-style YAML that experiment configs are written in: block mappings and
 * sequences, single-line plain and quoted scalars, one-line flow lists and maps of scalars, and `|` / `>` block
 * scalars, with comments. It builds the same node tree (`yaml`'s YAMLMap / YAMLSeq / Pair / Scalar with the same
 * source ranges and scalar types) and the same JavaScript value as `yaml.parseDocument(...).toJS()`, about three
 * times faster, because it never builds the library's token stream and concrete syntax tree.
 *
 * Anything outside that subset — anchors, aliases, tags, directives, several documents, multi-line plain or quoted
 * scalars, complex keys, tabs, and every syntax error — returns `undefined`, and the caller falls back to the `yaml`
 * library, which then reports errors with their exact positions. So this is an accelerator, never a second opinion:
 * for the documents it accepts, a differential test checks that it agrees with `yaml`.
 */
export interface FastParse {
  doc: Document.Parsed;
  value: unknown;
}

/** Thrown internally to abandon the fast path. */
class Unsupported extends Error {}
const unsupported = new Unsupported();

interface Built {
  node: Scalar | YAMLMap | YAMLSeq;
  js: unknown;
}

// yaml 1.2 core schema, as `yaml` resolves plain scalars.
const NULL = /^(?:~|[Nn]ull|NULL)$/;
const BOOL = /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/;
const INT = /^[-+]?[0-9]+$/;
const OCT = /^0o[0-7]+$/;
const HEX = /^0x[0-9a-fA-F]+$/;
const FLOAT = /^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/;
const EXP = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/;
const INF = /^[-+]?\.(?:inf|Inf|INF)$/;
const NAN = /^\.(?:nan|NaN|NAN)$/;
/** Keys the fast path accepts: plain words, paths and dotted names (they always resolve to strings). */
const KEY = /^[A-Za-z_$./][\w$./+=()-]*(?: +[\w$./+=()-]+)*$/;
/** JSON-compatible escapes only; YAML's other escapes (\x, \N, \_, …) go to the library. */
const JSON_ESCAPES = /\\(?!["\\/bfnrt]|u[0-9a-fA-F]{4})/;

function resolvePlain(s: string): unknown {
  const c = s.charCodeAt(0);
  // Fast reject: scalars that start with a letter other than those of null/true/false are strings.
  if (c > 0x39 && !(c === 0x7e || c === 0x4e || c === 0x6e || c === 0x54 || c === 0x74 || c === 0x46 || c === 0x66)) return s;
  if (NULL.test(s)) return null;
  if (BOOL.test(s)) return s[0] === 't' || s[0] === 'T';
  if (INT.test(s)) return Number(s);
  if (FLOAT.test(s) || EXP.test(s)) return parseFloat(s);
  if (OCT.test(s)) return parseInt(s.slice(2), 8);
  if (HEX.test(s)) return parseInt(s.slice(2), 16);
  if (INF.test(s)) return s[0] === '-' ? -Infinity : Infinity;
  if (NAN.test(s)) return NaN;
  return s;
}

function setKey(obj: Record<string, unknown>, key: string, value: unknown): void {
  // As `yaml`'s toJS: keys that exist already (duplicates, or inherited ones like __proto__) become own properties.
  if (key in obj) Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
  else obj[key] = value;
}

function scalar(value: unknown, type: Scalar.Type, start: number, end: number, nodeEnd = end): Scalar {
  const s = new Scalar(value);
  s.type = type;
  s.range = [start, end, nodeEnd];
  return s;
}

class Reader {
  /** Start offset of each line, and the offset of its end (before `\r\n` / `\n`). */
  private readonly starts: number[] = [];
  private readonly ends: number[] = [];
  private line = 0;

  constructor(private readonly text: string) {
    let pos = 0;
    const n = text.length;
    while (pos <= n) {
      let nl = text.indexOf('\n', pos);
      if (nl === -1) nl = n;
      this.starts.push(pos);
      this.ends.push(nl > pos && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl);
      pos = nl + 1;
    }
  }

  private get count(): number {
    return this.starts.length;
  }

  /** Indentation of each line, computed once (-2 = not yet). */
  private indents: Int32Array | undefined;

  /** Indentation (spaces) of line `i`, or -1 if it is blank or only a comment. */
  private indent(i: number): number {
    this.indents ??= new Int32Array(this.starts.length).fill(-2);
    const known = this.indents[i];
    if (known !== -2) return known;
    return (this.indents[i] = this.measureIndent(i));
  }

  private measureIndent(i: number): number {
    const t = this.text;
    const s = this.starts[i];
    const e = this.ends[i];
    let p = s;
    while (p < e && t.charCodeAt(p) === 32) p++;
    if (p === e || t.charCodeAt(p) === 35 /* # */) return -1;
    return p - s;
  }

  /** Index of the next line at or after `i` with content, or `count`. */
  private nextContent(i: number): number {
    while (i < this.count && this.indent(i) === -1) i++;
    return i;
  }

  private isSeqItem(i: number, ind: number): boolean {
    const p = this.starts[i] + ind;
    return this.text.charCodeAt(p) === 45 /* - */ && (p + 1 === this.ends[i] || this.text.charCodeAt(p + 1) === 32);
  }

  /** Document markers and directives, anywhere at column 0, are the library's business. */
  private checkMarkers(i: number): void {
    const t = this.text;
    const s = this.starts[i];
    const c = t.charCodeAt(s);
    if (c === 37 /* % */) throw unsupported;
    if ((c === 45 || c === 46) && t.startsWith(c === 45 ? '---' : '...', s)) {
      const after = t.charCodeAt(s + 3);
      if (s + 3 >= this.ends[i] || after === 32) throw unsupported;
    }
  }

  parse(): FastParse {
    const t = this.text;
    if (t.indexOf('\t') !== -1 || t.charCodeAt(0) === 0xfeff) throw unsupported;
    // A lone \r (old Mac line ending) is a line break to YAML but not to this reader.
    const hasCr = t.indexOf('\r') !== -1;
    for (let i = 0; i < this.count; i++) {
      this.checkMarkers(i);
      if (hasCr) {
        const cr = t.indexOf('\r', this.starts[i]);
        if (cr !== -1 && cr < this.ends[i]) throw unsupported;
      }
    }
    const first = this.nextContent(0);
    if (first >= this.count) throw unsupported; // empty document: let the library decide what it is
    const ind = this.indent(first);
    this.line = first;
    const built = this.isSeqItem(first, ind) ? this.blockSeq(ind) : this.blockMap(ind);
    if (this.nextContent(this.line) < this.count) throw unsupported; // content left over: something we did not understand
    const doc = new Document() as Document.Parsed;
    doc.contents = built.node as Document.Parsed["contents"];
    return { doc, value: built.js };
  }

  private blockMap(ind: number): Built {
    const t = this.text;
    const map = new YAMLMap();
    const js: Record<string, unknown> = {};
    let start = -1;
    let end = 0;
    for (;;) {
      const i = this.nextContent(this.line);
      if (i >= this.count) break;
      const lineInd = this.indent(i);
      if (lineInd < ind) break;
      if (lineInd > ind) throw unsupported;
      if (this.isSeqItem(i, ind)) {
        if (ind === 0) throw unsupported;
        break; // a sequence at the same indentation ends the map (the caller decides whether that is valid)
      }
      const ls = this.starts[i] + ind;
      const le = this.ends[i];
      // the key ends at the first ':' followed by a space or the end of the line
      let colon = ls;
      while (colon < le && !(t.charCodeAt(colon) === 58 && (colon + 1 === le || t.charCodeAt(colon + 1) === 32))) colon++;
      if (colon >= le) throw unsupported;
      let keyEnd = colon;
      while (keyEnd > ls && t.charCodeAt(keyEnd - 1) === 32) keyEnd--;
      const keyText = t.slice(ls, keyEnd);
      if (!KEY.test(keyText) || resolvePlain(keyText) !== keyText) throw unsupported;
      const keyNode = scalar(keyText, Scalar.PLAIN, ls, keyEnd);
      if (start === -1) start = ls;
      let vs = colon + 1;
      while (vs < le && t.charCodeAt(vs) === 32) vs++;
      let value: Built;
      if (vs === le || (t.charCodeAt(vs) === 35 && vs > colon + 1)) {
        // nothing after the colon: a nested block, a sequence at the same indentation, or null
        this.line = i + 1;
        const j = this.nextContent(this.line);
        const jInd = j < this.count ? this.indent(j) : -1;
        if (j < this.count && jInd > ind) {
          this.line = j;
          value = this.isSeqItem(j, jInd) ? this.blockSeq(jInd) : this.blockMap(jInd);
        } else if (j < this.count && jInd === ind && this.isSeqItem(j, ind)) {
          this.line = j;
          value = this.blockSeq(ind);
        } else {
          value = { node: scalar(null, Scalar.PLAIN, le, le), js: null };
        }
      } else {
        value = this.inlineValue(i, vs, le, ind);
      }
      map.items.push(new Pair(keyNode, value.node));
      setKey(js, keyText, value.js);
      end = value.node.range![2];
    }
    if (start === -1) throw unsupported;
    map.range = [start, end, end];
    return { node: map, js };
  }

  private blockSeq(ind: number): Built {
    const seq = new YAMLSeq();
    const js: unknown[] = [];
    let start = -1;
    let end = 0;
    for (;;) {
      const i = this.nextContent(this.line);
      if (i >= this.count) break;
      const lineInd = this.indent(i);
      if (lineInd < ind) break;
      if (lineInd > ind || !this.isSeqItem(i, ind)) {
        if (lineInd === ind) break; // back to the parent map's keys
        throw unsupported;
      }
      const dash = this.starts[i] + ind;
      const le = this.ends[i];
      if (start === -1) start = dash;
      let vs = dash + 1;
      while (vs < le && this.text.charCodeAt(vs) === 32) vs++;
      if (vs === le || this.text.charCodeAt(vs) === 35) throw unsupported; // nested block under "-": not in the subset
      const c = this.text.charCodeAt(vs);
      if (c === 124 || c === 62) throw unsupported; // "- |": not in the subset
      const rest = this.text.slice(vs, le);
      if (/^[^"'[{][^#]*?:(?: |$)/.test(rest)) throw unsupported; // "- key: value": a map inside a list
      const value = this.inlineValue(i, vs, le, ind);
      seq.items.push(value.node);
      js.push(value.js);
      end = value.node.range![2];
    }
    if (start === -1) throw unsupported;
    seq.range = [start, end, end];
    return { node: seq, js };
  }

  /** The value that starts at `vs` on line `i` (inside a block node of indentation `ind`). */
  private inlineValue(i: number, vs: number, le: number, ind: number): Built {
    const t = this.text;
    const c = t.charCodeAt(vs);
    let built: Built;
    let after: number;
    if (c === 34 /* " */ || c === 39 /* ' */) {
      [built, after] = this.quoted(vs, le);
    } else if (c === 91 /* [ */) {
      [built, after] = this.flowSeq(vs, le);
    } else if (c === 123 /* { */) {
      [built, after] = this.flowMap(vs, le);
    } else if (c === 124 /* | */ || c === 62 /* > */) {
      return this.blockScalar(i, vs, le, ind);
    } else {
      if (/[&*!%@`,\]}]/.test(t[vs]) || ((c === 45 || c === 63 || c === 58) && (vs + 1 === le || t.charCodeAt(vs + 1) === 32))) throw unsupported;
      // the value ends at " #" (a comment) or the end of the line; search only this line
      let e = vs;
      while (e < le && !(t.charCodeAt(e) === 35 && t.charCodeAt(e - 1) === 32)) e++;
      if (e < le) e--;
      while (e > vs && t.charCodeAt(e - 1) === 32) e--;
      const raw = t.slice(vs, e);
      if (raw.indexOf(': ') !== -1 || raw.endsWith(':')) throw unsupported;
      built = { node: scalar(null, Scalar.PLAIN, vs, e), js: undefined };
      built.js = resolvePlain(raw);
      (built.node as Scalar).value = built.js;
      after = e;
    }
    // only spaces or a comment may follow on the line
    let p = after;
    while (p < le && t.charCodeAt(p) === 32) p++;
    if (p < le && !(t.charCodeAt(p) === 35 && p > after)) throw unsupported;
    // a more-indented line after a scalar would be a continuation (multi-line plain scalar) or an error
    this.line = i + 1;
    const j = this.nextContent(this.line);
    if (j < this.count && this.indent(j) > ind) throw unsupported;
    // the node's extent, as `yaml` records it: up to the end of its line, trailing comment included
    built.node.range = [built.node.range![0], built.node.range![1], le];
    return built;
  }

  private quoted(vs: number, le: number): [Built, number] {
    const t = this.text;
    const q = t[vs];
    let p = vs + 1;
    let value: string;
    if (q === "'") {
      for (;;) {
        p = t.indexOf("'", p);
        if (p === -1 || p >= le) throw unsupported;
        if (t[p + 1] === "'") p += 2;
        else break;
      }
      value = t.slice(vs + 1, p).replace(/''/g, "'");
    } else {
      let escaped = false;
      for (;;) {
        if (p >= le) throw unsupported;
        const ch = t.charCodeAt(p);
        if (ch === 92) {
          escaped = true;
          p += 2;
          continue;
        }
        if (ch === 34) break;
        p++;
      }
      const inner = t.slice(vs + 1, p);
      if (escaped) {
        if (JSON_ESCAPES.test(inner)) throw unsupported;
        value = JSON.parse(`"${inner}"`) as string;
      } else {
        value = inner;
      }
    }
    const node = scalar(value, q === "'" ? Scalar.QUOTE_SINGLE : Scalar.QUOTE_DOUBLE, vs, p + 1);
    return [{ node, js: value }, p + 1];
  }

  /** A flow item: quoted, or plain without flow indicators. Returns the item and the offset after it. */
  private flowScalar(p: number, le: number): [Built, number] {
    const t = this.text;
    const c = t.charCodeAt(p);
    if (c === 34 || c === 39) return this.quoted(p, le);
    let e = p;
    while (e < le && !/[,[\]{}]/.test(t[e]) && !(t[e] === ':' && (t[e + 1] === ' ' || t[e + 1] === ',' || t[e + 1] === '}' || t[e + 1] === ']')) && !(t[e] === '#' && t[e - 1] === ' ')) e++;
    let ve = e;
    while (ve > p && t.charCodeAt(ve - 1) === 32) ve--;
    const raw = t.slice(p, ve);
    if (!raw || /^[&*!%@`|>'"?-](?: |$)|^[&*!%@`|>]/.test(raw) || raw.indexOf(': ') !== -1) throw unsupported;
    const js = resolvePlain(raw);
    return [{ node: scalar(js, Scalar.PLAIN, p, ve), js }, ve];
  }

  private skipSpaces(p: number, le: number): number {
    while (p < le && this.text.charCodeAt(p) === 32) p++;
    return p;
  }

  private flowSeq(vs: number, le: number): [Built, number] {
    const t = this.text;
    const seq = new YAMLSeq();
    seq.flow = true;
    const js: unknown[] = [];
    let p = this.skipSpaces(vs + 1, le);
    if (t[p] === ']') {
      seq.range = [vs, p + 1, p + 1];
      return [{ node: seq, js }, p + 1];
    }
    for (;;) {
      const [item, after] = this.flowScalar(p, le);
      seq.items.push(item.node);
      js.push(item.js);
      p = this.skipSpaces(after, le);
      if (t[p] === ',') {
        p = this.skipSpaces(p + 1, le);
        if (t[p] === ']' || p >= le) throw unsupported; // trailing comma or multi-line flow
        continue;
      }
      if (t[p] === ']') break;
      throw unsupported;
    }
    seq.range = [vs, p + 1, p + 1];
    return [{ node: seq, js }, p + 1];
  }

  private flowMap(vs: number, le: number): [Built, number] {
    const t = this.text;
    const map = new YAMLMap();
    map.flow = true;
    const js: Record<string, unknown> = {};
    let p = this.skipSpaces(vs + 1, le);
    if (t[p] === '}') {
      map.range = [vs, p + 1, p + 1];
      return [{ node: map, js }, p + 1];
    }
    for (;;) {
      const [key, afterKey] = this.flowScalar(p, le);
      if (typeof key.js !== 'string' || (key.node as Scalar).type !== Scalar.PLAIN || !KEY.test(key.js)) throw unsupported;
      if (t[afterKey] !== ':' || t[afterKey + 1] !== ' ') throw unsupported;
      const [value, afterValue] = this.flowScalar(this.skipSpaces(afterKey + 1, le), le);
      map.items.push(new Pair(key.node, value.node));
      setKey(js, key.js, value.js);
      p = this.skipSpaces(afterValue, le);
      if (t[p] === ',') {
        p = this.skipSpaces(p + 1, le);
        if (t[p] === '}' || p >= le) throw unsupported;
        continue;
      }
      if (t[p] === '}') break;
      throw unsupported;
    }
    map.range = [vs, p + 1, p + 1];
    return [{ node: map, js }, p + 1];
  }

  /** `|` or `>` with optional `-` / `+` chomping; the content lines are indented deeper than `ind`. */
  private blockScalar(i: number, vs: number, le: number, ind: number): Built {
    const t = this.text;
    const folded = t[vs] === '>';
    let p = vs + 1;
    let chomp: 'clip' | 'strip' | 'keep' = 'clip';
    if (t[p] === '-') { chomp = 'strip'; p++; } else if (t[p] === '+') { chomp = 'keep'; p++; }
    const h = this.skipSpaces(p, le);
    if (h < le && !(t[h] === '#' && h > p)) throw unsupported; // indentation indicator or junk in the header
    // content: following lines that are empty or indented deeper than the parent
    let j = i + 1;
    let blockInd = -1;
    let lastContent = -1;
    let maxLeadingBlank = 0;
    for (; j < this.count; j++) {
      const s = this.starts[j];
      const e = this.ends[j];
      let q = s;
      while (q < e && t.charCodeAt(q) === 32) q++;
      if (q === e) {
        if (blockInd === -1) maxLeadingBlank = Math.max(maxLeadingBlank, e - s);
        continue;
      }
      const li = q - s;
      if (blockInd === -1) {
        if (li <= ind) break;
        blockInd = li;
      } else if (li < blockInd) {
        if (li > ind) throw unsupported; // less indented content inside the block: an error in YAML
        break;
      }
      if (folded && li > blockInd) throw unsupported; // more-indented lines change folding: library's job
      lastContent = j;
    }
    if (blockInd === -1 || maxLeadingBlank > blockInd) throw unsupported;
    const lines: string[] = [];
    for (let k = i + 1; k <= lastContent; k++) {
      const s = this.starts[k];
      const e = this.ends[k];
      lines.push(e - s <= blockInd ? '' : t.slice(s + blockInd, e));
    }
    // trailing blank lines after the last content line count for "keep"
    let trailing = 0;
    for (let k = lastContent + 1; k < j; k++) if (this.starts[k] < t.length) trailing++;
    let body: string;
    if (folded) {
      // a single line break between two lines folds into a space; k blank lines in between give k newlines
      body = '';
      let first = true;
      let pending = 0;
      for (const l of lines) {
        if (l === '') {
          pending++;
          continue;
        }
        body += first ? '\n'.repeat(pending) : pending ? '\n'.repeat(pending) : ' ';
        body += l;
        first = false;
        pending = 0;
      }
    } else {
      body = lines.join('\n');
    }
    const value = chomp === 'strip' ? body : chomp === 'clip' ? body + '\n' : body + '\n'.repeat(1 + trailing);
    const lastLine = chomp === 'keep' ? lastContent + trailing : lastContent; // "keep" owns its trailing blank lines
    const end = Math.min(t.length, this.ends[lastLine] + 1);
    this.line = lastContent + 1;
    const node = scalar(value, folded ? Scalar.BLOCK_FOLDED : Scalar.BLOCK_LITERAL, vs, end, end);
    return { node, js: value };
  }
}

/** Parse `text` on the fast path, or return undefined when it uses anything outside the supported subset. */
export function fastParse(text: string): FastParse | undefined {
  try {
    return new Reader(text).parse();
  } catch (e) {
    if (e === unsupported) return undefined;
    throw e;
  }
}
