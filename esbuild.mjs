// Bundles the extension host code, the CLI, the validation worker and the webviews with esbuild.
// `node esbuild.mjs [--watch] [--production]`
import * as esbuild from 'esbuild';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'fs';
import { createRequire } from 'module';
import { tmpdir } from 'os';
import { dirname, join, resolve } from 'path';

const pkg = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));

const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');

/**
 * The config schemas' validators as code (ajv's standalone output) in place of src/core/config/schemaValidators.ts,
 * which is empty: compiling the experiment schema at start was ~60 ms of every `edd run`. The code is made by
 * schemaStandalone.ts (bundled and run here), with the Ajv setup the run-time compile uses: a module that stands for
 * schemaValidators.ts and one module per schema (`edd-schema-validator:<name>`), evaluated at its first use.
 */
async function standaloneValidators() {
  const out = mkdtempSync(join(tmpdir(), 'edd-schemas-'));
  try {
    const file = join(out, 'standalone.cjs');
    await esbuild.build({ bundle: true, platform: 'node', target: 'node20', format: 'cjs', logLevel: 'warning', entryPoints: ['src/core/config/schemaStandalone.ts'], outfile: file });
    const m = createRequire(import.meta.url)(file);
    return { prefix: m.VALIDATOR_MODULE_PREFIX, ...m.standaloneValidatorSources() };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

let standaloneSources;

/** Where the CLI's validators go, one bundled CommonJS file per schema (see `cliValidators`). */
const CLI_VALIDATORS = 'dist/cli/validators';

/**
 * The validators as code, in the bundle (no options: the extension and the workers, one CommonJS file each) or, for
 * the CLI's ES module build (`separate`), each in a file of its own that the bundle requires at its first use
 * (`./validators/<name>.cjs`, written when `emit`): esbuild puts modules that are not reached through a dynamic import
 * into one chunk, and parsing the four validators (~500 KB) was ~13 ms of every `edd run`, which needs only the
 * experiment's. `edd run`'s own bundle has that one inside (`inline`; its code cache covers it) and the others as files.
 * @param {{ separate?: boolean, emit?: boolean, inline?: string[] }} [options]
 * @returns {esbuild.Plugin}
 */
const precompiledSchemas = ({ separate = false, emit = false, inline = [] } = {}) => ({
  name: 'precompiled-schemas',
  setup(build) {
    const stub = resolve('src/core/config/schemaValidators.ts');
    // Made once for all the bundles of a build; with --watch, again at each rebuild (a schema may have changed).
    let current;
    build.onStart(() => {
      current = watch ? standaloneValidators() : (standaloneSources ??= standaloneValidators());
      current.catch(() => undefined); // reported by the onLoad that awaits it
    });
    const watchFiles = () => readdirSync('schemas').map(f => resolve('schemas', f));
    build.onLoad({ filter: /[\\/]schemaValidators\.ts$/ }, async args => {
      if (args.path !== stub) return undefined;
      return { contents: (await current).index, loader: 'js', resolveDir: dirname(stub), watchFiles: watchFiles() };
    });
    build.onResolve({ filter: /^edd-schema-validator:/ }, async args => {
      const sources = await current;
      const name = args.path.slice(sources.prefix.length);
      if (!separate || inline.includes(name)) return { path: args.path, namespace: 'edd-schema-validator' };
      return { path: `./validators/${name}.cjs`, external: true };
    });
    build.onLoad({ filter: /.*/, namespace: 'edd-schema-validator' }, async args => {
      const sources = await current;
      const code = sources.validators[args.path.slice(sources.prefix.length)];
      if (code === undefined) return { errors: [{ text: `no schema validator named ${args.path}` }] };
      return { contents: code, loader: 'js', resolveDir: dirname(stub), watchFiles: watchFiles() };
    });
    if (emit) {
      build.onEnd(async result => {
        if (result.errors.length) return;
        const sources = await current;
        await Promise.all(Object.entries(sources.validators).map(([name, code]) => esbuild.build({
          stdin: { contents: code, loader: 'js', resolveDir: dirname(stub), sourcefile: `${name}.validator.cjs` },
          bundle: true, platform: 'node', target: 'node20', format: 'cjs', minify: production, logLevel: 'warning',
          outfile: join(CLI_VALIDATORS, `${name}.cjs`),
        })));
      });
    }
  },
});

/**
 * `yaml` as its ES module build: the package's `node` condition is its CommonJS build, which esbuild bundles whole
 * (~260 KB, all of it parsed by every `edd run`); the ES module build (the package's `default`) lets esbuild keep only
 * what EDD calls. The two are the same code (the CommonJS one reports warnings with process.emitWarning, the other with
 * console.warn).
 * @type {esbuild.Plugin}
 */
const yamlModules = {
  name: 'yaml-modules',
  setup(build) {
    const esm = createRequire(import.meta.url).resolve('yaml/package.json').replace(/package\.json$/, 'browser/index.js');
    build.onResolve({ filter: /^yaml$/ }, () => ({ path: esm }));
  },
};

/** @type {esbuild.BuildOptions} */
const node = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  minify: production,
  logLevel: 'warning',
  // onnxruntime-node ships native binaries and must stay a runtime require (later issues).
  external: ['vscode', 'onnxruntime-node', 'sql.js/dist/sql-wasm.wasm'],
  plugins: [precompiledSchemas()],
};

/** Webview front ends: browser IIFEs loaded by a nonce'd <script> under a strict CSP; imported CSS (uPlot's and the
 * panel's) is emitted beside the script (dist/webview/<name>.css). */
/** @type {esbuild.BuildOptions} */
const webview = {
  bundle: true,
  platform: 'browser',
  format: 'iife',
  target: ['chrome120'],
  sourcemap: true,
  minify: production,
  logLevel: 'warning',
  outdir: 'dist/webview',
  // Lit's development build (extra checks and console warnings) only with --watch.
  conditions: watch ? ['development'] : [],
};

const targets = [
  { ...node, entryPoints: ['src/extension/extension.ts'], outfile: 'dist/extension.js' },
  { ...node, entryPoints: ['src/extension/validationWorker.ts'], outfile: 'dist/validationWorker.js' },
  { ...node, entryPoints: ['src/extension/runs/storeWorker.ts'], outfile: 'dist/storeWorker.js' },
  {
    ...node,
    // The CLI as ES module chunks in dist/cli/ (splitting needs ESM): `edd runs` or `edd --help` compile a few KB, not
    // the 3.6 MB every command together makes. dist/cli.js starts it (see writeCliLauncher).
    format: 'esm',
    splitting: true,
    entryPoints: { bin: 'src/cli/bin.ts' },
    outdir: 'dist/cli',
    outExtension: { '.js': '.mjs' },
    chunkNames: '[name]-[hash]',
    // The bundled CommonJS code (sql.js, the store's wasm lookup, onnxruntime-node's lazy require) expects require,
    // __filename and __dirname, which an ES module lacks: each chunk gets its own.
    banner: { js: "import { createRequire as __eddCreateRequire } from 'module'; import { fileURLToPath as __eddFileURLToPath } from 'url'; import { dirname as __eddDirname } from 'path'; const require = __eddCreateRequire(import.meta.url); const __filename = __eddFileURLToPath(import.meta.url); const __dirname = __eddDirname(__filename);" },
    define: { EDD_VERSION: JSON.stringify(pkg.version) },
    plugins: [precompiledSchemas({ separate: true, emit: true }), yamlModules],
  },
  // `edd run`'s own bundle (src/cli/binRun.ts): one CommonJS file, which dist/cli.js compiles with a V8 code cache.
  {
    ...node,
    entryPoints: ['src/cli/binRun.ts'],
    outfile: 'dist/cli/run.cjs',
    define: { EDD_VERSION: JSON.stringify(pkg.version) },
    plugins: [precompiledSchemas({ separate: true, inline: ['experiment'] }), yamlModules],
  },
  // `bin` in package.json: starts one of the two above (src/cli/launcher.ts).
  { ...node, sourcemap: false, entryPoints: ['src/cli/launcher.ts'], outfile: 'dist/cli.js', banner: { js: '#!/usr/bin/env node' } },
  // `edd monitor`'s log readers (src/core/monitor/parallel.ts), beside dist/cli.js.
  { ...node, entryPoints: ['src/core/monitor/monitorWorker.ts'], outfile: 'dist/monitorWorker.js' },
  { ...webview, entryPoints: { compare: 'webview/compare/main.ts', gate: 'webview/gate/main.ts', monitor: 'webview/monitor/main.ts' } },
  // The example EDD: Create Example Project copies out: its training script with `yaml` and `onnx-proto` inside, since
  // the copy has no node_modules. Not minified: the user reads it.
  { ...node, sourcemap: false, minify: false, entryPoints: ['examples/penguins/train.js'], outfile: 'dist/examples/penguins/train.js' },
];

// sql.js's wasm ships beside the bundles (the .vsix has no node_modules); the store looks for it there first.
mkdirSync('dist', { recursive: true });
copyFileSync(createRequire(import.meta.url).resolve('sql.js/dist/sql-wasm.wasm'), 'dist/sql-wasm.wasm');

// The rest of that example: configs, policy and data, with the data set the configs name copied in from vega-datasets
// (the configs name it under node_modules/ in this repository, under the example's data/ in the copy).
function stageExample() {
  const from = 'examples/penguins';
  const to = 'dist/examples/penguins';
  rmSync(to, { recursive: true, force: true });
  mkdirSync(`${to}/experiments`, { recursive: true });
  mkdirSync(`${to}/data`, { recursive: true });
  for (const f of readdirSync(`${from}/experiments`).filter(f => /\.ya?ml$/.test(f))) {
    const text = readFileSync(`${from}/experiments/${f}`, 'utf8');
    const staged = text.replaceAll('node_modules/vega-datasets/data/penguins.json', `${from}/data/penguins.json`);
    if (staged === text) throw new Error(`${from}/experiments/${f} does not name node_modules/vega-datasets/data/penguins.json`);
    writeFileSync(`${to}/experiments/${f}`, staged);
  }
  for (const f of ['eval.csv', 'reference.csv', 'penguins.data.yaml']) copyFileSync(`${from}/data/${f}`, `${to}/data/${f}`);
  copyFileSync(`${from}/penguins.policy.yaml`, `${to}/penguins.policy.yaml`);
  copyFileSync('node_modules/vega-datasets/data/penguins.json', `${to}/data/penguins.json`);
}
stageExample();

// The CLI's chunks carry a hash in their names, so dist/cli/ is emptied first: a package must not carry chunks of an
// earlier build.
if (!watch) rmSync('dist/cli', { recursive: true, force: true });

if (watch) {
  for (const t of targets) await (await esbuild.context(t)).watch();
} else {
  await Promise.all(targets.map(t => esbuild.build(t)));
}
chmodSync('dist/cli.js', 0o755);
