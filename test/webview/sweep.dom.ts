/**
 * DOM tests of the comparison panel's sweep views (webview/compare/sweep.ts): the real bundle in headless Chromium
 * under the strict CSP, fed a `sweep` message after a `comparison`. Run with the other panel tests
 * (`npm run test:webview`).
 */
import * as assert from 'assert';
import type { HostMessage, WebviewMessage } from '../../src/protocol/compare';
import { comparisonMessage, smallComparison, sweepFixture, XSS } from './fixtures';
import { openPanel, type Harness, type Panel } from './harness';

type Test = { name: string; fn: (h: Harness) => Promise<void> };
export const sweepTests: Test[] = [];
const test = (name: string, fn: (h: Harness) => Promise<void>): void => {
  sweepTests.push({ name: `sweep: ${name}`, fn });
};

async function withSweep(h: Harness, fn: (p: Panel) => Promise<void>, runs = 27): Promise<void> {
  const p = await openPanel(h);
  try {
    await p.sendAndWait(comparisonMessage(smallComparison()));
    await p.send({ type: 'sweep', sweep: sweepFixture(runs) } satisfies HostMessage);
    await waitData(p, 'eddSweep', 1);
    await fn(p);
    const rec = await p.recorded();
    assert.deepStrictEqual(rec.violations, [], `CSP violations: ${JSON.stringify(rec.violations)}`);
    assert.deepStrictEqual(p.errors, [], `errors in the page: ${p.errors.join('\n')}`);
  } finally {
    await p.close();
  }
}

async function waitData(p: Panel, attr: 'eddSweep' | 'eddBrush', n: number): Promise<void> {
  await p.page.waitForFunction(([a, k]) => Number(document.getElementById('app')!.dataset[a as string] ?? 0) >= (k as number), [attr, n] as const);
}

/** Rows of a grid (its aria-rowcount minus the header row). */
async function rowCount(p: Panel, grid: string): Promise<number> {
  return p.page.evaluate(g => {
    const el = document.getElementById(`grid-${g}`)!;
    const table = el.matches('[aria-rowcount]') ? el : el.querySelector('[aria-rowcount]')!;
    return Number(table.getAttribute('aria-rowcount')) - 1;
  }, grid);
}

async function cellText(p: Panel, grid: string, r: number, c: number): Promise<string | null> {
  return p.page.evaluate(([g, row, col]) => {
    const tr = document.querySelector(`#grid-${g} tbody tr[aria-rowindex="${(row as number) + 2}"]`);
    const el = tr?.querySelector(`:scope > [aria-colindex="${(col as number) + 1}"]`);
    return el ? (el as HTMLElement).innerText.replace(/\s+/g, ' ').trim() : null;
  }, [grid, r, c] as const);
}

/** Pixels of the canvas that are not transparent. */
async function inked(p: Panel, selector: string): Promise<number> {
  return p.page.evaluate(sel => {
    const c = document.querySelector<HTMLCanvasElement>(sel)!;
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
    return n;
  }, selector);
}

test('renders the best trial, the parallel coordinates, the scatter, the groups and the importance with its method', async h => withSweep(h, async p => {
  assert.match(await p.page.locator('#h-sweep').innerText(), /Sweep sweep-<i>1<\/i>/);
  assert.match(await p.page.locator('#sweep-best').innerText(), /Best trial: 1 — val_accuracy = 0\.9 ± 0\.003 \(n = 3\): parameters\.learning_rate = 0\.01, parameters\.model_type = logistic_regression/);
  // One focusable axis per parameter, then the metric.
  assert.deepStrictEqual(await p.page.locator('.pc-axis .pc-axis-label').allInnerTexts(), ['parameters.learning_rate', 'parameters.model_type', 'seed', 'val_accuracy']);
  assert.ok(await inked(p, '#sweep-parallel canvas') > 500, 'the lines are drawn');
  assert.ok(await inked(p, '#sweep-scatter') > 100, 'the points are drawn');
  assert.strictEqual(await rowCount(p, 'sweep-runs'), 26, 'every run with a value (the last has none)');
  assert.strictEqual(await rowCount(p, 'sweep-groups'), 3);
  assert.strictEqual(await cellText(p, 'sweep-groups', 1, 3), 'best group');
  assert.match((await cellText(p, 'sweep-groups', 0, 4))!, /3(\.0+)?e-12|< ?0\.001|3e-12/);
  assert.strictEqual(await cellText(p, 'sweep-groups', 0, 5), 'differs from the best');
  assert.match(await p.page.locator('#sweep-importance-method').innerText(), /one-way ANOVA η² = SS between/);
  assert.match(await p.page.locator('#sweep-importance-method').innerText(), /more than 12 values are cut into 4 quantile bins/);
  assert.strictEqual(await cellText(p, 'sweep-importance', 0, 0), 'parameters.learning_rate');
  assert.match((await cellText(p, 'sweep-importance', 0, 1))!, /93\.0%/);
  assert.strictEqual(await cellText(p, 'sweep-importance', 0, 3), '2.0e-15', 'the F test\'s p-value');
  assert.match(await p.page.locator('#sweep-importance-method').innerText(), /p is the F test's p-value/);
  // The model name that is HTML is text in the table, never an element.
  assert.strictEqual(await p.page.locator('#sec-sweep img').count(), 0);
  const texts = await p.page.locator('#grid-sweep-runs tbody').innerText();
  assert.ok(texts.includes(XSS));
}));

test('keyboard: Enter brushes an axis, arrows move it, Shift+arrows resize it, Escape clears it; the table follows', async h => withSweep(h, async p => {
  const lr = p.page.locator('.pc-axis[data-axis="0"]');
  await lr.focus();
  await p.page.keyboard.press('Enter');
  await waitData(p, 'eddBrush', 1);
  // Learning rates 0.001, 0.01, 0.1 on a log axis sit at 0, 0.5, 1: the middle half holds 0.01 only.
  assert.strictEqual(await rowCount(p, 'sweep-runs'), 9);
  assert.strictEqual(await lr.getAttribute('aria-valuetext'), '0.01 to 0.01');
  assert.match(await p.page.locator('#sweep-brush-status').innerText(), /9 of 26 runs in the brushed ranges/);
  for (let i = 0; i < 6; i++) await p.page.keyboard.press('ArrowUp');
  await waitData(p, 'eddBrush', 7);
  assert.strictEqual(await rowCount(p, 'sweep-runs'), 17, 'moved up to [0.5, 1] (it stops at the top): 0.01 and 0.1 (one run of 0.1 has no value)');
  assert.strictEqual(await lr.getAttribute('aria-valuetext'), '0.01 to 0.1');
  for (let i = 0; i < 4; i++) await p.page.keyboard.press('Shift+ArrowDown');
  await waitData(p, 'eddBrush', 11);
  assert.strictEqual(await rowCount(p, 'sweep-runs'), 0, 'shrunk to [0.6, 0.9]: between the values');
  assert.strictEqual(await lr.getAttribute('aria-valuetext'), 'no value');
  for (let i = 0; i < 2; i++) await p.page.keyboard.press('ArrowUp');
  await waitData(p, 'eddBrush', 13);
  assert.strictEqual(await rowCount(p, 'sweep-runs'), 8);
  assert.strictEqual(await lr.getAttribute('aria-valuetext'), '0.1 to 0.1');
  // A second axis narrows further: the brushes combine.
  await p.page.locator('.pc-axis[data-axis="1"]').focus();
  await p.page.keyboard.press('Enter');
  await waitData(p, 'eddBrush', 14);
  assert.ok(await rowCount(p, 'sweep-runs') < 8);
  await p.page.keyboard.press('Escape');
  await lr.focus();
  await p.page.keyboard.press('Escape');
  await waitData(p, 'eddBrush', 16);
  assert.strictEqual(await rowCount(p, 'sweep-runs'), 26);
  assert.strictEqual(await lr.getAttribute('aria-valuetext'), 'no brush');
}));

test('pointer: dragging along the metric axis keeps the runs in that range; a click clears it', async h => withSweep(h, async p => {
  const axis = p.page.locator('.pc-axis[data-axis="3"]');
  const box = (await axis.boundingBox())!;
  const x = box.x + box.width / 2;
  // The top quarter of the plot (28 px padding above, 22 below): the runs with the highest accuracy.
  await p.page.mouse.move(x, box.y + 26);
  await p.page.mouse.down();
  await p.page.mouse.move(x, box.y + 60, { steps: 4 });
  await p.page.mouse.up();
  await waitData(p, 'eddBrush', 1);
  const n = await rowCount(p, 'sweep-runs');
  assert.ok(n > 0 && n < 26, `${n} rows after the brush`);
  const values = await p.page.locator('#grid-sweep-runs tbody tr:not(.spacer) > :last-child').allInnerTexts();
  assert.ok(values.every(v => Number(v) > 0.88), `only high values: ${values.join(', ')}`);
  assert.ok(await p.page.locator('#sweep-clear-brushes').isVisible());
  await p.page.mouse.click(x, box.y + 150);
  await p.page.waitForFunction(() => document.getElementById('app')!.dataset.eddBrushed === '26');
}));

test('group by another parameter posts setSweepGroupBy; a new sweep keeps the brushes', async h => withSweep(h, async p => {
  await p.page.locator('#sweep-group-by').click();
  await p.page.locator('#sweep-group-by li[role="option"]', { hasText: 'parameters.model_type' }).first().click();
  await p.page.waitForFunction(() => (window.__edd.posted as Array<{ type: string }>).some(m => m.type === 'setSweepGroupBy'));
  const posted = (await p.posted()).filter((m): m is Extract<WebviewMessage, { type: 'setSweepGroupBy' }> => m.type === 'setSweepGroupBy');
  assert.deepStrictEqual(posted.map(m => m.groupBy), ['parameters.model_type']);
  await p.page.locator('.pc-axis[data-axis="0"]').focus();
  await p.page.keyboard.press('Enter');
  await waitData(p, 'eddBrush', 1);
  await p.send({ type: 'sweep', sweep: sweepFixture(27) } satisfies HostMessage);
  await waitData(p, 'eddSweep', 2);
  assert.strictEqual(await rowCount(p, 'sweep-runs'), 9);
}));

test('a reload brings back the brushes, the scatter\'s parameter and the grouping (kept with setState)', async h => withSweep(h, async p => {
  await p.page.locator('.pc-axis[data-axis="0"]').focus();
  await p.page.keyboard.press('Enter');
  await waitData(p, 'eddBrush', 1);
  await p.page.locator('#sweep-scatter-param').click();
  await p.page.locator('#sweep-scatter-param li[role="option"]', { hasText: 'parameters.model_type' }).first().click();
  await p.page.locator('#sweep-group-by').click();
  await p.page.locator('#sweep-group-by li[role="option"]', { hasText: 'trial_index' }).first().click();
  await p.page.waitForFunction(() => (window.__edd.posted as Array<{ type: string }>).some(m => m.type === 'setSweepGroupBy'));
  const saved = (await p.recorded()).state as { sweep?: unknown };
  assert.deepStrictEqual(saved.sweep, { sweepId: 'sweep-<i>1</i>', brushes: { 'parameters.learning_rate': [0.25, 0.75] }, scatterParam: 'parameters.model_type', groupBy: 'trial_index' });

  await p.reload();
  await p.sendAndWait(comparisonMessage(smallComparison()));
  // The host (revived by VS Code) sends the sweep with its default grouping: the webview restores its choices on it.
  await p.send({ type: 'sweep', sweep: sweepFixture(27) } satisfies HostMessage);
  await waitData(p, 'eddSweep', 1);
  assert.strictEqual(await rowCount(p, 'sweep-runs'), 9, 'the brush filters the runs again');
  assert.strictEqual(await p.page.locator('.pc-axis[data-axis="0"]').getAttribute('aria-valuetext'), '0.01 to 0.01');
  assert.match(await p.page.locator('#sweep-brush-status').innerText(), /9 of 26 runs in the brushed ranges/);
  assert.strictEqual(await p.page.locator('#sweep-scatter-param').evaluate(e => (e as HTMLElement & { value: string }).value), 'parameters.model_type');
  assert.match((await p.page.locator('#sweep-scatter').getAttribute('aria-label'))!, /val_accuracy against parameters\.model_type/);
  // Grouping is the host's work: the webview asks for the restored one, once.
  await p.page.waitForFunction(() => (window.__edd.posted as Array<{ type: string }>).some(m => m.type === 'setSweepGroupBy'));
  const asked = (await p.posted()).filter((m): m is Extract<WebviewMessage, { type: 'setSweepGroupBy' }> => m.type === 'setSweepGroupBy');
  assert.deepStrictEqual(asked.map(m => m.groupBy), ['trial_index']);
  await p.send({ type: 'sweep', sweep: { ...sweepFixture(27), groupBy: 'trial_index' } } satisfies HostMessage);
  await waitData(p, 'eddSweep', 2);
  assert.strictEqual(await p.page.locator('#sweep-group-by').evaluate(e => (e as HTMLElement & { value: string }).value), 'trial_index');
  assert.strictEqual(await rowCount(p, 'sweep-runs'), 9, 'the brush stays');
  assert.strictEqual((await p.posted()).filter(m => m.type === 'setSweepGroupBy').length, 1, 'not asked again');
}));

test('an undefined test (NaN p, null after postMessage\'s JSON) says it is not testable, never significant', async h => withSweep(h, async p => {
  const s = sweepFixture(27);
  s.pairs = s.pairs.map(x => ({ ...x, pValue: NaN, pHolm: NaN }));
  await p.send(JSON.parse(JSON.stringify({ type: 'sweep', sweep: s })) as HostMessage);
  await waitData(p, 'eddSweep', 2);
  assert.strictEqual(await cellText(p, 'sweep-groups', 0, 5), 'not testable (needs 2 runs per group)');
  assert.strictEqual(await cellText(p, 'sweep-groups', 0, 4), '—');
}));

test('a sweep message that points outside its groups is ignored', async h => withSweep(h, async p => {
  const bad = sweepFixture(27);
  bad.pairs.push({ a: 0, b: 7, difference: 0, statistic: 0, df: 1, pValue: 1, pHolm: 1 });
  await p.page.evaluate(() => { console.warn = () => {}; });
  await p.send({ type: 'sweep', sweep: bad });
  await p.send({ type: 'sweep', sweep: { ...sweepFixture(27), sweepId: 'second' } });
  await waitData(p, 'eddSweep', 2);
  assert.match(await p.page.locator('#h-sweep').innerText(), /second/);
}));

test('theme: the parallel coordinates are drawn in the theme\'s chart colour and redrawn when it changes', async h => withSweep(h, async p => {
  const reds = () => p.page.evaluate(() => {
    const cv = document.querySelector<HTMLCanvasElement>('#sweep-parallel canvas')!;
    const d = cv.getContext('2d')!.getImageData(0, 0, cv.width, cv.height).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 60 && d[i] > 150 && d[i + 1] < 60 && d[i + 2] < 60) n++;
    return n;
  });
  assert.strictEqual(await reds(), 0, 'no red before the theme changes');
  await p.page.evaluate(() => document.documentElement.style.setProperty('--vscode-charts-blue', 'rgb(250, 0, 0)'));
  const deadline = Date.now() + 5000;
  while ((await reds()) < 100) assert.ok(Date.now() < deadline, 'the chart was not redrawn in the new colour');
}));
