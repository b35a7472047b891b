#!/usr/bin/env node
'use strict';
// UI test in headless Chromium against code-server's workbench, with the packaged extension (dist/edd.vsix)
// installed the way a user installs it. Opens a broken config, reads the Problems panel, the status bar and the
// EDD view, and saves screenshots in test-results/.
// Usage: node test/ui/run-ui.js   (after `npm run package`)
const assert = require('assert');
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');
const { ROOT, startCodeServer, launchBrowser, workbenchUrl, copyWorkspace } = require('../harness/workbench');

const results = path.join(ROOT, 'test-results');
const vsix = path.join(ROOT, 'dist/edd.vsix');

async function runCommand(page, title) {
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget .quick-input-box input.input');
  await input.waitFor({ state: 'visible' });
  await input.fill(`>${title}`);
  await page.locator('.quick-input-list .monaco-list-row.focused', { hasText: title }).waitFor();
  await page.keyboard.press('Enter');
}

async function openFile(page, name) {
  await page.keyboard.press('Control+P');
  const input = page.locator('.quick-input-widget .quick-input-box input.input');
  await input.waitFor({ state: 'visible' });
  await input.fill(name);
  await page.locator('.quick-input-list .monaco-list-row.focused', { hasText: name }).waitFor();
  await page.keyboard.press('Enter');
  await page.locator('.tabs-container .tab.active', { hasText: name }).waitFor();
}

/** The frame (of any webview) that holds `selector`, polled until `timeout` ms. */
async function frameWith(page, selector, timeout = 60000) {
  const deadline = Date.now() + timeout;
  for (;;) {
    for (const f of page.frames()) {
      if (await f.$(selector).catch(() => null)) return f;
    }
    if (Date.now() > deadline) throw new Error(`no webview frame shows ${selector} after ${timeout} ms`);
    await page.waitForTimeout(250);
  }
}

/** Expands or collapses a view pane of the side bar by its header. */
async function setExpanded(pane, expanded) {
  const header = pane.locator('.pane-header').first();
  await header.waitFor({ state: 'visible' });
  if (((await header.getAttribute('aria-expanded')) === 'true') !== expanded) await header.click();
}

/**
 * A service spec and five hours of its prediction log in the fixed format (the unit tests' fixtures, compiled into
 * out/): four quiet hours with feedback, then an hour with flipper_length_mm shifted by 25 mm and slow answers.
 */
function writeMonitoringLog(workspace) {
  const m = require(path.join(ROOT, 'out/test/unit/monitor.fixtures.js'));
  fs.mkdirSync(path.join(workspace, 'data'), { recursive: true });
  fs.copyFileSync(path.join(ROOT, 'examples/penguins-sklearn/data/penguins.csv'), path.join(workspace, 'data/penguins.csv'));
  fs.writeFileSync(path.join(workspace, 'penguins.service.yaml'), m.SPEC);
  fs.mkdirSync(path.join(workspace, '.edd/serving/penguins'), { recursive: true });
  const rows = m.penguins();
  const start = Math.floor((Date.now() - 6 * m.HOUR) / m.HOUR) * m.HOUR;
  for (let h = 0; h < 4; h++) {
    const t = start + h * m.HOUR;
    m.writeSegment(workspace, m.records(rows, { start: t, step: 10_000, feedback: true, tag: `q${h}`, latency: i => 2 + ((i * 7 + h * 13) % 11) }), t);
  }
  const drifted = rows.map(r => ({ ...r, flipper_length_mm: r.flipper_length_mm === null ? null : Number(r.flipper_length_mm) + 25 }));
  const t = start + 4 * m.HOUR;
  m.writeSegment(workspace, m.records(drifted, { start: t, step: 10_000, feedback: true, tag: 'd', latency: i => (i % 8 === 0 ? 90 : 4) }), t);
}

const checks = [];
const step = (t0, what) => console.log(`[ui] ${((Date.now() - t0) / 1000).toFixed(1)} s  ${what}`);

(async () => {
  const t0 = Date.now();
  if (!fs.existsSync(vsix)) {
    console.error(`[ui] ${vsix} is missing: run "npm run package" first`);
    process.exit(2);
  }
  // The test installs the package, not dist/: a package older than the sources tests old code (`npm test` packages
  // first; running this tier alone after a change does not).
  const newest = dir => fs.readdirSync(dir, { withFileTypes: true }).reduce((m, e) => Math.max(m, e.isDirectory() ? newest(path.join(dir, e.name)) : fs.statSync(path.join(dir, e.name)).mtimeMs), 0);
  const changed = ['src', 'webview'].find(d => newest(path.join(ROOT, d)) > fs.statSync(vsix).mtimeMs);
  if (changed) console.warn(`[ui] warning: ${changed}/ changed after ${path.relative(ROOT, vsix)} was made: this tests the packaged (older) code; run "npm run package" first`);
  fs.mkdirSync(results, { recursive: true });
  const logFile = path.join(results, 'code-server-ui.log');
  fs.writeFileSync(logFile, '');
  const workspace = copyWorkspace(path.join(ROOT, 'test/fixtures/workspace'));
  writeMonitoringLog(workspace);
  let cs;
  let browser;
  let page;
  let code = 1;
  try {
    cs = await startCodeServer({ workspace, logFile, vsix });
    browser = await launchBrowser();
    page = browser.context.pages()[0] || await browser.context.newPage();
    page.setDefaultTimeout(30000);
    page.on('pageerror', e => console.error('[ui] page error:', e.message));
    await page.goto(workbenchUrl(cs.base, workspace));
    await page.locator('.monaco-workbench .part.activitybar').waitFor();
    step(t0, 'workbench loaded');

    await openFile(page, 'broken.yaml');
    step(t0, 'broken.yaml open');
    await runCommand(page, 'View: Focus Problems (Errors, Warnings, Infos)');
    const panel = page.locator('.markers-panel');
    const typo = panel.locator('.monaco-list-row', { hasText: 'Unknown key `hypotesis` in `experiment`. Did you mean `hypothesis`?' });
    await typo.waitFor({ state: 'visible' });
    const rows = await panel.locator('.monaco-list-row').allInnerTexts();
    step(t0, `Problems panel: ${rows.length} rows`);
    for (const expected of ['does not agree with precision 0.8 and recall 0.6', 'must be a number, but it is a quoted string', 'must be a string, but it is a number']) {
      assert.ok(rows.some(r => r.includes(expected)), `Problems panel lacks "${expected}"; rows:\n${rows.join('\n')}`);
      checks.push(`problem listed: ${expected}`);
    }
    // The problem's location column: line 4, column 3 for the typo'd key.
    assert.ok((await typo.innerText()).includes('[Ln 4, Col 3]'), `typo row: ${await typo.innerText()}`);
    checks.push('typo row at [Ln 4, Col 3]');

    const status = page.locator('.statusbar-item', { hasText: 'EDD' });
    await status.first().waitFor({ state: 'visible' });
    step(t0, `status bar: "${(await status.first().innerText()).replace(/\s+/g, ' ').trim()}"`);
    checks.push('status bar item visible');

    await page.locator('.part.activitybar .action-item a[aria-label^="EDD"]').click();
    // Room for the config list: the other two views collapsed while it is read.
    const paneNamed = name => page.locator('.pane', { has: page.locator('.pane-header', { hasText: name }) });
    for (const name of [/^Experiments$/i, /^Models/i]) await setExpanded(paneNamed(name), false);
    const configsPane = page.locator('.pane', { has: page.locator('.pane-header', { hasText: 'Experiment Configs' }) });
    const item = configsPane.locator('.monaco-list-row', { hasText: 'exp_20250102_001' });
    await item.waitFor({ state: 'visible' });
    step(t0, `EDD view: "${(await item.innerText()).replace(/\s+/g, ' ').trim()}"`);
    checks.push('EDD view lists the config by its experiment id');
    await configsPane.locator('.monaco-list-row', { hasText: 'exp_20250103_001' }).waitFor({ state: 'visible' });
    checks.push('EDD view lists the config outside experiments/ that carries "# edd: experiment"');

    const shot = path.join(results, 'ui-problems.png');
    await page.screenshot({ path: shot });
    step(t0, `screenshot ${path.relative(ROOT, shot)}`);

    // Run an experiment from the command palette and watch it finish in the Experiments tree.
    await setExpanded(paneNamed(/^Experiments$/i), true);
    await setExpanded(configsPane, false);
    await openFile(page, 'quick.yaml');
    await runCommand(page, 'EDD: Run Experiment');
    const finished = page.locator('.notifications-toasts .notification-list-item-message', { hasText: 'finished' });
    await finished.waitFor({ state: 'visible', timeout: 60000 });
    step(t0, `notification: "${(await finished.innerText()).trim()}"`);
    checks.push('run finished notification');
    const experiments = page.locator('.pane', { has: page.locator('.pane-header', { hasText: 'Experiments' }) });
    const expRow = experiments.locator('.monaco-list-row', { hasText: 'exp_20250110_001' });
    await expRow.waitFor({ state: 'visible' });
    if ((await expRow.getAttribute('aria-expanded')) !== 'true') await expRow.click();
    const runRow = experiments.locator('.monaco-list-row[aria-level="2"]', { hasText: 'val_accuracy 0.8' });
    await runRow.waitFor({ state: 'visible' });
    step(t0, `Experiments tree run row: "${(await runRow.innerText()).replace(/\s+/g, ' ').trim()}"`);
    checks.push('Experiments tree shows the run with its key metric');
    await runRow.click();
    const metricRow = experiments.locator('.monaco-list-row[aria-level="4"]', { hasText: 'loss' });
    await metricRow.first().waitFor({ state: 'visible' });
    checks.push('run expands to its metrics');
    const shot2 = path.join(results, 'ui-runs.png');
    await page.screenshot({ path: shot2 });
    step(t0, `screenshot ${path.relative(ROOT, shot2)}`);

    // Two runs with predictions, then the comparison panel: read a table cell and the verdict inside the webview.
    for (const [config, id] of [['pred-a.yaml', 'exp_20250120_021'], ['pred-b.yaml', 'exp_20250120_022']]) {
      await openFile(page, config);
      await runCommand(page, 'EDD: Run Experiment');
      // The experiment's row in the tree says when its run is recorded (toasts come and go with focus).
      await experiments.locator('.monaco-list-row[aria-level="1"]', { hasText: id }).filter({ hasText: '1 run(s)' }).waitFor({ state: 'visible', timeout: 60000 });
    }
    step(t0, 'pred-a and pred-b finished');
    await runCommand(page, 'EDD: Compare Runs');
    const pick = page.locator('.quick-input-widget .quick-input-box input.input');
    await pick.waitFor({ state: 'visible' });
    await pick.fill('exp_20250120_02');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'exp_20250120_022' }).waitFor();
    for (const id of ['exp_20250120_021', 'exp_20250120_022']) {
      const row = page.locator('.quick-input-list .monaco-list-row', { hasText: id });
      await row.click();
    }
    await page.locator('.quick-input-widget', { hasText: '2 Selected' }).waitFor();
    await page.keyboard.press('Enter');
    const inner = page.frameLocator('iframe.webview.ready').frameLocator('iframe#active-frame');
    const verdict = inner.getByText(/B (better|worse) than A, p [<=] /).first();
    await verdict.waitFor({ state: 'visible', timeout: 60000 });
    step(t0, `comparison verdict: "${(await verdict.innerText()).trim()}"`);
    checks.push('comparison panel shows the significance verdict');
    const cell = inner.locator('#grid-metrics td .value', { hasText: /^0\.9\d*$/ }).first();
    await cell.waitFor({ state: 'visible' });
    step(t0, `comparison table cell: "${(await cell.innerText()).trim()}"`);
    checks.push('comparison table shows the runs\' metric values');
    const shot3 = path.join(results, 'ui-compare.png');
    await page.screenshot({ path: shot3 });
    step(t0, `screenshot ${path.relative(ROOT, shot3)}`);

    // The gate on the policy's predictions file (no model runtime needed), from the palette; the report panel.
    await openFile(page, 'report.policy.yaml');
    await runCommand(page, 'EDD: Check Promotion');
    const first = page.locator('.quick-input-list .monaco-list-row.focused', { hasText: "Use the policy's predictions file" });
    await first.waitFor({ state: 'visible' });
    checks.push('Check Promotion offers the policy\'s predictions file first');
    await page.keyboard.press('Enter');
    const gate = await frameWith(page, '#checks li.check');
    const statuses = await gate.$$eval('li.check', els => els.map(e => `${e.dataset.checkId}:${e.querySelector('.status-text').textContent}`));
    step(t0, `gate report: ${statuses.join(', ')}`);
    assert.deepStrictEqual(statuses, ['1-metric:Passed', '2-metric:Passed', '3-rule:Failed', '4-bias:Passed', '5-drift:Failed', '6-anomalies:Passed']);
    checks.push('gate report panel shows pass/fail per check');
    assert.match(await gate.locator('#verdict').innerText(), /Gate failed/);
    assert.strictEqual(await gate.locator('#check-5-drift rect.bar.over').count(), 2, 'two drifted columns marked in the PSI chart');
    assert.strictEqual(await gate.locator('#check-4-bias rect.bar').count(), 4, 'bias: selection rate and TPR for two groups');
    checks.push('gate report panel draws the drift and bias charts');
    const toast = page.locator('.notifications-toasts .notification-list-item', { hasText: 'Gate failed' });
    await toast.locator('.monaco-button', { hasText: 'Show Report' }).waitFor({ state: 'visible' });
    checks.push('the gate\'s notification has "Show Report"');
    // Room for the report: no side bar, no toasts; only the failed checks, so the charts are in view.
    await runCommand(page, 'Notifications: Clear All Notifications');
    await runCommand(page, 'View: Close Primary Side Bar');
    await runCommand(page, 'View: Hide Panel');
    await gate.locator('#failed-only').click();
    await gate.locator('li.check').nth(2).waitFor({ state: 'detached' });
    assert.strictEqual(await gate.locator('li.check').count(), 2, 'only the rule and the drift check');
    const shot4 = path.join(results, 'ui-gate-report.png');
    await page.screenshot({ path: shot4 });
    step(t0, `screenshot ${path.relative(ROOT, shot4)}`);
    // "Go to check in policy" selects the rule's line in the policy editor.
    await gate.locator('#check-3-rule .go-to').click();
    await page.locator('.tabs-container .tab.active', { hasText: 'report.policy.yaml' }).first().waitFor();
    await page.locator('.statusbar-item', { hasText: /Ln 12, Col \d+ \(\d+ selected\)/ }).waitFor({ state: 'visible' });
    checks.push('"Go to check in policy" selects the check in the policy');

    // The registry: the CLI registers pred-a's model (the view follows the other process's save), then the
    // promotion happens in the editor: "EDD: Promote…", the version, the stage, the reason.
    const cli = path.join(ROOT, 'dist/cli.js');
    let registered;
    for (const deadline = Date.now() + 30000; Date.now() < deadline;) {
      registered = spawnSync(process.execPath, [cli, 'register', '--experiment', 'exp_20250120_021', '--model', 'penguins', '--user', 'UI Test <ui@example.com>'], { cwd: workspace, encoding: 'utf8' });
      if (registered.status === 0) break;
      await page.waitForTimeout(500); // the extension saves its runs a second after they end
    }
    assert.strictEqual(registered.status, 0, `edd register: ${registered.stdout}${registered.stderr}`);
    step(t0, `CLI: ${registered.stdout.trim()}`);
    await page.locator('.part.activitybar .action-item a[aria-label^="EDD"]').click();
    const models = paneNamed(/^Models/i);
    await setExpanded(models, true);
    const v1 = models.locator('.monaco-list-row[aria-level="2"]', { hasText: 'v1' });
    await v1.waitFor({ state: 'visible', timeout: 30000 });
    checks.push('Models view shows the version the CLI registered');
    await runCommand(page, 'EDD: Promote…');
    const quick = page.locator('.quick-input-widget .quick-input-box input.input');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'penguins@1' }).waitFor();
    await page.keyboard.press('Enter');
    await page.locator('.quick-input-list .monaco-list-row.focused', { hasText: 'production' }).waitFor();
    await page.keyboard.press('Enter');
    await page.locator('.quick-input-widget', { hasText: 'Reason (required' }).waitFor();
    await quick.fill('UI test: the first release');
    await page.keyboard.press('Enter');
    await v1.filter({ hasText: '[production]' }).waitFor({ state: 'visible', timeout: 30000 });
    step(t0, `Models view after the promotion: "${(await v1.innerText()).replace(/\s+/g, ' ').trim()}"`);
    checks.push('Models view shows the promoted version with its production badge');
    // the editor saves the store a second after a change: poll what the CLI reads
    let entries = [];
    for (const deadline = Date.now() + 20000; entries.length < 2 && Date.now() < deadline; await page.waitForTimeout(250)) {
      entries = JSON.parse(spawnSync(process.execPath, [cli, 'audit', 'penguins', '--json'], { cwd: workspace, encoding: 'utf8' }).stdout || '[]');
    }
    assert.deepStrictEqual(entries.map(e => `${e.action} v${e.version} ${e.reason ?? ''}`.trim()), ['register v1', 'promote v1 UI test: the first release']);
    checks.push('the promotion from the editor is in the audit log the CLI reads');
    await runCommand(page, 'Notifications: Clear All Notifications');
    const shot5 = path.join(results, 'ui-models.png');
    await page.screenshot({ path: shot5 });
    step(t0, `screenshot ${path.relative(ROOT, shot5)}`);

    // Monitoring: the spec's panel from the palette, on the model layer; the drift alert drawn and listed.
    await runCommand(page, 'View: Close All Editors');
    await openFile(page, 'penguins.service.yaml');
    await runCommand(page, 'EDD: Open Monitoring');
    const monitor = await frameWith(page, '#chart-drift canvas');
    await monitor.waitForSelector('#chart-drift[data-alerts]');
    assert.notStrictEqual(await monitor.getAttribute('#chart-drift', 'data-alerts'), '0', 'the drift chart marks the alert');
    const alertTexts = await monitor.$$eval('.alerts li .what', els => els.map(e => e.textContent));
    step(t0, `monitoring alerts: ${alertTexts.join(' | ')}`);
    assert.ok(alertTexts.some(a => /drift_psi \(flipper_length_mm\)/.test(a)), alertTexts.join('\n'));
    checks.push('the Monitoring panel draws the drift chart and lists the drift alert');
    await runCommand(page, 'Notifications: Clear All Notifications');
    await monitor.locator('#chart-drift').scrollIntoViewIfNeeded();
    const shotMonitoring = path.join(results, 'ui-monitoring.png');
    await page.screenshot({ path: shotMonitoring });
    step(t0, `screenshot ${path.relative(ROOT, shotMonitoring)}`);

    // A sweep's comparison: 27 runs of a 3 × 3 grid × 3 seeds, tagged as `edd sweep` tags them, written into the
    // workspace's store by another process (the compiled core's RunStore, as the CLI would), then compared from the
    // palette; the panel shows the sweep views. Screenshot of the parallel coordinates with a keyboard brush.
    const seed = spawnSync(process.execPath, ['-e', `
      const { RunStore } = require(${JSON.stringify(path.join(ROOT, 'out/src/core/store'))});
      (async () => {
        const store = await RunStore.open(${JSON.stringify(path.join(workspace, '.edd', 'edd.sqlite'))});
        let trial = 0;
        for (const lr of [0.001, 0.01, 0.1]) for (const model of ['logistic_regression', 'random_forest', 'svm']) {
          for (const seed of [0, 1, 2]) {
            const r = store.createRun({ experimentId: 'sweep_ui', status: 'finished', seed, params: { parameters: { learning_rate: lr, model_type: model } },
              tags: { sweep_id: 'sweep-ui', trial_index: String(trial) } });
            const acc = (lr === 0.01 ? 0.9 : lr === 0.1 ? 0.85 : 0.8) + (model === 'random_forest' ? 0.01 : 0) + [0.004, -0.003, 0.001][seed];
            store.addMetrics([{ runId: r.id, key: 'val_accuracy', step: 1, value: acc }]);
          }
          trial++;
        }
        await store.close();
      })().catch(e => { console.error(e); process.exit(1); });`], { cwd: workspace, encoding: 'utf8' });
    assert.strictEqual(seed.status, 0, `seeding the sweep runs: ${seed.stderr}`);
    await runCommand(page, 'View: Close All Editors');
    await runCommand(page, 'EDD: Compare Runs');
    const sweepPick = page.locator('.quick-input-widget .quick-input-box input.input');
    await sweepPick.waitFor({ state: 'visible' });
    await sweepPick.fill('sweep_ui');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'sweep_ui' }).first().waitFor();
    // every run the filter left: the quick pick's "select all" box
    await page.locator('.quick-input-widget [aria-label="Toggle all checkboxes"]').click();
    await page.locator('.quick-input-widget', { hasText: '27 Selected' }).waitFor();
    await page.keyboard.press('Enter');
    const sweepFrame = await frameWith(page, '#sweep-parallel .pc-axis');
    await sweepFrame.waitForSelector('#sweep-best');
    assert.match(await sweepFrame.locator('#sweep-best').innerText(), /Best trial: 4 — val_accuracy = 0\.91/);
    checks.push('the comparison of a sweep\'s runs shows its best trial');
    await sweepFrame.locator('.pc-axis[data-axis="0"]').focus();
    await page.keyboard.press('Enter');
    await sweepFrame.locator('#app[data-edd-brushed="9"]').waitFor({ state: 'attached' });
    checks.push('brushing a parallel-coordinates axis from the keyboard filters the run table');
    await sweepFrame.locator('#sweep-parallel').scrollIntoViewIfNeeded();
    // no tooltip of the title bar's buttons (where the toggle-all box was clicked) in the picture
    await page.mouse.move(1200, 700);
    await page.locator('.workbench-hover-container').first().waitFor({ state: 'hidden' });
    const shot6 = path.join(results, 'ui-sweep-parallel.png');
    await page.screenshot({ path: shot6 });
    step(t0, `screenshot ${path.relative(ROOT, shot6)}`);
    code = 0;
  } catch (e) {
    console.error('[ui] FAILED:', e && e.stack || e);
    if (page) await page.screenshot({ path: path.join(results, 'ui-failure.png') }).catch(() => {});
  }
  if (browser) await browser.close();
  if (cs) await cs.stop();
  fs.rmSync(workspace, { recursive: true, force: true });
  for (const c of checks) console.log(`[ui] ✔ ${c}`);
  console.log(`[ui] exit ${code} after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  process.exit(code);
})();
