import * as assert from 'assert';
import Ajv from 'ajv';
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { edd, nodeConfig } from './eddProcess';

const root = path.resolve(__dirname, '../../..');

/**
 * Preloaded into the CLI's process: reports every WebAssembly compile on stderr. sql.js is the only wasm the CLI
 * loads, and compiling it is what made `edd runs` slow; a line here means the store's engine was started.
 */
const HOOK = `
for (const name of ['compile', 'instantiate', 'compileStreaming', 'instantiateStreaming']) {
  const real = WebAssembly[name];
  if (typeof real === 'function') WebAssembly[name] = function (...args) { process.stderr.write('[wasm ' + name + ']\\n'); return real.apply(this, args); };
}
`;

/** `edd args…` in `cwd` with the WebAssembly hook preloaded. */
const cli = (args: string[], cwd: string, hook: string) => edd(args, cwd, { require: hook });

describe('CLI cold start: commands load only what they use', function () {
  this.timeout(60000);
  let dir: string;
  let hook: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edd-cold-'));
    hook = path.join(dir, 'wasm-hook.js');
    fs.writeFileSync(hook, HOOK);
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('`edd runs` in a folder without a store answers without starting sql.js and creates nothing', async () => {
    const work = path.join(dir, 'empty');
    fs.mkdirSync(work);
    const r = await cli(['runs'], work, hook);
    assert.strictEqual(r.code, 0, r.stderr);
    assert.match(r.stderr, /No runs recorded yet in \.edd[/\\]edd\.sqlite/);
    assert.doesNotMatch(r.stderr, /\[wasm /);
    const json = await cli(['runs', '--json'], work, hook);
    assert.strictEqual(json.code, 0, json.stderr);
    assert.deepStrictEqual(JSON.parse(json.stdout), []);
    assert.doesNotMatch(json.stderr, /\[wasm /);
    assert.deepStrictEqual(fs.readdirSync(work), []);
  });

  it('`edd runs` with a store does start sql.js (the hook sees it) and lists the run', async () => {
    const work = path.join(dir, 'ws');
    fs.mkdirSync(work);
    nodeConfig(work, 'trivial');
    const run = await cli(['run', 'trivial.yaml', '--quiet'], work, hook);
    assert.strictEqual(run.code, 0, run.stderr);
    const r = await cli(['runs'], work, hook);
    assert.strictEqual(r.code, 0, r.stderr);
    assert.match(r.stdout, /exp_20250101_001\s+finished/);
    assert.match(r.stderr, /\[wasm /);
  });

  it('`edd run` checks its config while the store opens: a damaged store is still reported first, a bad config alone second', async () => {
    const work = path.join(dir, 'ws');
    fs.mkdirSync(path.join(work, '.edd'), { recursive: true });
    fs.writeFileSync(path.join(work, 'bad.yaml'), 'experiment:\n  id: x\n');
    fs.writeFileSync(path.join(work, '.edd', 'edd.sqlite'), 'not a database');
    const both = await cli(['run', 'bad.yaml'], work, hook);
    assert.strictEqual(both.code, 2, both.stderr);
    assert.match(both.stderr, /^edd: The EDD run store .*edd\.sqlite is damaged/m);
    assert.doesNotMatch(both.stderr, /bad\.yaml/);
    fs.rmSync(path.join(work, '.edd'), { recursive: true });
    const config = await cli(['run', 'bad.yaml'], work, hook);
    assert.strictEqual(config.code, 2, config.stderr);
    assert.match(config.stderr, /^edd: bad\.yaml has \d+ error\(s\); fix them before running it:/m);
    assert.doesNotMatch(config.stderr, /\n\s+at /, 'a usage error, no stack');
    // (it once was an internal error, exit 70 with a stack)
    const missing = await cli(['run', 'nowhere.yaml'], work, hook);
    assert.strictEqual(missing.code, 2, missing.stderr);
    assert.match(missing.stderr, /^edd: Cannot read nowhere\.yaml: no such file\.\nRun `edd --help` for usage\.\n$/m);
    assert.doesNotMatch(missing.stderr, /\n\s+at /);
  });

  it('a finished run leaves no timer behind: the process can exit as soon as the run is recorded', async () => {
    // The runner's wait for the child's output to close once raced a 1 s timer that stayed armed, so `edd run` of
    // a trivial command sat idle for a second after everything was done.
    const script = path.join(dir, 'one-run.js');
    fs.writeFileSync(script, `
const { startRun } = require(${JSON.stringify(path.join(root, 'out/src/core/runner'))});
startRun({ command: [process.execPath, '-e', '0'], workspaceRoot: ${JSON.stringify(dir)}, runId: 'r1',
  artifactDir: '.edd/runs/r1/artifacts', metricsFile: '.edd/runs/r1/metrics.jsonl' }).done.then(o => {
  console.log(JSON.stringify({ status: o.status, pending: process.getActiveResourcesInfo().filter(r => r === 'Timeout') }));
});
`);
    const out = await new Promise<string>((resolve, reject) => execFile(process.execPath, [script], (err, stdout, stderr) => (err ? reject(new Error(stderr)) : resolve(stdout))));
    assert.deepStrictEqual(JSON.parse(out), { status: 'finished', pending: [] });
  });
});

describe('schemas: checked against the JSON Schema meta-schema here, not on every start', () => {
  // The validators compile with validateSchema: false (src/core/config/schemaAjv.ts), as compiling the meta-schema was
  // most of the schema's cost in each CLI process; a mistake in a schema file (a misspelt type) is caught here.
  const metaCheck = () => new Ajv({ strict: true, strictTypes: false, allowUnionTypes: true })
    .addKeyword({ keyword: 'markdownDescription', schemaType: 'string' })
    .addKeyword({ keyword: 'errorMessage', schemaType: 'string' })
    .addKeyword({ keyword: 'defaultSnippets', schemaType: 'array' });
  const folder = path.join(root, 'schemas');

  for (const file of fs.readdirSync(folder).filter(f => f.endsWith('.schema.json'))) {
    it(`${file} is a valid JSON Schema`, () => {
      const ajv = metaCheck();
      const ok = ajv.validateSchema(JSON.parse(fs.readFileSync(path.join(folder, file), 'utf8')));
      assert.strictEqual(ok, true, ajv.errorsText());
    });
  }

  it('the check finds a misspelt type', () => {
    const ajv = metaCheck();
    assert.strictEqual(ajv.validateSchema({ type: 'object', properties: { a: { type: 'strnig' } } }), false);
  });
});
