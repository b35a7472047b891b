import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

// test/harness/setup.js runs before npm test's first tier. As a user who is not root it must stop at once, before
// touching anything, with the exact commands that need root.
const ROOT = path.resolve(__dirname, '..', '..', '..');
const SETUP = path.join(ROOT, 'test', 'harness', 'setup.js');

describe('npm test setup (test/harness/setup.js)', () => {
  it('as a non-root user with a Debian package missing: exit 1 at once, one message with the apt-get commands', function () {
    if (process.platform !== 'linux' || !fs.existsSync('/usr/bin/dpkg')) this.skip();
    const asRoot = process.getuid?.() === 0;
    // Root runs it as `nobody` (setpriv from util-linux); another user is already not root.
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'edd-setup-'));
    fs.chmodSync(home, 0o777);
    // `nobody` may not reach the checkout (a clone in a 0700 temp folder): it runs a copy of the script. The check
    // for Debian packages comes first and needs nothing else from the checkout.
    const script = path.join(home, 'setup.js');
    fs.copyFileSync(SETUP, script);
    fs.chmodSync(script, 0o644);
    const cmd = asRoot ? 'setpriv' : process.execPath;
    const args = asRoot ? ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, script] : [script];
    const started = Date.now();
    const r = spawnSync(cmd, args, {
      encoding: 'utf8',
      cwd: home,
      env: { PATH: process.env.PATH, HOME: home, EDD_SETUP_PACKAGES: 'chromium edd-no-such-package' },
      timeout: 30_000,
    });
    fs.rmSync(home, { recursive: true, force: true });
    assert.strictEqual(r.status, 1, r.stderr);
    assert.match(r.stderr, /sudo apt-get update/);
    assert.match(r.stderr, /sudo apt-get install -y .*edd-no-such-package/);
    assert.doesNotMatch(r.stderr, /apt-get install -y .*\bchromium\b/, 'chromium is installed here and must not be listed');
    assert.ok(Date.now() - started < 10_000, 'it stops at once');
    assert.doesNotMatch(r.stdout, /installing|creating/);
  });

  it('reports a ready machine with --check (exit 0) once setup has run', function () {
    // npm test runs setup first, so the machine the unit tier runs on is ready.
    const r = spawnSync(process.execPath, [SETUP, '--check'], { encoding: 'utf8', timeout: 30_000 });
    assert.strictEqual(r.status, 0, r.stderr + r.stdout);
  });
});
