// Bundles the extension host code, the CLI, the validation worker and the webviews with esbuild.
// `node esbuild.mjs [--watch] [--production]`
import * as esbuild from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'fs';
import { createRequire } from 'module';

const pkg = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));

const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');

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
  // `edd monitor`'s log readers (src/core/monitor/parallel.ts), beside dist/cli.js.
  { ...node, entryPoints: ['src/core/monitor/monitorWorker.ts'], outfile: 'dist/monitorWorker.js' },
  { ...node, entryPoints: ['src/cli/main.ts'], outfile: 'dist/cli.js', banner: { js: '#!/usr/bin/env node' }, define: { EDD_VERSION: JSON.stringify(pkg.version) } },
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

if (watch) {
  for (const t of targets) await (await esbuild.context(t)).watch();
} else {
  await Promise.all(targets.map(t => esbuild.build(t)));
}
