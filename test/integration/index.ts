// Loaded by the extension host as `extensionTestsPath`: runs every *.test.js beside it with mocha.
import * as fs from 'fs';
import * as path from 'path';
import Mocha from 'mocha';

export function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'bdd', color: false, timeout: 60000, grep: process.env.EDD_TEST_GREP });
  // Restricted Mode (an untrusted workspace) needs its own window: those suites end in .restricted.test.js.
  const restricted = process.env.EDD_TEST_MODE === 'restricted';
  const files = fs.readdirSync(__dirname).filter(f => f.endsWith('.test.js') && f.endsWith('.restricted.test.js') === restricted);
  for (const f of files.sort()) mocha.addFile(path.join(__dirname, f));
  return new Promise((resolve, reject) => {
    mocha.run(failures => (failures ? reject(new Error(`${failures} integration test(s) failed`)) : resolve()));
  });
}
