#!/usr/bin/env node
'use strict';
// Runs the same integration suite as run-integration.js, in desktop VS Code via @vscode/test-electron.
// Needs to download VS Code from update.code.visualstudio.com, so it works on machines with internet access
// (on the offline CI machines `npm test` uses code-server instead). Usage: npm run test:electron
const fs = require('fs');
const path = require('path');
const { runTests } = require('@vscode/test-electron');
const { ROOT, copyWorkspace } = require('./workbench');

(async () => {
  const workspace = copyWorkspace(path.join(ROOT, 'test/fixtures/workspace'));
  try {
    await runTests({
      version: process.env.EDD_VSCODE_VERSION || '1.100.3',
      extensionDevelopmentPath: ROOT,
      extensionTestsPath: path.join(ROOT, 'out/test/integration/index.js'),
      launchArgs: [workspace, '--disable-extensions', '--disable-workspace-trust', '--skip-welcome', '--skip-release-notes'],
    });
    process.exitCode = 0;
  } catch (e) {
    console.error(`[electron] ${e && e.message || e}`);
    if (/ENOTFOUND|getaddrinfo|ECONNREFUSED/.test(String(e && e.message))) {
      console.error('[electron] VS Code could not be downloaded here; run "npm run test:integration" (code-server) instead.');
    }
    process.exitCode = 1;
  } finally {
    fs.rmSync(workspace, { recursive: true, force: true });
  }
})();
