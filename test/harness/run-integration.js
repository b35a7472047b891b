#!/usr/bin/env node
'use strict';
// Runs the integration suite (out/test/integration) inside code-server's real extension host, driven by headless
// Chromium. The workbench loads this folder as a development extension and calls back with the suite's result.
// Exit code = the suite's (0 all passed, 1 a failure), 124 on timeout.
// Usage: node test/harness/run-integration.js [--grep PATTERN] [--timeout SECONDS] [--restricted]
//   --restricted: open the workspace untrusted (Restricted Mode) and run only the suites meant for it.
const fs = require('fs');
const path = require('path');
const util = require('util');
const { ROOT, startCodeServer, launchBrowser, remoteUri, workbenchUrl, copyWorkspace } = require('./workbench');

const argValue = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};

(async () => {
  const t0 = Date.now();
  const tests = path.join(ROOT, 'out/test/integration/index.js');
  if (!fs.existsSync(tests)) {
    console.error(`[integration] ${tests} is missing: run "npm run compile-tests" (npm test does it) first`);
    process.exit(2);
  }
  if (!fs.existsSync(path.join(ROOT, 'dist/extension.js'))) {
    console.error('[integration] dist/extension.js is missing: run "npm run build" first');
    process.exit(2);
  }
  const workspace = copyWorkspace(path.join(ROOT, 'test/fixtures/workspace'));
  const results = path.join(ROOT, 'test-results');
  fs.mkdirSync(results, { recursive: true });
  const logFile = path.join(results, 'code-server-integration.log');
  fs.writeFileSync(logFile, '');
  const timeoutS = Number(argValue('timeout', 600));
  let cs;
  let browser;
  const finish = async code => {
    if (browser) await browser.close();
    if (cs) await cs.stop();
    fs.rmSync(workspace, { recursive: true, force: true });
    console.log(`[integration] exit ${code} after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    process.exit(code);
  };
  const watchdog = setTimeout(() => { console.error(`[integration] timed out after ${timeoutS} s`); void finish(124); }, timeoutS * 1000);
  try {
    if (argValue('grep')) process.env.EDD_TEST_GREP = argValue('grep');
    const restricted = process.argv.includes('--restricted');
    process.env.EDD_TEST_MODE = restricted ? 'restricted' : 'trusted';
    cs = await startCodeServer({ workspace, logFile, restricted });
    browser = await launchBrowser();
    const page = browser.context.pages()[0] || await browser.context.newPage();
    let report;
    const exited = new Promise(resolve => { report = resolve; });
    // The workbench in automation mode forwards the extension host's console and its exit code to these.
    await page.exposeFunction('codeAutomationLog', (type, args) => {
      const line = util.format(...(Array.isArray(args) ? args : [args]));
      (console[type] || console.log)(line);
    });
    await page.exposeFunction('codeAutomationExit', code => report(code));
    page.on('pageerror', e => console.error('[integration] page error:', e.message));
    const payload = [
      ['extensionDevelopmentPath', remoteUri(cs.base, ROOT)],
      ['extensionTestsPath', remoteUri(cs.base, tests)],
      ['skipWelcome', 'true'],
      ['skipReleaseNotes', 'true'],
    ];
    await page.goto(workbenchUrl(cs.base, workspace, payload));
    const code = await exited;
    clearTimeout(watchdog);
    await finish(typeof code === 'number' ? code : 1);
  } catch (e) {
    clearTimeout(watchdog);
    console.error('[integration] error:', e && e.stack || e);
    await finish(1);
  }
})();
