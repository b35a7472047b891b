#!/usr/bin/env node
'use strict';
// npm run test:package — the packaged extension (dist/edd.vsix, from `npm run package`) as a user installs it.
//
// 1. Unzips the .vsix into a temporary folder (yauzl: the zip reader VS Code itself installs extensions with).
// 2. Checks what is in it: the bundles, the CLI, sql.js's wasm, onnxruntime-node with the binaries of linux-x64 only
//    (no darwin, win32 or arm64 file), the manifest's TargetPlatform, and a size budget.
// 3. Runs, with `node` in the unzipped folder and no way to reach this repository's node_modules (a minimal
//    environment: no NODE_PATH, no NODE_OPTIONS, HOME and cwd in the temporary folder), a script that requires
//    onnxruntime-node exactly as dist/extension.js and dist/cli.js do, checks that every module and the native
//    library it loaded come from the package, and runs an inference session on the penguins model.
// 4. Runs the packaged CLI's `edd gate` on the example policy with --onnx, in a copy of the example's data.
// 5. Runs the example EDD: Create Example Project copies (dist/examples/penguins) with the packaged CLI, in a folder of
//    its own.
// Exit code 0 when everything holds, 1 otherwise (with what did not).
const assert = require('assert');
const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const yauzl = require('yauzl');

const ROOT = path.resolve(__dirname, '..', '..');
const VSIX = path.join(ROOT, 'dist', 'edd.vsix');
const MODEL = path.join(ROOT, 'test', 'fixtures', 'workspace', 'models', 'penguins.onnx');
const TARGET = 'linux-x64';
/** All platforms' binaries would be ~120 MB zipped; linux-x64 alone is ~18 MB. */
const SIZE_BUDGET_MB = 25;
/** Two evaluation rows (bill length, bill depth, flipper length, body mass): an Adelie and a Gentoo penguin. */
const ROWS = [39.1, 18.7, 181, 3750, 46.1, 13.2, 211, 4500];

/** Extract every entry of `zip` under `dir`; returns the entry names. yauzl refuses absolute and `..` names. */
function unzip(zip, dir) {
  return new Promise((resolve, reject) => {
    yauzl.open(zip, { lazyEntries: true }, (err, zf) => {
      if (err) return reject(err);
      const names = [];
      zf.on('error', reject);
      zf.on('end', () => resolve(names));
      zf.on('entry', entry => {
        names.push(entry.fileName);
        const dest = path.join(dir, entry.fileName);
        if (entry.fileName.endsWith('/')) {
          fs.mkdirSync(dest, { recursive: true });
          zf.readEntry();
          return;
        }
        fs.mkdirSync(path.dirname(dest), { recursive: true });
        zf.openReadStream(entry, (e, stream) => {
          if (e) return reject(e);
          stream.pipe(fs.createWriteStream(dest)).on('finish', () => zf.readEntry()).on('error', reject);
        });
      });
      zf.readEntry();
    });
  });
}

/** Runs inside the unzipped package: resolves and loads onnxruntime-node from where the bundles are. */
const PROBE = `'use strict';
const fs = require('fs');
const path = require('path');
const { createRequire } = require('module');
const [ext, model, rows] = [process.argv[2], process.argv[3], JSON.parse(process.argv[4])];
(async () => {
  const out = { resolved: {}, outsideModules: [], nativeLibraries: [] };
  for (const bundle of ['extension.js', 'cli.js']) {
    const req = createRequire(path.join(ext, 'dist', bundle));
    out.resolved[bundle] = req.resolve('onnxruntime-node');
  }
  const req = createRequire(path.join(ext, 'dist', 'extension.js'));
  const ort = req('onnxruntime-node');
  out.resolved.common = createRequire(out.resolved['extension.js']).resolve('onnxruntime-common');
  out.outsideModules = Object.keys(require.cache).filter(f => !f.startsWith(ext + path.sep) && f !== __filename);
  out.nativeLibraries = [...new Set(fs.readFileSync('/proc/self/maps', 'utf8').split('\\n')
    .map(l => l.split(/\\s+/).slice(5).join(' ')).filter(f => /onnxruntime/.test(f)))];
  out.version = ort.env.versions;
  const session = await ort.InferenceSession.create(model, { executionProviders: ['cpu'] });
  out.inputs = session.inputNames;
  out.outputs = session.outputNames;
  const x = new ort.Tensor('float32', Float32Array.from(rows), [rows.length / 4, 4]);
  const result = await session.run({ [session.inputNames[0]]: x });
  const y = result[session.outputNames[0]];
  out.dims = y.dims;
  out.data = Array.from(y.data);
  await session.release();
  process.stdout.write(JSON.stringify(out));
})().catch(e => { console.error(e && e.stack || String(e)); process.exit(1); });
`;

const checks = [];
async function check(name, fn) {
  try {
    await fn();
    checks.push({ name, ok: true });
    console.log(`  ✔ ${name}`);
  } catch (e) {
    checks.push({ name, ok: false });
    console.log(`  ✖ ${name}\n      ${String(e && e.message || e).split('\n').join('\n      ')}`);
  }
}

/** A minimal environment: nothing that could point node at this repository's packages. */
function isolatedEnv(home) {
  return { PATH: process.env.PATH, HOME: home, TMPDIR: home, LANG: 'C.UTF-8' };
}

(async () => {
  if (!fs.existsSync(VSIX)) {
    console.error(`[package] ${VSIX} is missing: run "npm run package" first`);
    process.exit(2);
  }
  const tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'edd-vsix-')));
  const ext = path.join(tmp, 'extension');
  try {
    const size = fs.statSync(VSIX).size;
    const names = await unzip(VSIX, tmp);
    const files = names.filter(n => !n.endsWith('/'));
    console.log(`[package] ${path.relative(ROOT, VSIX)}: ${(size / 1024 / 1024).toFixed(2)} MB, ${files.length} files, unzipped in ${tmp}`);

    await check('carries the bundles, the CLI, sql.js\'s wasm, the schemas, onnxruntime-node and the Python client', () => {
      for (const f of ['package.json', 'dist/extension.js', 'dist/cli.js', 'dist/validationWorker.js', 'dist/storeWorker.js', 'dist/monitorWorker.js', 'dist/sql-wasm.wasm',
        'schemas/experiment.schema.json', 'schemas/promotion.schema.json', 'schemas/data-schema.schema.json', 'l10n/bundle.l10n.ko.json',
        'dist/node_modules/onnxruntime-node/package.json', 'dist/node_modules/onnxruntime-node/dist/index.js',
        'dist/node_modules/onnxruntime-common/package.json', 'dist/node_modules/onnxruntime-common/dist/cjs/index.js',
        'python/pyproject.toml', 'python/edd/__init__.py', 'python/edd/_client.py', 'python/edd/_config.py', 'python/edd/py.typed',
        // every webview's bundle: a panel whose script is not packaged opens blank
        ...['compare', 'gate', 'monitor'].flatMap(v => [`dist/webview/${v}.js`, `dist/webview/${v}.css`])]) {
        assert.ok(files.includes(`extension/${f}`), `extension/${f} is missing`);
      }
    });

    await check('carries the CLI\'s entry, `edd run`\'s bundle, and every chunk its chunks import (dist/cli/)', () => {
      const chunks = files.filter(f => /^extension\/dist\/cli\/[^/]+\.mjs$/.test(f));
      // dist/cli.js starts `edd run` from its own CommonJS bundle (with a code cache), every other command from bin.mjs
      assert.ok(files.includes('extension/dist/cli/run.cjs'), 'extension/dist/cli/run.cjs is missing');
      const runBundle = fs.readFileSync(path.join(tmp, 'extension/dist/cli/run.cjs'), 'utf8');
      for (const [, name] of runBundle.matchAll(/["']\.\/(validators\/[^"']+\.cjs)["']/g)) {
        assert.ok(files.includes(`extension/dist/cli/${name}`), `run.cjs requires ./${name}, which is not in the package`);
      }
      assert.ok(chunks.includes('extension/dist/cli/bin.mjs'), 'extension/dist/cli/bin.mjs is missing');
      assert.ok(chunks.length > 2, `only ${chunks.length} chunk(s) in dist/cli/`);
      const validators = new Set();
      for (const chunk of chunks) {
        const text = fs.readFileSync(path.join(tmp, chunk), 'utf8');
        for (const [, name] of text.matchAll(/(?:\bfrom|\bimport\(?)\s*["']\.\/([^"']+\.mjs)["']/g)) {
          assert.ok(chunks.includes(`extension/dist/cli/${name}`), `${chunk} imports ./${name}, which is not in the package`);
        }
        // the schemas' validators, one CommonJS file each, required at first use (esbuild.mjs)
        for (const [, name] of text.matchAll(/["']\.\/(validators\/[^"']+\.cjs)["']/g)) {
          validators.add(name);
          assert.ok(files.includes(`extension/dist/cli/${name}`), `${chunk} requires ./${name}, which is not in the package`);
        }
      }
      assert.deepStrictEqual([...validators].sort(), ['validators/dataSchema.cjs', 'validators/experiment.cjs', 'validators/promotion.cjs', 'validators/service.cjs']);
    });

    await check('carries the walkthrough media and the example EDD: Create Example Project copies (no node_modules in it)', () => {
      for (const f of ['dist/examples/penguins/train.js', 'dist/examples/penguins/penguins.policy.yaml', 'dist/examples/penguins/experiments/baseline.yaml',
        'dist/examples/penguins/experiments/higher-lr.yaml', 'dist/examples/penguins/data/penguins.json', 'dist/examples/penguins/data/eval.csv',
        'dist/examples/penguins/data/reference.csv', 'dist/examples/penguins/data/penguins.data.yaml',
        'media/walkthrough/create-example.md', 'media/walkthrough/create-example.ko.md', 'media/walkthrough/promote.md', 'media/walkthrough/promote.ko.md']) {
        assert.ok(files.includes(`extension/${f}`), `extension/${f} is missing`);
      }
      assert.deepStrictEqual(files.filter(f => f.startsWith('extension/dist/examples/') && /node_modules|\.venv|\/out\//.test(f)), []);
    });

    await check(`has native binaries for ${TARGET} only (no darwin, win32 or arm64 file)`, () => {
      const foreign = files.filter(f => /darwin|win32|arm64|aarch64|\.dll$|\.dylib$|\.exe$/i.test(f));
      assert.deepStrictEqual(foreign, []);
      const native = files.filter(f => /\.node$|\.so(\.\d+)*$/.test(f));
      assert.ok(native.length >= 2, `native files: ${native.join(', ')}`);
      for (const f of native) assert.match(f, /^extension\/dist\/node_modules\/onnxruntime-node\/bin\/napi-v\d+\/linux\/x64\/[^/]+$/);
      assert.ok(native.some(f => f.endsWith('/onnxruntime_binding.node')) && native.some(f => /libonnxruntime\.so/.test(f)), native.join(', '));
      assert.deepStrictEqual(files.filter(f => /node_modules\/.*\.(map|ts)$/.test(f)), [], 'no source maps or typings of the runtime');
    });

    await check(`is marked for ${TARGET} (extension.vsixmanifest TargetPlatform)`, () => {
      const manifest = fs.readFileSync(path.join(tmp, 'extension.vsixmanifest'), 'utf8');
      assert.match(manifest, new RegExp(`TargetPlatform="${TARGET}"`));
    });

    await check(`stays small (${(size / 1024 / 1024).toFixed(2)} MB ≤ ${SIZE_BUDGET_MB} MB)`, () => {
      assert.ok(size <= SIZE_BUDGET_MB * 1024 * 1024, `${size} bytes`);
    });

    // The reference: the same model and rows with this repository's onnxruntime-node.
    const ort = require('onnxruntime-node');
    const ref = await ort.InferenceSession.create(MODEL, { executionProviders: ['cpu'] });
    const refOut = await ref.run({ [ref.inputNames[0]]: new ort.Tensor('float32', Float32Array.from(ROWS), [ROWS.length / 4, 4]) });
    const expected = Array.from(refOut[ref.outputNames[0]].data);
    await ref.release();

    await check('requires onnxruntime-node from the package alone and runs the penguins model on it', () => {
      const probe = path.join(tmp, 'probe.js');
      fs.writeFileSync(probe, PROBE);
      const model = path.join(tmp, 'penguins.onnx');
      fs.copyFileSync(MODEL, model);
      const r = spawnSync(process.execPath, [probe, ext, model, JSON.stringify(ROWS)], { cwd: tmp, env: isolatedEnv(tmp), encoding: 'utf8', timeout: 60000 });
      assert.strictEqual(r.status, 0, `probe exited ${r.status}: ${r.stderr}`);
      const out = JSON.parse(r.stdout);
      const inPackage = path.join(ext, 'dist', 'node_modules');
      assert.strictEqual(out.resolved['extension.js'], path.join(inPackage, 'onnxruntime-node', 'dist', 'index.js'), 'dist/extension.js resolves the packaged copy');
      assert.strictEqual(out.resolved['cli.js'], path.join(inPackage, 'onnxruntime-node', 'dist', 'index.js'), 'dist/cli.js resolves the packaged copy');
      assert.strictEqual(out.resolved.common, path.join(inPackage, 'onnxruntime-common', 'dist', 'cjs', 'index.js'));
      assert.deepStrictEqual(out.outsideModules, [], 'every loaded module comes from the package');
      assert.ok(out.nativeLibraries.length >= 2, `native libraries mapped: ${out.nativeLibraries.join(', ')}`);
      for (const lib of out.nativeLibraries) assert.ok(lib.startsWith(inPackage + path.sep), `${lib} is outside the package`);
      assert.deepStrictEqual([out.inputs, out.outputs], [['features'], ['probabilities']]);
      assert.deepStrictEqual(out.dims, [2, 3]);
      for (let i = 0; i < 2; i++) {
        const row = out.data.slice(3 * i, 3 * i + 3);
        assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-5, `row ${i} sums to 1: ${row}`);
      }
      const argmax = [0, 1].map(i => { const row = out.data.slice(3 * i, 3 * i + 3); return row.indexOf(Math.max(...row)); });
      assert.deepStrictEqual(argmax, [0, 2], 'Adelie (class 0), then Gentoo (class 2)');
      assert.ok(out.data[0] > 0.99 && out.data[5] > 0.99, `confident on both rows: ${out.data}`);
      for (let k = 0; k < expected.length; k++) assert.ok(Math.abs(out.data[k] - expected[k]) < 1e-6, `output[${k}] ${out.data[k]} vs ${expected[k]} with the repository's onnxruntime-node`);
      console.log(`      onnxruntime ${out.version.node} from ${path.relative(tmp, out.resolved['extension.js'])}; P(Adelie) ${out.data[0].toFixed(4)}, P(Gentoo) ${out.data[5].toFixed(4)}`);
    });

    await check('the packaged CLI gates the example policy with --onnx (exit 0, every check passes, latency measured)', () => {
      const work = path.join(tmp, 'work');
      fs.mkdirSync(path.join(work, 'examples', 'penguins'), { recursive: true });
      fs.copyFileSync(path.join(ROOT, 'examples/penguins/penguins.policy.yaml'), path.join(work, 'examples/penguins/penguins.policy.yaml'));
      fs.cpSync(path.join(ROOT, 'examples/penguins/data'), path.join(work, 'examples/penguins/data'), { recursive: true });
      fs.copyFileSync(MODEL, path.join(work, 'model.onnx'));
      const args = [path.join(ext, 'dist', 'cli.js'), 'gate', 'examples/penguins/penguins.policy.yaml', '--onnx', 'model.onnx', '--json', '--junit', 'gate.xml'];
      const r = spawnSync(process.execPath, args, { cwd: work, env: isolatedEnv(tmp), encoding: 'utf8', timeout: 120000 });
      assert.strictEqual(r.status, 0, `edd gate exited ${r.status}\n${r.stdout}\n${r.stderr}`);
      const report = JSON.parse(r.stdout);
      assert.strictEqual(report.passed, true);
      const statuses = report.checks.map(c => `${c.id}:${c.status}`);
      assert.ok(report.checks.length >= 10 && report.checks.every(c => c.status === 'pass'), statuses.join(', '));
      const latency = report.checks.find(c => c.kind === 'latency');
      assert.ok(latency && latency.measured.latency_p95_ms > 0, JSON.stringify(latency));
      assert.ok(report.checks.some(c => c.kind === 'data_schema'), 'the data_schema check ran');
      assert.match(fs.readFileSync(path.join(work, 'gate.xml'), 'utf8'), /failures="0" errors="0"/);
      console.log(`      ${statuses.length} checks passed; latency p95 ${latency.measured.latency_p95_ms} ms`);
    });

    await check('the packaged CLI validates the example\'s policy and data schema', () => {
      const work = path.join(tmp, 'work');
      const r = spawnSync(process.execPath, [path.join(ext, 'dist', 'cli.js'), 'validate', 'examples/penguins/penguins.policy.yaml', 'examples/penguins/data/penguins.data.yaml', '--json'],
        { cwd: work, env: isolatedEnv(tmp), encoding: 'utf8', timeout: 60000 });
      assert.strictEqual(r.status, 0, `edd validate exited ${r.status}\n${r.stdout}\n${r.stderr}`);
      assert.deepStrictEqual(JSON.parse(r.stdout), []);
    });

    await check('the packaged example runs with the packaged CLI in a folder of its own (as EDD: Create Example Project lays it out)', () => {
      const project = path.join(tmp, 'example-project');
      fs.cpSync(path.join(ext, 'dist', 'examples', 'penguins'), path.join(project, 'examples', 'penguins'), { recursive: true });
      const cli = (...args) => spawnSync(process.execPath, [path.join(ext, 'dist', 'cli.js'), ...args], { cwd: project, env: isolatedEnv(tmp), encoding: 'utf8', timeout: 120000 });
      const validate = cli('validate', 'examples', '--json');
      assert.strictEqual(validate.status, 0, `edd validate exited ${validate.status}\n${validate.stdout}\n${validate.stderr}`);
      const run = cli('run', 'examples/penguins/experiments/baseline.yaml', '--quiet');
      assert.strictEqual(run.status, 0, `edd run exited ${run.status}\n${run.stdout}\n${run.stderr}`);
      const [last] = JSON.parse(cli('runs', '--json').stdout);
      assert.strictEqual(last.status, 'finished');
      assert.ok(last.final_metrics.test_f1_macro >= 0.9, JSON.stringify(last.final_metrics));
      console.log(`      run ${last.run_id}: test_f1_macro ${last.final_metrics.test_f1_macro}`);
    });
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  const failed = checks.filter(c => !c.ok).length;
  console.log(failed ? `[package] ${failed} of ${checks.length} checks failed` : `[package] all ${checks.length} checks passed`);
  process.exit(failed ? 1 : 0);
})().catch(e => {
  console.error(e);
  process.exit(1);
});
