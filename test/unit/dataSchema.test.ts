import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  COLUMN_TYPES, completeAt, dataSchemaSchemaJson, hasDataSchemaMarker, hoverAt, isDataSchemaFile, placeProblems, validateDataSchema,
  type Problem,
} from '../../src/core/config';
import { parseDataSchema } from '../../src/core/checks/dataSchema';
import { CheckInputError } from '../../src/core/checks/harness';

const root = path.resolve(__dirname, '../../..');
const example = path.join(root, 'examples/penguins/data/penguins.data.yaml');

/** One problem as `line:col code [underlined text]`, so each test states the exact position and code. */
function described(text: string, p: Problem): string {
  const [placed] = placeProblems(text, [p]);
  return `${placed.line}:${placed.column} ${p.code} [${text.slice(p.offset, p.offset + p.length)}]`;
}

function problemsOf(text: string): string[] {
  return validateDataSchema(text).problems.map(p => described(text, p));
}

/** The only problem of `text` (fails when there are none or several). */
function only(text: string): Problem {
  const { problems } = validateDataSchema(text);
  assert.strictEqual(problems.length, 1, JSON.stringify(problems.map(p => described(text, p))));
  return problems[0];
}

/** `text` with the first fix of its only problem applied. */
function fixed(text: string): string {
  const fix = only(text).fixes?.[0];
  assert.ok(fix, 'a quick fix is offered');
  let out = text;
  for (const e of [...fix.edits].sort((a, b) => b.offset - a.offset)) out = out.slice(0, e.offset) + e.newText + out.slice(e.offset + e.length);
  return out;
}

describe('data schemas: validation', () => {
  it('accepts the example\'s penguins.data.yaml: 8 columns in file order, defaults filled in', () => {
    const text = fs.readFileSync(example, 'utf8');
    const { problems, schema } = validateDataSchema(text);
    assert.deepStrictEqual(problems, []);
    assert.ok(schema);
    assert.deepStrictEqual([...schema.columns.keys()], ['row_id', 'bill_length_mm', 'bill_depth_mm', 'flipper_length_mm', 'body_mass_g', 'species', 'island', 'sex']);
    assert.deepStrictEqual(schema.columns.get('bill_depth_mm'), { type: 'number', min: 10, max: 25, nullable: false, required: true });
    assert.deepStrictEqual(schema.columns.get('species'), { type: 'category', allowed: ['Adelie', 'Chinstrap', 'Gentoo'], nullable: false, required: true });
    assert.strictEqual(schema.allowExtraColumns, false);
  });

  it('accepts every documented key, block or flow style, aliases, and an empty column list', () => {
    const text = [
      'columns:',
      '  age:     { type: integer, min: 0, max: 120 }',
      '  income:  { type: number, min: 0, nullable: true }',
      '  sex:     { type: category, allowed: [F, M] }',
      '  comment: { type: string, required: false, nullable: true }',
      '  zip:',
      '    type: string',
      '    allowed: ["01234", 12345, true]',
      '  score: &num { type: number, min: -1.5, max: 1.5 }',
      '  score2: *num',
      '  same: { type: integer, min: 3, max: 3 }',
      'allow_extra_columns: true',
      '',
    ].join('\n');
    const { problems, schema } = validateDataSchema(text);
    assert.deepStrictEqual(problems.map(p => described(text, p)), []);
    assert.deepStrictEqual(schema!.columns.get('zip'), { type: 'string', allowed: ['01234', 12345, true], nullable: false, required: true });
    assert.deepStrictEqual(schema!.columns.get('score2'), schema!.columns.get('score'));
    assert.deepStrictEqual(validateDataSchema('columns: {}\n').schema, { columns: new Map(), allowExtraColumns: true });
  });

  it('wrong types: a quoted number (quick fix removes the quotes), yes instead of true, a non-finite bound', () => {
    const quoted = 'columns:\n  age: { type: number, min: "10" }\n';
    assert.deepStrictEqual(problemsOf(quoted), ['2:29 wrong-type ["10"]']);
    assert.match(only(quoted).message, /^`columns\.age\.min` must be a number, but it is a quoted string\.$/);
    assert.strictEqual(fixed(quoted), 'columns:\n  age: { type: number, min: 10 }\n');
    const yes = 'columns:\n  age:\n    type: number\n    nullable: yes\n';
    assert.deepStrictEqual(problemsOf(yes), ['4:15 wrong-type [yes]']);
    assert.match(only(yes).message, /must be true or false, but it is a string/);
    assert.deepStrictEqual(problemsOf('columns:\n  x: { type: number, max: .inf }\n'), ['2:27 wrong-type [.inf]']);
    assert.match(only('columns:\n  x: { type: number, max: .inf }\n').message, /Infinity \(not a finite number\)/);
    assert.deepStrictEqual(problemsOf('allow_extra_columns: "false"\ncolumns: {}\n'), ['1:22 wrong-type ["false"]']);
    assert.deepStrictEqual(problemsOf('columns: [age, sex]\n'), ['1:10 wrong-type [[age, sex]]']);
  });

  it('a column written as just its type: wrong-type, with a fix to `{ type: … }`', () => {
    const text = 'columns:\n  age: number\n';
    assert.deepStrictEqual(problemsOf(text), ['2:8 wrong-type [number]']);
    assert.match(only(text).message, /Column `age` needs a mapping of its rules, e\.g\. `\{ type: number \}`/);
    assert.strictEqual(fixed(text), 'columns:\n  age: { type: number }\n');
  });

  it('unknown keys, with "did you mean" and a rename fix, at the top level and in a column', () => {
    const column = 'columns:\n  age: { type: number, nulable: true }\n';
    assert.deepStrictEqual(problemsOf(column), ['2:24 unknown-key [nulable]']);
    assert.strictEqual(only(column).message, 'Unknown key `nulable` in `columns.age`. Did you mean `nullable`?');
    assert.strictEqual(fixed(column), 'columns:\n  age: { type: number, nullable: true }\n');
    const far = 'columns:\n  age:\n    type: number\n    maximum: 3\n';
    assert.deepStrictEqual(problemsOf(far), ['4:5 unknown-key [maximum]']);
    assert.match(only(far).message, /Expected one of: `type`, `min`, `max`, `allowed`, `nullable`, `required`\./);
    const top = 'colums:\n  age: { type: number }\n';
    assert.deepStrictEqual(problemsOf(top), ['1:1 missing-key [colums:]', '1:1 unknown-key [colums]']);
    const unknown = validateDataSchema(top).problems.find(p => p.code === 'unknown-key')!;
    assert.strictEqual(unknown.message, 'Unknown top-level key `colums`. Did you mean `columns`?');
  });

  it('min above max: min-above-max on the min value', () => {
    const text = 'columns:\n  age: { type: integer, min: 10, max: 5 }\n';
    assert.deepStrictEqual(problemsOf(text), ['2:30 min-above-max [10]']);
    assert.strictEqual(only(text).message, '`min` (10) of column `age` is above its `max` (5): no value could pass. Swap them or correct one.');
    const block = 'columns:\n  w:\n    type: number\n    max: -1\n    min: 0.5\n';
    assert.deepStrictEqual(problemsOf(block), ['5:10 min-above-max [0.5]']);
  });

  it('min or max on a string or category column: bounds-not-numeric on the key', () => {
    const text = 'columns:\n  sex: { type: category, min: 1, allowed: [F, M] }\n';
    assert.deepStrictEqual(problemsOf(text), ['2:26 bounds-not-numeric [min]']);
    assert.strictEqual(only(text).message, '`min` applies to `number` and `integer` columns only; column `sex` is of type `category`. Remove it, or change the type.');
    assert.deepStrictEqual(problemsOf('columns:\n  name:\n    type: string\n    min: 1\n    max: 2\n'), ['4:5 bounds-not-numeric [min]', '5:5 bounds-not-numeric [max]']);
  });

  it('bad `allowed`: empty, an item that is not a scalar, a string instead of a list (fix makes it a list)', () => {
    assert.deepStrictEqual(problemsOf('columns:\n  sex: { type: category, allowed: [] }\n'), ['2:35 invalid-value [[]]']);
    assert.match(only('columns:\n  sex: { type: category, allowed: [] }\n').message, /`columns\.sex\.allowed` must have at least 1 item/);
    assert.deepStrictEqual(problemsOf('columns:\n  sex: { type: category, allowed: [F, ~, [x]] }\n'), ['2:39 wrong-type [~]', '2:42 wrong-type [[x]]']);
    const text = 'columns:\n  sex:\n    type: category\n    allowed: MALE, FEMALE\n';
    assert.deepStrictEqual(problemsOf(text), ['4:14 wrong-type [MALE, FEMALE]']);
    assert.strictEqual(only(text).fixes![0].title, 'Make it a list: [MALE, FEMALE]');
    assert.strictEqual(fixed(text), 'columns:\n  sex:\n    type: category\n    allowed: [MALE, FEMALE]\n');
  });

  it('a type that is not one of the four, with "did you mean"; a column without a type', () => {
    const typo = 'columns:\n  age: { type: nubmer }\n';
    assert.deepStrictEqual(problemsOf(typo), ['2:16 invalid-value [nubmer]']);
    assert.strictEqual(only(typo).message, '`columns.age.type` must be one of `number`, `integer`, `string`, `category`. Did you mean `number`?');
    assert.deepStrictEqual(problemsOf('columns:\n  age: { type: int }\n'), ['2:16 invalid-value [int]']);
    const untyped = 'columns:\n  age:\n    min: 0\n';
    assert.deepStrictEqual(problemsOf(untyped), ['2:3 missing-key [age]']);
    assert.strictEqual(only(untyped).message, '`columns.age` is missing the required key `type` (a string).');
    assert.strictEqual(fixed(untyped), 'columns:\n  age:\n    min: 0\n    type: "number"\n');
  });

  it('file-level problems: empty, not a mapping, YAML syntax, duplicate column, null column name', () => {
    assert.deepStrictEqual(problemsOf(''), ['1:1 not-a-mapping []']);
    assert.match(only('').message, /The file is empty: a data schema is a mapping with `columns:`/);
    assert.deepStrictEqual(problemsOf('- age\n'), ['1:1 not-a-mapping [- age]']);
    assert.deepStrictEqual(problemsOf('columns:\n  age: { type: number\n').map(s => s.split(' ')[1]), ['yaml-syntax']);
    const dup = 'columns:\n  age: { type: number }\n  age: { type: integer }\n';
    assert.deepStrictEqual(problemsOf(dup), ['3:3 duplicate-key [age]']);
    assert.deepStrictEqual(problemsOf('columns:\n  ~: { type: number }\n'), ['2:3 invalid-value [~]']);
    assert.deepStrictEqual(problemsOf('columns:\n  age: { type: number }\n'), []);
  });
});

describe('data schemas: the gate reads them with the same validation', () => {
  it('parseDataSchema returns the same schema as validateDataSchema', () => {
    const text = fs.readFileSync(example, 'utf8');
    assert.deepStrictEqual(parseDataSchema(text, example), validateDataSchema(text).schema);
  });

  it('a bad file: CheckInputError with file:line:col code message, at most three problems spelled out', () => {
    const bad = 'columns:\n  age: { type: integer, min: 10, max: 5 }\n  sex: { type: category, alowed: [F] }\n';
    assert.throws(() => parseDataSchema(bad, 'data/e.data.yaml'), (e: Error) => e instanceof CheckInputError && e.message ===
      'data_schema: data/e.data.yaml is not a valid data schema: data/e.data.yaml:2:30 min-above-max `min` (10) of column `age` is above its `max` (5): no value could pass. Swap them or correct one.; ' +
      'data/e.data.yaml:3:26 unknown-key Unknown key `alowed` in `columns.sex`. Did you mean `allowed`?');
    const many = 'columns:\n' + ['a', 'b', 'c', 'd', 'e'].map(c => `  ${c}: { type: text }\n`).join('');
    assert.throws(() => parseDataSchema(many, 'm.data.yaml'), /m\.data\.yaml:4:14 invalid-value `columns\.c\.type` must be one of [^;]* \(and 2 more; `edd validate m\.data\.yaml` lists them all\)$/);
  });
});

describe('data schemas: recognition, schema, completion and hover', () => {
  it('recognises *.data.yaml, *.data.yml and the `# edd: data-schema` marker in the first five lines', () => {
    assert.ok(isDataSchemaFile('/w/data/penguins.data.yaml'));
    assert.ok(isDataSchemaFile('C:\\w\\eval.DATA.YML'));
    assert.ok(isDataSchemaFile('/w/schemas/eval.yaml', '# what eval data looks like\n# edd: data-schema\ncolumns: {}\n'));
    assert.ok(hasDataSchemaMarker('  #edd:data-schema\n'));
    assert.ok(!isDataSchemaFile('/w/schemas/eval.yaml', 'columns: {}\n'));
    assert.ok(!isDataSchemaFile('/w/data.yaml'), 'data.yaml itself is not *.data.yaml');
    assert.ok(!isDataSchemaFile('/w/x.yaml', '# edd: experiment\n'));
    assert.ok(!hasDataSchemaMarker('# edd: data-schemas\n'));
    assert.ok(!hasDataSchemaMarker('a: 1\nb: 2\nc: 3\nd: 4\ne: 5\n# edd: data-schema\n'), 'only the first five lines count');
  });

  it('the schema lists exactly the four column types and six column keys', () => {
    const column = dataSchemaSchemaJson.properties!.columns.additionalProperties as { properties: Record<string, { enum?: unknown[] }>; required: string[] };
    assert.deepStrictEqual(column.properties.type.enum, [...COLUMN_TYPES]);
    assert.deepStrictEqual(Object.keys(column.properties), ['type', 'min', 'max', 'allowed', 'nullable', 'required']);
    assert.deepStrictEqual(column.required, ['type']);
    assert.deepStrictEqual(Object.keys(dataSchemaSchemaJson.properties!), ['columns', 'allow_extra_columns']);
  });

  it('is contributed to Red Hat\'s YAML extension for *.data.yaml and *.data.yml', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
    const entry = (pkg.contributes.yamlValidation as Array<{ fileMatch: string[]; url: string }>).find(e => e.url === './schemas/data-schema.schema.json');
    assert.ok(entry, 'a yamlValidation entry for the data schema');
    assert.deepStrictEqual(entry.fileMatch, ['**/*.data.yaml', '**/*.data.yml']);
    assert.ok(fs.existsSync(path.join(root, entry.url)));
  });

  it('completes column keys (not those present yet) and type values; hovers with the description', () => {
    const text = 'columns:\n  age:\n    type: integer\n    \n';
    const keys = completeAt(text, text.indexOf('    \n') + 4, dataSchemaSchemaJson).map(e => e.label);
    assert.deepStrictEqual(keys.sort(), ['allowed', 'max', 'min', 'nullable', 'required']);
    const top = 'columns: {}\n';
    assert.deepStrictEqual(completeAt(top + '\n', top.length, dataSchemaSchemaJson).map(e => e.label), ['allow_extra_columns']);
    const typing = 'columns:\n  age:\n    type: ';
    assert.deepStrictEqual(completeAt(typing, typing.length, dataSchemaSchemaJson).map(e => e.label), ['number', 'integer', 'string', 'category']);
    const doc = 'columns:\n  sex:\n    type: category\n    allowed: [F, M]\n';
    const h = hoverAt(doc, doc.indexOf('allowed') + 2, dataSchemaSchemaJson);
    assert.ok(h);
    assert.match(h.contents, /^\*\*columns\.sex\.allowed\*\* — `array`/);
    assert.match(h.contents, /permitted values/);
    const nullable = hoverAt('columns:\n  x:\n    nullable: true\n', 20, dataSchemaSchemaJson);
    assert.match(nullable!.contents, /Default: `false`/);
  });
});

describe('edd validate on data schemas (node dist/cli.js)', function () {
  this.timeout(60_000);
  const cli = path.join(root, 'dist', 'cli.js');
  let work: string;
  before(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'edd-data-schema-'));
    fs.mkdirSync(path.join(work, 'data'));
    fs.copyFileSync(example, path.join(work, 'data', 'penguins.data.yaml'));
    fs.writeFileSync(path.join(work, 'data', 'bad.data.yml'), 'columns:\n  age: { type: integer, min: 10, max: 5 }\n');
    fs.writeFileSync(path.join(work, 'data', 'marked.yaml'), '# edd: data-schema\ncolumns:\n  sex: { type: category, min: 0 }\n');
    fs.writeFileSync(path.join(work, 'data', 'other.yaml'), 'columns: whatever\n');
  });
  after(() => fs.rmSync(work, { recursive: true, force: true }));
  const edd = (...args: string[]) => spawnSync(process.execPath, [cli, 'validate', ...args], { cwd: work, encoding: 'utf8', env: { ...process.env, EDD_LOCALE: 'en' } });

  it('validates named files with the data-schema schema (exit 0 when valid, 1 with errors)', () => {
    const ok = edd('data/penguins.data.yaml');
    assert.strictEqual(ok.status, 0, ok.stdout + ok.stderr);
    assert.strictEqual(ok.stdout, '');
    const bad = edd('data/bad.data.yml', 'data/marked.yaml', '--json');
    assert.strictEqual(bad.status, 1);
    assert.deepStrictEqual((JSON.parse(bad.stdout) as Array<{ file: string; line: number; column: number; code: string }>).map(p => `${p.file}:${p.line}:${p.column} ${p.code}`),
      ['data/bad.data.yml:2:30 min-above-max', 'data/marked.yaml:3:26 bounds-not-numeric']);
  });

  it('a folder means the data schemas in it too (by name or marker), not every YAML file', () => {
    const r = edd('data');
    assert.strictEqual(r.status, 1);
    const files = [...new Set(r.stdout.trim().split('\n').map(l => l.split(':')[0]))];
    assert.deepStrictEqual(files, ['data/bad.data.yml', 'data/marked.yaml']);
    assert.match(r.stderr, /3 file\(s\) checked: 2 error\(s\)/);
  });
});
