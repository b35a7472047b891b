import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  FileTailer,
  LineSplitter,
  parseMetricsFileLine,
  parseStdoutLine,
  ProtocolErrorEvent,
  ProtocolEvent,
  SplitLine,
} from '../../src/core/runner/protocol';

const T = 1000;
const ok = (text: string, line = 1) => {
  const ev = parseStdoutLine(text, line, T);
  assert.ok(ev, 'a protocol line');
  assert.notStrictEqual(ev.type, 'protocol-error', JSON.stringify(ev));
  return ev;
};
const bad = (text: string, line = 1): ProtocolErrorEvent => {
  const ev = parseStdoutLine(text, line, T);
  assert.ok(ev && ev.type === 'protocol-error', `expected a protocol-error for ${text}, got ${JSON.stringify(ev)}`);
  return ev;
};

/** Wait for `cond` with a deadline (no fixed sleeps). */
async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise(r => setTimeout(r, 10));
  }
}

describe('runner protocol: record parsing', () => {
  it('parses the four record kinds from stdout', () => {
    assert.deepStrictEqual(ok('EDD {"metric": "loss", "value": 0.31, "step": 12}', 7), { type: 'metric', source: 'stdout', line: 7, time: T, name: 'loss', value: 0.31, step: 12 });
    assert.deepStrictEqual(ok('EDD {"metric": "loss", "value": 2}'), { type: 'metric', source: 'stdout', line: 1, time: T, name: 'loss', value: 2 });
    assert.deepStrictEqual(ok('EDD {"param": "lr", "value": 0.01}'), { type: 'param', source: 'stdout', line: 1, time: T, name: 'lr', value: 0.01 });
    assert.deepStrictEqual(ok('EDD {"param": "opt", "value": {"name": "adam", "betas": [0.9, 0.999]}}'), {
      type: 'param', source: 'stdout', line: 1, time: T, name: 'opt', value: { name: 'adam', betas: [0.9, 0.999] },
    });
    assert.deepStrictEqual(ok('EDD {"param": "note", "value": null}'), { type: 'param', source: 'stdout', line: 1, time: T, name: 'note', value: null });
    assert.deepStrictEqual(ok('EDD {"artifact": "out/model.onnx", "kind": "model"}'), { type: 'artifact', source: 'stdout', line: 1, time: T, path: 'out/model.onnx', kind: 'model' });
    assert.deepStrictEqual(ok('EDD {"artifact": "plot.png"}'), { type: 'artifact', source: 'stdout', line: 1, time: T, path: 'plot.png' });
    assert.deepStrictEqual(ok('EDD {"progress": 0.4}'), { type: 'progress', source: 'stdout', line: 1, time: T, value: 0.4 });
    assert.deepStrictEqual(ok('EDD {"progress": 1, "message": "epoch 10/10"}'), { type: 'progress', source: 'stdout', line: 1, time: T, value: 1, message: 'epoch 10/10' });
  });

  it('tolerates extra fields (forward compatible)', () => {
    const ev = ok('EDD {"metric": "loss", "value": 1, "step": 0, "epoch": 3, "ts": 17}');
    assert.strictEqual(ev.type, 'metric');
  });

  it('leaves everything else to the log', () => {
    for (const line of ['', 'epoch 1 loss 0.3', ' EDD {"progress": 0.1}', 'edd {"progress": 0.1}', 'EDD{"progress": 0.1}', 'EDDY {"x":1}']) {
      assert.strictEqual(parseStdoutLine(line, 1), undefined, line);
    }
  });

  it('reports malformed records as protocol-error events with line and text, never throws', () => {
    const cases: Array<[string, string, RegExp]> = [
      ['EDD {"metric": "loss", "value": NaN}', 'non-finite', /"value" must be a finite number, got NaN/],
      ['EDD {"metric": "loss", "value": Infinity}', 'non-finite', /got Infinity/],
      ['EDD {"metric": "loss", "value": -Infinity, "step": 1}', 'non-finite', /got -Infinity/],
      ['EDD {"metric": "loss", "value": 1e999}', 'non-finite', /got Infinity/],
      ['EDD {"param": "x", "value": [1, NaN]}', 'non-finite', /"value\[1\]" must be a finite number/],
      ['EDD {"metric": "NaN", "value": "NaN"}', 'wrong-type', /"value" must be a number, got the string "NaN"/],
      ['EDD {"metric": "loss", "value": "0.3"}', 'wrong-type', /must be a number/],
      ['EDD {"metric": "loss", "value": true}', 'wrong-type', /must be a number, got boolean true/],
      ['EDD {"metric": "loss"}', 'missing-field', /"value" is required/],
      ['EDD {"metric": "", "value": 1}', 'missing-field', /"metric" must not be empty/],
      ['EDD {"metric": 3, "value": 1}', 'wrong-type', /"metric" must be a string, got 3/],
      ['EDD {"metric": "loss", "value": 1, "step": 1.5}', 'wrong-type', /"step" must be a non-negative integer/],
      ['EDD {"metric": "loss", "value": 1, "step": -1}', 'wrong-type', /non-negative integer/],
      ['EDD {"metric": "loss", "value": 1, "step": "3"}', 'wrong-type', /"step" must be a number/],
      ['EDD {"param": "lr"}', 'missing-field', /"value" is required/],
      ['EDD {"artifact": ""}', 'missing-field', /must not be empty/],
      ['EDD {"artifact": "m.onnx", "kind": 3}', 'wrong-type', /"kind" must be a string/],
      ['EDD {"progress": 1.5}', 'out-of-range', /between 0 and 1, got 1.5/],
      ['EDD {"progress": -0.1}', 'out-of-range', /between 0 and 1/],
      ['EDD {"progress": "half"}', 'wrong-type', /must be a number/],
      ['EDD {"foo": 1}', 'unknown-record', /expected one of the keys "metric", "param", "artifact", "progress"/],
      ['EDD {"metric": "a", "param": "b", "value": 1}', 'ambiguous-record', /exactly one of "metric", "param"/],
      ['EDD [1, 2]', 'not-an-object', /got an array/],
      ['EDD 42', 'not-an-object', /got 42/],
      ['EDD null', 'not-an-object', /got null/],
      ['EDD {not json', 'invalid-json', /invalid JSON/],
      ['EDD ', 'invalid-json', /invalid JSON/],
      ['EDD {"metric": "loss", "value": 0.3,}', 'invalid-json', /invalid JSON/],
      ['EDD {"metric": "loss", "value": NaNa}', 'invalid-json', /invalid JSON/],
    ];
    for (const [text, code, message] of cases) {
      const ev = bad(text, 9);
      assert.strictEqual(ev.code, code, text);
      assert.match(ev.message, message, text);
      assert.strictEqual(ev.line, 9);
      assert.strictEqual(ev.text, text);
      assert.strictEqual(ev.source, 'stdout');
    }
  });

  it('does not mistake NaN inside strings for a number', () => {
    const ev = ok('EDD {"param": "note", "value": "NaN and Infinity, \\"NaN\\""}');
    assert.deepStrictEqual(ev.type === 'param' && ev.value, 'NaN and Infinity, "NaN"');
  });

  it('parses 100,000 stdout lines quickly', () => {
    const lines = Array.from({ length: 100_000 }, (_, i) => `EDD {"metric": "loss", "value": ${1 / (i + 1)}, "step": ${i}}`);
    const t0 = performance.now();
    let n = 0;
    for (let i = 0; i < lines.length; i++) if (parseStdoutLine(lines[i], i + 1)?.type === 'metric') n++;
    assert.strictEqual(n, 100_000);
    console.log(`      (parseStdoutLine: 100,000 metric lines in ${(performance.now() - t0).toFixed(0)} ms)`);
  });

  it('caps the quoted text of a huge bad line', () => {
    const ev = bad('EDD {"x": "' + 'a'.repeat(10_000) + '"}');
    assert.ok(ev.text.length <= 1001, String(ev.text.length));
  });

  it('parses metrics-file lines (no prefix; blank lines skipped; prefix tolerated)', () => {
    const a = parseMetricsFileLine('{"metric": "acc", "value": 0.9, "step": 1}', 4, T);
    assert.deepStrictEqual(a, { type: 'metric', source: 'file', line: 4, time: T, name: 'acc', value: 0.9, step: 1 });
    assert.strictEqual(parseMetricsFileLine('   ', 5), undefined);
    assert.strictEqual(parseMetricsFileLine('EDD {"progress": 0.5}', 6)?.type, 'progress');
    const e = parseMetricsFileLine('garbage', 7);
    assert.ok(e && e.type === 'protocol-error' && e.code === 'invalid-json' && e.line === 7 && e.source === 'file');
  });
});

describe('runner protocol: LineSplitter', () => {
  const split = (chunks: Array<string | Buffer>, opts = {}): SplitLine[] => {
    const out: SplitLine[] = [];
    const s = new LineSplitter(l => out.push(l), opts);
    for (const c of chunks) s.push(c);
    s.end();
    return out;
  };
  const texts = (lines: SplitLine[]) => lines.map(l => l.text);

  it('splits LF and CRLF, keeps empty lines, emits the unterminated last line at end()', () => {
    assert.deepStrictEqual(texts(split(['a\nb\r\n\nc'])), ['a', 'b', '', 'c']);
    assert.deepStrictEqual(split(['x\ny\n']).map(l => l.line), [1, 2]);
    assert.deepStrictEqual(texts(split(['x\n'])), ['x']);
    assert.deepStrictEqual(texts(split([])), []);
  });

  it('joins lines split across chunks, also a CRLF and a UTF-8 character split between chunks', () => {
    const e = Buffer.from('é'); // 2 bytes
    assert.deepStrictEqual(texts(split(['EDD {"met', 'ric": 1}', '\r', '\ncaf', e.subarray(0, 1), e.subarray(1), '\n'])), ['EDD {"metric": 1}', 'café']);
  });

  it('gives the same lines for every way of chunking the input', () => {
    const input = Buffer.from('EDD {"metric": "loss", "value": 0.5}\r\nlog ü 中文\n\nlast\r\nx');
    const expected = texts(split([input]));
    assert.deepStrictEqual(expected, ['EDD {"metric": "loss", "value": 0.5}', 'log ü 中文', '', 'last', 'x']);
    for (let size = 1; size <= 7; size++) {
      const chunks: Buffer[] = [];
      for (let i = 0; i < input.length; i += size) chunks.push(input.subarray(i, i + size));
      assert.deepStrictEqual(texts(split(chunks)), expected, `chunk size ${size}`);
      assert.deepStrictEqual(texts(split(chunks, { splitOnCR: true })), expected, `chunk size ${size}, splitOnCR`);
    }
  });

  it('with splitOnCR, ends a line at a lone CR (progress bars), also at a chunk end', () => {
    assert.deepStrictEqual(texts(split(['10%\r20%\r30%\r\ndone\n'], { splitOnCR: true })), ['10%', '20%', '30%', 'done']);
    assert.deepStrictEqual(texts(split(['10%\r', '20%\r', '\nok'], { splitOnCR: true })), ['10%', '20%', 'ok']);
    assert.deepStrictEqual(texts(split(['a\rb\n'])), ['a\rb'], 'without splitOnCR a lone CR stays in the line');
  });

  it('caps huge lines without buffering them and goes on with the next line', () => {
    const big = 'x'.repeat(100_000);
    const out = split([big.slice(0, 30_000), big.slice(30_000), '\nnext\n'], { maxLineBytes: 1000 });
    assert.strictEqual(out.length, 2);
    assert.strictEqual(out[0].text.length, 1000);
    assert.strictEqual(out[0].truncated, true);
    assert.deepStrictEqual([out[1].text, out[1].truncated], ['next', false]);
  });

  it('does not keep references to a reused input buffer', () => {
    const out: SplitLine[] = [];
    const s = new LineSplitter(l => out.push(l));
    const buf = Buffer.from('abc');
    s.push(buf);
    buf.write('XYZ');
    s.push('\n');
    assert.strictEqual(out[0].text, 'abc');
  });

  it('splits 100,000 lines quickly', () => {
    const input = Buffer.from('EDD {"metric": "loss", "value": 0.123, "step": 1}\n'.repeat(100_000));
    let n = 0;
    const t0 = performance.now();
    const s = new LineSplitter(() => n++, { splitOnCR: true });
    for (let i = 0; i < input.length; i += 65536) s.push(input.subarray(i, i + 65536));
    s.end();
    const ms = performance.now() - t0;
    assert.strictEqual(n, 100_000);
    console.log(`      (LineSplitter: 100,000 lines, ${(input.length / 1e6).toFixed(1)} MB in 64 KB chunks: ${ms.toFixed(0)} ms)`);
  });
});

describe('runner protocol: FileTailer', () => {
  let dir: string;
  before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edd-tail-'))));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('reads appended lines as they come, partial lines included, and drains the last one at stop()', async () => {
    const file = path.join(dir, 'm.jsonl');
    fs.writeFileSync(file, '');
    const lines: string[] = [];
    const t = new FileTailer(file, l => lines.push(l.text), { pollMs: 20 });
    t.start();
    fs.appendFileSync(file, '{"metric": "a", "value": 1}\n{"metric": ');
    await until(() => lines.length === 1, 'first line');
    assert.deepStrictEqual(lines, ['{"metric": "a", "value": 1}']);
    fs.appendFileSync(file, '"b", "value": 2}\r\n');
    await until(() => lines.length === 2, 'second line');
    fs.appendFileSync(file, '{"progress": 1}'); // no newline
    await t.stop();
    assert.deepStrictEqual(lines, ['{"metric": "a", "value": 1}', '{"metric": "b", "value": 2}', '{"progress": 1}']);
    assert.strictEqual(t.position, fs.statSync(file).size);
  });

  it('waits for a file that does not exist yet (polling), and restarts when the file is rewritten', async () => {
    const file = path.join(dir, 'later.jsonl');
    const lines: string[] = [];
    const t = new FileTailer(file, l => lines.push(l.text), { pollMs: 20 });
    t.start();
    fs.writeFileSync(file, 'one\ntwo\n');
    await until(() => lines.length === 2, 'lines of the new file');
    fs.writeFileSync(file, 'x\n'); // shorter than what was read: rewritten
    await until(() => lines.length === 3, 'line of the rewritten file');
    await t.stop();
    assert.deepStrictEqual(lines, ['one', 'two', 'x']);
  });

  it('parses what it reads into events with file line numbers', async () => {
    const file = path.join(dir, 'events.jsonl');
    fs.writeFileSync(file, '{"metric": "acc", "value": 0.5}\nnope\n');
    const events: ProtocolEvent[] = [];
    const t = new FileTailer(file, l => {
      const ev = parseMetricsFileLine(l.text, l.line);
      if (ev) events.push(ev);
    });
    t.start();
    await t.stop();
    assert.deepStrictEqual(events.map(e => [e.type, e.line]), [['metric', 1], ['protocol-error', 2]]);
  });
});
