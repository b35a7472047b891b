/**
 * The gate report panel: a header (policy, candidate, verdict, counts, duration), then a card per check with its
 * status (icon and text), title, measured values beside the thresholds, the message, charts for drift and bias, and
 * the evidence behind a toggle. It reaches the extension only through the `Host` it is given (a fake in DOM tests).
 *
 * Keyboard: each check's head is a button (Tab to it; Enter or Space opens the evidence; ↑/↓, Home and End move
 * between checks). State kept with `setState` (and restored after a reload): the report, "Failed only" and which
 * checks are open.
 */
import type { CheckResult, GateReport, GateViewState, HostMessage, WebviewMessage } from '../../src/protocol/gate';
import { isGateViewState } from '../../src/protocol/gate';
import { dateTime } from '../compare/format';
import { h, icon, setChildren } from '../compare/dom';
import { t } from '../compare/l10n';
import * as ui from '../compare/ui';
import type { Host } from '../host';
import { chartsOf, renderChart } from './charts';
import { renderValue } from './evidence';
import { candidateText, durationText, isFailing, measuredEntries, nestedMeasured, statusGlyph, statusText, thresholdEntries, type Entry } from './values';

export type GateHost = Host<WebviewMessage, GateViewState>;

/** Dispatched on `document` after a render has been painted (the tests wait for it). */
export const RENDERED_EVENT = 'edd-gate-rendered';

/** After the next paint: a frame, then a task. */
function afterPaint(fn: () => void): void {
  requestAnimationFrame(() => setTimeout(fn, 0));
}

/** A DOM id from a check id (`3-bias`), safe in selectors. */
const domId = (checkId: string) => checkId.replace(/[^\w-]/g, '_');

export class GateApp {
  private state: GateViewState;
  private seq = 0;
  private readonly header: HTMLElement;
  private readonly errorEl: HTMLDivElement;
  private readonly body: HTMLDivElement;
  private readonly failedOnly: ui.Checkbox;
  private readonly rerun: HTMLElement;
  private list: HTMLOListElement | undefined;

  constructor(private readonly root: HTMLElement, private readonly host: GateHost) {
    const saved = host.getState();
    this.state = isGateViewState(saved) ? saved : { failedOnly: false, expanded: [] };
    this.failedOnly = ui.checkbox(t('Failed only'), this.state.failedOnly, v => this.setFailedOnly(v), 'failed-only');
    this.rerun = ui.button(t('Run again'), () => this.host.post({ type: 'rerun' }), { secondary: true, id: 'rerun' });
    this.header = h('header', { class: 'toolbar' });
    this.errorEl = h('div', { class: 'error', role: 'alert', hidden: true });
    this.body = h('div', { class: 'body' });
    setChildren(root, this.header, this.errorEl, this.body);
    if (this.state.report) this.render();
    else this.renderEmpty(false);
  }

  handle(msg: HostMessage): void {
    switch (msg.type) {
      case 'report':
        this.errorEl.hidden = true;
        if (msg.report === null) {
          this.update({ report: undefined, policyUri: msg.policyUri ?? this.state.policyUri });
          this.renderEmpty(msg.policyUri !== undefined);
        } else {
          const ids = new Set(msg.report.checks.map(c => c.id));
          this.update({ report: msg.report, policyUri: msg.policyUri, expanded: this.state.expanded.filter(id => ids.has(id)) });
          this.render();
        }
        return;
      case 'error':
        this.errorEl.textContent = msg.message;
        this.errorEl.hidden = false;
        return;
    }
  }

  private update(patch: Partial<GateViewState>): void {
    this.state = { ...this.state, ...patch };
    if (this.state.report === undefined) delete this.state.report;
    if (this.state.policyUri === undefined) delete this.state.policyUri;
    this.host.setState(this.state);
  }

  private renderEmpty(canRun: boolean): void {
    this.list = undefined;
    setChildren(this.header);
    this.header.hidden = true;
    const run = ui.button(t('Check Promotion'), () => this.host.post({ type: 'rerun' }), { id: 'check-promotion' });
    setChildren(this.body, h('div', { class: 'empty-state', id: 'empty-state' },
      h('h1', null, t('No gate report yet')),
      h('p', null, t('Run "EDD: Check Promotion" on a promotion policy (the palette, the CodeLens on the policy, or a finished run in the Experiments view); its report appears here.')),
      canRun ? run : null));
    this.markRendered();
  }

  private render(): void {
    const r = this.state.report!;
    this.header.hidden = false;
    this.renderHeader(r);
    const checks = this.visibleChecks(r);
    this.list = h('ol', { class: 'checks', id: 'checks', attrs: { 'aria-label': t('Checks') } });
    this.list.addEventListener('keydown', ev => this.onListKey(ev));
    for (const c of checks) this.list.append(this.card(c));
    const empty = checks.length === 0
      ? h('p', { class: 'empty', id: 'no-checks' }, r.checks.length === 0 ? t('The policy has no checks.') : t('Every check passed; clear "Failed only" to see them.'))
      : null;
    setChildren(this.body, this.list, empty);
    this.markRendered();
  }

  private visibleChecks(r: GateReport): CheckResult[] {
    return this.state.failedOnly ? r.checks.filter(isFailing) : r.checks;
  }

  private renderHeader(r: GateReport): void {
    const s = r.summary;
    const verdict = r.passed
      ? h('p', { class: 'verdict pass', id: 'verdict' }, icon('✓', 'status-icon'), t('Gate passed'))
      : h('p', { class: 'verdict fail', id: 'verdict' }, icon('✗', 'status-icon'), t('Gate failed'));
    const counts = h('ul', { class: 'counts', id: 'counts', attrs: { 'aria-label': t('Checks by status') } },
      ...(['pass', 'fail', 'warn', 'error'] as const).map(k => h('li', { class: `count status-${k}`, attrs: { 'data-status': k } },
        icon(statusGlyph(k), 'status-icon'), ' ',
        h('span', { class: 'count-n' }, String(s[k] ?? 0)), ' ', statusText(k))));
    const candidate = candidateText(r.candidate);
    const meta = h('p', { class: 'subtitle', id: 'meta' },
      candidate ? t('Candidate: {0}', candidate) : t('Candidate: not recorded'), ' · ',
      t('started {0}', dateTime(Date.parse(r.startedAt))), ' · ', t('took {0}', durationText(r.durationMs)));
    setChildren(this.header,
      h('div', { class: 'title' }, h('h1', { id: 'policy' }, t('Gate report: {0}', r.policy)), verdict, meta, counts),
      h('div', { class: 'controls' }, this.failedOnly.el, this.state.policyUri ? this.rerun : null));
    this.failedOnly.checked = this.state.failedOnly;
  }

  private card(c: CheckResult): HTMLLIElement {
    const id = domId(c.id);
    const open = this.state.expanded.includes(c.id);
    const head = h('div', {
      class: 'check-head', id: `head-${id}`, role: 'button', tabIndex: 0,
      attrs: { 'aria-expanded': String(open), 'aria-controls': `evidence-${id}` },
    },
    h('span', { class: 'chevron', attrs: { 'aria-hidden': 'true' } }),
    h('span', { class: 'status' }, icon(statusGlyph(c.status), 'status-icon'), h('span', { class: 'status-text' }, statusText(c.status))),
    h('span', { class: 'check-title' }, c.title),
    h('span', { class: 'check-kind' }, c.kind),
    h('span', { class: 'check-duration' }, durationText(c.durationMs)));
    const evidence = h('div', { class: 'evidence', id: `evidence-${id}`, role: 'region', attrs: { 'aria-label': t('Evidence of {0}', c.title) } });
    evidence.hidden = !open;
    if (open) this.fillEvidence(evidence, c);
    const toggle = () => {
      const now = head.getAttribute('aria-expanded') !== 'true';
      head.setAttribute('aria-expanded', String(now));
      evidence.hidden = !now;
      if (now && !evidence.hasChildNodes()) this.fillEvidence(evidence, c);
      const expanded = new Set(this.state.expanded);
      if (now) expanded.add(c.id);
      else expanded.delete(c.id);
      this.update({ expanded: [...expanded] });
    };
    head.addEventListener('click', toggle);
    head.addEventListener('keydown', ev => {
      if (ev.key === 'Enter' || ev.key === ' ') {
        ev.preventDefault();
        toggle();
      }
    });
    const charts = chartsOf(c);
    const actions = h('div', { class: 'check-actions' });
    if (c.source && this.state.policyUri) {
      const go = h('button', { class: 'link-button go-to', attrs: { 'data-check-id': c.id } }, t('Go to check in policy'));
      go.type = 'button';
      go.addEventListener('click', () => this.host.post({ type: 'revealCheck', checkId: c.id }));
      actions.append(go);
    }
    return h('li', { class: `check status-${c.status}`, id: `check-${id}`, attrs: { 'data-check-id': c.id, 'data-status': c.status } },
      head,
      h('p', { class: 'check-message' }, c.message),
      h('div', { class: 'values' },
        this.entries('measured', t('Measured'), measuredEntries(c.measured)),
        this.entries('threshold', t('Threshold'), thresholdEntries(c.threshold))),
      charts.length ? h('div', { class: 'charts' }, ...charts.map(s => renderChart(s, `check-${id}`))) : null,
      evidence,
      actions.hasChildNodes() ? actions : null);
  }

  private entries(cls: string, title: string, entries: Entry[]): HTMLElement {
    return h('div', { class: `entries ${cls}` },
      h('h3', null, title),
      entries.length === 0
        ? h('p', { class: 'muted' }, t('(none)'))
        : h('dl', null, ...entries.flatMap(e => [h('dt', null, e.label), h('dd', null, e.value)])));
  }

  private fillEvidence(el: HTMLElement, c: CheckResult): void {
    const nested = nestedMeasured(c.measured);
    const parts: HTMLElement[] = [];
    if (c.evidence !== undefined && c.evidence !== null) parts.push(h('h3', null, t('Evidence')), renderValue(c.evidence));
    if (Object.keys(nested).length > 0) parts.push(h('h3', null, t('All measurements')), renderValue(nested));
    if (parts.length === 0) parts.push(h('p', { class: 'muted' }, t('This check recorded no evidence beyond its measured values.')));
    setChildren(el, ...parts);
  }

  private onListKey(ev: KeyboardEvent): void {
    if (!['ArrowDown', 'ArrowUp', 'Home', 'End'].includes(ev.key)) return;
    const target = ev.target as HTMLElement;
    if (!target.classList.contains('check-head') || !this.list) return;
    const heads = [...this.list.querySelectorAll<HTMLElement>(':scope > li > .check-head')];
    const i = heads.indexOf(target);
    const next = ev.key === 'Home' ? 0 : ev.key === 'End' ? heads.length - 1 : ev.key === 'ArrowDown' ? Math.min(heads.length - 1, i + 1) : Math.max(0, i - 1);
    ev.preventDefault();
    heads[next]?.focus();
  }

  private setFailedOnly(v: boolean): void {
    if (v === this.state.failedOnly) return;
    this.update({ failedOnly: v });
    if (this.state.report) this.render();
  }

  private markRendered(): void {
    const seq = ++this.seq;
    afterPaint(() => {
      this.root.dataset.eddRendered = String(seq);
      document.dispatchEvent(new CustomEvent(RENDERED_EVENT, { detail: { seq } }));
    });
  }
}
