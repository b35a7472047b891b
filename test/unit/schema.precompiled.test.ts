import * as assert from 'assert';
import type { ValidateFunction } from 'ajv';
import { execFile } from 'child_process';
import * as fs from 'fs';
import { createRequire } from 'module';
import * as os from 'os';
import * as path from 'path';
import { parse } from 'yaml';
import { createSchemaAjv } from '../../src/core/config/schemaAjv';
import { SCHEMAS, standaloneValidatorSources, VALIDATOR_MODULE_PREFIX } from '../../src/core/config/schemaStandalone';

const root = path.resolve(__dirname, '../../..');

/**
 * The modules esbuild.mjs puts in the bundles in place of schemaValidators.ts, loaded the way a bundle would run them:
 * the index, and each schema's module when the index requires it. `loaded` lists the schemas whose module ran.
 */
function loadPrecompiled(loaded: string[] = []): Record<string, ValidateFunction> {
  const { index, validators } = standaloneValidatorSources();
  const realRequire = createRequire(path.join(root, 'package.json'));
  const modules = new Map<string, unknown>();
  const load = (id: string): unknown => {
    if (!id.startsWith(VALIDATOR_MODULE_PREFIX)) return realRequire(id);
    const name = id.slice(VALIDATOR_MODULE_PREFIX.length);
    if (!modules.has(name)) {
      const exports = {};
      loaded.push(name);
      new Function('exports', 'require', validators[name])(exports, load);
      modules.set(name, exports);
    }
    return modules.get(name);
  };
  const exports: { precompiledValidators?: Record<string, ValidateFunction> } = {};
  new Function('exports', 'require', index)(exports, load);
  return exports.precompiledValidators!;
}

/** Every YAML file of the fixtures and examples, parsed (the ones that parse). */
function documents(): unknown[] {
  const found: unknown[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory() && e.name !== 'node_modules' && !e.name.startsWith('.')) walk(p);
      else if (/\.ya?ml$/.test(e.name)) {
        try {
          found.push(parse(fs.readFileSync(p, 'utf8')));
        } catch {
          // a fixture of broken YAML: nothing for a schema to see
        }
      }
    }
  };
  walk(path.join(root, 'test/fixtures'));
  walk(path.join(root, 'examples'));
  return found;
}

/** Each document, and copies with one value changed at every place in it: a wrong type, a removed key, an unknown key. */
function variants(doc: unknown): unknown[] {
  const out: unknown[] = [doc];
  const visit = (node: unknown, edit: (mutate: (n: unknown) => unknown) => void) => {
    if (node && typeof node === 'object') {
      for (const key of Object.keys(node)) {
        const at = (mutate: (n: unknown) => unknown) => edit(n => {
          const copy = (Array.isArray(n) ? [...n] : { ...(n as object) }) as Record<string, unknown>;
          const next = mutate(copy[key]);
          if (next === REMOVE) delete copy[key];
          else copy[key] = next;
          return copy;
        });
        for (const wrong of [REMOVE, 'text', -1.5, null, ['a', 1], { unknown_key: 1 }]) at(() => wrong);
        visit((node as Record<string, unknown>)[key], inner => at(n => inner(n)));
      }
    }
  };
  const REMOVE = Symbol('remove');
  visit(doc, mutate => out.push(mutate(doc)));
  return out;
}

describe('schemas compiled ahead of time (the bundles) report exactly what a run-time compile reports', function () {
  this.timeout(120000);

  it('every schema in schemas/ is compiled ahead of time (a bundle compiles none)', () => {
    const ids = fs.readdirSync(path.join(root, 'schemas')).filter(f => f.endsWith('.schema.json'))
      .map(f => (JSON.parse(fs.readFileSync(path.join(root, 'schemas', f), 'utf8')) as { $id: string }).$id);
    assert.deepStrictEqual(Object.keys(loadPrecompiled()).sort(), ids.sort());
    assert.deepStrictEqual(Object.values(SCHEMAS).map(s => s.$id).sort(), ids.sort());
  });

  it('a schema\'s validator code runs only when that schema is used (`edd run` evaluates the experiment\'s alone)', () => {
    const loaded: string[] = [];
    const precompiled = loadPrecompiled(loaded);
    assert.deepStrictEqual(loaded, []);
    assert.strictEqual(typeof precompiled[SCHEMAS.experiment.$id], 'function');
    assert.deepStrictEqual(loaded, ['experiment']);
  });

  it('every schema, on every fixture and example and on variants of each', () => {
    const precompiled = loadPrecompiled();
    const ajv = createSchemaAjv();
    const docs = documents().flatMap(variants);
    assert.ok(docs.length > 1000, `only ${docs.length} documents`);
    let invalid = 0;
    const json = new WeakMap<object, string>();
    const asJson = (v: unknown) => {
      if (!v || typeof v !== 'object') return JSON.stringify(v);
      let s = json.get(v);
      if (s === undefined) json.set(v, (s = JSON.stringify(v)));
      return s;
    };
    for (const [name, schema] of Object.entries(SCHEMAS)) {
      const runtime = ajv.compile(schema);
      const ahead = precompiled[schema.$id];
      assert.strictEqual(typeof ahead, 'function', `no precompiled validator for ${name}`);
      for (const doc of docs) {
        const ok = runtime(doc);
        if (ahead(doc) !== ok) assert.fail(`${name}: ${ok ? 'invalid' : 'valid'} when compiled ahead: ${JSON.stringify(doc)}`);
        if (ok) continue;
        invalid++;
        // the bundle's schema objects in errors are copies: compared as JSON
        const strip = (errors: ValidateFunction['errors']) => (errors ?? []).map(({ schema, parentSchema, ...rest }) => ({ ...rest, schema: asJson(schema), parentSchema: asJson(parentSchema) }));
        assert.deepStrictEqual(strip(ahead.errors), strip(runtime.errors), `${name}: ${JSON.stringify(doc)}`);
      }
    }
    assert.ok(invalid > 1000, `only ${invalid} invalid documents: the comparison saw few errors`);
  });

  it('`edd validate` and `edd run` compile no schema (the CLI bundle carries them as code)', async () => {
    // ajv compiles a schema into a function with `new Function`; the preload counts those calls.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edd-precompiled-'));
    try {
      const hook = path.join(dir, 'hook.js');
      fs.writeFileSync(hook, `
const Real = Function;
globalThis.Function = new Proxy(Real, { construct(target, args) { process.stderr.write('[new Function]\\n'); return Reflect.construct(target, args); } });
`);
      fs.writeFileSync(path.join(dir, 'trivial.yaml'), [
        'experiment:', '  id: "exp_20250101_001"', '  name: trivial', '  hypothesis: h', '  parameters:', '    model_type: none',
        '  run:', `    command: [${JSON.stringify(process.execPath)}, "-e", "0"]`, '',
      ].join('\n'));
      fs.writeFileSync(path.join(dir, 'bad.yaml'), 'experiment:\n  id: x\n  name: 3\n');
      const cli = (...args: string[]) => new Promise<{ code: number; stdout: string; stderr: string }>(resolve => {
        execFile(process.execPath, ['--require', hook, path.join(root, 'dist/cli.js'), ...args], { cwd: dir, env: { ...process.env, EDD_LOCALE: 'en' } }, (err, stdout, stderr) => {
          resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
        });
      });
      const validate = await cli('validate', 'bad.yaml', 'trivial.yaml');
      assert.strictEqual(validate.code, 1, validate.stderr);
      assert.match(validate.stdout, /bad\.yaml:3:9 error wrong-type/);
      assert.doesNotMatch(validate.stderr, /\[new Function\]/);
      const run = await cli('run', 'trivial.yaml', '--quiet');
      assert.strictEqual(run.code, 0, run.stderr);
      assert.doesNotMatch(run.stderr, /\[new Function\]/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
