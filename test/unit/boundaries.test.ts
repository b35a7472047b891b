import * as assert from 'assert';
import * as path from 'path';
// eslint's programmatic API, with the project's own flat config (eslint.config.mjs).
import { ESLint } from 'eslint';

const root = path.resolve(__dirname, '../../..');

describe('layer boundaries (eslint)', function () {
  this.timeout(60000);
  const eslint = new ESLint({ cwd: root });
  const probe = "import * as vscode from 'vscode';\nexport const v = vscode.version;\n";

  for (const file of ['src/core/config/probe.ts', 'src/protocol/probe.ts', 'webview/probe.ts', 'src/cli/probe.ts']) {
    it(`forbids importing vscode in ${path.dirname(file)}`, async () => {
      const [result] = await eslint.lintText(probe, { filePath: path.join(root, file) });
      const hits = result.messages.filter(m => m.ruleId === 'no-restricted-imports');
      assert.strictEqual(hits.length, 1, JSON.stringify(result.messages));
      assert.match(hits[0].message, /must not depend on the VS Code API/);
    });
  }

  it('allows it in src/extension', async () => {
    const [result] = await eslint.lintText(probe, { filePath: path.join(root, 'src/extension/probe.ts') });
    assert.deepStrictEqual(result.messages.filter(m => m.ruleId === 'no-restricted-imports'), []);
  });
});
