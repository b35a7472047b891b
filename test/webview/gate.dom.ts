/**
 * DOM tests of the gate report panel's webview: the real bundle (dist/webview/gate.js) in headless Chromium under the
 * strict CSP, fed real gate reports (test/fixtures/gate/*.report.json, written by `edd gate --json`) as
 * `MessageEvent`s, with a fake VS Code API recording what it posts.
 *
 *   npm run test:webview                   (runs these after the comparison panel's tests)
 *   node out/test/webview/gate.dom.js [name filter]
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import type { GateReport, HostMessage, WebviewMessage } from '../../src/protocol/gate';
import { isGateReport, isGateViewState } from '../../src/protocol/gate';
import { biasCharts, driftCharts } from '../../webview/gate/charts';
import { formatValue, measuredEntries, thresholdEntries } from '../../webview/gate/values';
import { XSS } from './fixtures';
import { openPanel, ROOT, startHarness, type Harness, type OpenOptions, type Panel } from './harness';

type Test = { name: string; fn: (h: Harness) => Promise<void> };
/** The gate panel's tests (compare.dom.ts runs them after its own; this file runs them alone when started directly). */
export const gateTests: Test[] = [];
const test = (name: string, fn: (h: Harness) => Promise<void>): void => {
  gateTests.push({ name: `gate: ${name}`, fn });
};

function fixture(name: string): GateReport {
  const r: unknown = JSON.parse(fs.readFileSync(path.join(ROOT, 'test', 'fixtures', 'gate', name), 'utf8'));
  assert.ok(isGateReport(r), `${name} is a gate report`);
  return r;
}
/** The example's short-training model: 11 checks, the F1 and accuracy minimums fail. */
const penguins = () => fixture('penguins-short-training.report.json');
/** The UI test's predictions candidate: the rule and the drift check fail (2 of 4 columns drifted). */
const predictions = () => fixture('workspace-predictions.report.json');
const POLICY_URI = 'file:///w/gates/report.policy.yaml';

async function withGate(h: Harness, fn: (p: Panel) => Promise<void>, o: OpenOptions = {}): Promise<void> {
  const p = await openPanel(h, { ...o, bundle: 'gate' });
  try {
    await fn(p);
    const rec = await p.recorded();
    assert.deepStrictEqual(rec.violations, [], `CSP violations: ${JSON.stringify(rec.violations)}`);
    assert.deepStrictEqual(p.errors, [], `errors in the page: ${p.errors.join('\n')}`);
  } finally {
    await p.close();
  }
}

const posted = async (p: Panel) => (await p.posted()) as unknown as WebviewMessage[];

/** Posts a host message and waits until the app has painted the render it caused. */
async function show(p: Panel, msg: HostMessage): Promise<void> {
  const before = await p.page.evaluate(() => Number(document.getElementById('app')!.dataset.eddRendered ?? 0));
  await p.send(msg);
  await p.page.waitForFunction(n => Number(document.getElementById('app')!.dataset.eddRendered ?? 0) > n, before);
}

const report = (r: GateReport, policyUri: string | undefined = POLICY_URI): HostMessage => ({ type: 'report', report: r, policyUri });

async function texts(p: Panel, selector: string): Promise<string[]> {
  return p.page.$$eval(selector, els => els.map(e => (e as HTMLElement).innerText.replace(/\s+/g, ' ').trim()));
}

// Pure modules, on Node ------------------------------------------------------------------------------------------

test('values: thresholds flattened with their bound, measured scalars formatted', async () => {
  assert.deepStrictEqual(thresholdEntries({ min: 0.9 }), [{ label: 'min', value: '≥ 0.9' }]);
  assert.deepStrictEqual(thresholdEntries({ psi: { max: 0.25, bins: 5 }, ks: { alpha: 0.01 }, columns: ['a', 'b'] }), [
    { label: 'psi', value: '≤ 0.25' }, { label: 'psi.bins', value: '5' }, { label: 'ks.alpha', value: '0.01' }, { label: 'columns', value: '[a, b]' },
  ]);
  assert.deepStrictEqual(measuredEntries({ f1: 0.8086253022585789, rows: 100, shape: [null, 3], columns: { a: {} } }), [
    { label: 'f1', value: '0.8086' }, { label: 'rows', value: '100' }, { label: 'shape', value: '[N, 3]' },
  ]);
  assert.strictEqual(formatValue(null), '—');
  assert.strictEqual(formatValue(1.2345e-7), '1.23e-7');
});

test('charts: drift gives a bar per column per statistic, the drifted columns marked; bias a bar per group per rate', async () => {
  const r = predictions();
  const drift = driftCharts(r.checks.find(c => c.kind === 'drift')!);
  assert.deepStrictEqual(drift.map(c => c.id), ['drift-psi', 'drift-ks']);
  const psi = drift[0];
  assert.deepStrictEqual(psi.bars.map(b => b.label), ['bill_length_mm', 'bill_depth_mm', 'flipper_length_mm', 'body_mass_g']);
  assert.deepStrictEqual(psi.bars.map(b => b.over), [false, false, true, true]);
  assert.strictEqual(psi.threshold?.value, 0.1);
  assert.ok(Math.abs(drift[1].threshold!.value - 2) < 1e-12, 'the KS line is at −log10(α = 0.01) = 2');
  assert.deepStrictEqual(psi.bars.map(b => b.note), [undefined, undefined, 'drifted', 'drifted']);
  assert.deepStrictEqual(drift[1].bars.map(b => b.note), [undefined, undefined, 'drifted by PSI', 'drifted by PSI'], 'KS did not flag them: the chart says which statistic did');
  assert.deepStrictEqual(drift[1].bars.map(b => b.over), [false, false, false, false]);
  const bias = biasCharts(r.checks.find(c => c.kind === 'bias')!);
  assert.deepStrictEqual(bias.map(c => c.id), ['bias-sex-selection_rate', 'bias-sex-true_positive_rate']);
  assert.deepStrictEqual(bias[0].bars.map(b => [b.label, b.value]), [['FEMALE', 0.36], ['MALE', 0.46]]);
});

// The page ---------------------------------------------------------------------------------------------------------

test('says ready first and shows the empty state until a report arrives', async h => withGate(h, async p => {
  assert.deepStrictEqual(await posted(p), [{ type: 'ready' }]);
  await p.page.locator('#empty-state').waitFor();
  assert.strictEqual(await p.page.locator('#empty-state h1').textContent(), 'No gate report yet');
  assert.strictEqual(await p.page.locator('#check-promotion').count(), 0, 'no policy known: nothing to run');
  await show(p, { type: 'report', report: null, policyUri: POLICY_URI });
  await p.page.locator('#check-promotion').click();
  assert.deepStrictEqual((await posted(p)).slice(-1), [{ type: 'rerun' }]);
}));

test('renders a row per check with its status as icon and text, measured beside the threshold', async h => withGate(h, async p => {
  const r = penguins();
  await show(p, report(r));
  assert.strictEqual(await p.page.locator('li.check').count(), 11);
  assert.deepStrictEqual(await p.page.$$eval('li.check', els => els.map(e => (e as HTMLElement).dataset.checkId)), r.checks.map(c => c.id));
  assert.deepStrictEqual(await texts(p, 'li.check .status-text'), r.checks.map(c => (c.status === 'pass' ? 'Passed' : 'Failed')));
  assert.deepStrictEqual(await texts(p, 'li.check[data-status="fail"] .status-icon'), ['✗', '✗']);
  assert.deepStrictEqual(await texts(p, 'li.check .check-title'), r.checks.map(c => c.title));
  const f1 = p.page.locator('#check-1-metric');
  assert.deepStrictEqual(await texts(p, '#check-1-metric .measured dl > *'), ['f1', '0.8086']);
  assert.deepStrictEqual(await texts(p, '#check-1-metric .threshold dl > *'), ['min', '≥ 0.9']);
  assert.strictEqual((await f1.locator('.check-message').textContent()), r.checks[0].message);
  assert.deepStrictEqual(await texts(p, '#check-10-latency .threshold dl > *'), ['batch', '1', 'p95_ms', '5']);
  // Header: policy, verdict, counts, candidate, duration.
  assert.strictEqual(await p.page.locator('#policy').textContent(), 'Gate report: examples/penguins/penguins.policy.yaml');
  assert.match(await p.page.locator('#verdict').innerText(), /^✗\s*Gate failed$/);
  assert.deepStrictEqual(await texts(p, '#counts li'), ['✓ 9 Passed', '✗ 2 Failed', '⚠ 0 Warning', '⊘ 0 Could not run']);
  const meta = await p.page.locator('#meta').innerText();
  assert.match(meta, /Candidate: run 131f0366 · \.edd\/runs\/131f0366-[\w-]+\/artifacts\/model\.onnx/);
  assert.match(meta, /took 215 ms/);
}));

test('a passing report says so; a check that could not run says "Could not run"', async h => withGate(h, async p => {
  const r = penguins();
  r.checks[0] = { ...r.checks[0], status: 'error', message: 'metric: no model outputs' };
  r.checks[1] = { ...r.checks[1], status: 'warn' };
  await show(p, report(r));
  assert.deepStrictEqual((await texts(p, 'li.check .status-text')).slice(0, 2), ['Could not run', 'Warning']);
  const ok = { ...penguins(), passed: true, summary: { pass: 11, fail: 0, warn: 0, error: 0 } };
  ok.checks = ok.checks.map(c => ({ ...c, status: 'pass' as const }));
  await show(p, report(ok));
  assert.match(await p.page.locator('#verdict').innerText(), /Gate passed/);
}));

test('evidence opens and closes with Enter and Space on the focused check; arrows move between checks', async h => withGate(h, async p => {
  await show(p, report(penguins()));
  const head = p.page.locator('#head-1-metric');
  const evidence = p.page.locator('#evidence-1-metric');
  assert.strictEqual(await head.getAttribute('aria-expanded'), 'false');
  assert.ok(await evidence.isHidden());
  // Tab reaches the first check (after the toolbar's controls).
  for (let i = 0; i < 10; i++) {
    await p.page.keyboard.press('Tab');
    if (await p.page.evaluate(() => document.activeElement?.id === 'head-1-metric')) break;
  }
  assert.strictEqual(await p.page.evaluate(() => document.activeElement?.id), 'head-1-metric', 'Tab reaches the first check');
  await p.page.keyboard.press('Enter');
  assert.strictEqual(await head.getAttribute('aria-expanded'), 'true');
  assert.ok(await evidence.isVisible());
  // The per-class evidence of the F1 check is a table.
  assert.deepStrictEqual((await texts(p, '#evidence-1-metric table tbody tr td:first-child')), ['Adelie', 'Chinstrap', 'Gentoo']);
  await p.page.keyboard.press(' ');
  assert.strictEqual(await head.getAttribute('aria-expanded'), 'false');
  assert.ok(await evidence.isHidden());
  await p.page.keyboard.press('ArrowDown');
  assert.strictEqual(await p.page.evaluate(() => document.activeElement?.id), 'head-2-metric');
  await p.page.keyboard.press('End');
  assert.strictEqual(await p.page.evaluate(() => document.activeElement?.id), 'head-11-size');
  await p.page.keyboard.press(' ');
  assert.ok(await p.page.locator('#evidence-11-size').isVisible());
  assert.match(await p.page.locator('#evidence-11-size').innerText(), /This check recorded no evidence/);
  // Which checks are open is kept in the webview's state.
  const state = (await p.recorded()).state;
  assert.ok(isGateViewState(state));
  assert.deepStrictEqual(state.expanded, ['11-size']);
}));

test('drift chart: a bar per column and statistic against the threshold, the drifted columns marked in words', async h => withGate(h, async p => {
  await show(p, report(predictions()));
  const drift = p.page.locator('#check-5-drift');
  assert.strictEqual(await drift.locator('figure.chart').count(), 2);
  assert.deepStrictEqual(await drift.locator('figure.chart').evaluateAll(els => els.map(e => (e as HTMLElement).dataset.chart)), ['drift-psi', 'drift-ks']);
  assert.strictEqual(await drift.locator('rect.bar').count(), 8);
  const psi = drift.locator('figure[data-chart="drift-psi"]');
  assert.strictEqual(await psi.locator('rect.bar').count(), 4);
  assert.deepStrictEqual(await psi.locator('g.row.over').evaluateAll(els => els.map(e => e.getAttribute('data-label'))), ['flipper_length_mm', 'body_mass_g']);
  assert.strictEqual(await psi.locator('rect.bar.over').count(), 2);
  assert.deepStrictEqual(await psi.locator('.note').allTextContents(), ['⚠ drifted', '⚠ drifted']);
  assert.strictEqual(await psi.locator('line.threshold').count(), 1);
  assert.strictEqual(await psi.locator('.threshold-label').textContent(), 'max 0.1');
  assert.strictEqual(await psi.locator('svg').getAttribute('role'), 'img');
  // The longest bar is the most drifted column's; bars are in proportion to the statistic.
  const widths = await psi.locator('rect.bar').evaluateAll(els => els.map(e => Number(e.getAttribute('width'))));
  const values = predictions().checks[4].measured.columns as Record<string, { psi: number }>;
  const psis = Object.values(values).map(v => v.psi);
  widths.forEach((w, i) => assert.ok(Math.abs(w / widths[2] - psis[i] / psis[2]) < 0.02, `bar ${i}: ${w} vs ${widths[2]}`));
}));

test('bias chart: a bar per group for the selection rate and the TPR', async h => withGate(h, async p => {
  await show(p, report(predictions()));
  const bias = p.page.locator('#check-4-bias');
  assert.strictEqual(await bias.locator('figure.chart').count(), 2);
  assert.strictEqual(await bias.locator('rect.bar').count(), 4);
  assert.deepStrictEqual(await bias.locator('figure[data-chart="bias-sex-selection_rate"] text.label').allTextContents(), ['FEMALE', 'MALE']);
  assert.deepStrictEqual(await bias.locator('figure[data-chart="bias-sex-selection_rate"] text.value').allTextContents(), ['0.36 (n = 50)', '0.46 (n = 50)']);
  assert.strictEqual(await bias.locator('rect.bar.over').count(), 0, 'within bounds: no group marked');
  // A broken bound marks the lowest and highest groups.
  const r = predictions();
  const b = r.checks[3];
  b.threshold = { ...b.threshold, demographic_parity_difference: { max: 0.05 } };
  b.status = 'fail';
  await show(p, report(r));
  const sel = p.page.locator('#check-4-bias figure[data-chart="bias-sex-selection_rate"]');
  assert.strictEqual(await sel.locator('rect.bar.over').count(), 2);
  assert.deepStrictEqual(await sel.locator('.note').allTextContents(), ['⚠ lowest', '⚠ highest']);
  // No other kind of check has a chart.
  assert.strictEqual(await p.page.locator('li.check:not(#check-4-bias):not(#check-5-drift) figure.chart').count(), 0);
}));

test('"Failed only" keeps the checks that failed or could not run, and survives a reload', async h => withGate(h, async p => {
  await show(p, report(predictions()));
  assert.strictEqual(await p.page.locator('li.check').count(), 6);
  await p.page.locator('#failed-only').click();
  await p.page.waitForFunction(() => document.querySelectorAll('li.check').length === 2);
  assert.deepStrictEqual(await p.page.$$eval('li.check', els => els.map(e => (e as HTMLElement).dataset.checkId)), ['3-rule', '5-drift']);
  await p.reload();
  // Restored from the state before the host posts anything: the report and the filter.
  await p.page.waitForFunction(() => document.querySelectorAll('li.check').length === 2);
  await show(p, report(predictions()));
  assert.strictEqual(await p.page.locator('li.check').count(), 2);
  await p.page.locator('#failed-only').click();
  await p.page.waitForFunction(() => document.querySelectorAll('li.check').length === 6);
  // Every check passed and the filter is on: say so instead of an empty list.
  await p.page.locator('#failed-only').click();
  const ok = predictions();
  ok.checks = ok.checks.map(c => ({ ...c, status: 'pass' as const }));
  await show(p, report({ ...ok, passed: true, summary: { pass: 6, fail: 0, warn: 0, error: 0 } }));
  assert.match(await p.page.locator('#no-checks').innerText(), /Every check passed/);
}));

test('"Go to check in policy" and "Run again" post their messages', async h => withGate(h, async p => {
  await show(p, report(predictions()));
  await p.page.locator('#check-3-rule .go-to').click();
  await p.page.locator('#rerun').click();
  assert.deepStrictEqual((await posted(p)).slice(1), [{ type: 'revealCheck', checkId: '3-rule' }, { type: 'rerun' }]);
  // Without a policy to go to, there is no such button.
  await show(p, { type: 'report', report: predictions() });
  assert.strictEqual(await p.page.locator('.go-to').count(), 0);
  assert.strictEqual(await p.page.locator('#rerun').count(), 0);
}));

test('user strings are rendered as text: markup in titles, messages, evidence and group names stays text', async h => withGate(h, async p => {
  const r = predictions();
  r.policy = `gates/${XSS}.policy.yaml`;
  r.checks[0] = { ...r.checks[0], title: XSS, message: `<b>${XSS}</b>`, evidence: { [XSS]: [{ [XSS]: XSS }] }, measured: { [XSS]: XSS } };
  const bias = r.checks[3];
  (bias.evidence as { groups: Record<string, Array<{ group: string }>> }).groups.sex[0].group = XSS;
  await show(p, report(r));
  await p.page.locator('#head-1-metric').click();
  const counts = await p.page.evaluate(() => ({
    img: document.querySelectorAll('img').length,
    b: document.querySelectorAll('li.check b').length,
    onAttrs: [...document.querySelectorAll('*')].filter(e => [...e.attributes].some(a => a.name.startsWith('on'))).length,
  }));
  assert.deepStrictEqual(counts, { img: 0, b: 0, onAttrs: 0 });
  assert.strictEqual(await p.page.locator('#check-1-metric .check-title').textContent(), XSS);
  assert.strictEqual(await p.page.locator('#check-1-metric .check-message').textContent(), `<b>${XSS}</b>`);
  assert.deepStrictEqual(await texts(p, '#check-1-metric .measured dl > *'), [XSS, XSS]);
  assert.match(await p.page.locator('#evidence-1-metric').innerText(), /<img src=x onerror=alert\(1\)>/);
  assert.strictEqual(await p.page.locator('#check-4-bias text.label').first().textContent(), XSS);
  assert.strictEqual(await p.page.locator('#policy').textContent(), `Gate report: gates/${XSS}.policy.yaml`);
}));

test('no inline script or handler: only the nonce\'d bundle and the l10n data block', async h => withGate(h, async p => {
  await show(p, report(penguins()));
  const scripts = await p.page.$$eval('script', els => els.map(e => ({ src: (e as HTMLScriptElement).src !== '', nonce: (e as HTMLScriptElement).nonce !== '', type: e.getAttribute('type') })));
  for (const s of scripts) assert.ok(s.src ? s.nonce : s.type === 'application/json', JSON.stringify(scripts));
  assert.strictEqual(await p.page.locator('style').count(), 0, 'no <style> element injected');
}, { l10n: { Failed: '실패' } }));

test('Korean strings from the host\'s bundle', async h => withGate(h, async p => {
  await show(p, report(penguins()));
  assert.deepStrictEqual((await texts(p, 'li.check .status-text')).slice(0, 3), ['실패', '실패', '통과']);
  assert.strictEqual(await p.page.locator('#check-1-metric .measured h3').textContent(), '측정값');
  assert.strictEqual(await p.page.locator('#check-1-metric .threshold h3').textContent(), '임계값');
  assert.strictEqual(await p.page.locator('#policy').textContent(), '게이트 보고서: examples/penguins/penguins.policy.yaml');
}, { l10n: koBundle() }));

/** The translations the test reads, from the Korean bundle the host passes (the whole bundle is too long for a URL). */
function koBundle(): Record<string, string> {
  const all = JSON.parse(fs.readFileSync(path.join(ROOT, 'l10n', 'bundle.l10n.ko.json'), 'utf8')) as Record<string, string>;
  return Object.fromEntries(['Failed', 'Passed', 'Measured', 'Threshold', 'Gate report: {0}'].map(k => [k, all[k]]));
}

test('an error from the host is shown as text; a malformed message is ignored', async h => withGate(h, async p => {
  await show(p, report(penguins()));
  await p.send({ type: 'error', message: `could not read ${XSS}` });
  await p.page.locator('.error').waitFor();
  assert.strictEqual(await p.page.locator('.error').textContent(), `could not read ${XSS}`);
  await p.send({ type: 'report', report: { policy: 1 } });
  await p.send({ type: 'nonsense' });
  assert.strictEqual(await p.page.locator('li.check').count(), 11, 'the report is still shown');
  await show(p, report(predictions()));
  assert.ok(await p.page.locator('.error').isHidden(), 'a new report clears the error');
}));

for (const theme of ['light', 'dark', 'high-contrast'] as const) {
  test(`theme ${theme}: bars, threshold and text take the VS Code colours`, async h => withGate(h, async p => {
    await show(p, report(predictions()));
    const got = await p.page.evaluate(() => {
      const probe = (v: string) => {
        const d = document.createElement('div');
        d.style.color = getComputedStyle(document.documentElement).getPropertyValue(v);
        document.body.append(d);
        const c = getComputedStyle(d).color;
        d.remove();
        return c;
      };
      return {
        bar: getComputedStyle(document.querySelector('rect.bar:not(.over)')!).fill,
        over: getComputedStyle(document.querySelector('rect.bar.over')!).fill,
        threshold: getComputedStyle(document.querySelector('line.threshold')!).stroke,
        blue: probe('--vscode-charts-blue'), red: probe('--vscode-charts-red'), orange: probe('--vscode-charts-orange'),
        text: getComputedStyle(document.querySelector('text.label')!).fill, fg: probe('--vscode-foreground'),
      };
    });
    assert.strictEqual(got.bar, got.blue);
    assert.strictEqual(got.over, got.red);
    assert.strictEqual(got.threshold, got.orange);
    assert.strictEqual(got.text, got.fg);
  }, { theme }));
}

// ---------------------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const only = process.argv[2];
  const selected = only ? gateTests.filter(t => t.name.includes(only)) : gateTests;
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
  console.log(`\n${selected.length - failed} passing, ${failed} failing (${selected.length} gate webview DOM tests)`);
  process.exitCode = failed > 0 ? 1 : 0;
}

if (require.main === module) {
  main().catch(err => {
    console.error(err);
    process.exitCode = 2;
  });
}
