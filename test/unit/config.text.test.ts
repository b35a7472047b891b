import * as assert from 'assert';
import { LineIndex, hasExperimentMarker, placeProblems, splitArgs, type Problem } from '../../src/core/config';

describe('LineIndex', () => {
  const text = 'ab\ncd\r\n\nlast';

  it('counts lines, including a last line without a line break', () => {
    assert.strictEqual(new LineIndex(text).lineCount, 4);
    assert.strictEqual(new LineIndex('').lineCount, 1);
    assert.strictEqual(new LineIndex('a\n').lineCount, 2);
  });

  it('maps offsets to 0-based line and character', () => {
    const index = new LineIndex(text);
    assert.deepStrictEqual(index.position(0), { line: 0, character: 0 });
    assert.deepStrictEqual(index.position(2), { line: 0, character: 2 }, 'the line break belongs to its line');
    assert.deepStrictEqual(index.position(3), { line: 1, character: 0 });
    assert.deepStrictEqual(index.position(5), { line: 1, character: 2 }, 'the \\r of CRLF');
    assert.deepStrictEqual(index.position(7), { line: 2, character: 0 });
    assert.deepStrictEqual(index.position(8), { line: 3, character: 0 });
    assert.deepStrictEqual(index.position(text.length), { line: 3, character: 4 });
  });

  it('clamps offsets outside the text', () => {
    const index = new LineIndex(text);
    assert.deepStrictEqual(index.position(-5), { line: 0, character: 0 });
    assert.deepStrictEqual(index.position(1000), { line: 3, character: 4 });
  });

  it('gives line starts and ends without the line break (LF or CRLF)', () => {
    const index = new LineIndex(text);
    assert.deepStrictEqual([0, 1, 2, 3].map(l => index.lineStart(l)), [0, 3, 7, 8]);
    assert.deepStrictEqual([0, 1, 2, 3].map(l => text.slice(index.lineStart(l), index.lineEnd(l))), ['ab', 'cd', '', 'last']);
    assert.strictEqual(index.lineStart(99), 8, 'clamped to the last line');
  });

  it('agrees with a naive scan on every offset', () => {
    const sample = 'experiment:\n  id: x\r\n\n  name: "y"\n';
    const index = new LineIndex(sample);
    for (let o = 0; o <= sample.length; o++) {
      const before = sample.slice(0, o);
      const line = before.split('\n').length - 1;
      assert.deepStrictEqual(index.position(o), { line, character: o - (before.lastIndexOf('\n') + 1) }, `offset ${o}`);
    }
  });
});

describe('placeProblems', () => {
  const problem = (offset: number, length: number): Problem => ({ offset, length, severity: 'warning', code: 'likely-typo', message: 'm' });

  it('turns offsets into 1-based lines and columns, with an exclusive end', () => {
    const text = 'experiment:\n  id: "exp_1"\n';
    const offset = text.indexOf('"exp_1"');
    assert.deepStrictEqual(placeProblems(text, [problem(offset, 7)]), [
      { line: 2, column: 7, endLine: 2, endColumn: 14, severity: 'warning', code: 'likely-typo', message: 'm' },
    ]);
  });

  it('places a range spanning lines', () => {
    const text = 'a: |\n  one\n  two\n';
    const [p] = placeProblems(text, [problem(3, text.length - 4)]);
    assert.deepStrictEqual([p.line, p.column, p.endLine, p.endColumn], [1, 4, 3, 6]);
  });

  it('places a problem at the very start of an empty text on 1:1', () => {
    const [p] = placeProblems('', [problem(0, 1)]);
    assert.deepStrictEqual([p.line, p.column, p.endLine, p.endColumn], [1, 1, 1, 1]);
  });

  it('accepts a prebuilt LineIndex', () => {
    const text = 'x\ny\n';
    assert.deepStrictEqual(placeProblems(text, [problem(2, 1)], new LineIndex(text)), placeProblems(text, [problem(2, 1)]));
  });
});

describe('splitArgs', () => {
  const cases: Array<[string, string[]]> = [
    ['python train.py --epochs 10', ['python', 'train.py', '--epochs', '10']],
    ['  python   train.py\t-v  ', ['python', 'train.py', '-v']],
    ['python "my script.py" --name \'a b\'', ['python', 'my script.py', '--name', 'a b']],
    ['echo "say \\"hi\\""', ['echo', 'say "hi"']],
    ["echo 'no \\escape in single quotes'", ['echo', 'no \\escape in single quotes']],
    ['a\\ b c', ['a b', 'c']],
    ['--opt="x y"z', ['--opt=x yz']],
    ['empty "" args', ['empty', '', 'args']],
    ['run $HOME *.py | tee log', ['run', '$HOME', '*.py', '|', 'tee', 'log']],
    ['', []],
    ['   ', []],
  ];
  for (const [line, expected] of cases) {
    it(`splits ${JSON.stringify(line)}`, () => {
      assert.deepStrictEqual(splitArgs(line), expected);
    });
  }
});

describe('hasExperimentMarker', () => {
  it('finds `# edd: experiment` in the first five lines', () => {
    assert.ok(hasExperimentMarker('# edd: experiment\nfoo: 1\n'));
    assert.ok(hasExperimentMarker('---\n# a comment\n  #edd:experiment\n'));
    assert.ok(hasExperimentMarker('a: 1\nb: 2\nc: 3\nd: 4\n# edd: experiment'));
    assert.ok(hasExperimentMarker('# edd: experiment (baseline)\n'));
  });

  it('ignores the marker after line five, inside other text or misspelt', () => {
    assert.ok(!hasExperimentMarker('a: 1\nb: 2\nc: 3\nd: 4\ne: 5\n# edd: experiment\n'));
    assert.ok(!hasExperimentMarker('name: x # edd: experiment\n'));
    assert.ok(!hasExperimentMarker('# edd: experiments\n'));
    assert.ok(!hasExperimentMarker('# edd: exp\n'));
    assert.ok(!hasExperimentMarker(''));
  });
});
