// Puts into dist/node_modules/ exactly what `require('onnxruntime-node')` needs at run time on one platform, so the
// packaged extension (dist/extension.js, dist/cli.js: onnxruntime-node is external to the bundles) can run ONNX models.
//
//   node scripts/stage-onnxruntime.mjs [--target linux-x64]   stage (replaces dist/node_modules)
//   node scripts/stage-onnxruntime.mjs --remove               delete dist/node_modules again
//
// What is copied, from the installed packages (their layout is checked, so an upgrade that moves things fails here
// rather than in a user's editor):
//   onnxruntime-node/package.json, dist/*.js                 the JS binding (no maps, no typings)
//   onnxruntime-node/bin/napi-v<N>/<platform>/<arch>/*       the native addon and libonnxruntime (one platform only:
//                                                            all platforms together are 288 MB)
//   onnxruntime-common/package.json, dist/cjs/**/*.js         the API it re-exports (its CommonJS build)
//   dist/cjs/package.json                                    ({"type": "commonjs"}: the package itself is ESM)
// .vscodeignore whitelists the same paths.
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'fs';
import { createRequire } from 'module';
import * as path from 'path';
import { fileURLToPath } from 'url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const out = path.join(root, 'dist', 'node_modules');

if (process.argv.includes('--remove')) {
  rmSync(out, { recursive: true, force: true });
  process.exit(0);
}

const targetArg = process.argv.indexOf('--target');
const target = targetArg > 0 ? process.argv[targetArg + 1] : 'linux-x64';
const [platform, arch] = target.split('-');
if (!platform || !arch) fail(`--target must look like linux-x64, got ${target}`);

function fail(message) {
  console.error(`[stage-onnxruntime] ${message}`);
  process.exit(1);
}

/** The folder of an installed package, found from the file `require.resolve` gives (exports may hide package.json). */
function packageDir(name, from) {
  let dir = path.dirname(createRequire(from).resolve(name));
  while (!existsSync(path.join(dir, 'package.json')) || JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')).name !== name) {
    const up = path.dirname(dir);
    if (up === dir) fail(`cannot find the folder of ${name}`);
    dir = up;
  }
  return dir;
}

const files = [];
function copy(from, to) {
  mkdirSync(path.dirname(to), { recursive: true });
  cpSync(from, to);
  files.push({ file: path.relative(root, to), size: statSync(to).size });
}
const jsIn = dir => readdirSync(dir, { recursive: true, withFileTypes: true })
  .filter(e => e.isFile() && e.name.endsWith('.js'))
  .map(e => path.relative(dir, path.join(e.parentPath ?? e.path, e.name)));

const nodeDir = packageDir('onnxruntime-node', path.join(root, 'package.json'));
const commonDir = packageDir('onnxruntime-common', path.join(nodeDir, 'package.json'));
const nodePkg = JSON.parse(readFileSync(path.join(nodeDir, 'package.json'), 'utf8'));
const commonPkg = JSON.parse(readFileSync(path.join(commonDir, 'package.json'), 'utf8'));
if (nodePkg.dependencies?.['onnxruntime-common'] !== commonPkg.version) {
  fail(`onnxruntime-node ${nodePkg.version} wants onnxruntime-common ${nodePkg.dependencies?.['onnxruntime-common']}, installed is ${commonPkg.version}`);
}

// The binding requires `../bin/napi-v<N>/${process.platform}/${process.arch}/onnxruntime_binding.node`: read N from it.
const bindingJs = readFileSync(path.join(nodeDir, 'dist', 'binding.js'), 'utf8');
const napi = /bin\/(napi-v\d+)\/\$\{process\.platform\}\/\$\{process\.arch\}\/onnxruntime_binding\.node/.exec(bindingJs)?.[1];
if (!napi) fail(`${path.join(nodeDir, 'dist', 'binding.js')} no longer requires bin/napi-v<N>/<platform>/<arch>/onnxruntime_binding.node: check the package layout`);
const binDir = path.join(nodeDir, 'bin', napi, platform, arch);
if (!existsSync(path.join(binDir, 'onnxruntime_binding.node'))) fail(`onnxruntime-node ${nodePkg.version} has no binaries for ${target} in ${binDir}`);
const commonMain = path.join(commonDir, commonPkg.exports?.require ?? commonPkg.main);
if (!existsSync(commonMain)) fail(`onnxruntime-common's CommonJS entry ${commonMain} is missing`);
const cjsDir = path.dirname(commonMain);

rmSync(out, { recursive: true, force: true });
const nodeOut = path.join(out, 'onnxruntime-node');
const commonOut = path.join(out, 'onnxruntime-common');
copy(path.join(nodeDir, 'package.json'), path.join(nodeOut, 'package.json'));
for (const f of jsIn(path.join(nodeDir, 'dist'))) copy(path.join(nodeDir, 'dist', f), path.join(nodeOut, 'dist', f));
for (const f of readdirSync(binDir)) copy(path.join(binDir, f), path.join(nodeOut, 'bin', napi, platform, arch, f));
copy(path.join(commonDir, 'package.json'), path.join(commonOut, 'package.json'));
const cjsRel = path.relative(commonDir, cjsDir);
for (const f of jsIn(cjsDir)) copy(path.join(cjsDir, f), path.join(commonOut, cjsRel, f));
if (existsSync(path.join(cjsDir, 'package.json'))) copy(path.join(cjsDir, 'package.json'), path.join(commonOut, cjsRel, 'package.json'));

const mb = n => `${(n / 1024 / 1024).toFixed(1)} MB`;
console.log(`[stage-onnxruntime] onnxruntime-node ${nodePkg.version} (${napi}, ${target}) + onnxruntime-common ${commonPkg.version}: ` +
  `${files.length} files, ${mb(files.reduce((s, f) => s + f.size, 0))} in ${path.relative(root, out)}`);
