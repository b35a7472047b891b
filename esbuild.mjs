// Bundles the extension host code, the CLI, the validation worker and the webviews with esbuild.
// `node esbuild.mjs [--watch] [--production]`
import * as esbuild from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync } from 'fs';
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
  { ...node, entryPoints: ['src/cli/main.ts'], outfile: 'dist/cli.js', banner: { js: '#!/usr/bin/env node' }, define: { EDD_VERSION: JSON.stringify(pkg.version) } },
  { ...webview, entryPoints: { compare: 'webview/compare/main.ts', gate: 'webview/gate/main.ts' } },
];

// sql.js's wasm ships beside the bundles (the .vsix has no node_modules); the store looks for it there first.
mkdirSync('dist', { recursive: true });
copyFileSync(createRequire(import.meta.url).resolve('sql.js/dist/sql-wasm.wasm'), 'dist/sql-wasm.wasm');

if (watch) {
  for (const t of targets) await (await esbuild.context(t)).watch();
} else {
  await Promise.all(targets.map(t => esbuild.build(t)));
}
