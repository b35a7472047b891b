/**
 * DOM tests of the Monitoring panel's webview: the real bundle (dist/webview/monitor.js) in headless Chromium under
 * the strict CSP, fed a real monitoring result (the core's `monitorService` on a prediction log written here) as
 * `MessageEvent`s, with a fake VS Code API recording what it posts.
 *
 *   npm run test:webview                   (runs these after the other panels' tests)
 *   node out/test/webview/monitor.dom.js [name filter]
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { loadServiceView, monitorService, type MonitorResult } from '../../src/core/monitor';
import { isMonitorResult, isMonitorViewState, type HostMessage, type MonitorViewState, type WebviewMessage } from '../../src/protocol/monitor';
import { chartsOf } from '../../webview/monitor/series';
import { HOUR, penguins, records, workspace, writeSegment } from '../unit/monitor.fixtures';
import { XSS } from './fixtures';
import { openPanel, startHarness, type Harness, type OpenOptions, type Panel } from './harness';

type Test = { name: string; fn: (h: Harness) => Promise<void> };
const tests: Test[] = [];
const test = (name: string, fn: (h: Harness) => Promise<void>): void => { tests.push({ name: `monitor: ${name}`, fn }); };

const SPEC_URI = 'file:///w/penguins.service.yaml';

/** A real result: a quiet hour with feedback, then an hour with flipper_length_mm drifted and slow requests. */
async function realResult(): Promise<MonitorResult> {
  const dir = workspace();
  try {
    const rows = penguins();
    const a = Math.floor((Date.now() - 4 * HOUR) / HOUR) * HOUR;
    writeSegment(dir, records(rows, { start: a, step: 10_000, feedback: true, tag: 'a' }), a);
    const drifted = rows.map(r => ({ ...r, flipper_length_mm: r.flipper_length_mm === null ? null : Number(r.flipper_length_mm) + 25 }));
    writeSegment(dir, [...records(drifted, { start: a + HOUR, step: 10_000, tag: 'b', latency: i => (i % 10 === 0 ? 80 : 1) }),
      { type: 'sample', time: a + HOUR + 5, cpu_percent: 12.5, rss_bytes: 150e6, heap_bytes: 70e6, in_flight: 2 }], a + HOUR);
    const { result } = await monitorService(loadServiceView(path.join(dir, 'penguins.service.yaml')), { root: dir });
    const json: unknown = JSON.parse(JSON.stringify(result));
    assert.ok(isMonitorResult(json));
    return json;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

let result: MonitorResult;

async function withMonitor(h: Harness, fn: (p: Panel) => Promise<void>, o: OpenOptions = {}): Promise<void> {
  const p = await openPanel(h, { ...o, bundle: 'monitor' });
  try {
    await fn(p);
    const rec = await p.recorded();
    assert.deepStrictEqual(rec.violations, [], `CSP violations: ${JSON.stringify(rec.violations)}`);
    assert.deepStrictEqual(p.errors, [], `errors in the page: ${p.errors.join('\n')}`);
  } finally {
    await p.close();
  }
}

async function show(p: Panel, msg: HostMessage): Promise<void> {
  const before = await p.page.evaluate(() => Number(document.getElementById('app')!.dataset.eddRendered ?? 0));
  await p.send(msg);
  await p.page.waitForFunction(n => Number(document.getElementById('app')!.dataset.eddRendered ?? 0) > n, before);
}

const posted = async (p: Panel) => (await p.posted()) as unknown as WebviewMessage[];
const texts = (p: Panel, sel: string) => p.page.$$eval(sel, els => els.map(e => e.textContent ?? ''));

test('says ready, then draws the model layer: uPlot charts with thresholds, alert markers and the alerts as text', async h => {
  await withMonitor(h, async p => {
    assert.deepStrictEqual(await posted(p), [{ type: 'ready' }]);
    await show(p, { type: 'result', specUri: SPEC_URI, result });
    assert.strictEqual(await p.page.getAttribute('[role=tab][aria-selected=true]', 'data-layer'), 'model');
    await p.page.waitForFunction(() => document.querySelectorAll('#chart-drift canvas').length > 0);
    assert.strictEqual(await p.page.getAttribute('#chart-drift', 'data-alerts'), '1');
    const legend = await texts(p, '#chart-drift .u-legend .u-label');
    assert.ok(legend.includes('flipper_length_mm') && legend.includes('threshold') && legend.includes('alert'), legend.join(','));
    const alerts = await texts(p, '.alerts li .what');
    assert.ok(alerts.some(a => /drift_psi \(flipper_length_mm\)/.test(a)), alerts.join('\n'));
    assert.ok(alerts.some(a => /latency_p95_ms/.test(a)));
    const badge = await p.page.textContent('#tab-application .badge');
    assert.strictEqual(badge, '1');
  });
});

test('every layer renders; the chart series are the result\'s numbers', async h => {
  for (const layer of ['application', 'model', 'bias', 'business', 'infrastructure'] as const) {
    const charts = chartsOf(result, layer);
    assert.ok(charts.length > 0, layer);
  }
  const drift = chartsOf(result, 'model').find(c => c.id === 'drift')!;
  assert.deepStrictEqual(drift.series.find(s => s.label === 'flipper_length_mm')!.values, result.windows.map(w => w.model.drift.flipper_length_mm.psi));
  assert.deepStrictEqual(drift.thresholds, [0.2]);
  assert.deepStrictEqual(drift.alertWindows, [1]);
  await withMonitor(h, async p => {
    await show(p, { type: 'result', specUri: SPEC_URI, result });
    for (const layer of ['application', 'bias', 'business', 'infrastructure']) {
      await p.page.click(`#tab-${layer}`);
      await p.page.waitForFunction(l => document.querySelector('[role=tab][aria-selected=true]')?.getAttribute('data-layer') === l && document.querySelectorAll('.chart canvas').length > 0, layer);
    }
    assert.match((await texts(p, '#chart-cpu .latest'))[0], /mean 12\.5/);
  }, { theme: 'light' });
});

test('keyboard: ←/→, Home and End move between the layer tabs, and the choice is kept in the state', async h => {
  await withMonitor(h, async p => {
    await show(p, { type: 'result', specUri: SPEC_URI, result });
    await p.page.focus('#tab-model');
    await p.page.keyboard.press('ArrowRight');
    await p.page.waitForFunction(() => document.activeElement?.id === 'tab-bias' && document.activeElement.getAttribute('aria-selected') === 'true');
    await p.page.keyboard.press('End');
    await p.page.waitForFunction(() => document.activeElement?.id === 'tab-infrastructure');
    await p.page.keyboard.press('ArrowRight');
    await p.page.waitForFunction(() => document.activeElement?.id === 'tab-application');
    const state = (await p.recorded()).state as MonitorViewState;
    assert.ok(isMonitorViewState(state));
    assert.strictEqual(state.layer, 'application');
    assert.strictEqual((await posted(p)).at(-1)?.type, 'stateChanged');
  });
});

test('restores the result and the layer after a reload, before the host sends anything', async h => {
  await withMonitor(h, async p => {
    await show(p, { type: 'result', specUri: SPEC_URI, result });
    await p.page.click('#tab-business');
    await p.reload();
    await p.page.waitForFunction(() => document.querySelector('[role=tab][aria-selected=true]')?.getAttribute('data-layer') === 'business');
    assert.match((await texts(p, '.chart .title'))[0], /adelie_share/);
  });
});

test('Create experiment and Refresh post to the host; text from the result stays text', async h => {
  const hostile: MonitorResult = JSON.parse(JSON.stringify(result));
  hostile.model = XSS;
  hostile.alerts[0].message = XSS;
  hostile.windows[1].alerts[0].message = XSS;
  await withMonitor(h, async p => {
    await show(p, { type: 'result', specUri: SPEC_URI, result: hostile });
    assert.strictEqual(await p.page.$$eval('img', els => els.length), 0);
    assert.ok((await texts(p, '.alerts li .what')).includes(XSS));
    assert.ok((await p.page.textContent('h1'))!.includes(XSS));
    await p.page.click('.alerts li:nth-child(2) button');
    await p.page.click('#refresh');
    const sent = await posted(p);
    assert.deepStrictEqual(sent.filter(m => m.type !== 'stateChanged').slice(1), [{ type: 'createExperiment', index: 1 }, { type: 'refresh' }]);
  });
});

test('a message that is not a monitoring message is ignored; an error is shown as text', async h => {
  await withMonitor(h, async p => {
    await p.send({ type: 'result', specUri: SPEC_URI, result: { model: 'x' } });
    await p.send({ type: 'error', message: XSS });
    await p.page.waitForFunction(() => !(document.querySelector('.error') as HTMLElement).hidden);
    assert.strictEqual(await p.page.textContent('.error'), XSS);
    assert.strictEqual(await p.page.$$eval('img', els => els.length), 0);
  });
  // the warning the page logs for the ignored message is a console warning, not an error
});

async function main(): Promise<void> {
  const only = process.argv[2];
  const selected = only ? tests.filter(t => t.name.includes(only)) : tests;
  result = await realResult();
  const h = await startHarness();
  let failed = 0;
  try {
    for (const t of selected) {
      try {
        await t.fn(h);
        console.log(`  ✓ ${t.name}`);
      } catch (err) {
        failed++;
        console.log(`  ✗ ${t.name}\n      ${(err instanceof Error ? err.stack ?? err.message : String(err)).split('\n').join('\n      ')}`);
      }
    }
  } finally {
    await h.close();
  }
  console.log(`\n${selected.length - failed} passing, ${failed} failing (${selected.length} monitoring webview DOM tests)`);
  process.exitCode = failed > 0 ? 1 : 0;
}

main().catch(err => {
  console.error(err);
  process.exitCode = 2;
});
