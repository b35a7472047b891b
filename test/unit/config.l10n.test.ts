// Every problem a user can get from a config, policy or data schema reads in Korean under the Korean bundle,
// including the ones whose words come from the JSON schemas (errorMessage) or from ajv.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { validatePolicy } from '../../src/core/checks/policy';
import { duplicateIdProblems, validateExperiment, type Problem } from '../../src/core/config';
import { validateDataSchema } from '../../src/core/config/dataSchema';
import { schemaMessage } from '../../src/core/config/schemaMessages';
import { setMessages } from '../../src/core/l10n';
import { fixture, fixtures } from './configFixtures';

const root = path.resolve(__dirname, '../../..');
const ko = JSON.parse(fs.readFileSync(path.join(root, 'l10n/bundle.l10n.ko.json'), 'utf8')) as Record<string, string>;

/**
 * English left in a message once what the user typed is taken out: `code spans`, "quoted values", paths, numbers.
 * Three English words in a row is a sentence nobody translated.
 */
function englishLeft(message: string): string | undefined {
  const stripped = message
    .replace(/`[^`]*`/g, ' ')
    .replace(/"[^"]*"/g, ' ')
    .replace(/'[^']*'/g, ' ')
    .replace(/\S*[/\\.]\S*/g, ' ');
  return /\b[A-Za-z]{2,}\s+[A-Za-z]{2,}\s+[A-Za-z]{2,}\b/.exec(stripped)?.[0];
}

function schemaErrorMessages(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) for (const x of node) schemaErrorMessages(x, out);
  else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === 'errorMessage' && typeof v === 'string') out.push(v);
      else schemaErrorMessages(v, out);
    }
  }
  return out;
}

const base = fixture('valid-mlops-example.yaml');
/** Configs with the kinds of problem the fixtures do not cover. */
const extraConfigs: Record<string, string> = {
  'env var name': base + '  run:\n    command: [python, train.py]\n    env: { 1BAD: x }\n',
  'run without command': base + '  run:\n    cwd: .\n',
  'empty list command': base + '  run:\n    command: []\n',
  'timeout not positive': base + '  run:\n    command: [python]\n    timeout: 0\n',
  'dropout out of range': base.replace('epochs: 100', 'epochs: 100\n    dropout: 1.5'),
  'empty name': base.replace('name: "baseline_model_v1"', 'name: ""'),
  'tags not a list': base.replace('  parameters:', '  tags: 3\n  parameters:'),
  'data unknown key': base.replace('    train_size: 10000', '    train_sise: 10000'),
  'top-level unknown key': base + 'extra: 1\n',
};

const policies: Record<string, string> = {
  'check kind unknown': 'model: m\ndata: { eval: e.csv, label: y }\nchecks:\n  - metrik: { name: f1, min: 0.9 }\n',
  'columns oneOf': 'model: m\ndata: { eval: e.csv, reference: r.csv, label: y }\nchecks:\n  - drift: { columns: 3, ks: { alpha: 0.01 } }\n',
  'bias sensitive oneOf': 'model: m\ndata: { eval: e.csv, label: y }\nchecks:\n  - bias: { sensitive: 3, positive_label: a, demographic_parity_difference: { max: 0.1 } }\n',
  'metric min wrong type': 'model: m\ndata: { eval: e.csv, label: y }\nchecks:\n  - metric: { name: f1, min: high }\n',
};

describe('problems under the Korean bundle (no English left)', () => {
  before(() => setMessages(ko));
  after(() => setMessages(undefined));

  const check = (label: string, problems: Problem[]): void => {
    for (const p of problems) {
      for (const text of [p.message, ...(p.fixes ?? []).map(f => f.title)]) {
        const english = englishLeft(text);
        assert.strictEqual(english, undefined, `${label}: English left ("${english}") in: ${text}`);
      }
    }
  };

  it('translates every errorMessage of every schema', () => {
    for (const file of fs.readdirSync(path.join(root, 'schemas'))) {
      const schema = JSON.parse(fs.readFileSync(path.join(root, 'schemas', file), 'utf8')) as unknown;
      for (const m of schemaErrorMessages(schema)) assert.notStrictEqual(schemaMessage(m), m, `${file}: errorMessage not translated: ${m}`);
    }
  });

  it('config fixtures: every problem and quick fix reads in Korean', () => {
    let count = 0;
    for (const name of fs.readdirSync(fixtures).filter(f => f.endsWith('.yaml'))) {
      const { problems } = validateExperiment(fixture(name));
      count += problems.length;
      check(name, problems);
    }
    assert.ok(count >= 20, `only ${count} problems from the fixtures`);
  });

  it('the schema rules the fixtures do not reach (environment keys, id pattern, env names, ranges) read in Korean', () => {
    for (const [label, text] of Object.entries(extraConfigs)) {
      const { problems } = validateExperiment(text);
      assert.ok(problems.length > 0, `${label}: expected a problem`);
      check(label, problems);
    }
    const env = validateExperiment(fixture('environment-key.yaml')).problems;
    assert.ok(env.some(p => p.message.includes('`_version`') && /[가-힣]/.test(p.message)), env.map(p => p.message).join('\n'));
    const id = validateExperiment(fixture('invalid-id.yaml')).problems;
    assert.ok(id.some(p => p.message.includes('`exp_YYYYMMDD_NNN`') && /[가-힣]/.test(p.message)), id.map(p => p.message).join('\n'));
  });

  it('duplicate experiment ids read in Korean', () => {
    const problems = duplicateIdProblems([
      { file: 'a.yaml', line: 2, id: 'exp_20250101_001', offset: 0, length: 1 },
      { file: 'b.yaml', line: 2, id: 'exp_20250101_001', offset: 0, length: 1 },
    ]);
    const all = [...problems.values()].flat();
    assert.strictEqual(all.length, 2);
    check('duplicate ids', all);
  });

  it('promotion policies and data schemas read in Korean', () => {
    for (const [label, text] of Object.entries(policies)) {
      const { problems } = validatePolicy(text);
      assert.ok(problems.length > 0, `${label}: expected a problem`);
      check(label, problems);
    }
    const checksDir = path.join(root, 'test/fixtures/checks');
    for (const name of fs.readdirSync(checksDir).filter(f => /^schema-bad/.test(f))) {
      const { problems } = validateDataSchema(fs.readFileSync(path.join(checksDir, name), 'utf8'));
      assert.ok(problems.length > 0, `${name}: expected a problem`);
      check(name, problems);
    }
  });
});
