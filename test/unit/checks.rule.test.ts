/**
 * The `rule` check's expression language (src/core/checks/rule.ts): tokenizer and recursive-descent parser
 * (precedence, every syntax error with its position and what was expected), type checking against the data and the
 * model's classes, and evaluation on rows with missing values.
 */
import * as assert from 'assert';
import { compileRule, parseRule, ruleCheck, RuleSyntaxError, ruleToString, tokenize } from '../../src/core/checks/rule';
import type { GateContext, ModelOutputs } from '../../src/core/checks/types';
import { datasetOf } from './checkData';

const dataset = (cols: Record<string, Array<number | string | null>>) => datasetOf(cols);

const CLASSES = ['Adelie', 'Chinstrap', 'Gentoo'];
const DATA = dataset({
  row_id: [10, 11, 12, 13, 14, 15],
  island: ['Torgersen', 'Biscoe', 'Torgersen', 'Dream', null, 'Biscoe'],
  bill_length_mm: [39.1, 46.5, 38.6, 49.0, NaN, 50.0],
  'Beak Depth (mm)': [18.7, 17.9, 21.2, 19.5, 15.0, 14.3],
  species: ['Adelie', 'Chinstrap', 'Adelie', 'Chinstrap', 'Gentoo', 'Gentoo'],
});
const SCORES = [
  [0.9, 0.05, 0.05], [0.1, 0.8, 0.1], [0.2, 0.1, 0.7], [0.3, 0.6, 0.1], [0.1, 0.1, 0.8], [0.05, 0.05, 0.9],
];
const OUTPUTS: ModelOutputs = {
  classes: CLASSES,
  scores: Float32Array.from(SCORES.flat()),
  yPred: SCORES.map(r => CLASSES[r.indexOf(Math.max(...r))]),
};
const CTX: GateContext = { root: '.', eval: DATA, label: 'species', features: ['bill_length_mm'], outputs: OUTPUTS };

/** Parse and print as an S-expression. */
const tree = (src: string) => ruleToString(parseRule(src));

/** The rows (indices) where the expression holds. */
function rowsWhere(src: string): number[] {
  const r = compileRule(src, { data: DATA, outputs: OUTPUTS });
  return Array.from({ length: DATA.rows }, (_, i) => i).filter(r.test);
}

/** Asserts that `fn` throws a RuleSyntaxError at 1-based `position` whose message matches `re`. */
function throwsAt(fn: () => unknown, position: number, re: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof RuleSyntaxError, `not a RuleSyntaxError: ${String(e)}`);
    assert.strictEqual(e.offset + 1, position, `position of: ${e.message}`);
    assert.match(e.message, re);
    assert.match(e.message, new RegExp(`\\(at position ${position}\\)$`));
    return true;
  });
}

describe('checks: rule expressions — tokenizer and parser', () => {
  it('tokenizes numbers, strings with escapes, names, backtick names and operators with their offsets', () => {
    const toks = tokenize("x>=1.5e2 and `Beak Depth (mm)` != 'it\\'s' or .5");
    assert.deepStrictEqual(toks.map(t => [t.kind, t.value, t.pos]), [
      ['ident', 'x', 0], ['op', '>=', 1], ['num', '1.5e2', 3], ['ident', 'and', 9], ['quoted', 'Beak Depth (mm)', 13],
      ['op', '!=', 31], ['str', "it's", 34], ['ident', 'or', 42], ['num', '.5', 45], ['eof', '', 47],
    ]);
    assert.strictEqual(toks[2].num, 150);
  });

  it('parses with the documented precedence: or < and < not < comparison < + - < * / < unary minus', () => {
    assert.strictEqual(tree('a or b and c'), '(or a (and b c))');
    assert.strictEqual(tree('a and b or c'), '(or (and a b) c)');
    assert.strictEqual(tree('not a and b'), '(and (not a) b)');
    assert.strictEqual(tree('not not a'), '(not (not a))');
    assert.strictEqual(tree('not x == 1'), '(not (== x 1))');
    assert.strictEqual(tree('x + 1 * 2 > 3 - -y'), '(> (+ x (* 1 2)) (- 3 (- y)))');
    assert.strictEqual(tree('x - 1 - 2 == 0'), '(== (- (- x 1) 2) 0)'); // left-associative
    assert.strictEqual(tree('(a or b) and c'), '(and (or a b) c)');
    assert.strictEqual(tree("pred in ['Adelie', \"Gentoo\"]"), "(in pred ['Adelie', 'Gentoo'])");
    assert.strictEqual(tree('x not in [1, -2.5, null]'), '(not in x [1, -2.5, null])');
    assert.strictEqual(tree('not pred in []'), '(not (in pred []))');
    assert.strictEqual(tree("score['Gentoo'] >= 0.5 and score_Adelie < .1"), "(and (>= score['Gentoo'] 0.5) (< score_Adelie 0.1))");
    assert.strictEqual(tree('`Beak Depth (mm)` > 18'), '(> `Beak Depth (mm)` 18)');
    assert.strictEqual(tree('flag == true or other != false'), '(or (== flag true) (!= other false))');
    assert.strictEqual(tree('island == null'), '(== island null)');
  });

  it('reports every syntax error with its 1-based position and what was expected', () => {
    throwsAt(() => parseRule(''), 1, /the expression is empty/);
    throwsAt(() => parseRule('pred =='), 8, /expected an operand .*, found the end of the expression/);
    throwsAt(() => parseRule('pred == and'), 9, /expected an operand .*, found `and`/);
    throwsAt(() => parseRule("(pred == 'A'"), 13, /expected `\)` to close the `\(` opened at position 1, found the end of the expression/);
    throwsAt(() => parseRule("pred == 'A')"), 12, /unbalanced `\)`/);
    throwsAt(() => parseRule("pred == 'Adelie"), 9, /unterminated string \(add the closing '\)/);
    throwsAt(() => parseRule('`Beak Depth > 3'), 1, /unterminated `name`/);
    throwsAt(() => parseRule('`` > 3'), 1, /empty name between backticks/);
    throwsAt(() => parseRule("pred = 'A'"), 6, /use `==` to compare/);
    throwsAt(() => parseRule('a && b'), 3, /use `and` instead of `&&`/);
    throwsAt(() => parseRule('a || b'), 3, /use `or` instead of `\|\|`/);
    throwsAt(() => parseRule('!a'), 1, /use `not` instead of `!`/);
    throwsAt(() => parseRule('x > 1 # comment'), 7, /unexpected character "#"/);
    throwsAt(() => parseRule('1 < x < 3'), 7, /comparisons cannot be chained: join them with `and`/);
    throwsAt(() => parseRule('a b'), 3, /expected `and`, `or` or the end of the expression, found `b`/);
    throwsAt(() => parseRule('x in 1, 2'), 6, /expected `\[` to start the list of values after `in`, found the number 1/);
    throwsAt(() => parseRule('x in [1 2]'), 9, /expected `,` or `\]` in the list, found the number 2/);
    throwsAt(() => parseRule('x in [y]'), 7, /expected a literal value .* in the list, found `y`/);
    throwsAt(() => parseRule('x in [1,'), 9, /expected a literal value/);
    throwsAt(() => parseRule('pred[0] > 1'), 5, /only `score` can be indexed/);
    throwsAt(() => parseRule('score[Gentoo] > 1'), 7, /expected a class name in quotes, as in score\['Gentoo'\], found `Gentoo`/);
    throwsAt(() => parseRule("score['Gentoo' > 1"), 16, /expected `\]` to close `score\[`, found `>`/);
    throwsAt(() => parseRule('x == or'), 6, /expected an operand/);
    throwsAt(() => parseRule('and x'), 1, /expected an operand/);
    // the error carries what was expected, for tooling
    try {
      parseRule('x ==');
      assert.fail('no error');
    } catch (e) {
      assert.ok(e instanceof RuleSyntaxError);
      assert.match(e.expected ?? '', /an operand/);
      assert.strictEqual(e.offset, 4);
    }
  });

  it('never evaluates JavaScript: code-looking input is a syntax error, not executed', () => {
    (globalThis as Record<string, unknown>).__ruleProbe = 0;
    throwsAt(() => parseRule('process.exit(1)'), 8, /unexpected character "\."/);
    throwsAt(() => parseRule('(globalThis.__ruleProbe = 1) == 1'), 12, /unexpected character "\."/);
    throwsAt(() => parseRule("constructor('return 1')()"), 12, /expected `and`, `or` or the end of the expression, found `\(`/);
    assert.strictEqual((globalThis as Record<string, unknown>).__ruleProbe, 0);
  });
});

describe('checks: rule expressions — names, types and evaluation', () => {
  it('evaluates columns, pred, score[...] and score_<class>, with missing values never matching', () => {
    assert.deepStrictEqual(rowsWhere("island == 'Torgersen'"), [0, 2]);
    assert.deepStrictEqual(rowsWhere("island != 'Torgersen'"), [1, 3, 4, 5]); // != is not (==): the missing island counts
    assert.deepStrictEqual(rowsWhere('island == null'), [4]);
    assert.deepStrictEqual(rowsWhere('bill_length_mm != null'), [0, 1, 2, 3, 5]);
    assert.deepStrictEqual(rowsWhere('bill_length_mm > 45'), [1, 3, 5]);
    assert.deepStrictEqual(rowsWhere('not bill_length_mm > 45'), [0, 2, 4]); // NaN > 45 is false, so not(…) holds
    assert.deepStrictEqual(rowsWhere('bill_length_mm <= 39.1 or bill_length_mm >= 50'), [0, 2, 5]);
    assert.deepStrictEqual(rowsWhere("pred == 'Gentoo'"), [2, 4, 5]);
    assert.deepStrictEqual(rowsWhere("pred == species"), [0, 1, 3, 4, 5]);
    assert.deepStrictEqual(rowsWhere("score['Gentoo'] >= 0.8"), [4, 5]);
    assert.deepStrictEqual(rowsWhere('score_Adelie + score_Chinstrap > 0.5'), [0, 1, 3]);
    assert.deepStrictEqual(rowsWhere("island in ['Biscoe', 'Dream']"), [1, 3, 5]);
    assert.deepStrictEqual(rowsWhere("island not in ['Biscoe', 'Dream']"), [0, 2, 4]);
    assert.deepStrictEqual(rowsWhere("island in ['Dream', null]"), [3, 4]);
    assert.deepStrictEqual(rowsWhere('`Beak Depth (mm)` * 2 > 40'), [2]);
    assert.deepStrictEqual(rowsWhere('bill_length_mm / 10 < 4 and -bill_length_mm < -38'), [0, 2]);
    assert.deepStrictEqual(rowsWhere("species > 'B'"), [1, 3, 4, 5]); // strings compare by code unit
    assert.deepStrictEqual(rowsWhere('row_id in [10, 15]'), [0, 5]);
    assert.deepStrictEqual(rowsWhere("(pred == 'Gentoo') == (species == 'Gentoo')"), [0, 1, 3, 4, 5]);
  });

  it('rejects unknown names (with a suggestion), unknown classes and type mismatches before any row runs', () => {
    throwsAt(() => rowsWhere("iland == 'Biscoe'"), 1, /unknown name `iland` \(did you mean `island`\?\): names are columns of the evaluation data/);
    throwsAt(() => rowsWhere("score['Emperor'] > 0.5"), 7, /"Emperor" is not a class of the model \(classes: "Adelie", "Chinstrap", "Gentoo"\)/);
    throwsAt(() => rowsWhere('score > 0.5'), 1, /`score` needs a class/);
    throwsAt(() => compileRule("pred == 'Adelie'", { data: DATA }), 1, /`pred` needs the candidate's predictions/);
    throwsAt(() => rowsWhere('island > 3'), 1, /cannot compare text with a number \(put the number in quotes/);
    throwsAt(() => rowsWhere("bill_length_mm == 'long'"), 1, /cannot compare a number with text/);
    throwsAt(() => rowsWhere('island + 1 > 2'), 1, /`\+` needs numbers, but this is text/);
    throwsAt(() => rowsWhere('bill_length_mm and pred'), 1, /`and` joins conditions, but this is a number/);
    throwsAt(() => rowsWhere('not island'), 5, /`not` needs a condition, but this is text/);
    throwsAt(() => rowsWhere('-island > 1'), 2, /`-` needs a number, but this is text/);
    throwsAt(() => rowsWhere('bill_length_mm + 1'), 1, /the expression must be a condition \(true\/false\), but it is a number/);
    throwsAt(() => rowsWhere("island in ['Dream', 3]"), 21, /the list holds a number, but the value tested is text/);
    throwsAt(() => rowsWhere('island < null'), 8, /null can only be compared with `==` or `!=`/);
    throwsAt(() => rowsWhere('(1 > 0) < (2 > 1)'), 9, /conditions can only be compared with `==` or `!=`/);
  });
});

describe('checks: rule check', () => {
  it('counts violations among the rows where `when` holds and lists the violating rows', async () => {
    const r = await ruleCheck(CTX, { when: "island == 'Torgersen'", expect: "pred != 'Gentoo'" }, '5-rule');
    assert.strictEqual(r.id, '5-rule');
    assert.strictEqual(r.kind, 'rule');
    assert.strictEqual(r.status, 'fail');
    assert.deepStrictEqual(r.measured, { violations: 1, rows_checked: 2, violation_rate: 0.5 });
    assert.deepStrictEqual(r.threshold, { max_violations: 0, when: "island == 'Torgersen'", expect: "pred != 'Gentoo'" });
    assert.deepStrictEqual(r.evidence, { violating_rows: [{ row: 2, row_id: 12, values: { island: 'Torgersen', pred: 'Gentoo' } }] });
    assert.strictEqual(r.title, "rule: pred != 'Gentoo' when island == 'Torgersen'");
    assert.match(r.message, /`pred != 'Gentoo'` is violated on 1 of 2 rows where `island == 'Torgersen'` holds \(allowed: 0\)/);
    const allowed = await ruleCheck(CTX, { when: "island == 'Torgersen'", expect: "pred != 'Gentoo'", max_violations: 1 }, '5-rule');
    assert.strictEqual(allowed.status, 'pass');
  });

  it('passes when the rule holds everywhere; without `when` every row is checked; evidence is capped at 20 rows', async () => {
    const r = await ruleCheck(CTX, { expect: "score['Adelie'] + score['Chinstrap'] + score['Gentoo'] <= 1.0001" }, '1-rule');
    assert.strictEqual(r.status, 'pass', r.message);
    assert.deepStrictEqual(r.measured, { violations: 0, rows_checked: 6, violation_rate: 0 });
    assert.strictEqual(r.evidence, undefined);
    assert.match(r.message, /holds on all 6 rows/);
    const big = dataset({ x: Array.from({ length: 500 }, (_, i) => i) });
    const many = await ruleCheck({ root: '.', eval: big, label: 'x', features: [] }, { expect: 'x < 100' }, '1-rule');
    assert.strictEqual(many.measured.violations, 400);
    assert.strictEqual((many.evidence as { violating_rows: unknown[] }).violating_rows.length, 20);
    // a data-only rule needs no model outputs
    assert.strictEqual(many.status, 'fail');
  });

  it('a syntax or type error is an `error` result naming the field, the position and a caret', async () => {
    const r = await ruleCheck(CTX, { when: "island == 'Torgersen' and", expect: "pred != 'Gentoo'" }, '1-rule');
    assert.strictEqual(r.status, 'error');
    assert.match(r.message, /^`when`: expected an operand .*, found the end of the expression \(at position 26\)$/);
    const ev = r.evidence as { field: string; offset: number; caret: string; expected: string };
    assert.strictEqual(ev.field, 'when');
    assert.strictEqual(ev.offset, 25);
    assert.strictEqual(ev.caret, "island == 'Torgersen' and\n                         ^");
    const typed = await ruleCheck(CTX, { expect: 'pred > 3' }, '1-rule');
    assert.strictEqual(typed.status, 'error');
    assert.match(typed.message, /^`expect`: cannot compare text with a number/);
    assert.strictEqual((typed.evidence as { caret: string }).caret, 'pred > 3\n^^^^^^^^');
    const missing = await ruleCheck(CTX, { expect: '' }, '1-rule');
    assert.strictEqual(missing.status, 'error');
    assert.match(missing.message, /needs `expect`/);
    assert.strictEqual((await ruleCheck(CTX, { expect: 'x', max_violations: -1 }, '1-rule')).status, 'error');
    const noModel = await ruleCheck({ ...CTX, outputs: undefined }, { expect: "pred == 'Adelie'" }, '1-rule');
    assert.match(noModel.message, /`pred` needs the candidate's predictions/);
  });

  it('evaluates 100,000 rows quickly', async () => {
    const n = 100_000;
    const big = dataset({ x: Array.from({ length: n }, (_, i) => i % 100), g: Array.from({ length: n }, (_, i) => (i % 2 ? 'a' : 'b')) });
    const t0 = Date.now();
    const r = await ruleCheck({ root: '.', eval: big, label: 'g', features: [] }, { when: "g == 'a'", expect: 'x < 99 or x in [99]' }, '1-rule');
    assert.ok(Date.now() - t0 < 2000);
    assert.deepStrictEqual(r.measured, { violations: 0, rows_checked: n / 2, violation_rate: 0 });
  });
});
