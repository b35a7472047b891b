/**
 * `rule` check: a business rule on the data and the model's outputs, e.g.
 *
 *     when:   island == 'Torgersen'
 *     expect: pred != 'Gentoo' and score['Adelie'] >= 0.2
 *
 * The expression language is parsed here by a tokenizer and a recursive-descent parser and evaluated as a tree of
 * closures — never `eval` or `new Function`, so a policy cannot run code. Grammar (lowest precedence first):
 *
 *     expr    := and ('or' and)*
 *     and     := not ('and' not)*
 *     not     := 'not' not | compare
 *     compare := sum (('==' | '!=' | '<' | '<=' | '>' | '>=') sum | 'not'? 'in' list)?     (no chaining)
 *     sum     := product (('+' | '-') product)*
 *     product := unary (('*' | '/') unary)*
 *     unary   := '-' unary | primary
 *     primary := number | 'string' | "string" | true | false | null | name | score '[' string ']' | '(' expr ')'
 *     list    := '[' (literal (',' literal)*)? ']'
 *     name    := identifier | `any text in backticks` (for columns such as `Beak Length (mm)`)
 *
 * Names: a column of the evaluation data; `pred` (the predicted class, a string); `score['Gentoo']` or
 * `score_Gentoo` (the model's score of a class; `score_X` is a column when X is not a class). Types are checked
 * before any row is evaluated (a number is never compared with a string). Missing values: every comparison with a
 * missing value is false, except `x == null` (true) and `!=`, which is always `not (a == b)`.
 */
import { t } from '../l10n';
import { nameList } from './format';
import { CheckInputError, guardCheck, optionalInteger, specObject } from './harness';
import type { CheckResult, Dataset, GateContext, ModelOutputs } from './types';

export interface RuleSpec {
  /** Rows the rule applies to (all rows when absent). */
  when?: string;
  /** What must hold on those rows. */
  expect: string;
  /** Allowed number of violating rows, default 0. */
  max_violations?: number;
}

// ---------------------------------------------------------------------------------------------------------------
// Tokens

type TokenKind = 'num' | 'str' | 'ident' | 'quoted' | 'op' | 'eof';

interface Token {
  kind: TokenKind;
  /** Number value, string contents, identifier or operator text. */
  value: string;
  num?: number;
  /** 0-based offset and end (exclusive) in the source. */
  pos: number;
  end: number;
}

/** A syntax or type error in a rule expression, at `offset` (0-based) in the expression. */
export class RuleSyntaxError extends Error {
  constructor(
    readonly reason: string,
    readonly offset: number,
    readonly length: number,
    /** What the parser expected there (for syntax errors). */
    readonly expected?: string,
  ) {
    super(t('{0} (at position {1})', reason, offset + 1));
    this.name = 'RuleSyntaxError';
  }
}

const KEYWORDS = new Set(['and', 'or', 'not', 'in', 'true', 'false', 'null']);
const OPERATORS = ['==', '!=', '<=', '>=', '<', '>', '+', '-', '*', '/', '(', ')', '[', ']', ','];

export function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const ch = src[i];
    if (/\s/.test(ch)) { i++; continue; }
    const start = i;
    const num = /^(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/.exec(src.slice(i));
    if (num) {
      i += num[0].length;
      out.push({ kind: 'num', value: num[0], num: Number(num[0]), pos: start, end: i });
      continue;
    }
    if (ch === "'" || ch === '"') {
      let value = '';
      i++;
      for (;;) {
        if (i >= src.length) throw new RuleSyntaxError(t('unterminated string (add the closing {0})', ch), start, src.length - start, ch);
        const c = src[i];
        if (c === '\\' && i + 1 < src.length) {
          const e = src[i + 1];
          value += e === 'n' ? '\n' : e === 't' ? '\t' : e;
          i += 2;
          continue;
        }
        i++;
        if (c === ch) break;
        value += c;
      }
      out.push({ kind: 'str', value, pos: start, end: i });
      continue;
    }
    if (ch === '`') {
      const close = src.indexOf('`', i + 1);
      if (close < 0) throw new RuleSyntaxError(t('unterminated `name` (add the closing backtick)'), start, src.length - start, '`');
      const name = src.slice(i + 1, close);
      if (name === '') throw new RuleSyntaxError(t('empty name between backticks'), start, 2);
      i = close + 1;
      out.push({ kind: 'quoted', value: name, pos: start, end: i });
      continue;
    }
    const ident = /^[\p{L}_][\p{L}\p{N}_]*/u.exec(src.slice(i));
    if (ident) {
      i += ident[0].length;
      out.push({ kind: 'ident', value: ident[0], pos: start, end: i });
      continue;
    }
    const two = src.slice(i, i + 2);
    if (two === '&&') throw new RuleSyntaxError(t('use `and` instead of `&&`'), start, 2, 'and');
    if (two === '||') throw new RuleSyntaxError(t('use `or` instead of `||`'), start, 2, 'or');
    const op = OPERATORS.find(o => src.startsWith(o, i));
    if (op) {
      i += op.length;
      out.push({ kind: 'op', value: op, pos: start, end: i });
      continue;
    }
    if (ch === '=') throw new RuleSyntaxError(t('use `==` to compare'), start, 1, '==');
    if (ch === '!') throw new RuleSyntaxError(t('use `not` instead of `!`'), start, 1, 'not');
    throw new RuleSyntaxError(t('unexpected character {0}', JSON.stringify(ch)), start, 1);
  }
  out.push({ kind: 'eof', value: '', pos: src.length, end: src.length });
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Syntax tree

export type Literal = number | string | boolean | null;

export type RuleNode =
  | { t: 'lit'; value: Literal; pos: number; end: number }
  | { t: 'name'; name: string; pos: number; end: number }
  | { t: 'score'; cls: string; pos: number; end: number; clsPos: number; clsEnd: number }
  | { t: 'neg'; e: RuleNode; pos: number; end: number }
  | { t: 'arith'; op: '+' | '-' | '*' | '/'; l: RuleNode; r: RuleNode; pos: number; end: number; opPos: number }
  | { t: 'cmp'; op: '==' | '!=' | '<' | '<=' | '>' | '>='; l: RuleNode; r: RuleNode; pos: number; end: number; opPos: number }
  | { t: 'in'; e: RuleNode; items: Array<{ value: Literal; pos: number; end: number }>; negate: boolean; pos: number; end: number; opPos: number }
  | { t: 'and' | 'or'; l: RuleNode; r: RuleNode; pos: number; end: number; opPos: number }
  | { t: 'not'; e: RuleNode; pos: number; end: number };

const OPERAND = 'an operand (a column, a number, a \'string\', `pred` or `score[\'class\']`)';

function describe(tok: Token): string {
  switch (tok.kind) {
    case 'eof': return t('the end of the expression');
    case 'num': return t('the number {0}', tok.value);
    case 'str': return t('the string {0}', JSON.stringify(tok.value));
    case 'quoted': return '`' + tok.value + '`';
    default: return '`' + tok.value + '`';
  }
}

const CMP_OPS = new Set(['==', '!=', '<', '<=', '>', '>=']);

class Parser {
  private i = 0;
  constructor(private readonly toks: Token[]) {}

  private peek(): Token { return this.toks[this.i]; }
  private next(): Token { return this.toks[this.i++]; }
  private isKw(tok: Token, kw: string): boolean { return tok.kind === 'ident' && tok.value === kw; }
  private isOp(tok: Token, op: string): boolean { return tok.kind === 'op' && tok.value === op; }

  private fail(expected: string, tok = this.peek()): never {
    throw new RuleSyntaxError(t('expected {0}, found {1}', expected, describe(tok)), tok.pos, Math.max(1, tok.end - tok.pos), expected);
  }

  parse(): RuleNode {
    const e = this.or();
    const tok = this.peek();
    if (tok.kind !== 'eof') {
      if (tok.kind === 'op' && CMP_OPS.has(tok.value)) {
        throw new RuleSyntaxError(t('comparisons cannot be chained: join them with `and`'), tok.pos, tok.end - tok.pos, '`and`');
      }
      if (this.isOp(tok, ')')) throw new RuleSyntaxError(t('unbalanced `)`: no `(` opens it'), tok.pos, 1);
      this.fail(t('`and`, `or` or the end of the expression'));
    }
    return e;
  }

  private or(): RuleNode {
    let l = this.and();
    while (this.isKw(this.peek(), 'or')) {
      const op = this.next();
      const r = this.and();
      l = { t: 'or', l, r, pos: l.pos, end: r.end, opPos: op.pos };
    }
    return l;
  }

  private and(): RuleNode {
    let l = this.not();
    while (this.isKw(this.peek(), 'and')) {
      const op = this.next();
      const r = this.not();
      l = { t: 'and', l, r, pos: l.pos, end: r.end, opPos: op.pos };
    }
    return l;
  }

  private not(): RuleNode {
    const tok = this.peek();
    if (this.isKw(tok, 'not')) {
      this.next();
      const e = this.not();
      return { t: 'not', e, pos: tok.pos, end: e.end };
    }
    return this.compare();
  }

  private compare(): RuleNode {
    const l = this.sum();
    const tok = this.peek();
    if (tok.kind === 'op' && CMP_OPS.has(tok.value)) {
      this.next();
      const r = this.sum();
      return { t: 'cmp', op: tok.value as '==', l, r, pos: l.pos, end: r.end, opPos: tok.pos };
    }
    if (this.isKw(tok, 'in') || (this.isKw(tok, 'not') && this.isKw(this.toks[this.i + 1], 'in'))) {
      const negate = this.isKw(tok, 'not');
      this.next();
      if (negate) this.next();
      const { items, end } = this.list();
      return { t: 'in', e: l, items, negate, pos: l.pos, end, opPos: tok.pos };
    }
    return l;
  }

  private list(): { items: Array<{ value: Literal; pos: number; end: number }>; end: number } {
    if (!this.isOp(this.peek(), '[')) this.fail(t('`[` to start the list of values after `in`'));
    this.next();
    const items: Array<{ value: Literal; pos: number; end: number }> = [];
    if (this.isOp(this.peek(), ']')) return { items, end: this.next().end };
    for (;;) {
      const tok = this.peek();
      let value: Literal;
      let pos = tok.pos;
      if (this.isOp(tok, '-') && this.toks[this.i + 1].kind === 'num') {
        this.next();
        const n = this.next();
        value = -n.num!;
        pos = tok.pos;
        items.push({ value, pos, end: n.end });
      } else {
        if (tok.kind === 'num') value = tok.num!;
        else if (tok.kind === 'str') value = tok.value;
        else if (this.isKw(tok, 'true')) value = true;
        else if (this.isKw(tok, 'false')) value = false;
        else if (this.isKw(tok, 'null')) value = null;
        else this.fail(t('a literal value (a number, a \'string\', true, false or null) in the list'));
        this.next();
        items.push({ value, pos, end: tok.end });
      }
      const sep = this.peek();
      if (this.isOp(sep, ',')) { this.next(); continue; }
      if (this.isOp(sep, ']')) return { items, end: this.next().end };
      this.fail(t('`,` or `]` in the list'));
    }
  }

  private sum(): RuleNode {
    let l = this.product();
    for (;;) {
      const tok = this.peek();
      if (!this.isOp(tok, '+') && !this.isOp(tok, '-')) return l;
      this.next();
      const r = this.product();
      l = { t: 'arith', op: tok.value as '+', l, r, pos: l.pos, end: r.end, opPos: tok.pos };
    }
  }

  private product(): RuleNode {
    let l = this.unary();
    for (;;) {
      const tok = this.peek();
      if (!this.isOp(tok, '*') && !this.isOp(tok, '/')) return l;
      this.next();
      const r = this.unary();
      l = { t: 'arith', op: tok.value as '*', l, r, pos: l.pos, end: r.end, opPos: tok.pos };
    }
  }

  private unary(): RuleNode {
    const tok = this.peek();
    if (this.isOp(tok, '-')) {
      this.next();
      const e = this.unary();
      return { t: 'neg', e, pos: tok.pos, end: e.end };
    }
    return this.primary();
  }

  private primary(): RuleNode {
    const tok = this.peek();
    if (tok.kind === 'num') { this.next(); return { t: 'lit', value: tok.num!, pos: tok.pos, end: tok.end }; }
    if (tok.kind === 'str') { this.next(); return { t: 'lit', value: tok.value, pos: tok.pos, end: tok.end }; }
    if (this.isOp(tok, '(')) {
      this.next();
      const e = this.or();
      if (!this.isOp(this.peek(), ')')) this.fail(t('`)` to close the `(` opened at position {0}', tok.pos + 1));
      const close = this.next();
      return { ...e, pos: tok.pos, end: close.end };
    }
    if (tok.kind === 'quoted') { this.next(); return { t: 'name', name: tok.value, pos: tok.pos, end: tok.end }; }
    if (tok.kind === 'ident') {
      if (tok.value === 'true' || tok.value === 'false' || tok.value === 'null') {
        this.next();
        return { t: 'lit', value: tok.value === 'null' ? null : tok.value === 'true', pos: tok.pos, end: tok.end };
      }
      if (KEYWORDS.has(tok.value)) this.fail(OPERAND);
      this.next();
      if (this.isOp(this.peek(), '[')) {
        const open = this.next();
        if (tok.value !== 'score') {
          throw new RuleSyntaxError(t('only `score` can be indexed (as in score[\'Gentoo\'])'), open.pos, 1);
        }
        const cls = this.peek();
        if (cls.kind !== 'str') this.fail(t('a class name in quotes, as in score[\'Gentoo\']'));
        this.next();
        if (!this.isOp(this.peek(), ']')) this.fail(t('`]` to close `score[`'));
        const close = this.next();
        return { t: 'score', cls: cls.value, pos: tok.pos, end: close.end, clsPos: cls.pos, clsEnd: cls.end };
      }
      return { t: 'name', name: tok.value, pos: tok.pos, end: tok.end };
    }
    this.fail(OPERAND);
  }
}

/** Parse a rule expression. Throws {@link RuleSyntaxError} with the position and what was expected. */
export function parseRule(src: string): RuleNode {
  const toks = tokenize(src);
  if (toks.length === 1) throw new RuleSyntaxError(t('the expression is empty'), 0, 0, OPERAND);
  return new Parser(toks).parse();
}

/** The tree as an S-expression, e.g. `(or (== pred 'A') (not (> x 3)))` — for tests and debugging. */
export function ruleToString(n: RuleNode): string {
  const lit = (v: Literal) => (typeof v === 'string' ? `'${v}'` : String(v));
  switch (n.t) {
    case 'lit': return lit(n.value);
    case 'name': return /^[\p{L}_][\p{L}\p{N}_]*$/u.test(n.name) ? n.name : '`' + n.name + '`';
    case 'score': return `score['${n.cls}']`;
    case 'neg': return `(- ${ruleToString(n.e)})`;
    case 'not': return `(not ${ruleToString(n.e)})`;
    case 'in': return `(${n.negate ? 'not in' : 'in'} ${ruleToString(n.e)} [${n.items.map(i => lit(i.value)).join(', ')}])`;
    case 'and':
    case 'or': return `(${n.t} ${ruleToString(n.l)} ${ruleToString(n.r)})`;
    default: return `(${n.op} ${ruleToString(n.l)} ${ruleToString(n.r)})`;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Binding and evaluation

type Type = 'number' | 'string' | 'boolean' | 'null';
type Value = number | string | boolean | null;

interface Compiled {
  type: Type;
  /** Value on row i: numbers (NaN = missing), strings (null = missing), booleans. */
  at: (i: number) => Value;
}

/** What names in a rule refer to. */
export interface RuleEnv {
  data: Dataset;
  outputs?: ModelOutputs;
}

/** Names a compiled rule read, for the evidence: name → value on row i. */
type Reads = Map<string, (i: number) => Value>;

function editDistance(a: string, b: string): number {
  const dp = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0];
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j];
      dp[j] = Math.min(dp[j] + 1, dp[j - 1] + 1, prev + (a[i - 1].toLowerCase() === b[j - 1].toLowerCase() ? 0 : 1));
      prev = tmp;
    }
  }
  return dp[b.length];
}

function typeName(ty: Type): string {
  return ty === 'number' ? t('a number') : ty === 'string' ? t('text') : ty === 'boolean' ? t('a condition (true/false)') : 'null';
}

function compile(n: RuleNode, env: RuleEnv, reads: Reads): Compiled {
  const err = (reason: string, pos: number, end: number): never => { throw new RuleSyntaxError(reason, pos, Math.max(1, end - pos)); };
  const needOutputs = (what: string, pos: number, end: number): ModelOutputs => {
    if (!env.outputs) err(t('{0} needs the candidate\'s predictions (an ONNX model or a predictions file)', what), pos, end);
    return env.outputs!;
  };
  const scoreOf = (cls: string, pos: number, end: number, shown: string): Compiled => {
    const out = needOutputs(shown, pos, end);
    const k = out.classes.indexOf(cls);
    if (k < 0) err(t('{0} is not a class of the model (classes: {1})', JSON.stringify(cls), nameList(out.classes)), pos, end);
    const width = out.classes.length;
    if (out.scores.length < out.yPred.length * width) err(t('{0}: the predictions have no class scores', shown), pos, end);
    const at = (i: number) => out.scores[i * width + k];
    reads.set(shown, at);
    return { type: 'number', at };
  };
  switch (n.t) {
    case 'lit': {
      const v = n.value;
      const type: Type = v === null ? 'null' : typeof v === 'number' ? 'number' : typeof v === 'string' ? 'string' : 'boolean';
      return { type, at: () => v };
    }
    case 'score':
      return scoreOf(n.cls, n.clsPos, n.clsEnd, `score['${n.cls}']`);
    case 'name': {
      if (n.name === 'pred') {
        const out = needOutputs('`pred`', n.pos, n.end);
        const at = (i: number) => (out.yPred[i] === '' || out.yPred[i] === undefined ? null : out.yPred[i]);
        reads.set('pred', at);
        return { type: 'string', at };
      }
      if (n.name === 'score') err(t('`score` needs a class, as in score[\'Gentoo\']'), n.pos, n.end);
      const col = env.data.columns.get(n.name);
      if (col) {
        const at = col.kind === 'number' ? (i: number) => col.values[i] : (i: number) => col.values[i];
        reads.set(n.name, at);
        return { type: col.kind, at };
      }
      if (n.name.startsWith('score_') && env.outputs?.classes.includes(n.name.slice(6))) {
        return scoreOf(n.name.slice(6), n.pos, n.end, n.name);
      }
      const candidates = [...env.data.names, 'pred', ...(env.outputs?.classes.map(c => `score_${c}`) ?? [])];
      const best = candidates.map(c => ({ c, d: editDistance(n.name, c) })).sort((a, b) => a.d - b.d)[0];
      const columns = nameList(env.data.names);
      if (best && best.d <= Math.max(2, Math.floor(n.name.length / 3))) {
        return err(t('unknown name `{0}` (did you mean `{1}`?): names are columns of the evaluation data ({2}), `pred` or score[\'class\']', n.name, best.c, columns), n.pos, n.end);
      }
      return err(t('unknown name `{0}`: names are columns of the evaluation data ({1}), `pred` or score[\'class\']', n.name, columns), n.pos, n.end);
    }
    case 'neg': {
      const e = compile(n.e, env, reads);
      if (e.type !== 'number') err(t('`-` needs a number, but this is {0}', typeName(e.type)), n.e.pos, n.e.end);
      return { type: 'number', at: i => -(e.at(i) as number) };
    }
    case 'arith': {
      const l = compile(n.l, env, reads);
      const r = compile(n.r, env, reads);
      for (const [side, c] of [[n.l, l], [n.r, r]] as const) {
        if (c.type !== 'number') err(t('`{0}` needs numbers, but this is {1}', n.op, typeName(c.type)), side.pos, side.end);
      }
      const f = n.op === '+' ? (a: number, b: number) => a + b : n.op === '-' ? (a: number, b: number) => a - b : n.op === '*' ? (a: number, b: number) => a * b : (a: number, b: number) => a / b;
      return { type: 'number', at: i => f(l.at(i) as number, r.at(i) as number) };
    }
    case 'cmp': {
      const l = compile(n.l, env, reads);
      const r = compile(n.r, env, reads);
      const missing = (v: Value) => v === null || (typeof v === 'number' && Number.isNaN(v));
      if (l.type === 'null' || r.type === 'null') {
        if (n.op !== '==' && n.op !== '!=') err(t('null can only be compared with `==` or `!=`'), n.opPos, n.opPos + n.op.length);
        const other = l.type === 'null' ? r : l;
        return { type: 'boolean', at: n.op === '==' ? i => missing(other.at(i)) : i => !missing(other.at(i)) };
      }
      if (l.type !== r.type) {
        if (l.type === 'string' && r.type === 'number') err(t('cannot compare text with a number (put the number in quotes to compare text, e.g. \'1\')'), n.pos, n.end);
        err(t('cannot compare {0} with {1}', typeName(l.type), typeName(r.type)), n.pos, n.end);
      }
      if (l.type === 'boolean' && n.op !== '==' && n.op !== '!=') err(t('conditions can only be compared with `==` or `!=`'), n.opPos, n.opPos + n.op.length);
      const eq = (a: Value, b: Value) => !missing(a) && !missing(b) && a === b;
      const ord = (a: Value, b: Value): number | null => (missing(a) || missing(b) ? null : a! < b! ? -1 : a! > b! ? 1 : 0);
      const la = l.at, ra = r.at;
      switch (n.op) {
        case '==': return { type: 'boolean', at: i => eq(la(i), ra(i)) };
        case '!=': return { type: 'boolean', at: i => !eq(la(i), ra(i)) };
        case '<': return { type: 'boolean', at: i => ord(la(i), ra(i)) === -1 };
        case '<=': return { type: 'boolean', at: i => { const o = ord(la(i), ra(i)); return o === -1 || o === 0; } };
        case '>': return { type: 'boolean', at: i => ord(la(i), ra(i)) === 1 };
        case '>=': return { type: 'boolean', at: i => { const o = ord(la(i), ra(i)); return o === 1 || o === 0; } };
      }
      break;
    }
    case 'in': {
      const e = compile(n.e, env, reads);
      const set = new Set<Value>();
      let matchMissing = false;
      for (const item of n.items) {
        if (item.value === null) { matchMissing = true; continue; }
        const ty = typeof item.value as Type;
        if (ty !== e.type) err(t('the list holds {0}, but the value tested is {1}', typeName(ty), typeName(e.type)), item.pos, item.end);
        set.add(item.value);
      }
      const missing = (v: Value) => v === null || (typeof v === 'number' && Number.isNaN(v));
      const member = (v: Value) => (missing(v) ? matchMissing : set.has(v));
      return { type: 'boolean', at: n.negate ? i => !member(e.at(i)) : i => member(e.at(i)) };
    }
    case 'not': {
      const e = compile(n.e, env, reads);
      if (e.type !== 'boolean') err(t('`not` needs a condition, but this is {0}', typeName(e.type)), n.e.pos, n.e.end);
      return { type: 'boolean', at: i => !e.at(i) };
    }
    case 'and':
    case 'or': {
      const l = compile(n.l, env, reads);
      const r = compile(n.r, env, reads);
      for (const [side, c] of [[n.l, l], [n.r, r]] as const) {
        if (c.type !== 'boolean') err(t('`{0}` joins conditions, but this is {1}', n.t, typeName(c.type)), side.pos, side.end);
      }
      return { type: 'boolean', at: n.t === 'and' ? i => (l.at(i) as boolean) && (r.at(i) as boolean) : i => (l.at(i) as boolean) || (r.at(i) as boolean) };
    }
  }
  throw new Error('unreachable');
}

/** A rule expression compiled against a data set (and outputs): a predicate on row indices. */
export interface CompiledRule {
  test: (row: number) => boolean;
  /** The names the expression reads, with their value on a row (for the evidence). */
  reads: Reads;
}

/** Parse, type-check and compile `src`. Throws {@link RuleSyntaxError} (syntax, unknown names, type mismatches). */
export function compileRule(src: string, env: RuleEnv, reads: Reads = new Map()): CompiledRule {
  const ast = parseRule(src);
  const c = compile(ast, env, reads);
  if (c.type !== 'boolean') {
    throw new RuleSyntaxError(t('the expression must be a condition (true/false), but it is {0}', typeName(c.type)), ast.pos, Math.max(1, ast.end - ast.pos));
  }
  return { test: i => c.at(i) as boolean, reads };
}

const MAX_EVIDENCE_ROWS = 20;

function shownValue(v: Value): Value {
  return typeof v === 'number' && Number.isNaN(v) ? null : v;
}

/** The `rule` check. */
export async function ruleCheck(ctx: GateContext, spec: RuleSpec, id: string): Promise<CheckResult> {
  const raw = (spec ?? {}) as unknown as Record<string, unknown>;
  const threshold: Record<string, unknown> = { max_violations: raw.max_violations ?? 0 };
  if (raw.when !== undefined) threshold.when = raw.when;
  threshold.expect = raw.expect;
  const title = typeof raw.when === 'string' ? t('rule: {0} when {1}', String(raw.expect), raw.when) : t('rule: {0}', String(raw.expect));
  return guardCheck('rule', id, title, threshold, () => {
    const s = specObject('rule', spec);
    if (typeof s.expect !== 'string' || s.expect.trim() === '') throw new CheckInputError(t('the rule check needs `expect`: a condition such as pred != \'Gentoo\'.'));
    if (s.when !== undefined && typeof s.when !== 'string') throw new CheckInputError(t('`rule.when` must be a condition (a string).'));
    const maxViolations = optionalInteger(s, 'max_violations', 'rule', 0) ?? 0;
    const env: RuleEnv = { data: ctx.eval, outputs: ctx.outputs };
    const reads: Reads = new Map();
    const compileField = (field: 'when' | 'expect', src: string): CompiledRule => {
      try {
        return compileRule(src, env, reads);
      } catch (e) {
        if (!(e instanceof RuleSyntaxError)) throw e;
        throw new CheckInputError(t('`{0}`: {1}', field, e.message), {
          field, expression: src, offset: e.offset, length: e.length, ...(e.expected ? { expected: e.expected } : {}),
          caret: `${src}\n${' '.repeat(e.offset)}${'^'.repeat(Math.max(1, Math.min(e.length, src.length - e.offset)))}`,
        });
      }
    };
    const when = s.when !== undefined ? compileField('when', s.when) : null;
    const expect = compileField('expect', s.expect);
    const rowId = ctx.eval.columns.get('row_id');
    let checked = 0;
    let violations = 0;
    const rows: unknown[] = [];
    for (let i = 0; i < ctx.eval.rows; i++) {
      if (when && !when.test(i)) continue;
      checked++;
      if (expect.test(i)) continue;
      violations++;
      if (rows.length < MAX_EVIDENCE_ROWS) {
        const values: Record<string, Value> = {};
        for (const [name, at] of reads) values[name] = shownValue(at(i));
        rows.push({ row: i, ...(rowId ? { row_id: shownValue(rowId.values[i]) } : {}), values });
      }
    }
    const measured = { violations, rows_checked: checked, violation_rate: checked > 0 ? violations / checked : 0 };
    const where = when ? t('{0} rows where `{1}` holds', checked, s.when as string) : t('{0} rows', checked);
    const evidence = rows.length > 0 ? { violating_rows: rows } : undefined;
    if (violations > maxViolations) {
      return {
        status: 'fail', measured, evidence,
        message: t('`{0}` is violated on {1} of {2} (allowed: {3}); the first violating rows are in the evidence.', s.expect, violations, where, maxViolations),
      };
    }
    return {
      status: 'pass', measured, evidence,
      message: violations === 0 ? t('`{0}` holds on all {1}.', s.expect, where) : t('`{0}` is violated on {1} of {2}, within the allowed {3}.', s.expect, violations, where, maxViolations),
    };
  });
}
