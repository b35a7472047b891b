/**
 * DOM tests of the comparison panel's webview: the real bundle (dist/webview/compare.js) in headless Chromium
 * under the strict CSP, fed host messages as `MessageEvent`s, with a fake VS Code API recording what it posts.
 *
 *   npm run test:webview      (builds the bundle, compiles, runs)
 *
 * Exits non-zero when a test fails; prints the number of tests.
 */
import * as assert from 'assert';
import type { Curve } from '../../src/core/compare/model';
import type { CompareViewState, CurveRequest, WebviewMessage } from '../../src/protocol/compare';
import { csvField, mdCell } from '../../webview/compare/export';
import { num, signed } from '../../webview/compare/format';
import { comparisonMessage, curve, curvesMessage, largeComparison, smallComparison, XSS } from './fixtures';
import { gateTests } from './gate.dom';
import { openPanel, startHarness, type Harness, type Panel } from './harness';
import { sweepTests } from './sweep.dom';

type Test = { name: string; fn: (h: Harness) => Promise<void> };
const tests: Test[] = [];
const test = (name: string, fn: (h: Harness) => Promise<void>): void => {
  tests.push({ name, fn });
};

/** Opens a panel, runs `fn`, then checks that nothing violated the CSP or logged an error. */
async function withPanel(h: Harness, fn: (p: Panel) => Promise<void>, o: Parameters<typeof openPanel>[1] = {}): Promise<void> {
  const p = await openPanel(h, o);
  try {
    await fn(p);
    await assertClean(p);
  } finally {
    await p.close();
  }
}

async function assertClean(p: Panel): Promise<void> {
  const rec = await p.recorded();
  assert.deepStrictEqual(rec.violations, [], `CSP violations: ${JSON.stringify(rec.violations)}`);
  assert.deepStrictEqual(p.errors, [], `errors in the page: ${p.errors.join('\n')}`);
}

const ofType = <T extends WebviewMessage['type']>(ms: WebviewMessage[], type: T): Array<Extract<WebviewMessage, { type: T }>> =>
  ms.filter((m): m is Extract<WebviewMessage, { type: T }> => m.type === type);

/** Text of body cell (row r, column c; 0-based, column 0 is the row header) of a grid, if rendered. */
async function cell(p: Panel, grid: string, r: number, c: number): Promise<string | null> {
  return p.page.evaluate(([g, row, col]) => {
    const tr = document.querySelector(`#grid-${g} tbody tr[aria-rowindex="${(row as number) + 2}"]`);
    const el = tr?.querySelector(`:scope > [aria-colindex="${(col as number) + 1}"]`);
    return el ? (el as HTMLElement).innerText.replace(/\s+/g, ' ').trim() : null;
  }, [grid, r, c] as const);
}

async function rowHeaders(p: Panel, grid: string): Promise<string[]> {
  return p.page.evaluate(g => [...document.querySelectorAll<HTMLElement>(`#grid-${g} tbody tr:not(.spacer) > th`)].map(x => x.innerText.replace(/\s+/g, ' ').trim()), grid);
}

/** All elements matching `selector`, in the document and in every open shadow root. */
async function deepCount(p: Panel, selector: string): Promise<number> {
  return p.page.evaluate(sel => {
    let n = 0;
    const walk = (root: Document | ShadowRoot): void => {
      n += root.querySelectorAll(sel).length;
      for (const el of root.querySelectorAll('*')) if (el.shadowRoot) walk(el.shadowRoot);
    };
    walk(document);
    return n;
  }, selector);
}

async function pollPosted<T extends WebviewMessage['type']>(p: Panel, type: T, count = 1): Promise<Array<Extract<WebviewMessage, { type: T }>>> {
  await p.page.waitForFunction(([t, n]) => window.__edd.posted.filter(m => m.type === t).length >= (n as number), [type, count] as const);
  return ofType(await p.posted(), type);
}

/** Pixels of the chart's canvas close to `rgb` (a series colour). */
async function seriesPixels(p: Panel, rgb: [number, number, number]): Promise<number> {
  return p.page.evaluate(([r, g, b]) => {
    const cv = document.querySelector('#sec-curves canvas') as HTMLCanvasElement;
    const d = cv.getContext('2d')!.getImageData(0, 0, cv.width, cv.height).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) if (Math.abs(d[i] - r) < 24 && Math.abs(d[i + 1] - g) < 24 && Math.abs(d[i + 2] - b) < 24 && d[i + 3] > 200) n++;
    return n;
  }, rgb);
}

/**
 * Plays the host for the page's last `requestCurves` (`count`-th of them): replies with `curves` reduced by the core as
 * the panel does, and waits until the chart has drawn it. Returns the request.
 */
async function answerCurves(p: Panel, curves: Curve[], count?: number): Promise<CurveRequest> {
  const reqs = await pollPosted(p, 'requestCurves', count ?? 1);
  const req = count === undefined ? reqs[reqs.length - 1] : reqs[count - 1];
  const msg = curvesMessage(req, curves);
  if (req.range) {
    await p.send(msg);
    await p.page.waitForFunction(r => document.querySelector<HTMLElement>('#sec-curves .chart')?.dataset.detail === r, `${req.range[0]},${req.range[1]}`);
  } else {
    await p.sendAndWait(msg, 'curves');
  }
  return req;
}

async function chooseOption(p: Panel, selectId: string, label: string): Promise<void> {
  await p.page.locator(`#${selectId}`).click();
  await p.page.locator(`#${selectId} li[role="option"]`, { hasText: label }).first().click();
}

// Pure modules of the webview, compiled for Node (no page needed) ----------------------------------------------

test('export helpers: CSV quoting and formula guard; Markdown cell escaping; number formatting', async () => {
  assert.strictEqual(csvField('a,b'), '"a,b"');
  assert.strictEqual(csvField('say "hi"'), '"say ""hi"""');
  assert.strictEqual(csvField('line\nbreak'), '"line\nbreak"');
  assert.strictEqual(csvField('=1+2'), "'=1+2");
  assert.strictEqual(csvField('@SUM(A1)'), "'@SUM(A1)");
  assert.strictEqual(csvField('-0.5'), '-0.5', 'a negative number stays a number');
  assert.strictEqual(csvField(-0.5), '-0.5');
  assert.strictEqual(csvField(null), '');
  assert.strictEqual(mdCell('a|b'), 'a\\|b');
  assert.strictEqual(mdCell('<script>'), '&lt;script&gt;');
  assert.strictEqual(mdCell('*x* _y_ `z`'), '\\*x\\* \\_y\\_ \\`z\\`');
  assert.strictEqual(mdCell('two\nlines'), 'two lines');
  assert.strictEqual(num(0.000123), '1.23e-4');
  assert.strictEqual(num(0.912345), '0.9123');
  assert.strictEqual(num(1234567.5), '1.23e+6');
  assert.strictEqual(num(42), '42');
  assert.strictEqual(num(null), '');
  assert.strictEqual(signed(-0.05), '−0.05');
  assert.strictEqual(signed(0.1), '+0.1');
});

// Panel in Chromium ---------------------------------------------------------------------------------------------

test('posts ready first, exactly once, before any data', async h => withPanel(h, async p => {
  const posted = await p.posted();
  assert.deepStrictEqual(posted, [{ type: 'ready' }]);
  assert.ok(await p.page.locator('.waiting').isVisible(), 'the waiting text is shown before the comparison');
  assert.strictEqual((await p.recorded()).acquired, 1, 'acquireVsCodeApi called once');
}));

test('the CSP is enforced on the page (a positive control for the violation check)', async h => {
  const p = await openPanel(h);
  try {
    await p.page.evaluate(() => {
      const s = document.createElement('style');
      s.textContent = 'body { color: red }';
      document.head.append(s);
      const d = document.createElement('div');
      d.setAttribute('style', 'color: red');
      document.body.append(d);
    });
    await p.page.waitForFunction(() => window.__edd.violations.length >= 1);
    const v = (await p.recorded()).violations;
    assert.ok(v.every(x => x.directive.startsWith('style-src')), JSON.stringify(v));
  } finally {
    await p.close();
  }
});

test('header: runs compared, baseline picker with every run', async h => withPanel(h, async p => {
  await p.sendAndWait(comparisonMessage(smallComparison()));
  assert.strictEqual(await p.page.locator('h1').textContent(), 'Comparing 3 runs');
  const options = await p.page.locator('#baseline-select vscode-option').allTextContents();
  assert.deepStrictEqual(options, ['baseline · seed 1', 'higher-lr · seed 1', XSS]);
  assert.strictEqual(await p.page.evaluate(() => (document.getElementById('baseline-select') as HTMLElement & { value: string }).value), 'run-base-0001');
}));

test('params table shows the values; missing values are marked', async h => withPanel(h, async p => {
  await p.sendAndWait(comparisonMessage(smallComparison()));
  assert.deepStrictEqual(await rowHeaders(p, 'params'), ['lr', 'epochs', 'optimizer', 'data.path', 'note']);
  assert.strictEqual(await cell(p, 'params', 0, 1), '0.01');
  assert.strictEqual(await cell(p, 'params', 0, 2), '0.1');
  assert.strictEqual(await cell(p, 'params', 2, 3), '— not logged');
  assert.strictEqual(await cell(p, 'params', 4, 3), `<b>${XSS}</b>`);
  const changed = await p.page.evaluate(() => document.querySelector('#grid-params tbody tr[aria-rowindex="2"] > [aria-colindex="3"]')!.classList.contains('changed'));
  assert.ok(changed, 'a value that differs from the baseline is highlighted');
}));

test('"Only what changed" hides equal params, stores the state and tells the host', async h => withPanel(h, async p => {
  await p.sendAndWait(comparisonMessage(smallComparison()));
  await p.page.locator('#only-changed').click();
  await p.page.waitForFunction(() => document.querySelectorAll('#grid-params tbody tr:not(.spacer)').length === 3);
  assert.deepStrictEqual(await rowHeaders(p, 'params'), ['lr', 'optimizer', 'note']);
  const rec = await p.recorded();
  assert.strictEqual((rec.state as CompareViewState).onlyChanged, true);
  const changes = ofType(rec.posted, 'stateChanged');
  assert.strictEqual(changes[changes.length - 1].state.onlyChanged, true);
  await p.page.locator('#only-changed').click();
  await p.page.waitForFunction(() => document.querySelectorAll('#grid-params tbody tr:not(.spacer)').length === 5);
}));

test('metrics table: final values, deltas to the baseline, best run marked with icon and text', async h => withPanel(h, async p => {
  await p.sendAndWait(comparisonMessage(smallComparison()));
  assert.deepStrictEqual(await rowHeaders(p, 'metrics'), ['accuracy higher is better', 'loss lower is better', 'f1 higher is better']);
  assert.strictEqual(await cell(p, 'metrics', 0, 1), '0.8 baseline');
  assert.strictEqual(await cell(p, 'metrics', 0, 2), '0.85 Δ +0.05 (better than baseline)');
  assert.strictEqual(await cell(p, 'metrics', 0, 3), '★best 0.9123 Δ +0.1123 (better than baseline)');
  assert.strictEqual(await cell(p, 'metrics', 1, 2), '★best 0.4 Δ −0.1 (better than baseline)');
  assert.strictEqual(await cell(p, 'metrics', 1, 3), '0.45 Δ −0.05 (better than baseline)');
  assert.strictEqual(await cell(p, 'metrics', 2, 2), '— not logged');
  const icons = await p.page.evaluate(() => [...document.querySelectorAll('#grid-metrics .best-mark .icon')].map(e => e.getAttribute('aria-hidden')));
  assert.deepStrictEqual(icons, ['true', 'true', 'true'], 'one best mark per metric, its icon hidden from screen readers (the word "best" is read)');
}));

test('value kind switch shows best / last values and their deltas', async h => withPanel(h, async p => {
  await p.sendAndWait(comparisonMessage(smallComparison()));
  await p.page.locator('#value-kind-best').click();
  await p.page.waitForFunction(() => document.querySelector('#grid-metrics tbody tr[aria-rowindex="2"] > [aria-colindex="2"]')?.textContent?.includes('0.81'));
  assert.strictEqual(await cell(p, 'metrics', 0, 2), '0.86 Δ +0.05 (better than baseline)');
  assert.strictEqual(await cell(p, 'metrics', 1, 2), '★best 0.38 Δ −0.07 (better than baseline)');
  await p.page.locator('#value-kind-last').click();
  await p.page.waitForFunction(() => document.querySelector('#grid-metrics tbody tr[aria-rowindex="3"] > [aria-colindex="3"]')?.textContent?.includes('0.41'));
  const st = (await p.recorded()).state as CompareViewState;
  assert.strictEqual(st.valueKind, 'last');
  const changes = ofType(await p.posted(), 'stateChanged');
  assert.deepStrictEqual(changes.slice(-2).map(c => c.state.valueKind), ['best', 'last']);
}));

test('choosing a baseline posts setBaseline; the new comparison re-renders the deltas', async h => withPanel(h, async p => {
  await p.sendAndWait(comparisonMessage(smallComparison()));
  await chooseOption(p, 'baseline-select', 'higher-lr · seed 1');
  const [m] = await pollPosted(p, 'setBaseline');
  assert.deepStrictEqual(m, { type: 'setBaseline', runId: 'run-lr-0002' });
  assert.strictEqual(((await p.recorded()).state as CompareViewState).baselineRunId, 'run-lr-0002');
  await p.sendAndWait(comparisonMessage(smallComparison(1)));
  assert.strictEqual(await cell(p, 'metrics', 0, 2), '0.85 baseline');
  assert.strictEqual(await cell(p, 'metrics', 0, 1), '0.8 Δ −0.05 (worse than baseline)');
}));

test('significance rows: test, metric, sides, n, statistic, df, p, CI, verdict', async h => withPanel(h, async p => {
  await p.sendAndWait(comparisonMessage(smallComparison()));
  const row = await Promise.all([0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map(c => cell(p, 'significance', 0, c)));
  assert.deepStrictEqual(row, ['accuracy', 'welch_t', 'baseline', 'higher-lr', '3 / 3', '2.5', '3.9', '0.03', '95% [0.01, 0.09]', 'B better than A, p = 0.03']);
  const row2 = await Promise.all([1, 2, 3, 4, 5, 6, 7, 9, 11].map(c => cell(p, 'significance', 1, c)));
  assert.deepStrictEqual(row2, ['mcnemar_exact', 'baseline · seed 1', XSS, '300', '', '', '0.41', `no significant difference (p = 0.41) ${XSS}`,
    'discordant: 12 only A right, 30 only B right; α = 0.05']);
}));

test('concluding a hypothesis from a significance row posts setHypothesis with the deciding test', async h => withPanel(h, async p => {
  await p.sendAndWait(comparisonMessage(smallComparison()));
  await p.page.locator('#grid-significance tbody tr[aria-rowindex="2"] button', { hasText: 'Refuted' }).click();
  const [m] = await pollPosted(p, 'setHypothesis');
  assert.deepStrictEqual(m, { type: 'setHypothesis', experimentId: 'higher-lr', status: 'refuted', decidedBy: 'welch_t on accuracy: B better than A, p = 0.03' });
  // From the keyboard: the cell with the buttons, then Enter (clicks its first button).
  await p.page.locator('#grid-significance tbody tr[aria-rowindex="3"] > [aria-colindex="11"]').focus();
  await p.page.keyboard.press('Enter');
  const ms = await pollPosted(p, 'setHypothesis', 2);
  assert.deepStrictEqual(ms[1], { type: 'setHypothesis', experimentId: 'higher-lr', status: 'supported', decidedBy: `mcnemar_exact on accuracy: no significant difference (p = 0.41) ${XSS}` });
}));

test('hypotheses: status and decidedBy per experiment; reopen posts status open', async h => withPanel(h, async p => {
  await p.sendAndWait(comparisonMessage(smallComparison()));
  assert.strictEqual(await cell(p, 'hypotheses', 0, 1), '○ open');
  assert.strictEqual(await cell(p, 'hypotheses', 1, 1), '✓ supported');
  assert.strictEqual(await cell(p, 'hypotheses', 1, 2), 'welch_t on accuracy: B better than A, p = 0.03');
  await p.page.locator('#grid-hypotheses button', { hasText: 'Reopen' }).click();
  const [m] = await pollPosted(p, 'setHypothesis');
  assert.deepStrictEqual(m, { type: 'setHypothesis', experimentId: 'higher-lr', status: 'open', decidedBy: '' });
}));

test('Wilson intervals and cost rows (with the latency error as text)', async h => withPanel(h, async p => {
  await p.sendAndWait(comparisonMessage(smallComparison()));
  const iv = await Promise.all([0, 1, 2, 3, 4, 5].map(c => cell(p, 'intervals', 0, c)));
  assert.deepStrictEqual(iv, ['baseline · seed 1', 'accuracy', '240 / 300', '0.8', '[0.751, 0.8421]', '95%']);
  const c0 = await Promise.all([0, 1, 2, 3, 4, 5, 6].map(c => cell(p, 'cost', 0, c)));
  assert.deepStrictEqual(c0, ['baseline · seed 1', '42.5 s', '512 MB', '255 B', '0.12 ms', '0.3 ms', '81234/s']);
  assert.strictEqual(await cell(p, 'cost', 1, 1), '1 h 02 min');
  assert.strictEqual(await cell(p, 'cost', 2, 7), `The model expects 20 input features but the data has 19 ${XSS}`);
  assert.strictEqual(await cell(p, 'cost', 2, 3), '4.77 MB');
}));

test('evaluation on predictions: shown when the comparison has it, best marked; hidden otherwise', async h => withPanel(h, async p => {
  await p.sendAndWait(comparisonMessage(smallComparison()));
  assert.deepStrictEqual(await Promise.all([0, 1, 2, 3, 4].map(c => cell(p, 'evaluation', 1, c))), ['higher-lr · seed 1', '300', '★best 0.85', '★best 0.84', '— not logged']);
  assert.strictEqual(await cell(p, 'evaluation', 0, 4), '★best 0.91');
  await p.sendAndWait(comparisonMessage({ ...smallComparison(), evaluation: undefined }));
  assert.strictEqual(await p.page.locator('#sec-evaluation').isHidden(), true);
}));

test('curves: requestCurves after the comparison; a canvas and a legend after curves', async h => withPanel(h, async p => {
  const c = smallComparison();
  await p.sendAndWait(comparisonMessage(c));
  const [req] = await pollPosted(p, 'requestCurves');
  assert.strictEqual(req.metric, 'loss');
  assert.strictEqual(req.range, undefined, 'the whole range first');
  assert.ok(req.width > 600 && req.width < 1280 && req.pixelRatio === 1, JSON.stringify(req));
  await answerCurves(p, c.runs.slice(0, 2).map((r, i) => curve(r.runId, 'loss', 50, i + 1)));
  assert.strictEqual(await p.page.locator('#sec-curves canvas').count(), 1);
  const legend = await p.page.locator('#sec-curves .legend-item').allTextContents();
  assert.deepStrictEqual(legend, ['baseline · seed 1baseline', 'higher-lr · seed 1', `${XSS}no points`]);
  assert.ok(await seriesPixels(p, [55, 148, 255]) > 300, 'the first run is drawn in --vscode-charts-blue');
  assert.ok(await seriesPixels(p, [209, 134, 22]) > 300, 'the second run is drawn in --vscode-charts-orange');
  // Legend toggles a series.
  await p.page.locator('#sec-curves .legend-item').nth(1).click();
  assert.strictEqual(await p.page.locator('#sec-curves .legend-item').nth(1).getAttribute('aria-pressed'), 'false');
}));

test('curves: the host sends no more than the plot draws; a drag zoom asks for the detail of its range and draws it; Reset zoom and double-click restore', async h => withPanel(h, async p => {
  const c = smallComparison();
  const long = curve(c.runs[0].runId, 'loss', 100_000, 1);
  await p.sendAndWait(comparisonMessage(c));
  const first = await answerCurves(p, [long]);
  const drawn = (): Promise<number> => p.page.evaluate(() => Number(document.querySelector<HTMLElement>('#sec-curves .chart')?.dataset.drawn));
  const firstDrawn = await drawn();
  assert.ok(firstDrawn > 100 && firstDrawn <= 2 * first.width + 2, `${firstDrawn} points drawn for a plot ${first.width} px wide`);
  assert.match(await p.page.locator('.curve-status').textContent() ?? '', /100,000 points/, 'the status counts every logged point');
  await p.page.locator('#sec-curves .u-over').scrollIntoViewIfNeeded();
  let over = (await p.page.locator('#sec-curves .u-over').boundingBox())!;
  const full = await seriesPixels(p, [55, 148, 255]);
  const zoom = (): Promise<string | null> => p.page.locator('#sec-curves .chart').getAttribute('data-zoom');
  assert.strictEqual(await zoom(), '');
  await p.page.mouse.move(over.x + over.width * 0.4, over.y + over.height / 2);
  await p.page.mouse.down();
  await p.page.mouse.move(over.x + over.width * 0.45, over.y + over.height / 2, { steps: 5 });
  await p.page.mouse.up();
  const reset = p.page.locator('#sec-curves .link-button', { hasText: 'Reset zoom' });
  await reset.waitFor({ state: 'visible' });
  const [lo, hi] = (await zoom())!.split(',').map(Number);
  assert.ok(lo > 35_000 && hi < 50_000 && hi > lo, `zoomed to steps ${lo}–${hi}`);
  // The host answers the typed request with the detail of exactly that range.
  const detail = await answerCurves(p, [long], 2);
  assert.deepStrictEqual(detail.range, [lo, hi]);
  const inRange = long.steps.filter(x => x >= lo && x <= hi).length;
  const zoomedDrawn = await drawn();
  assert.ok(zoomedDrawn > 100 && zoomedDrawn <= Math.min(inRange, 2 * detail.width + 2), `${zoomedDrawn} points drawn of the ${inRange} in the range`);
  const xs = await p.page.evaluate(() => (document.querySelector<HTMLElement>('#sec-curves .chart')!.dataset.xs ?? '').split(',').map(Number));
  assert.ok(xs[0] >= lo && xs[1] <= hi, `the detail covers the zoomed range: ${xs.join('–')}`);
  assert.ok(await seriesPixels(p, [55, 148, 255]) > 300, 'the zoomed range is drawn');
  await reset.click();
  await reset.waitFor({ state: 'hidden' });
  assert.strictEqual(await zoom(), '');
  assert.strictEqual(await drawn(), firstDrawn, 'the full-range frame is drawn again, without asking the host');
  assert.strictEqual((await pollPosted(p, 'requestCurves')).length, 2);
  assert.ok(Math.abs(await seriesPixels(p, [55, 148, 255]) - full) < full * 0.2, 'back to the full range');
  // Double-click on the plot also resets.
  over = (await p.page.locator('#sec-curves .u-over').boundingBox())!;
  await p.page.mouse.move(over.x + over.width * 0.2, over.y + over.height / 2);
  await p.page.mouse.down();
  await p.page.mouse.move(over.x + over.width * 0.3, over.y + over.height / 2, { steps: 5 });
  await p.page.mouse.up();
  await reset.waitFor({ state: 'visible' });
  await p.page.mouse.dblclick(over.x + over.width * 0.5, over.y + over.height / 2);
  await reset.waitFor({ state: 'hidden' });
  assert.strictEqual(await zoom(), '');
}));

test('curves: a late detail (for a range no longer shown) is dropped; a live update keeps the zoom and asks for its detail again', async h => withPanel(h, async p => {
  const c = smallComparison();
  const long = curve(c.runs[0].runId, 'loss', 10_000, 1);
  await p.sendAndWait(comparisonMessage(c));
  await answerCurves(p, [long]);
  await p.page.locator('#sec-curves .u-over').scrollIntoViewIfNeeded();
  const over = (await p.page.locator('#sec-curves .u-over').boundingBox())!;
  const drag = async (from: number, to: number): Promise<void> => {
    await p.page.mouse.move(over.x + over.width * from, over.y + over.height / 2);
    await p.page.mouse.down();
    await p.page.mouse.move(over.x + over.width * to, over.y + over.height / 2, { steps: 5 });
    await p.page.mouse.up();
  };
  await drag(0.1, 0.5);
  const [stale] = (await pollPosted(p, 'requestCurves', 2)).slice(1);
  await drag(0.2, 0.4); // zooms further before the first detail came back
  const reqs = await pollPosted(p, 'requestCurves', 3);
  await p.send(curvesMessage(stale, [long]));
  await answerCurves(p, [long], 3);
  assert.deepStrictEqual(await p.page.locator('#sec-curves .chart').getAttribute('data-detail'), reqs[2].range!.join(','), 'the stale reply was not drawn');
  // A live update: the comparison again, the whole range again, then the zoom's detail.
  await p.sendAndWait(comparisonMessage({ ...c, builtAt: c.builtAt + 1 }));
  await answerCurves(p, [long], 4);
  const again = await answerCurves(p, [long], 5);
  assert.deepStrictEqual(again.range, reqs[2].range, 'the zoom is kept');
}));

test('curves: choosing another metric requests it; a late reply for the old metric is ignored', async h => withPanel(h, async p => {
  const c = smallComparison();
  await p.sendAndWait(comparisonMessage(c));
  await pollPosted(p, 'requestCurves');
  await chooseOption(p, 'curve-metric', 'accuracy');
  const reqs = await pollPosted(p, 'requestCurves', 2);
  assert.strictEqual(reqs[1].metric, 'accuracy');
  assert.ok(reqs[1].seq > reqs[0].seq);
  assert.strictEqual(((await p.recorded()).state as CompareViewState).curveMetric, 'accuracy');
  await p.send(curvesMessage(reqs[0], [curve(c.runs[0].runId, 'loss', 10)]));
  await answerCurves(p, [curve(c.runs[0].runId, 'accuracy', 10)], 2);
  assert.match(await p.page.locator('.curve-status').textContent() ?? '', /^accuracy: 1 runs, 10 points$/);
}));

test('curves: every run is drawn (no cap), long series are reduced for drawing', async h => withPanel(h, async p => {
  const c = largeComparison(150, 5, 5);
  await p.sendAndWait(comparisonMessage(c));
  const req = await answerCurves(p, c.runs.map((r, i) => curve(r.runId, c.curveMetrics[0], 2_000, i + 1)));
  assert.strictEqual(await p.page.locator('#sec-curves .legend-item').count(), 150);
  assert.match(await p.page.locator('.curve-status').textContent() ?? '', /150 runs, 300,000 points/);
  const drawn = await p.page.evaluate(() => Number(document.querySelector<HTMLElement>('#sec-curves .chart')?.dataset.drawn));
  assert.ok(drawn <= 150 * (2 * req.width + 2), `${drawn} points drawn`);
}));

test('export: CSV and Markdown of the params and metrics tables as shown', async h => withPanel(h, async p => {
  await p.sendAndWait(comparisonMessage(smallComparison()));
  await p.page.locator('#export-csv').click();
  const [csv] = await pollPosted(p, 'export');
  assert.strictEqual(csv.format, 'csv');
  const lines = csv.content.split('\r\n');
  assert.strictEqual(lines[0], `table,name,goal,baseline · seed 1,higher-lr · seed 1,${XSS},best run`);
  assert.strictEqual(lines[1], 'run,run_id,,run-base-0001,run-lr-0002,run-xss-0003,');
  assert.ok(lines.includes('param,lr,,0.01,0.1,0.1,'), csv.content);
  assert.ok(lines.includes('param,data.path,,"data/a,b ""quoted"".csv","data/a,b ""quoted"".csv","data/a,b ""quoted"".csv",'), csv.content);
  assert.ok(lines.includes(`param,note,,'=cmd|x,plain | pipe,<b>${XSS}</b>,`), 'formula-like text is made inert');
  assert.ok(lines.includes(`metric:final,accuracy,max,0.8,0.85,0.9123456,${XSS}`), csv.content);
  assert.ok(lines.includes(`metric:final,f1,max,0.7,,0.75,${XSS}`), csv.content);
  assert.ok(lines.includes('delta:final,loss,min,0,-0.09999999999999998,-0.04999999999999999,'), csv.content);

  await p.page.locator('#only-changed').click();
  await p.page.locator('#export-markdown').click();
  const md = (await pollPosted(p, 'export', 2))[1];
  assert.strictEqual(md.format, 'markdown');
  assert.ok(md.content.includes('## Params (only what changed)'), md.content);
  assert.ok(md.content.includes(`| param | baseline · seed 1 | higher-lr · seed 1 | &lt;img src=x onerror=alert(1)&gt; |`), md.content);
  assert.ok(md.content.includes('| lr | 0.01 | 0.1 | 0.1 |'), md.content);
  assert.ok(!md.content.includes('| epochs |'), 'only changed params');
  assert.ok(md.content.includes('| note | =cmd\\|x | plain \\| pipe | &lt;b&gt;&lt;img src=x onerror=alert(1)&gt;&lt;/b&gt; |'), md.content);
  assert.ok(md.content.includes('| accuracy | max | 0.8 | 0.85 (+0.05) | **0.9123** ★ (+0.1123) |'), md.content);
  assert.ok(md.content.includes('| f1 | max | 0.7 | — | **0.75** ★ (+0.05) |'), md.content);
}));

test('user strings are text: an HTML run label creates no element anywhere (document or shadow roots)', async h => withPanel(h, async p => {
  const c = smallComparison();
  await p.sendAndWait(comparisonMessage(c));
  await answerCurves(p, c.runs.map((r, i) => curve(r.runId, 'loss', 30, i + 1)));
  await p.page.locator('#baseline-select').click(); // renders the options list in the select's shadow root
  await p.page.locator('#baseline-select li[role="option"]').first().waitFor();
  assert.strictEqual(await deepCount(p, 'img'), 0, 'no <img> element');
  assert.strictEqual(await deepCount(p, 'b'), 0, 'no <b> element');
  const header = await p.page.locator('#grid-metrics thead th[aria-colindex="4"] .run-link').textContent();
  assert.strictEqual(header, XSS);
  await p.page.keyboard.press('Escape');
}));

test('run header opens the run', async h => withPanel(h, async p => {
  await p.sendAndWait(comparisonMessage(smallComparison()));
  await p.page.locator('#grid-metrics thead th[aria-colindex="3"] .run-link').click();
  const [m] = await pollPosted(p, 'openRun');
  assert.deepStrictEqual(m, { type: 'openRun', runId: 'run-lr-0002' });
}));

test('keyboard: one tab stop per grid; arrows, End, Ctrl+End move the focused cell; focus is visible', async h => withPanel(h, async p => {
  await p.sendAndWait(comparisonMessage(largeComparison(100, 50, 10)));
  const stops = await p.page.evaluate(() => document.querySelectorAll('#grid-metrics [tabindex="0"]').length);
  assert.strictEqual(stops, 1);
  await p.page.locator('#grid-metrics thead th.corner').focus();
  await p.page.keyboard.press('ArrowDown');
  await p.page.keyboard.press('ArrowRight');
  const focused = () => p.page.evaluate(() => {
    const a = document.activeElement!;
    return `${a.parentElement!.getAttribute('aria-rowindex')}:${a.getAttribute('aria-colindex')}`;
  });
  assert.strictEqual(await focused(), '2:2');
  await p.page.keyboard.press('Control+End');
  assert.strictEqual(await focused(), '51:101', 'last metric of the last run, rendered on demand');
  const outline = await p.page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle);
  assert.strictEqual(outline, 'solid', 'the focused cell has a visible outline');
  await p.page.keyboard.press('Control+Home');
  assert.strictEqual(await focused(), '1:1');
}));

test('100 runs × 50 metrics: rows and columns are windowed; scrolling renders the cells in view', async h => withPanel(h, async p => {
  const c = largeComparison(100, 50, 10);
  const t0 = performance.now();
  await p.sendAndWait(comparisonMessage(c));
  const ms = performance.now() - t0;
  const info = await p.page.evaluate(() => {
    const t = document.querySelector('#grid-metrics table')!;
    return { rows: t.getAttribute('aria-rowcount'), cols: t.getAttribute('aria-colcount'), cells: t.querySelectorAll('tbody td:not(.spacer)').length };
  });
  assert.strictEqual(info.rows, '51');
  assert.strictEqual(info.cols, '101');
  assert.ok(info.cells < 50 * 40, `only the cells in view are in the DOM (${info.cells} of 5,000)`);
  await p.page.evaluate(() => {
    const s = document.getElementById('grid-metrics')!;
    s.scrollTop = s.scrollHeight;
    s.scrollLeft = s.scrollWidth;
  });
  await p.page.waitForFunction(() => !!document.querySelector('#grid-metrics tbody tr[aria-rowindex="51"] > [aria-colindex="101"]'));
  assert.strictEqual((await cell(p, 'metrics', 49, 0))?.startsWith('metric_49'), true);
  const v = c.metrics[49].final[99]!;
  assert.ok((await cell(p, 'metrics', 49, 100))?.includes(String(Number(v.toPrecision(4)))), 'the last cell shows its value');
  // Sticky header and first column stay in place after scrolling.
  const pos = await p.page.evaluate(() => {
    const s = document.getElementById('grid-metrics')!.getBoundingClientRect();
    const corner = document.querySelector('#grid-metrics thead th.corner')!.getBoundingClientRect();
    return { dy: corner.top - s.top, dx: corner.left - s.left };
  });
  assert.ok(Math.abs(pos.dy) <= 2 && Math.abs(pos.dx) <= 2, `sticky corner at the top left (${JSON.stringify(pos)})`);
  console.log(`      (first render of 100 × 50 with 10 params: ${ms.toFixed(0)} ms including the round trip)`);
}));

test('live update keeps scroll positions and toggles', async h => withPanel(h, async p => {
  const c = largeComparison(100, 50, 30);
  await p.sendAndWait(comparisonMessage(c));
  await p.page.locator('#only-changed').click();
  await p.page.locator('#value-kind-best').click();
  await p.page.evaluate(() => {
    const s = document.getElementById('grid-metrics')!;
    s.scrollTop = 400;
    s.scrollLeft = 1500;
    window.scrollTo(0, 300);
  });
  await p.page.waitForTimeout(0);
  const before = await p.page.evaluate(() => ({ top: document.getElementById('grid-metrics')!.scrollTop, left: document.getElementById('grid-metrics')!.scrollLeft, win: window.scrollY }));
  const c2 = { ...c, builtAt: c.builtAt + 1000, metrics: c.metrics.map(m => ({ ...m, final: m.final.map(v => (v === null ? v : v + 1)) })) };
  await p.sendAndWait(comparisonMessage(c2)); // the host's state still says onlyChanged false / final
  const after = await p.page.evaluate(() => ({ top: document.getElementById('grid-metrics')!.scrollTop, left: document.getElementById('grid-metrics')!.scrollLeft, win: window.scrollY }));
  assert.deepStrictEqual(after, before);
  assert.strictEqual(await p.page.evaluate(() => (document.getElementById('only-changed') as HTMLElement & { checked: boolean }).checked), true);
  assert.strictEqual(await p.page.locator('#value-kind-best').evaluate(e => (e as HTMLElement & { checked: boolean }).checked), true);
  const rows = await p.page.evaluate(() => document.getElementById('grid-params')!.querySelector('table')!.getAttribute('aria-rowcount'));
  assert.strictEqual(Number(rows) - 1, c.params.filter(x => x.differs).length, 'still only the changed params');
}));

test('state is restored from getState on reload', async h => withPanel(h, async p => {
  await p.sendAndWait(comparisonMessage(smallComparison()));
  await p.page.locator('#only-changed').click();
  await p.page.locator('#value-kind-last').click();
  await chooseOption(p, 'curve-metric', 'accuracy');
  await p.page.locator('#h-cost').click(); // collapse a section
  const saved = (await p.recorded()).state;
  assert.deepStrictEqual(saved, { runIds: ['run-base-0001', 'run-lr-0002', 'run-xss-0003'], onlyChanged: true, valueKind: 'last', baselineRunId: 'run-base-0001', curveMetric: 'accuracy', collapsed: ['cost'] });

  await p.reload();
  assert.deepStrictEqual(await p.posted(), [{ type: 'ready' }]);
  assert.strictEqual(await p.page.evaluate(() => (document.getElementById('only-changed') as HTMLElement & { checked: boolean }).checked), true, 'toggle restored before data');
  // The host's message carries its own (older) idea of the state; the webview's restored choices win.
  await p.sendAndWait(comparisonMessage(smallComparison(), { onlyChanged: false, valueKind: 'final' }));
  assert.deepStrictEqual(await rowHeaders(p, 'params'), ['lr', 'optimizer', 'note']);
  assert.strictEqual(await p.page.locator('#value-kind-last').evaluate(e => (e as HTMLElement & { checked: boolean }).checked), true);
  assert.strictEqual(await cell(p, 'metrics', 1, 2), '★best 0.41 Δ −0.09 (better than baseline)', 'last values shown');
  assert.strictEqual(await p.page.locator('#h-cost').getAttribute('aria-expanded'), 'false');
  assert.strictEqual(await p.page.locator('#body-cost').isHidden(), true);
  const [req] = await pollPosted(p, 'requestCurves');
  assert.strictEqual(req.metric, 'accuracy');
  const changed = ofType(await p.posted(), 'stateChanged');
  assert.strictEqual(changed[0]?.state.onlyChanged, true, 'the host is told the restored state');
  // Expanding the collapsed section renders it then.
  await p.page.locator('#h-cost').click();
  assert.strictEqual(await cell(p, 'cost', 0, 1), '42.5 s');
}));

test('invalid messages are ignored; an error message is shown as text', async h => withPanel(h, async p => {
  await p.send({ type: 'comparison' });
  await p.send({ type: 'comparison', comparison: { runs: 'x' }, state: {} });
  await p.send('not a message');
  await p.send({ type: 'curves', metric: 3 });
  await p.send({ type: 'curves', seq: 1, frame: { metric: 'loss', extent: null, range: null, columns: 10, runIds: ['a'], points: [1], xs: [1, 2], ys: [[1]], reduced: false, snapped: false } });
  await p.send({ type: 'nope' });
  await p.sendAndWait(comparisonMessage(smallComparison()));
  assert.strictEqual(await p.page.locator('h1').textContent(), 'Comparing 3 runs');
  await p.send({ type: 'error', message: `Store locked ${XSS}` });
  await p.page.locator('.error').waitFor({ state: 'visible' });
  assert.strictEqual(await p.page.locator('.error').textContent(), `Store locked ${XSS}`);
  assert.strictEqual(await deepCount(p, 'img'), 0);
}));

test('strings are translated from the page\'s edd-l10n block (data, not script: no CSP violation)', async h => withPanel(h, async p => {
  await p.sendAndWait(comparisonMessage(smallComparison()));
  assert.strictEqual(await p.page.locator('h1').textContent(), '실행 3개 비교');
  assert.strictEqual(await p.page.locator('#h-params').textContent(), '매개변수');
  assert.strictEqual(await p.page.locator('#h-metrics').textContent(), 'Metrics', 'untranslated strings stay English');
}, { l10n: { 'Comparing {0} runs': '실행 {0}개 비교', Params: '매개변수', '</script><script>alert(1)</script>': 'x' } }));

test('empty comparison: says no runs are selected', async h => withPanel(h, async p => {
  const c = { ...smallComparison(), runs: [], params: [], metrics: [], significance: [], intervals: [], costs: [], curveMetrics: [], hypotheses: [] };
  await p.sendAndWait(comparisonMessage(c));
  assert.strictEqual(await p.page.locator('.waiting').textContent(), 'No runs are selected for comparison.');
}));

for (const theme of ['light', 'dark', 'high-contrast'] as const) {
  test(`theme ${theme}: colours come from the VS Code variables`, async h => withPanel(h, async p => {
    const c = smallComparison();
    await p.sendAndWait(comparisonMessage(c));
    await answerCurves(p, c.runs.map((r, i) => curve(r.runId, 'loss', 30, i + 1)));
    const got = await p.page.evaluate(() => {
      const css = getComputedStyle(document.body);
      const swatch = getComputedStyle(document.querySelector('.legend-item .swatch')!).borderTopColor;
      const probe = document.createElement('div');
      probe.style.color = css.getPropertyValue('--vscode-charts-blue');
      document.body.append(probe);
      const blue = getComputedStyle(probe).color;
      probe.remove();
      const fg = css.getPropertyValue('--vscode-foreground').trim();
      const probe2 = document.createElement('div');
      probe2.style.color = fg;
      document.body.append(probe2);
      const fgRgb = getComputedStyle(probe2).color;
      probe2.remove();
      return { swatch, blue, body: css.color, fgRgb, bg: css.backgroundColor };
    });
    assert.strictEqual(got.swatch, got.blue, 'first series uses --vscode-charts-blue');
    assert.strictEqual(got.body, got.fgRgb, 'text uses --vscode-foreground');
  }, { theme }));
}

test('theme switch redraws the chart with the new colours', async h => withPanel(h, async p => {
  const c = smallComparison();
  await p.sendAndWait(comparisonMessage(c));
  await answerCurves(p, c.runs.map((r, i) => curve(r.runId, 'loss', 30, i + 1)));
  const before = await p.page.evaluate(() => getComputedStyle(document.querySelector('.legend-item .swatch')!).borderTopColor);
  await p.page.evaluate(() => {
    document.documentElement.style.setProperty('--vscode-charts-blue', 'rgb(1, 2, 3)');
    document.body.className = 'vscode-light';
  });
  await p.page.waitForFunction(() => getComputedStyle(document.querySelector('.legend-item .swatch')!).borderTopColor === 'rgb(1, 2, 3)');
  assert.notStrictEqual(before, 'rgb(1, 2, 3)');
}));

// ---------------------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const only = process.argv[2];
  // The gate report panel's tests run here too (one browser, one count).
  const all = [...tests, ...gateTests, ...sweepTests];
  const selected = only ? all.filter(t => t.name.includes(only)) : all;
  const h = await startHarness();
  let failed = 0;
  const t0 = performance.now();
  try {
    for (const t of selected) {
      const s = performance.now();
      try {
        await t.fn(h);
        console.log(`  ✓ ${t.name} (${(performance.now() - s).toFixed(0)} ms)`);
      } catch (err) {
        failed++;
        console.log(`  ✗ ${t.name}\n      ${(err instanceof Error ? err.stack ?? err.message : String(err)).split('\n').join('\n      ')}`);
      }
    }
  } finally {
    await h.close();
  }
  console.log(`\n${selected.length - failed} passing, ${failed} failing (${selected.length} webview DOM tests, ${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  process.exitCode = failed > 0 ? 1 : 0;
}

main().catch(err => {
  console.error(err);
  process.exitCode = 2;
});
