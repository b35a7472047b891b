#!/usr/bin/env node
'use strict';
// Makes this machine ready for every tier of `npm test`, before the first tier runs:
//   1. Debian packages: chromium (the webview, integration and UI tiers drive it), ripgrep, libkrb5-dev and
//      build-essential (code-server's native modules build against Node's headers), python3 with venv and git;
//   2. code-server, from the npm registry, cached in ~/.cache/edd-code-server (test/harness/install-code-server.sh);
//   3. the Python test environment: `.venv/` in the checkout, from the pinned test/python/requirements.txt, rebuilt
//      only when that file changes (its hash is stamped inside the venv).
// As root, whatever is missing is installed. As another user, only step 1 needs root: when a Debian package is
// missing the script stops at once with one message listing the exact commands to run, and does nothing else.
// Nothing in the product needs any of this: it serves the tests and the examples.
//
// Usage: node test/harness/setup.js [--check]   (--check: report what is missing and exit 1 instead of installing)
// Environment: EDD_SKIP_SETUP=1 skips everything (for a machine prepared by other means).
const { spawnSync } = require('child_process');
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');

const ROOT = path.resolve(__dirname, '..', '..');
const REQUIREMENTS = path.join(ROOT, 'test', 'python', 'requirements.txt');
const VENV = path.join(ROOT, '.venv');
const STAMP = path.join(VENV, '.edd-requirements.sha256');
// EDD_SETUP_PACKAGES (space-separated) replaces the list: the unit test uses it to see the non-root refusal.
const DEBIAN_PACKAGES = process.env.EDD_SETUP_PACKAGES ? process.env.EDD_SETUP_PACKAGES.split(/\s+/).filter(Boolean)
  : ['chromium', 'ripgrep', 'libkrb5-dev', 'build-essential', 'git'];
// Only when no Python on the machine can make a venv (Debian's python3 needs python3-venv for that).
const PYTHON_PACKAGES = ['python3', 'python3-venv'];
const MIN_PYTHON = [3, 9];

const checkOnly = process.argv.includes('--check');
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const log = msg => console.log(`[setup] ${msg}`);

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: opts.quiet ? 'pipe' : 'inherit', encoding: 'utf8', env: { ...process.env, ...opts.env } });
  return { ok: r.status === 0 && !r.error, stdout: r.stdout || '', stderr: r.stderr || '', error: r.error };
}

function missingDebianPackages() {
  if (!fs.existsSync('/usr/bin/dpkg')) return [];
  const wanted = findPython() ? DEBIAN_PACKAGES : [...DEBIAN_PACKAGES, ...PYTHON_PACKAGES];
  return wanted.filter(p => {
    const r = run('dpkg-query', ['-W', '-f=${Status}', p], { quiet: true });
    return !(r.ok && r.stdout.includes('install ok installed'));
  });
}

/** The first Python ≥ 3.9 that can make a venv with pip: $EDD_PYTHON, then python3 on PATH, then Debian's. */
function findPython() {
  const candidates = [process.env.EDD_PYTHON, 'python3', '/usr/bin/python3'].filter(Boolean);
  for (const exe of candidates) {
    const r = run(exe, ['-c', 'import sys, venv, ensurepip; print("%d.%d" % sys.version_info[:2])'], { quiet: true });
    if (!r.ok) continue;
    const [major, minor] = r.stdout.trim().split('.').map(Number);
    if (major > MIN_PYTHON[0] || (major === MIN_PYTHON[0] && minor >= MIN_PYTHON[1])) return exe;
  }
  return undefined;
}

function requirementsHash() {
  return crypto.createHash('sha256').update(fs.readFileSync(REQUIREMENTS)).digest('hex');
}

function venvPython() {
  return path.join(VENV, 'bin', 'python');
}

function venvIsCurrent() {
  try {
    return fs.readFileSync(STAMP, 'utf8').trim() === requirementsHash() && fs.existsSync(venvPython());
  } catch {
    return false;
  }
}

function codeServerReady() {
  const r = run('sh', [path.join(__dirname, 'install-code-server.sh'), '--check'], { quiet: true });
  return r.ok;
}

function fail(lines) {
  console.error(['[setup] npm test cannot run on this machine yet.', ...lines].join('\n'));
  process.exit(1);
}

function main() {
  if (process.env.EDD_SKIP_SETUP === '1') {
    log('EDD_SKIP_SETUP=1: skipped');
    return;
  }
  const t0 = Date.now();
  const missing = missingDebianPackages();
  const needsCodeServer = !codeServerReady();
  const needsVenv = !venvIsCurrent();

  if (checkOnly) {
    const todo = [];
    if (missing.length) todo.push(`Debian packages: ${missing.join(' ')}`);
    if (needsCodeServer) todo.push('code-server (sh test/harness/install-code-server.sh)');
    if (needsVenv) todo.push(`the Python test environment (${path.relative(ROOT, VENV)}/ from ${path.relative(ROOT, REQUIREMENTS)})`);
    if (todo.length) fail(todo.map(x => `  missing: ${x}`));
    log('everything the tests need is here');
    return;
  }

  if (missing.length) {
    if (!isRoot) {
      fail([
        `Missing Debian packages: ${missing.join(' ')}. Install them as root, then run npm test again:`,
        '',
        '  sudo apt-get update',
        `  sudo apt-get install -y ${missing.join(' ')}`,
        '',
        'npm test then installs code-server (~/.cache/edd-code-server) and the Python test environment (.venv/) by itself.',
      ]);
    }
    log(`installing Debian packages: ${missing.join(' ')}`);
    if (!run('apt-get', ['update', '-qq']).ok) fail(['apt-get update failed (see above).']);
    const r = run('apt-get', ['install', '-y', '-qq', ...missing], { env: { DEBIAN_FRONTEND: 'noninteractive' } });
    if (!r.ok) fail([`apt-get install ${missing.join(' ')} failed (see above).`]);
  }

  if (needsCodeServer) {
    log('installing code-server (once; cached in ~/.cache/edd-code-server)');
    if (!run('sh', [path.join(__dirname, 'install-code-server.sh')]).ok) fail(['code-server did not install (see above).']);
  }

  if (needsVenv) {
    const python = findPython();
    if (!python) {
      fail([`No Python ≥ ${MIN_PYTHON.join('.')} with the venv module. Install one, then run npm test again:`, '', '  sudo apt-get install -y python3 python3-venv', '', 'or set EDD_PYTHON to its path.']);
    }
    const t1 = Date.now();
    log(`creating the Python test environment ${path.relative(ROOT, VENV)}/ with ${python} from ${path.relative(ROOT, REQUIREMENTS)}`);
    fs.rmSync(VENV, { recursive: true, force: true });
    if (!run(python, ['-m', 'venv', VENV]).ok) fail([`${python} -m venv ${VENV} failed (see above).`]);
    const pip = ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', '-q', '--only-binary=:all:', '-r', REQUIREMENTS];
    if (!run(venvPython(), pip).ok) {
      fs.rmSync(VENV, { recursive: true, force: true });
      fail([`pip could not install ${path.relative(ROOT, REQUIREMENTS)} (see above). Check that PyPI is reachable.`]);
    }
    fs.writeFileSync(STAMP, `${requirementsHash()}\n`);
    log(`Python test environment ready in ${((Date.now() - t1) / 1000).toFixed(1)} s`);
  }
  log(`ready (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
}

main();
