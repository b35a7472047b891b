import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

// Required by mocha before the unit tests (test/unit/.mocharc.json): the `edd run`s they start keep their V8 code cache
// (src/cli/codeCache.ts) in a folder of this test run's, not in the user's cache folder.
if (!process.env.EDD_CACHE_DIR) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edd-unit-cache-'));
  process.env.EDD_CACHE_DIR = dir;
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
}
