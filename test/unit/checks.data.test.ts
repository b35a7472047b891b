import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { anomaliesCheck } from '../../src/core/checks/anomalies';
import { dataSchemaCheck, parseDataSchema } from '../../src/core/checks/dataSchema';
import {
  DatasetError, featureMatrix, isCanonicalNumberText, parseDecimal, readDataset, sortFloat64, sortedValues,
} from '../../src/core/checks/dataset';
import type { Column, Dataset, GateContext } from '../../src/core/checks/types';
import { setMessages } from '../../src/core/l10n';
import { datasetOf } from './checkData';

const root = path.resolve(__dirname, '../../..');
const fixtures = path.join(root, 'test', 'fixtures', 'checks');
const fx = (name: string) => path.join(fixtures, name);

function nums(ds: Dataset, name: string): number[] {
  const c = ds.columns.get(name) as Column;
  assert.strictEqual(c.kind, 'number', `${name} should be numeric`);
  return Array.from(c.values as Float64Array);
}
function strs(ds: Dataset, name: string): Array<string | null> {
  const c = ds.columns.get(name) as Column;
  assert.strictEqual(c.kind, 'string', `${name} should be a string column`);
  return c.values as Array<string | null>;
}
/** NaN-aware deepStrictEqual for number arrays. */
function sameNumbers(actual: number[], expected: number[]): void {
  assert.strictEqual(actual.length, expected.length);
  actual.forEach((v, i) => assert.ok(Object.is(v, expected[i]) || (Number.isNaN(v) && Number.isNaN(expected[i])), `[${i}] ${v} ≠ ${expected[i]}`));
}

async function rejects(p: Promise<unknown>, test: (e: DatasetError) => void): Promise<void> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof DatasetError, `expected DatasetError, got ${String(e)}`);
    test(e);
    return;
  }
  assert.fail('expected a DatasetError');
}

/** A temporary directory for generated files, created on first use and removed when the process exits. */
let tmpDir: string | undefined;
function tmp(): string {
  if (!tmpDir) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edd-checks-data-'));
    tmpDir = dir;
    process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  }
  return tmpDir;
}
const write = (name: string, text: string) => { const f = path.join(tmp(), name); fs.writeFileSync(f, text); return f; };

const dataset = (file: string, cols: Record<string, Array<number | string | null>>) => datasetOf(cols, file);

describe('checks: readDataset (CSV)', () => {
  it('reads types, missing values, RFC 4180 quotes and CRLF line ends', async () => {
    const ds = await readDataset(fx('types.csv'), { label: 'label' });
    assert.deepStrictEqual(ds.names, ['id', 'age', 'income', 'city', 'note', 'zip', 'label']);
    assert.strictEqual(ds.rows, 5);
    sameNumbers(nums(ds, 'id'), [1, 2, 3, 4, 5]);
    sameNumbers(nums(ds, 'age'), [34, NaN, 51, 29, 1000]); // empty cell → NaN; 1e3 is a number
    sameNumbers(nums(ds, 'income'), [52000.5, 61000, NaN, 48000, -12.25]); // NA → NaN
    assert.deepStrictEqual(strs(ds, 'city'), ['Berlin', 'Paris, FR', 'Rome', null, 'Oslo']); // quoted comma; null → missing
    assert.deepStrictEqual(strs(ds, 'note'), ['plain', 'say "hi"', 'two\r\nlines', null, 'x']); // "" escape, quoted CRLF kept
    // a column with one non-number is text and keeps every value's original text (leading zeros)
    assert.deepStrictEqual(strs(ds, 'zip'), ['02134', '10001', 'A1234', '90210', '007']);
    // the label is always text
    assert.deepStrictEqual(strs(ds, 'label'), ['yes', 'no', 'yes', 'no', '1']);
  });

  it('reads a numeric label as canonical text, LF files, a BOM, TSV, blank lines and unnamed header cells', async () => {
    const f = write('lf.csv', '\ufeff,x,y\n0,1.0,0\n\n1,2.50,1\n');
    const ds = await readDataset(f, { label: 'y' });
    assert.deepStrictEqual(ds.names, ['Unnamed: 0', 'x', 'y']);
    assert.strictEqual(ds.rows, 2);
    sameNumbers(nums(ds, 'x'), [1, 2.5]);
    assert.deepStrictEqual(strs(ds, 'y'), ['0', '1']);
    const t = await readDataset(write('t.tsv', 'a\tb\n1\tx y\n'));
    sameNumbers(nums(t, 'a'), [1]);
    assert.deepStrictEqual(strs(t, 'b'), ['x y']);
  });

  it('keeps the original text of numbers when a column turns out to be text', async () => {
    const f = write('mixed.csv', 'code\n007\n1.50\n1e3\n-0\n0.0000001\n12345678901234567890\nA7\n');
    const ds = await readDataset(f);
    assert.deepStrictEqual(strs(ds, 'code'), ['007', '1.50', '1e3', '-0', '0.0000001', '12345678901234567890', 'A7']);
  });

  it('the allocation-free canonical-text test never claims a text is canonical when String(Number(text)) differs', () => {
    const r = (() => { let s = 99; return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296); })();
    const samples = ['0', '-0', '0.5', '-0.5', '00', '0.50', '1.', '.5', '+1', '1e3', '0.000001', '0.0000001', '123456789012345', '1234567890123456', '-12.25', '5e-324'];
    for (let i = 0; i < 20000; i++) {
      const digits = Math.floor(r() * 12);
      let t = (r() < 0.3 ? '-' : '') + (r() < 0.2 ? '0' : String(Math.floor(r() * 1000)));
      if (r() < 0.6) t += '.' + Array.from({ length: digits }, () => String(Math.floor(r() * 10))).join('');
      samples.push(t);
    }
    let fast = 0;
    for (const t of samples) {
      const v = Number(t);
      if (isCanonicalNumberText(t)) { fast++; assert.strictEqual(String(v), t, `claimed canonical: ${t}`); }
    }
    assert.ok(fast > 5000, `only ${fast} texts took the fast path`);
    assert.ok(isCanonicalNumberText('0.000001') && !isCanonicalNumberText('0.0000001') && !isCanonicalNumberText('-0') && !isCanonicalNumberText('1.50'));
  });

  it('reads decimals and the infinities as numbers; hexadecimal (with or without spaces around it) and words as text; whitespace-only cells as missing', async () => {
    const ds = await readDataset(write('odd.csv', 'a,b,c,d,e\n0x1F,Infinity,1, ,inf\n2,3,4,5, -INF \n'));
    assert.deepStrictEqual(strs(ds, 'a'), ['0x1F', '2']);
    sameNumbers(nums(ds, 'b'), [Infinity, 3]);
    sameNumbers(nums(ds, 'd'), [NaN, 5]);
    sameNumbers(nums(ds, 'e'), [Infinity, -Infinity]);
    const spaced = await readDataset(write('spaced-hex.csv', 'h,k\n 0x1F,1\n0x1F ,2\n'));
    assert.deepStrictEqual(strs(spaced, 'h'), [' 0x1F', '0x1F ']); // was 31 with a leading space
    for (const text of ['inf', 'Inf', 'INF', '+inf', '-inf', 'infinity', 'Infinity', '-Infinity', '+INFINITY', ' inf ', '1e999']) {
      assert.strictEqual(Math.abs(parseDecimal(text)), Infinity, text);
    }
    assert.strictEqual(parseDecimal('-inf'), -Infinity);
    for (const text of ['0x1F', ' 0x1F', '0x1F ', '\t0b11', '0o7', ' 0X1f ', 'infinite', 'in f', '--inf', 'abc', '', '   ', '1,5']) {
      assert.ok(Number.isNaN(parseDecimal(text)), JSON.stringify(text));
    }
    assert.ok(parseDecimal(' 2.5 ') === 2.5 && parseDecimal('+7') === 7 && parseDecimal('.5') === 0.5 && parseDecimal('1e3') === 1000);
  });

  it('a CRLF file written on the fly (independent of how git stores the fixture)', async () => {
    const ds = await readDataset(write('crlf.csv', 'a,b\r\n1,"x\r\ny"\r\n2,z\r\n'));
    sameNumbers(nums(ds, 'a'), [1, 2]);
    assert.deepStrictEqual(strs(ds, 'b'), ['x\r\ny', 'z']); // the line break inside the quotes is kept as written
  });

  it('keeps CR, LF and CRLF inside quoted fields exactly, with CR, LF and CRLF record ends in one file', async () => {
    const ds = await readDataset(write('breaks.csv', 'a,b\n1,"cr\ronly"\r\n2,"lf\nonly"\r3,"both\r\nhere"\n4,"""q"", x"\n'));
    sameNumbers(nums(ds, 'a'), [1, 2, 3, 4]);
    assert.deepStrictEqual(strs(ds, 'b'), ['cr\ronly', 'lf\nonly', 'both\r\nhere', '"q", x']);
    // lenient quotes: a quote inside an unquoted field, and text after a closing quote, are kept as they stand
    const lenient = await readDataset(write('lenient.csv', 'a,b\nx"y,"a"b\n'));
    assert.deepStrictEqual(strs(lenient, 'a'), ['x"y']);
    assert.deepStrictEqual(strs(lenient, 'b'), ['"a"b']);
  });

  it('reads a quoted field of many lines in linear time (10,000 lines vs 1,000)', async () => {
    const line = (i: number) => `line ${i} of a long note, with words enough to make it count`;
    const file = (n: number) => write(`long${n}.csv`, `id,text\n1,"${Array.from({ length: n }, (_, i) => line(i)).join('\n')}"\n2,end\n`);
    const small = file(1000), big = file(10000);
    const once = async (f: string) => {
      const t0 = process.hrtime.bigint();
      const ds = await readDataset(f);
      assert.strictEqual(ds.rows, 2);
      return Number(process.hrtime.bigint() - t0) / 1e6;
    };
    // best of 5, interleaved, so a busy machine slows both alike
    let bestSmall = Infinity, bestBig = Infinity;
    for (let k = 0; k < 5; k++) {
      bestSmall = Math.min(bestSmall, await once(small));
      bestBig = Math.min(bestBig, await once(big));
    }
    const ratio = bestBig / Math.max(0.5, bestSmall);
    // linear: about 10× (less, with the fixed cost of opening a file); re-splitting the record on every line
    // (quadratic) made it about 100×
    assert.ok(ratio < 40, `10× the lines took ${ratio.toFixed(1)}× the time (${bestSmall.toFixed(1)} ms, ${bestBig.toFixed(1)} ms)`);
    const ds = await readDataset(big);
    assert.strictEqual((strs(ds, 'text')[0] as string).split('\n').length, 10000);
  });

  it('names the line a bad record starts on, after multi-line fields and skipped blank lines', async () => {
    await rejects(readDataset(write('late.csv', 'a,b\n1,"two\nlines"\n\n\n3,4\n5\n')), e => {
      assert.strictEqual(e.line, 7);
      assert.match(e.message, /late\.csv:7: expected 2 fields as in the header, found 1/);
    });
    await rejects(readDataset(write('open.csv', 'a,b\n1,"x\ny"\n\n2,"open\n3,4\n')), e => {
      assert.strictEqual(e.line, 5);
      assert.match(e.message, /never closed/);
    });
  });

  it('rejects a row with the wrong number of fields, with file:line and what to fix', async () => {
    await rejects(readDataset(fx('bad-fields.csv')), e => {
      assert.strictEqual(e.line, 4);
      assert.ok(e.message.startsWith(`${fx('bad-fields.csv')}:4: expected 3 fields as in the header, found 2`), e.message);
      assert.match(e.message, /quote fields/);
    });
  });

  it('rejects an unterminated quote at the line where the field starts', async () => {
    await rejects(readDataset(fx('unterminated.csv')), e => {
      assert.strictEqual(e.line, 2);
      assert.match(e.message, /never closed/);
    });
  });

  it('rejects a missing file, an empty file, a duplicate header and a missing label column', async () => {
    await rejects(readDataset(path.join(tmp(), 'nope.csv')), e => assert.match(e.message, /file not found/));
    await rejects(readDataset(tmp()), e => assert.strictEqual(e.message, `${tmp()}: this is a folder, not a data file; give the path of a CSV, TSV or JSONL file.`));
    await rejects(readDataset(write('empty.csv', '')), e => assert.match(e.message, /header row/));
    await rejects(readDataset(write('dup.csv', 'a,a\n1,2\n')), e => { assert.strictEqual(e.line, 1); assert.match(e.message, /duplicate column name "a"/); });
    await rejects(readDataset(fx('types.csv'), { label: 'target' }), e => assert.match(e.message, /no label column "target"; the columns are "id", "age"/));
  });
});

describe('checks: readDataset errors in Korean (l10n/bundle.l10n.ko.json)', () => {
  const ko = JSON.parse(fs.readFileSync(path.join(root, 'l10n', 'bundle.l10n.ko.json'), 'utf8')) as Record<string, string>;
  const fill = (key: string, ...args: Array<string | number>) => {
    assert.ok(typeof ko[key] === 'string', `no Korean entry for ${JSON.stringify(key)}`);
    return ko[key].replace(/\{(\d+)\}/g, (_, i: string) => String(args[Number(i)]));
  };
  before(() => setMessages(ko));
  after(() => setMessages(undefined));

  it('a CSV row with the wrong number of fields: Korean, still file:line first, with the counts and the fix', async () => {
    const file = fx('bad-fields.csv');
    await rejects(readDataset(file), e => {
      assert.strictEqual(e.line, 4);
      assert.strictEqual(e.message, fill('{0}:{1}: expected {2} fields as in the header, found {3}; quote fields that contain "{4}" or a line break (as in "a{4}b"), or fix the row.', file, 4, 3, 2, ','));
      assert.ok(e.message.startsWith(`${file}:4: `), e.message);
      assert.match(e.message, /[가-힣]/);
      assert.match(e.message, /큰따옴표/);
    });
  });

  it('a missing file, an unclosed quote and a bad JSONL line come out in Korean too', async () => {
    const nope = path.join(tmp(), 'nope.csv');
    await rejects(readDataset(nope), e => assert.strictEqual(e.message, fill('{0}: file not found; check the path (relative paths resolve against the workspace root).', nope)));
    await rejects(readDataset(fx('unterminated.csv')), e => {
      assert.ok(e.message.startsWith(`${fx('unterminated.csv')}:2: `), e.message);
      assert.match(e.message, /닫히지 않았습니다/);
    });
    await rejects(readDataset(fx('not-object.jsonl')), e => {
      assert.ok(e.message.startsWith(`${fx('not-object.jsonl')}:2: `), e.message);
      assert.match(e.message, /JSON 객체/);
      assert.doesNotMatch(e.message, /expected|found/);
    });
  });
});

describe('checks: readDataset (JSONL)', () => {
  it('reads one object per line: numbers, strings, null, booleans, nested values, keys appearing late', async () => {
    const ds = await readDataset(fx('rows.jsonl'), { label: 'label' });
    assert.deepStrictEqual(ds.names, ['x', 'color', 'flag', 'label', 'extra']);
    assert.strictEqual(ds.rows, 4); // the blank line is skipped
    sameNumbers(nums(ds, 'x'), [1.5, 2, 3.25, NaN]);
    assert.deepStrictEqual(strs(ds, 'color'), ['red', null, 'blue', 'red']);
    assert.deepStrictEqual(strs(ds, 'flag'), ['true', 'false', null, 'true']);
    assert.deepStrictEqual(strs(ds, 'extra'), [null, null, '[1,2]', null]);
    assert.deepStrictEqual(strs(ds, 'label'), ['a', 'b', 'a', '1']);
  });

  it('rejects invalid JSON and non-object lines with file:line', async () => {
    await rejects(readDataset(fx('bad.jsonl')), e => {
      assert.strictEqual(e.line, 3);
      assert.match(e.message, /bad\.jsonl:3: invalid JSON .*one JSON object/);
    });
    await rejects(readDataset(fx('not-object.jsonl')), e => {
      assert.strictEqual(e.line, 2);
      assert.strictEqual(e.message, `${fx('not-object.jsonl')}:2: expected a JSON object ({"column": value, …}), found an array; write each row as one object such as {"x": 1.5, "label": "a"}.`);
    });
  });
});

describe('checks: featureMatrix and sorting', () => {
  it('builds a row-major float32 matrix, NaN for missing values', async () => {
    const ds = await readDataset(fx('types.csv'), { label: 'label' });
    const m = featureMatrix(ds, ['age', 'id']);
    assert.strictEqual(m.length, 10);
    assert.deepStrictEqual(Array.from(m.slice(0, 4)), [34, 1, NaN, 2]);
    assert.strictEqual(m[8], 1000);
  });

  it('names a missing or non-numeric feature column', async () => {
    const ds = await readDataset(fx('types.csv'), { label: 'label' });
    assert.throws(() => featureMatrix(ds, ['age', 'height']), (e: Error) => e instanceof DatasetError && /feature column "height" is missing; the columns are "id", "age"/.test(e.message));
    assert.throws(() => featureMatrix(ds, ['zip']), (e: Error) => /feature column "zip" is not numeric \(row 3: "A1234"\)/.test(e.message));
  });

  it('sortFloat64 (radix) equals the typed-array sort, with negatives, ±0, extremes and ties', () => {
    let seed = 12345;
    const rnd = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 4294967296);
    for (const n of [10, 5000, 50000]) {
      const a = new Float64Array(n);
      for (let i = 0; i < n; i++) a[i] = i % 7 === 0 ? Math.round(rnd() * 10) : (rnd() - 0.5) * 10 ** Math.round(rnd() * 40 - 20);
      a[0] = -0; a[1] = 0; a[2] = Number.MAX_VALUE; a[3] = -Number.MAX_VALUE; a[4] = 5e-324; a[5] = -Infinity; a[6] = Infinity;
      const expected = a.slice().sort();
      const got = sortFloat64(a.slice());
      for (let i = 0; i < n; i++) assert.ok(got[i] === expected[i], `n=${n} [${i}] ${got[i]} ≠ ${expected[i]}`);
    }
    const col = Float64Array.from([3, NaN, 1, 2]);
    assert.deepStrictEqual(Array.from(sortedValues(col)), [1, 2, 3]);
    assert.strictEqual(sortedValues(col), sortedValues(col)); // cached
  });

  it('reads 100,000 rows × 20 columns in a stream with bounded memory (timing printed, not asserted)', async () => {
    const f = path.join(tmp(), 'big.csv');
    const out = fs.openSync(f, 'w');
    fs.writeSync(out, Array.from({ length: 20 }, (_, j) => `f${j}`).join(',') + ',label\n');
    let seed = 7;
    const rnd = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 4294967296);
    let buf = '';
    for (let i = 0; i < 100000; i++) {
      const row: string[] = [];
      for (let j = 0; j < 20; j++) row.push((rnd() * 100).toFixed(3));
      buf += row.join(',') + (rnd() < 0.5 ? ',0\n' : ',1\n');
      if (buf.length > 1 << 20) { fs.writeSync(out, buf); buf = ''; }
    }
    fs.writeSync(out, buf);
    fs.closeSync(out);
    const rss0 = process.memoryUsage().rss;
    const t0 = performance.now();
    const ds = await readDataset(f, { label: 'label' });
    const ms = performance.now() - t0;
    const grown = (process.memoryUsage().rss - rss0) / 1e6;
    console.log(`      readDataset: ${(fs.statSync(f).size / 1e6).toFixed(1)} MB, ${ds.rows} rows × ${ds.names.length} columns in ${ms.toFixed(0)} ms, RSS +${grown.toFixed(0)} MB`);
    assert.strictEqual(ds.rows, 100000);
    assert.strictEqual(ds.columns.get('f0')?.kind, 'number');
    assert.ok(grown < 400, `RSS grew by ${grown.toFixed(0)} MB`);
  });
});

function ctxOf(evalDs: Dataset, extra: Partial<GateContext> = {}): GateContext {
  return { root: fixtures, eval: evalDs, label: 'label', features: [], ...extra };
}

describe('checks: anomalies', () => {
  // IQR by hand: values 1..20 → numpy-linear Q1 = 5.75, Q3 = 15.25, IQR = 9.5, fences −8.5 and 29.5.
  const base = Array.from({ length: 20 }, (_, i) => i + 1);

  it('iqr: counts values outside the fences of the eval data when there is no reference', async () => {
    const evalDs = dataset('eval.csv', { a: [...base, 30, -9, 12], b: [...base.map(x => x * 2), 100, 2, NaN], label: Array(23).fill('x') });
    const r = await anomaliesCheck(ctxOf(evalDs), { method: 'iqr', max_rate: 0.02 }, '1-anomalies');
    assert.strictEqual(r.status, 'fail');
    // a, from the eval data itself: sorted −9, 1, …, 12, 12, …, 20, 30 (23 values); numpy-linear Q1 at h = 5.5 is
    // 5.5, Q3 at h = 16.5 is 15.5; IQR = 10, fences −9.5 and 30.5: no anomaly.
    const a = (r.measured.columns as Record<string, Record<string, number>>).a;
    assert.strictEqual(a.count, 0);
    assert.strictEqual(a.q1, 5.5);
    assert.strictEqual(a.q3, 15.5);
    // b: sorted 2, 2, 4, 6, …, 40, 100 (22 values, the NaN left out); Q1 at h = 5.25 is 10.5, Q3 at h = 15.75 is
    // 31.5; IQR = 21, fences −21 and 63: only 100 (row 21)
    const b = (r.measured.columns as Record<string, Record<string, number>>).b;
    assert.strictEqual(b.count, 1);
    assert.strictEqual(r.measured.anomaly_rate, 1 / 23);
    assert.deepStrictEqual(r.measured.statistics_from, ['eval']);
    assert.deepStrictEqual((r.evidence as Array<Record<string, unknown>>)[0], { row: 21, column: 'b', value: 100, low: -21, high: 63 });
    assert.match(r.message, /1 of 23 rows .* above the maximum rate 0\.02/);
    assert.match(r.message, /evaluation data \(no reference given\)/);
    assert.strictEqual(r.threshold.max_rate, 0.02);
    assert.ok(r.durationMs >= 0);
  });

  it('iqr: fences from the reference data; pass under max_rate', async () => {
    const reference = dataset('ref.csv', { a: base, label: Array(20).fill('x') });
    const evalDs = dataset('eval.csv', { a: [5, 10, 29.5, 29.6, -8.5, -8.6, 15, 16, 17, 18], label: Array(10).fill('x') });
    const r = await anomaliesCheck(ctxOf(evalDs, { reference }), { method: 'iqr', max_rate: 0.25 }, '2-anomalies');
    const a = (r.measured.columns as Record<string, Record<string, number>>).a;
    assert.deepStrictEqual([a.q1, a.q3, a.low, a.high], [5.75, 15.25, -8.5, 29.5]);
    assert.strictEqual(a.count, 2); // 29.6 and −8.6; the fences themselves are inside
    assert.strictEqual(r.status, 'pass');
    assert.strictEqual(r.measured.anomaly_rate, 0.2);
    assert.match(r.message, /statistics from the reference data/);
  });

  it('zscore: |z| > k with the population std (ddof 0), default k = 3', async () => {
    // reference 0, 0, 0, 0, 10, 10, 10, 10 → mean 5, std 5 (ddof 0); |z| > 3 ⇔ x < −10 or x > 20
    const reference = dataset('ref.csv', { v: [0, 0, 0, 0, 10, 10, 10, 10] });
    const evalDs = dataset('eval.csv', { v: [20, 20.5, -10, -11, 5], label: ['a', 'a', 'a', 'a', 'a'] });
    const r = await anomaliesCheck(ctxOf(evalDs, { reference }), { method: 'zscore', max_rate: 0.1 }, '3-anomalies');
    assert.strictEqual(r.status, 'fail');
    assert.strictEqual(r.measured.anomaly_rate, 0.4);
    const ev = r.evidence as Array<Record<string, number>>;
    assert.deepStrictEqual(ev.map(e => e.row), [2, 4]);
    assert.strictEqual(ev[0].z, 3.1);
    assert.strictEqual(ev[1].z, -3.2);
  });

  it('evidence lists at most 20 offending cells; rows count once even with several anomalous columns', async () => {
    const n = 100;
    const a = Array.from({ length: n }, (_, i) => (i < 40 ? 1000 : i % 10));
    const b = Array.from({ length: n }, (_, i) => (i < 40 ? -1000 : i % 10));
    const reference = dataset('ref.csv', { a: Array.from({ length: 50 }, (_, i) => i % 10), b: Array.from({ length: 50 }, (_, i) => i % 10) });
    const r = await anomaliesCheck(ctxOf(dataset('eval.csv', { a, b }), { reference }), { method: 'iqr', k: 3, max_rate: 0.5, columns: ['a', 'b'] }, '4-anomalies');
    assert.strictEqual(r.measured.anomaly_rate, 0.4);
    assert.strictEqual((r.evidence as unknown[]).length, 20);
    assert.strictEqual(r.status, 'pass');
  });

  it('errors: a missing column (naming the available ones), a text column, a bad spec', async () => {
    const evalDs = dataset('eval.csv', { a: [1, 2, 3], city: ['x', 'y', 'z'] });
    const missing = await anomaliesCheck(ctxOf(evalDs), { method: 'iqr', max_rate: 0.1, columns: ['a', 'height'] }, '5-anomalies');
    assert.strictEqual(missing.status, 'error');
    assert.match(missing.message, /column "height" is not in the evaluation data \(eval\.csv\); its columns are "a", "city"/);
    const text = await anomaliesCheck(ctxOf(evalDs), { method: 'iqr', max_rate: 0.1, columns: ['city'] }, '5-anomalies');
    assert.strictEqual(text.status, 'error');
    assert.match(text.message, /"city" is not numeric/);
    const bad = await anomaliesCheck(ctxOf(evalDs), { method: 'mad', max_rate: 0.1 }, '5-anomalies');
    assert.strictEqual(bad.status, 'error');
    assert.match(bad.message, /method must be iqr or zscore/);
    const rate = await anomaliesCheck(ctxOf(evalDs), { method: 'iqr', max_rate: 5 }, '5-anomalies');
    assert.match(rate.message, /max_rate must be a share between 0 and 1/);
  });
});

describe('checks: data_schema', () => {
  it('reports violations per column with counts and example rows', async () => {
    const ds = await readDataset(fx('types.csv'), { label: 'label' });
    const r = await dataSchemaCheck(ctxOf(ds), { file: 'schema.yaml' }, '6-data_schema');
    assert.strictEqual(r.status, 'fail');
    const cols = r.measured.columns as Record<string, { violations: Record<string, number>; missing?: boolean }>;
    assert.deepStrictEqual(cols.age.violations, { above_max: 1 }); // 1000 > 120; the empty age is nullable
    assert.deepStrictEqual(cols.income.violations, { nulls: 1, below_min: 1 });
    assert.deepStrictEqual(cols.city.violations, { nulls: 1 });
    assert.deepStrictEqual(cols.label.violations, { not_allowed: 1 });
    assert.deepStrictEqual(cols.region.violations, { missing_column: 1 });
    assert.deepStrictEqual(cols.score, { type: 'number', missing: true, violations: {} }); // required: false
    assert.deepStrictEqual(cols.id.violations, {});
    assert.deepStrictEqual(cols.zip.violations, {});
    assert.strictEqual(r.measured.violations, 6);
    assert.strictEqual(r.measured.rows_with_violations, 3); // rows 3, 4, 5
    assert.deepStrictEqual(r.measured.extra_columns, ['note']);
    const ev = r.evidence as Array<{ column: string; violation: string; examples?: Array<{ row: number; value: unknown }> }>;
    const notAllowed = ev.find(e => e.column === 'label');
    assert.deepStrictEqual(notAllowed?.examples, [{ row: 5, value: '1' }]);
    assert.deepStrictEqual(ev.find(e => e.violation === 'below_min')?.examples, [{ row: 5, value: -12.25 }]);
    assert.match(r.message, /^6 schema violations in 5 columns/);
  });

  it('passes a matching schema; allow_extra_columns: false flags unlisted columns', async () => {
    const ds = await readDataset(fx('types.csv'), { label: 'label' });
    const ok = await dataSchemaCheck(ctxOf(ds), { file: 'schema-ok.yaml' }, '7-data_schema');
    assert.strictEqual(ok.status, 'pass', ok.message);
    const extra = dataset('x.csv', { id: [1, 2], age: [3, 4], income: [1, 2], city: ['a', 'b'], note: ['n', 'm'], zip: ['1', '2'], label: ['yes', 'no'], other: [1, 2] });
    const r = await dataSchemaCheck(ctxOf(extra), { file: 'schema-ok.yaml' }, '7-data_schema');
    assert.strictEqual(r.status, 'fail');
    assert.deepStrictEqual((r.measured.columns as Record<string, unknown>).other, { unexpected: true, violations: { unexpected_column: 1 } });
  });

  it('integer and number types on text columns: type mismatches with examples', async () => {
    const ds = dataset('e.csv', { n: ['1', 'x', '2.5', null] });
    const schema = parseDataSchema('columns:\n  n: { type: integer, nullable: true }\n', 's.yaml');
    const { columnViolations } = await import('../../src/core/checks/dataSchema');
    const v = columnViolations(ds.columns.get('n') as Column, schema.columns.get('n')!);
    assert.deepStrictEqual(v.type_mismatch, { count: 2, examples: [{ row: 2, value: 'x' }, { row: 3, value: '2.5' }] });
  });

  it('a schema file with errors → status error with file:line:col and what is wrong', async () => {
    const ds = dataset('e.csv', { age: [1] });
    const cases: Array<[string, RegExp]> = [
      // The same problems (file:line:col code message) as in the editor and `edd validate`.
      ['schema-bad.yaml', /is not a valid data schema: \S*schema-bad\.yaml:2:30 min-above-max `min` \(10\) of column `age` is above its `max` \(5\)/],
      ['schema-bad-type.yaml', /schema-bad-type\.yaml:2:16 invalid-value `columns\.age\.type` must be one of `number`, `integer`, `string`, `category`\./],
      ['schema-bad-key.yaml', /schema-bad-key\.yaml:4:5 unknown-key Unknown key `maximum` in `columns\.age`/],
      ['schema-bad-yaml.yaml', /schema-bad-yaml\.yaml:\d+:\d+ yaml-syntax YAML syntax error/],
      ['no-such-schema.yaml', /cannot read .*no-such-schema\.yaml \(file not found/],
    ];
    for (const [file, re] of cases) {
      const r = await dataSchemaCheck(ctxOf(ds), { file }, '8-data_schema');
      assert.strictEqual(r.status, 'error', file);
      assert.match(r.message, re);
      assert.deepStrictEqual(r.threshold, { file });
    }
    const noFile = await dataSchemaCheck(ctxOf(ds), {} as { file: string }, '8-data_schema');
    assert.strictEqual(noFile.status, 'error');
    assert.match(noFile.message, /file must name the data schema/);
  });
});
