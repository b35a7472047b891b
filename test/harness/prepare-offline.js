#!/usr/bin/env node
'use strict';
// Called by install-code-server.sh between "npm install --ignore-scripts" and "npm rebuild", so that the rebuild
// needs only the npm registry:
//  - VS Code's shrinkwrap files name a few dependencies by git URL; each is re-pointed at the registry tarball of
//    the same version (the integrity is compared and reported);
//  - @vscode/ripgrep's postinstall downloads a release from GitHub unless its cache folder already holds the
//    archive: we build that archive from Debian's /usr/bin/rg.
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync } = require('child_process');

const vscodeDir = path.join(path.resolve(process.argv[2] || '.'), 'node_modules/code-server/lib/vscode');
const run = (cmd, args, opts = {}) => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], ...opts }).trim();

let rgVersion;
for (const file of ['npm-shrinkwrap.json', 'extensions/npm-shrinkwrap.json'].map(f => path.join(vscodeDir, f))) {
  if (!fs.existsSync(file)) continue;
  const lock = JSON.parse(fs.readFileSync(file, 'utf8'));
  let changed = 0;
  for (const [key, entry] of Object.entries(lock.packages || {})) {
    const name = key.slice(key.lastIndexOf('node_modules/') + 'node_modules/'.length);
    if (name === '@vscode/ripgrep') rgVersion = rgVersion || entry.version;
    if (!entry.resolved || entry.resolved.startsWith('https://registry.npmjs.org/')) continue;
    const dist = JSON.parse(run('npm', ['view', `${name}@${entry.version}`, 'dist', '--json']));
    const same = dist.integrity === entry.integrity ? 'same integrity' : 'integrity differs';
    console.log(`prepare-offline: ${name}@${entry.version} -> ${dist.tarball} (${same})`);
    entry.resolved = dist.tarball;
    entry.integrity = dist.integrity;
    changed++;
  }
  if (changed) fs.writeFileSync(file, JSON.stringify(lock, null, 2) + '\n');
}

if (rgVersion) {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'edd-rg-'));
  run('npm', ['pack', `@vscode/ripgrep@${rgVersion}`, '--silent'], { cwd: work });
  const tgz = fs.readdirSync(work).find(f => f.endsWith('.tgz'));
  run('tar', ['xzf', tgz], { cwd: work });
  const postinstall = fs.readFileSync(path.join(work, 'package/lib/postinstall.js'), 'utf8');
  const tag = /const VERSION = '([^']+)'/.exec(postinstall)[1];
  const arch = { x64: 'x86_64', arm64: 'aarch64' }[os.arch()];
  const cache = path.join(os.tmpdir(), `vscode-ripgrep-cache-${rgVersion}`);
  fs.mkdirSync(cache, { recursive: true });
  fs.mkdirSync(path.join(work, 'bin'));
  fs.copyFileSync(run('sh', ['-c', 'command -v rg']), path.join(work, 'bin/rg'));
  const archive = path.join(cache, `ripgrep-${tag}-${arch}-unknown-linux-musl.tar.gz`);
  run('tar', ['czf', archive, '-C', path.join(work, 'bin'), 'rg']);
  fs.rmSync(work, { recursive: true, force: true });
  console.log(`prepare-offline: seeded ${archive} from Debian's rg`);
}
