import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { isMap, isPair, isScalar, isSeq, parseDocument, type Node } from 'yaml';
import { fastParse } from '../../src/core/config/fastYaml';
import { largeConfig, smallConfig } from '../bench/inputs';
import { mulberry32 } from '../../src/core/stats/prng';

const root = path.resolve(__dirname, '../../..');

/**
 * End of a block collection without trailing whitespace and trailing comment lines, as the validator underlines
 * it (yaml counts comment lines after the last item into the collection; the fast reader stops at the item).
 */
function trimmedEnd(text: string, start: number, end: number): number {
  for (;;) {
    while (end > start + 1 && /\s/.test(text[end - 1])) end--;
    const lineStart = text.lastIndexOf('\n', end - 1) + 1;
    if (lineStart <= start || !text.slice(lineStart, end).trimStart().startsWith('#')) return end;
    end = lineStart;
  }
}

/** Assert that the fast reader built exactly the tree `yaml` builds: classes, scalar types, values and ranges. */
function sameTree(text: string, a: unknown, b: unknown, where: string): void {
  if (isScalar(b)) {
    assert.ok(isScalar(a), `${where}: expected a scalar`);
    assert.strictEqual(a.type, b.type, `${where}: scalar type`);
    assert.ok(Object.is(a.value, b.value), `${where}: value ${String(a.value)} vs ${String(b.value)}`);
    const zeroWidth = b.range![0] === b.range![1];
    if (!zeroWidth) assert.deepStrictEqual(a.range!.slice(0, 2), b.range!.slice(0, 2), `${where}: range of ${JSON.stringify(text.slice(b.range![0], b.range![1]))}`);
    else assert.strictEqual(a.range![0], a.range![1], `${where}: empty value has no width`);
    return;
  }
  if (isMap(b) || isSeq(b)) {
    assert.ok(isMap(b) ? isMap(a) : isSeq(a), `${where}: collection kind`);
    const ac = a as typeof b;
    assert.strictEqual(Boolean(ac.flow), Boolean(b.flow), `${where}: flow`);
    assert.strictEqual(ac.items.length, b.items.length, `${where}: item count`);
    assert.strictEqual(ac.range![0], b.range![0], `${where}: start`);
    assert.strictEqual(trimmedEnd(text, ac.range![0], ac.range![1]), trimmedEnd(text, b.range![0], b.range![1]), `${where}: end`);
    b.items.forEach((item, i) => {
      const other = ac.items[i];
      if (isPair(item)) {
        assert.ok(isPair(other), `${where}[${i}]: pair`);
        sameTree(text, other.key, item.key, `${where}.key(${String((item.key as { value?: unknown }).value)})`);
        sameTree(text, other.value, item.value, `${where}.${String((item.key as { value?: unknown }).value)}`);
      } else {
        sameTree(text, other, item, `${where}[${i}]`);
      }
    });
    return;
  }
  assert.fail(`${where}: unexpected node ${String((b as Node)?.constructor?.name)}`);
}

/** Returns whether the fast path accepted the text; when it did, it must agree with `yaml` entirely. */
function agree(text: string, label: string): boolean {
  const fast = fastParse(text);
  if (!fast) return false;
  const lib = parseDocument(text, { uniqueKeys: false, prettyErrors: false });
  assert.deepStrictEqual(lib.errors.map(e => e.message), [], `${label}: the fast path accepted a document yaml rejects:\n${text}`);
  assert.deepStrictEqual(fast.value, lib.toJS(), `${label}: values differ for:\n${text}`);
  try {
    sameTree(text, fast.doc.contents, lib.contents, label);
  } catch (e) {
    (e as Error).message += `\n--- document ---\n${text}`;
    throw e;
  }
  return true;
}

/** Seeded randomness: the project's mulberry32, so every run sees the same data. */
const rng = mulberry32;

const tricky = [
  '1', '-1', '+5', '007', '1.5', '1.', '.5', '-.5', '1e3', '1E-3', '+1.5e+2', '0o17', '0o19', '0x1F', '0xZZ', '.inf', '-.Inf', '+.INF', '.nan', '.NaN',
  'null', 'Null', 'NULL', '~', 'nul', 'true', 'True', 'TRUE', 'tRue', 'false', 'yes', 'no', 'on', 'off', 'y', '1_000', '3.10', '1.2.3', 'v1.2.3',
  'http://example.com:8080/x', 'a:b', 'C:\\path', 'a#b', 'a # comment', 'x  ', 'hello world', "it's", 'say "hi"', '-x', '?x', ':x', '--flag',
  '"double"', '"esc\\n\\t\\"q\\" \\u00e9"', '"\\x41"', "'single'", "'it''s'", "''", '""', '"a # b"', "'a: b'", '[]', '[a]', '[a, b, c]', '[1, "2", \'3\', null]',
  '[ spaced , items ]', '[a, [b]]', '[a,]', '{}', '{a: 1}', '{ A: "0", B: x }', '{a: {b: 1}}', '{a:1}', '@x', '`x', '&anchor x', '*alias', '!tag x', '%x',
  'a: b', 'a:', '- a', '|', '>', 'ø unicode', '한국어 값', '1 2', '[a, b] junk', '"unterminated', "'unterminated",
];

function genScalar(r: () => number): string {
  return tricky[Math.floor(r() * tricky.length)];
}

function genBlock(r: () => number, indent: number, depth: number): string {
  const pad = ' '.repeat(indent);
  const lines: string[] = [];
  const n = 1 + Math.floor(r() * 5);
  if (depth > 0 && r() < 0.25) {
    for (let i = 0; i < n; i++) lines.push(`${pad}- ${genScalar(r)}`);
    return lines.join('\n');
  }
  const used = new Set<string>();
  for (let i = 0; i < n; i++) {
    let key = ['name', 'id', 'learning_rate', 'p_1', 'a.b', 'path/x', 'with space', 'k'][Math.floor(r() * 8)] + (r() < 0.5 ? String(i) : '');
    if (r() < 0.1 && used.size) key = [...used][0]; // a duplicate key now and then
    used.add(key);
    const roll = r();
    if (roll < 0.15 && depth < 3) lines.push(`${pad}${key}:`, genBlock(r, indent + 2, depth + 1));
    else if (roll < 0.2 && depth < 3) lines.push(`${pad}${key}:`, `${pad}- ${genScalar(r)}`, `${pad}- ${genScalar(r)}`);
    else if (roll < 0.27) lines.push(`${pad}${key}: ${['|', '|-', '|+', '>', '>-', '>+'][Math.floor(r() * 6)]}`, `${pad}  line one`, `${pad}  line two`, ...(r() < 0.5 ? ['', `${pad}  after blank`] : []), ...(r() < 0.3 ? [''] : []));
    else if (roll < 0.3) lines.push(`${pad}${key}:${r() < 0.5 ? ' # empty' : ''}`);
    else lines.push(`${pad}${key}: ${genScalar(r)}${r() < 0.1 ? ' # note' : ''}`);
    if (r() < 0.08) lines.push(r() < 0.5 ? '' : `${pad}# a comment`);
  }
  return lines.join('\n');
}

describe('fast YAML reader agrees with the yaml library', () => {
  it('on every fixture config and example', () => {
    const dirs = ['test/fixtures/configs', 'test/fixtures/workspace/experiments', 'test/fixtures/workspace/other', 'examples/penguins/experiments'];
    let accepted = 0;
    let total = 0;
    for (const d of dirs) {
      for (const f of fs.readdirSync(path.join(root, d)).filter(f => /\.ya?ml$/.test(f))) {
        total++;
        if (agree(fs.readFileSync(path.join(root, d, f), 'utf8'), `${d}/${f}`)) accepted++;
      }
    }
    assert.ok(accepted >= total / 2, `the fast path took ${accepted} of ${total} fixtures`);
  });

  it('takes the benchmark configs (so the benchmark measures it)', () => {
    assert.ok(agree(smallConfig(), 'bench small'), 'small config left the fast path');
    assert.ok(agree(largeConfig(), 'bench large'), 'large config left the fast path');
  });

  it('on every tricky scalar as a value, as a list item and in a flow list', () => {
    for (const s of tricky) {
      agree(`key: ${s}\n`, `value ${s}`);
      agree(`list:\n  - ${s}\n`, `item ${s}`);
      agree(`list: [${s}]\n`, `flow ${s}`);
      agree(`${s}: 1\n`, `key ${s}`);
    }
  });

  it('on CRLF line endings, comments, blank lines, nested blocks and block scalars', () => {
    const cases = [
      'a: 1\r\nb:\r\n  c: "x"\r\n',
      '# head\n\na: 1 # c\n\n# mid\nb:\n\n  c: 2\n',
      'a:\n- x\n- y\nb: 1\n',
      'a: |\n  one\n\n  two\n\n\nb: >\n  folded\n  text\n\n  para\nc: |-\n  s\nd: |+\n  k\n\n',
      'a: |\n    deeper\n  less\n',
      'a: >\n  x\n    more\n',
      'a: |\n\n  lead\n',
      'a: |\n   \n  lead\n',
      'a: |2\n  x\n',
      'a: b\n  continued\n',
      '---\na: 1\n',
      'a: 1\n---\nb: 2\n',
      'a: 1\n...\n',
      '%YAML 1.2\n---\na: 1\n',
      'a: &x 1\nb: *x\n',
      '  a: 1\n  b: 2\n',
      'a:\n  b:\n    c:\n      d: [1, 2]\n  e: {x: y}\n',
      '__proto__: 1\nconstructor: 2\ntoString: 3\n',
      'a: 1\na: 2\n',
      'a:\n\tb: 1\n',
      '\ufeffa: 1\n',
      'a: 1',
      'a:',
      '- a\n- b\n',
      'a: "x" # c\nb: \'y\'  # c\n',
      'a: [x, y] # c\n',
      'key with spaces: v\n',
      'a : 1\n',
    ];
    for (const c of cases) agree(c, JSON.stringify(c));
  });

  it('on 3,000 generated documents', () => {
    const r = rng(20251201);
    let accepted = 0;
    for (let i = 0; i < 3000; i++) {
      const doc = genBlock(r, 0, 0) + (r() < 0.8 ? '\n' : '');
      if (agree(doc, `generated #${i}`)) accepted++;
    }
    console.log(`      fast path took ${accepted} of 3000 generated documents`);
    assert.ok(accepted > 300, `only ${accepted} generated documents took the fast path: the generator or the reader is off`);
  });
});
