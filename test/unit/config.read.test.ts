import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseDocument } from 'yaml';
import { validatePolicy } from '../../src/core/checks/policy';
import { placeProblems, validateDataSchema, validateExperiment } from '../../src/core/config';
import { MAX_YAML_CHARS, MAX_YAML_DEPTH, readYaml } from '../../src/core/config/yamlAst';
import { anchoredConfig, largeConfig, midEditConfig, multiLineConfig, smallConfig } from '../bench/inputs';
import { codes, fixture, site } from './configFixtures';

// The one YAML reader shared by configs, policies and data schemas: it must read what `yaml` reads, and turn every
// limit it meets (control characters, nesting, size) into a problem at a position, never an exception.

const root = path.resolve(__dirname, '../../..');
/** A valid config whose last lines are its `parameters` mapping: tests append lines to it. */
const head = 'experiment:\n  id: "exp_20250101_001"\n  name: "read"\n  hypothesis: "The reader agrees with yaml"\n  parameters:\n    model_type: "mlp"\n';

/** What the `yaml` library itself reads from `text`. */
const libraryValue = (text: string): unknown => parseDocument(text, { uniqueKeys: false }).toJS();

describe('readYaml: one reader, the yaml library', () => {
  it('reads whitespace-only lines inside block scalars as yaml does (literal and folded)', () => {
    for (const indicator of ['|', '>', '|-', '>+']) {
      const text = `${head}  description: ${indicator}\n    first line\n      \n    second line\n        \n    third\n`;
      const { problems, value } = validateExperiment(text);
      assert.deepStrictEqual(problems, [], indicator);
      assert.deepStrictEqual(value, libraryValue(text), `${indicator}: ${JSON.stringify((value as { experiment: { description: string } }).experiment.description)}`);
    }
  });

  it('reports an implicit key longer than 1,024 characters on the key, as yaml does', () => {
    const key = 'k'.repeat(1100);
    const text = `${head}    ${key}: 1\n`;
    const { problems } = validateExperiment(text);
    assert.deepStrictEqual(codes(problems), ['yaml-syntax']);
    assert.match(problems[0].message, /1024/);
    assert.ok(site(text, problems[0]).startsWith('k'), 'placed on the key');
  });

  it('reads every fixture and the benchmark inputs to the value yaml builds', () => {
    const dir = path.join(root, 'test', 'fixtures', 'configs');
    const texts = fs.readdirSync(dir).filter(f => f.endsWith('.yaml')).map(f => fixture(f));
    texts.push(smallConfig(), largeConfig(2000), anchoredConfig(2000), multiLineConfig(2000));
    for (const text of texts) {
      const r = readYaml(text);
      if (!r.readable) continue; // alias-bomb fixture: refused on purpose
      assert.deepStrictEqual(r.value, libraryValue(text));
    }
  });

  it('finds the benchmark inputs valid, except the mid-edit one, which has syntax problems only', () => {
    for (const text of [anchoredConfig(2000), multiLineConfig(2000)]) assert.deepStrictEqual(validateExperiment(text).problems, []);
    const edit = validateExperiment(midEditConfig(2000)).problems;
    assert.ok(edit.length > 0 && edit.every(p => p.code === 'yaml-syntax'), JSON.stringify(codes(edit)));
  });

  describe('control characters', () => {
    // This text crashed `edd validate` (exit 70) and the editor's validation with "Bad control character".
    const text = `${head}  description: "tab\\there\x01 and an escape \\n"\n`;

    it('reports a control character inside a double-quoted string at its position, without throwing', () => {
      const { problems } = validateExperiment(text);
      assert.deepStrictEqual(codes(problems), ['yaml-syntax']);
      assert.strictEqual(site(text, problems[0]), '\x01');
      assert.match(problems[0].message, /U\+0001/);
      assert.match(problems[0].message, /\\u0001/, 'says how to write it instead');
    });

    it('reports raw control characters in plain values and keys too, each once', () => {
      const raw = `${head}    a\x02b: 1\n    c: d\x7fe\n`;
      const { problems } = validateExperiment(raw);
      assert.deepStrictEqual(problems.map(p => site(raw, p)), ['\x02', '\x7f']);
    });

    it('is read the same way by policies and data schemas (one reader)', () => {
      const policy = 'data:\n  eval: "e\x01\\n.csv"\n  label: y\nchecks: []\n';
      assert.deepStrictEqual(validatePolicy(policy).problems.filter(p => p.code === 'yaml-syntax').map(p => site(policy, p)), ['\x01']);
      const schema = 'columns:\n  "a\x01\\n": { type: number }\n';
      assert.deepStrictEqual(validateDataSchema(schema).problems.map(p => site(schema, p)), ['\x01']);
    });

    it('no longer ends `edd validate` with an internal error: exit 1 and the problem at file:line:col', () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edd-read-'));
      try {
        fs.writeFileSync(path.join(dir, 'ctrl.yaml'), text);
        const r = spawnSync(process.execPath, [path.join(root, 'dist', 'cli.js'), 'validate', 'ctrl.yaml'], { cwd: dir, encoding: 'utf8', env: { ...process.env, EDD_LOCALE: 'en' }, timeout: 60_000 });
        assert.strictEqual(r.status, 1, r.stderr);
        assert.doesNotMatch(r.stderr, /at .*\.js:\d+/, 'no stack trace');
        const [placed] = placeProblems(text, validateExperiment(text).problems);
        assert.match(r.stdout, new RegExp(`ctrl\\.yaml:${placed.line}:${placed.column} error yaml-syntax Control character U\\+0001`));
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe('deep nesting', () => {
    const cases: Array<[string, (n: number) => string]> = [
      ['flow lists', n => `${head}    x: ${'['.repeat(n)}${']'.repeat(n)}\n`],
      ['flow maps', n => `${head}    x: ${'{a: '.repeat(n)}1${'}'.repeat(n)}\n`],
      ['block lists', n => `${head}    x:\n      ${'- '.repeat(n)}a\n`],
    ];

    for (const [name, make] of cases) {
      it(`refuses 50,000 levels of ${name} with one problem that says the limit and what to do`, () => {
        const text = make(50_000);
        const { problems } = validateExperiment(text);
        assert.deepStrictEqual(codes(problems), ['nesting-too-deep']);
        assert.doesNotMatch(problems[0].message, /call stack/i);
        assert.match(problems[0].message, new RegExp(`at most ${MAX_YAML_DEPTH} levels`));
        assert.match(problems[0].message, /Flatten/);
        // Placed on the first collection past the limit (root map, experiment map, parameters map, then x's levels).
        const opening = text.indexOf(name === 'block lists' ? '-' : name === 'flow maps' ? '{' : '[');
        const step = name === 'flow maps' ? 4 : name === 'block lists' ? 2 : 1;
        assert.strictEqual(problems[0].offset, opening + step * (MAX_YAML_DEPTH - 3));
      });
    }

    it('reads nesting up to the limit (the schema then says what it thinks of it)', () => {
      const text = cases[0][1](MAX_YAML_DEPTH - 3);
      assert.deepStrictEqual(codes(validateExperiment(text).problems), ['wrong-type']);
    });

    it('refuses deep nesting in policies and data schemas too', () => {
      const deep = `data:\n  eval: ${'['.repeat(5000)}${']'.repeat(5000)}\n`;
      assert.deepStrictEqual(codes(validatePolicy(deep).problems), ['nesting-too-deep']);
      assert.deepStrictEqual(codes(validateDataSchema(deep).problems), ['nesting-too-deep']);
    });
  });

  describe('size limit', () => {
    it(`refuses a 50 MB config at once, saying the limit (${MAX_YAML_CHARS / 1048576} MB) and what to do`, () => {
      const row = '    metric_number_with_a_long_name_0000: 0.125\n';
      const body = row.repeat(Math.ceil((50 * 1048576) / row.length));
      const text = `${head}  results:\n${body}`;
      const started = performance.now();
      const { problems } = validateExperiment(text);
      console.log(`      50 MB refused in ${(performance.now() - started).toFixed(1)} ms`);
      assert.deepStrictEqual(codes(problems), ['file-too-large']);
      assert.strictEqual(problems[0].severity, 'error');
      assert.match(problems[0].message, /50\.0 MB/);
      assert.match(problems[0].message, /up to 1\.0 MB/);
      assert.match(problems[0].message, /separate JSON or CSV file/);
      assert.strictEqual(site(text, problems[0]), 'experiment:');
    });

    it('reads a config just under the limit, and refuses one just over it', () => {
      const rows: string[] = [];
      let under = `${head}  results:\n`;
      for (let i = 0; ; i++) {
        const row = `    metric_${String(i).padStart(6, '0')}: 0.125\n`;
        if (under.length + row.length > MAX_YAML_CHARS) break;
        rows.push(row);
        under += row;
      }
      assert.ok(under.length <= MAX_YAML_CHARS && under.length > MAX_YAML_CHARS - 30);
      assert.deepStrictEqual(validateExperiment(under).problems, []);
      assert.deepStrictEqual(codes(validateExperiment(under + rows[0]).problems), ['file-too-large']);
    });

    it('takes the limit as an option (the same for policies through the shared reader)', () => {
      assert.deepStrictEqual(codes(validateExperiment(head, { maxChars: 10 }).problems), ['file-too-large']);
      assert.deepStrictEqual(codes(readYaml('a'.repeat(MAX_YAML_CHARS + 1)).problems), ['file-too-large']);
      assert.deepStrictEqual(codes(validatePolicy(`# ${'x'.repeat(MAX_YAML_CHARS)}\n`).problems), ['file-too-large']);
    });
  });
});
