'use strict';
// The `edd` calls the example scripts make, each printed as a user would type it.
const { spawnSync } = require('child_process');
const path = require('path');

const cli = path.join(__dirname, '..', 'dist', 'cli.js');

/**
 * `run(args, expected, { quiet, echo, cwd })` runs `edd ARGS` with the built CLI and returns spawnSync's result;
 * `quiet` captures stdout instead of printing it, `echo: false` leaves out the `$ edd …` line. An exit code other than
 * `expected` is printed and counted: `ok()` is false once one step did not end the way it should.
 */
function eddRunner() {
  let unexpected = 0;
  function run(args, expected, { quiet = false, echo = true, cwd } = {}) {
    if (echo) console.log(`\n$ edd ${args.map(a => (/\s/.test(a) ? JSON.stringify(a) : a)).join(' ')}`);
    const r = spawnSync(process.execPath, [cli, ...args], { cwd, stdio: quiet ? ['ignore', 'pipe', 'inherit'] : 'inherit', encoding: 'utf8' });
    if (expected !== undefined && r.status !== expected) {
      console.log(`→ exit ${r.status ?? r.signal}: UNEXPECTED (wanted exit ${expected})`);
      unexpected++;
    }
    return r;
  }
  return { run, ok: () => unexpected === 0 };
}

module.exports = { cli, eddRunner };
