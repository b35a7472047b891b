import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { setMessages, t } from '../../src/core/l10n';

const root = path.resolve(__dirname, '../../..');

/** The part of test/l10n/extract.js this test uses (plain CommonJS, shared with the command-line tool). */
interface Occurrence {
  file: string;
  line: number;
  column: number;
}
interface Issue extends Occurrence {
  code: string;
  message: string;
}
interface Extractor {
  KO_BUNDLE: string;
  SOURCE_BUNDLE: string;
  extract(options?: { root?: string }): {
    strings: Map<string, { message: string; comment?: string[]; occurrences: Occurrence[] }>;
    errors: Issue[];
    warnings: Issue[];
    files: string[];
  };
  sourceBundle(strings: Map<string, { message: string }>): Record<string, unknown>;
  formatBundle(bundle: Record<string, unknown>): string;
  placeholders(message: string): string[];
  backtickSpans(message: string): string[];
  translationProblems(english: string, translated: unknown): string[];
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const extractor = require(path.join(root, 'test/l10n/extract.js')) as Extractor;
const FIX = 'run `node test/l10n/extract.js` for the full report';

const readJson = (rel: string): Record<string, unknown> => JSON.parse(fs.readFileSync(path.join(root, rel), 'utf8'));
const at = (o: Occurrence) => `${o.file}:${o.line}:${o.column}`;

describe('localisation (l10n bundles and package.nls)', function () {
  this.timeout(60000);
  const { strings, errors } = extractor.extract({ root });
  const ko = readJson(extractor.KO_BUNDLE) as Record<string, string>;
  const where = (key: string) => at(strings.get(key)!.occurrences[0]);

  describe('runtime strings (t / l10n.t / vscode.l10n.t in src/)', () => {
    it('finds the localised strings of every layer', () => {
      assert.ok(strings.size >= 50, `only ${strings.size} strings extracted`);
      const files = new Set([...strings.values()].flatMap(s => s.occurrences.map(o => o.file.split('/')[1])));
      for (const layer of ['core', 'cli', 'extension']) assert.ok(files.has(layer), `no localised string found in src/${layer}`);
      assert.ok(strings.has('YAML syntax error: {0}'), 'core t() call found');
      assert.ok(strings.has('Show Problems'), 'vscode.l10n.t() call found');
    });

    it('passes a string literal as the first argument of every call (anything else cannot be translated)', () => {
      assert.deepStrictEqual(errors.map(e => `${at(e)} ${e.message}`), []);
    });

    it('has a Korean translation for every string', () => {
      const missing = [...strings.keys()].filter(k => typeof ko[k] !== 'string' || (ko[k].trim() === '' && k.trim() !== ''));
      assert.deepStrictEqual(missing.map(k => `${where(k)} ${JSON.stringify(k)}`), [], `missing from ${extractor.KO_BUNDLE}; ${FIX}`);
    });

    it('keeps exactly the same {n} placeholders in every translation', () => {
      const bad: string[] = [];
      for (const [key, { message }] of strings) {
        if (typeof ko[key] !== 'string') continue;
        const en = extractor.placeholders(message);
        const tr = extractor.placeholders(ko[key]);
        if (JSON.stringify(en) !== JSON.stringify(tr)) bad.push(`${where(key)} ${JSON.stringify(key)}: [${en}] vs [${tr}] in ${JSON.stringify(ko[key])}`);
      }
      assert.deepStrictEqual(bad, []);
    });

    it('keeps the same backtick-quoted spans (identifiers, keys, code) in every translation', () => {
      const bad: string[] = [];
      for (const [key, { message }] of strings) {
        if (typeof ko[key] !== 'string') continue;
        const en = extractor.backtickSpans(message);
        const tr = extractor.backtickSpans(ko[key]);
        if (JSON.stringify(en) !== JSON.stringify(tr)) bad.push(`${where(key)} ${JSON.stringify(key)}: [${en.join(' ')}] vs [${tr.join(' ')}]`);
      }
      assert.deepStrictEqual(bad, []);
    });

    it('keeps surrounding whitespace and command-line options of every translation', () => {
      const bad: string[] = [];
      for (const [key, { message }] of strings) {
        if (typeof ko[key] !== 'string') continue;
        for (const p of extractor.translationProblems(message, ko[key])) bad.push(`${where(key)} ${JSON.stringify(key)}: ${p}`);
      }
      assert.deepStrictEqual(bad, []);
    });

    it('has no unused keys in the Korean bundle', () => {
      const unused = Object.keys(ko).filter(k => !strings.has(k));
      assert.deepStrictEqual(unused, [], `no source string has these keys (reworded or removed?); ${FIX}`);
    });

    it('writes the bundles in canonical form, the source bundle up to date', () => {
      const koText = fs.readFileSync(path.join(root, extractor.KO_BUNDLE), 'utf8');
      assert.strictEqual(koText, extractor.formatBundle(ko), `${extractor.KO_BUNDLE}: sorted keys, 2-space indent, trailing newline (\`node test/l10n/extract.js --prune\` rewrites it)`);
      const source = fs.readFileSync(path.join(root, extractor.SOURCE_BUNDLE), 'utf8');
      assert.strictEqual(source, extractor.formatBundle(extractor.sourceBundle(strings)), `${extractor.SOURCE_BUNDLE} is stale: run \`node test/l10n/extract.js --write\``);
    });

    describe('core t() with the Korean bundle', () => {
      after(() => setMessages(undefined));

      it('returns the Korean text with the placeholders filled', () => {
        const key = '{0} file(s) checked: {1} error(s), {2} warning(s).';
        assert.strictEqual(t(key, 3, 1, 2), '3 file(s) checked: 1 error(s), 2 warning(s).', 'English without a bundle');
        setMessages(ko);
        const out = t(key, 3, 1, 2);
        assert.strictEqual(out, ko[key].replace('{0}', '3').replace('{1}', '1').replace('{2}', '2'));
        assert.match(out, /[가-힣]/, 'Korean text');
        assert.doesNotMatch(out, /\{\d\}/, 'every placeholder filled');
        assert.ok(out.includes('3') && out.includes('1') && out.includes('2'));
        const id = t('Experiment id `{0}` is also used in {1}. Each experiment needs its own id.', 'exp_20250101_001', 'experiments/b.yaml:3');
        assert.ok(id.includes('`exp_20250101_001`') && id.includes('experiments/b.yaml:3') && /[가-힣]/.test(id), id);
        assert.strictEqual(t('A string no bundle has: {0}', 'x'), 'A string no bundle has: x', 'unknown strings fall back to English');
      });

      it('translates every string (no Korean entry is silently English)', () => {
        setMessages(ko);
        const english = [...strings.keys()].filter(k => /[A-Za-z]{3}/.test(k.replace(/`[^`]*`|\{\d+\}|--[\w-]+/g, '')) && t(k) === k);
        // Short fragments that are the same in both languages (e.g. ' ({0})') carry no words.
        assert.deepStrictEqual(english, []);
      });
    });
  });

  describe('manifest strings (package.json %key% ↔ package.nls*.json)', () => {
    const pkg = readJson('package.json');
    const en = readJson('package.nls.json') as Record<string, string>;
    const nlsKo = readJson('package.nls.ko.json') as Record<string, string>;
    const used = new Set<string>();
    const walk = (v: unknown): void => {
      if (typeof v === 'string') {
        const m = /^%(.+)%$/.exec(v);
        if (m) used.add(m[1]);
      } else if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === 'object') Object.values(v).forEach(walk);
    };
    walk(pkg);

    it('uses manifest keys at all', () => {
      assert.ok(used.has('displayName') && used.has('description'), [...used].join(', '));
    });

    it('defines every %key% of package.json in package.nls.json and package.nls.ko.json', () => {
      assert.deepStrictEqual([...used].filter(k => !(k in en)), [], 'missing from package.nls.json');
      assert.deepStrictEqual([...used].filter(k => !(k in nlsKo)), [], 'missing from package.nls.ko.json');
    });

    it('has no keys package.json does not use', () => {
      assert.deepStrictEqual(Object.keys(en).filter(k => !used.has(k)), [], 'unused in package.nls.json');
      assert.deepStrictEqual(Object.keys(nlsKo).filter(k => !used.has(k)), [], 'unused in package.nls.ko.json');
    });

    it('keeps placeholders, backtick spans and command links in the Korean manifest strings', () => {
      const bad: string[] = [];
      for (const [k, v] of Object.entries(en)) {
        const tr = nlsKo[k];
        if (typeof tr !== 'string') continue;
        for (const p of extractor.translationProblems(v, tr)) bad.push(`${k}: ${p}`);
        const links = (s: string) => (s.match(/\(command:[^)\s]+\)/g) ?? []).sort().join(' ');
        if (links(v) !== links(tr)) bad.push(`${k}: command links differ`);
      }
      assert.deepStrictEqual(bad, []);
    });
  });
});
