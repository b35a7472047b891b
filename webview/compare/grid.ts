/**
 * A keyboard-navigable data grid on a plain `<table role="grid">`, with a sticky header row and a sticky first
 * column, that renders only the rows and columns in view once the table is large (100 runs × 50 metrics is 5,000
 * cells; 1,000 runs would be 50,000). Small tables are rendered whole, so the browser's find works on them.
 *
 * Rows have a fixed height (a number of text lines), which is what makes windowing exact and cheap: the scroll
 * extent comes from spacer rows and spacer columns, and a scroll re-renders at most the cells in view plus an
 * overscan. The keyboard follows the ARIA grid pattern: one tab stop; arrows, Home/End, Ctrl+Home/End,
 * PageUp/PageDown move between cells; Enter or Space activates the button in a cell.
 */

/** Rows beyond which rows are windowed, and columns beyond which columns are. */
export const WINDOW_ROWS = 60;
export const WINDOW_COLUMNS = 24;
const OVERSCAN_ROWS = 8;
const OVERSCAN_COLUMNS = 3;

/** Line height of grid text, measured once (before the grids fill the page, when it is cheap) and again after
 * VS Code changes the theme or the font (the variables on <html>, the class of <body>). */
let lineHeightCache: number | undefined;
let fontObserver: MutationObserver | undefined;

function gridLineHeight(probeParent: HTMLElement): number {
  if (lineHeightCache !== undefined) return lineHeightCache;
  if (!probeParent.isConnected) return 18;
  if (!fontObserver && typeof MutationObserver !== 'undefined') {
    fontObserver = new MutationObserver(() => {
      lineHeightCache = undefined;
    });
    fontObserver.observe(document.documentElement, { attributes: true, attributeFilter: ['style', 'class'] });
    fontObserver.observe(document.body, { attributes: true, attributeFilter: ['class'] });
  }
  const cs = getComputedStyle(probeParent);
  const lh = parseFloat(cs.lineHeight);
  const fs = parseFloat(cs.fontSize);
  lineHeightCache = Number.isFinite(lh) && lh > 0 ? lh : Number.isFinite(fs) && fs > 0 ? fs * 1.4 : 18;
  return lineHeightCache;
}

export interface GridColumn {
  /** Width in CSS pixels. */
  width: number;
  /** Fills the header cell of the column (`<th scope="col">`). */
  header(th: HTMLTableCellElement): void;
  /** Class of the column's cells (alignment). */
  className?: string;
}

export interface GridSpec {
  /** Accessible name of the table. */
  label: string;
  /** `columns[0]` is the sticky row-header column. */
  columns: GridColumn[];
  rowCount: number;
  /** Lines of text in a body row (default 1) and in the header row (default 1). */
  rowLines?: number;
  headerLines?: number;
  /** Fills body cell (row, col); column 0 is a `<th scope="row">`. Only text and elements, never markup. */
  cell(row: number, col: number, cell: HTMLTableCellElement): void;
}

interface Window {
  r0: number;
  r1: number;
  c0: number;
  c1: number;
}

/** A button for use inside a grid cell: not a tab stop of its own (the grid has one); Enter on the cell clicks it. */
export function cellButton(label: string, onClick: () => void, opts: { title?: string; className?: string; pressed?: boolean } = {}): HTMLButtonElement {
  const b = document.createElement('button');
  b.type = 'button';
  b.className = `cell-button${opts.className ? ` ${opts.className}` : ''}`;
  b.tabIndex = -1;
  b.textContent = label;
  if (opts.title) b.title = opts.title;
  if (opts.pressed !== undefined) b.setAttribute('aria-pressed', String(opts.pressed));
  b.addEventListener('click', onClick);
  return b;
}

export class Grid {
  /** The scroll container; put it in the page once and call `update` with new data. */
  readonly el: HTMLDivElement;
  private readonly table: HTMLTableElement;
  private readonly colgroup: HTMLTableColElement;
  private readonly thead: HTMLTableSectionElement;
  private readonly tbody: HTMLTableSectionElement;
  private spec: GridSpec | undefined;
  private colX: number[] = [0];
  private rowH = 24;
  private headH = 24;
  private measuredRowH = false;
  private win: Window = { r0: 0, r1: 0, c0: 1, c1: 1 };
  /** Active cell: row -1 is the header row. */
  private activeRow = -1;
  private activeCol = 0;
  private scrollTop = 0;
  private scrollLeft = 0;
  private viewW = 0;
  private viewH = 0;
  private scheduled = false;
  private readonly resizeObserver: ResizeObserver | undefined;

  constructor(className = '') {
    this.el = document.createElement('div');
    this.el.className = `grid-scroll${className ? ` ${className}` : ''}`;
    this.table = document.createElement('table');
    this.table.className = 'grid';
    this.table.setAttribute('role', 'grid');
    this.table.setAttribute('aria-readonly', 'true');
    this.colgroup = document.createElement('colgroup');
    this.thead = document.createElement('thead');
    this.tbody = document.createElement('tbody');
    this.table.append(this.colgroup, this.thead, this.tbody);
    this.el.append(this.table);
    this.viewW = typeof window === 'undefined' ? 1000 : window.innerWidth;
    this.viewH = typeof window === 'undefined' ? 600 : Math.round(window.innerHeight * 0.7);
    this.el.addEventListener('scroll', () => {
      this.scrollTop = this.el.scrollTop;
      this.scrollLeft = this.el.scrollLeft;
      this.schedule();
    }, { passive: true });
    this.table.addEventListener('keydown', ev => this.onKeyDown(ev));
    this.table.addEventListener('focusin', ev => this.onFocusIn(ev));
    if (typeof ResizeObserver !== 'undefined') {
      this.resizeObserver = new ResizeObserver(entries => {
        const r = entries[entries.length - 1].contentRect;
        if (r.width === this.viewW && r.height === this.viewH) return;
        this.viewW = r.width;
        this.viewH = r.height;
        this.schedule();
      });
      this.resizeObserver.observe(this.el);
    }
  }

  /** Shows new data, keeping the scroll position and the active cell (clamped to the new size). */
  update(spec: GridSpec): void {
    this.spec = spec;
    this.colX = [0];
    for (const c of spec.columns) this.colX.push(this.colX[this.colX.length - 1] + c.width);
    const line = this.lineHeight();
    const rowH = Math.ceil((spec.rowLines ?? 1) * line) + 7; // 3 px padding top and bottom + 1 px border
    if (!this.measuredRowH || Math.abs(rowH - this.rowH) > 2) {
      this.rowH = rowH;
      this.measuredRowH = false;
    }
    this.headH = Math.ceil((spec.headerLines ?? 1) * line) + 7;
    this.table.style.setProperty('--row-h', `${this.rowH}px`);
    this.table.style.setProperty('--head-h', `${this.headH}px`);
    this.table.style.width = `${this.colX[this.colX.length - 1]}px`;
    this.table.setAttribute('aria-label', spec.label);
    this.table.setAttribute('aria-rowcount', String(spec.rowCount + 1));
    this.table.setAttribute('aria-colcount', String(spec.columns.length));
    this.activeRow = Math.min(this.activeRow, spec.rowCount - 1);
    this.activeCol = Math.min(this.activeCol, spec.columns.length - 1);
    this.render(this.computeWindow());
  }

  /** Cells currently in the DOM (for tests and diagnostics). */
  get renderedCellCount(): number {
    return this.table.querySelectorAll('td:not(.spacer), th:not(.spacer)').length;
  }

  destroy(): void {
    this.resizeObserver?.disconnect();
  }

  private lineHeight(): number {
    return gridLineHeight(this.table);
  }

  private get windowRows(): boolean {
    return (this.spec?.rowCount ?? 0) > WINDOW_ROWS;
  }

  private get windowColumns(): boolean {
    return (this.spec?.columns.length ?? 0) > WINDOW_COLUMNS;
  }

  private computeWindow(): Window {
    const spec = this.spec!;
    const n = spec.rowCount;
    const cols = spec.columns.length;
    let r0 = 0;
    let r1 = n;
    if (this.windowRows) {
      const first = Math.floor((this.scrollTop - this.headH) / this.rowH);
      const last = Math.ceil((this.scrollTop + this.viewH - this.headH) / this.rowH);
      r0 = Math.max(0, first - OVERSCAN_ROWS);
      r1 = Math.min(n, Math.max(last, 0) + OVERSCAN_ROWS);
      if (r1 < r0) r1 = r0;
    }
    let c0 = 1;
    let c1 = cols;
    if (this.windowColumns) {
      const left = this.scrollLeft + this.colX[1];
      const right = this.scrollLeft + Math.max(this.viewW, 1);
      c0 = Math.max(1, this.columnAt(left) - OVERSCAN_COLUMNS);
      c1 = Math.min(cols, this.columnAt(right) + 1 + OVERSCAN_COLUMNS);
    }
    return { r0, r1, c0, c1 };
  }

  /** Index of the column containing x (binary search over the prefix sums). */
  private columnAt(x: number): number {
    let lo = 0;
    let hi = this.colX.length - 2;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.colX[mid] <= x) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  private schedule(): void {
    if (this.scheduled || !this.spec) return;
    this.scheduled = true;
    requestAnimationFrame(() => {
      this.scheduled = false;
      if (!this.spec) return;
      if (!this.measuredRowH) this.measureRow();
      const w = this.computeWindow();
      const cur = this.win;
      // Re-render only when the cells in view are no longer all rendered (or the window shrank a lot).
      const rowsOk = !this.windowRows || (w.r0 >= cur.r0 && w.r1 <= cur.r1 && cur.r1 - cur.r0 <= w.r1 - w.r0 + 4 * OVERSCAN_ROWS);
      const colsOk = !this.windowColumns || (w.c0 >= cur.c0 && w.c1 <= cur.c1 && cur.c1 - cur.c0 <= w.c1 - w.c0 + 4 * OVERSCAN_COLUMNS);
      if (!rowsOk || !colsOk) this.render(w);
    });
  }

  /** The real height of a body row once laid out (fonts may differ from the estimate). */
  private measureRow(): void {
    const row = this.tbody.querySelector('tr:not(.spacer)');
    if (!row) return;
    const h = row.getBoundingClientRect().height;
    this.measuredRowH = true;
    if (h > 0 && Math.abs(h - this.rowH) >= 0.5) {
      this.rowH = h;
      this.table.style.setProperty('--row-h', `${h}px`);
      this.render(this.computeWindow());
    }
  }

  private render(w: Window): void {
    const spec = this.spec!;
    const hadFocus = this.table.contains(document.activeElement);
    this.win = w;
    const cols = spec.columns;
    const leftPad = this.colX[w.c0] - this.colX[1];
    const rightPad = this.colX[cols.length] - this.colX[w.c1];

    const colEls: HTMLTableColElement[] = [];
    const mkCol = (width: number, spacer = false): void => {
      const c = document.createElement('col');
      c.style.width = `${width}px`;
      if (spacer) c.className = 'spacer';
      colEls.push(c);
    };
    mkCol(cols[0].width);
    if (leftPad > 0) mkCol(leftPad, true);
    for (let c = w.c0; c < w.c1; c++) mkCol(cols[c].width);
    if (rightPad > 0) mkCol(rightPad, true);
    this.colgroup.replaceChildren(...colEls);
    const span = colEls.length;

    const headRow = document.createElement('tr');
    headRow.setAttribute('aria-rowindex', '1');
    const corner = this.headerCell(0);
    corner.className = 'corner';
    headRow.append(corner);
    if (leftPad > 0) headRow.append(spacerCell('th'));
    for (let c = w.c0; c < w.c1; c++) headRow.append(this.headerCell(c));
    if (rightPad > 0) headRow.append(spacerCell('th'));
    this.thead.replaceChildren(headRow);

    const frag = document.createDocumentFragment();
    if (w.r0 > 0) frag.append(spacerRow(span, w.r0 * this.rowH));
    for (let r = w.r0; r < w.r1; r++) {
      const tr = document.createElement('tr');
      tr.setAttribute('aria-rowindex', String(r + 2));
      tr.append(this.bodyCell(r, 0, 'th'));
      if (leftPad > 0) tr.append(spacerCell('td'));
      for (let c = w.c0; c < w.c1; c++) tr.append(this.bodyCell(r, c, 'td'));
      if (rightPad > 0) tr.append(spacerCell('td'));
      frag.append(tr);
    }
    if (w.r1 < spec.rowCount) frag.append(spacerRow(span, (spec.rowCount - w.r1) * this.rowH));
    this.tbody.replaceChildren(frag);

    const active = this.cellAt(this.activeRow, this.activeCol) ?? corner;
    active.tabIndex = 0;
    if (hadFocus) active.focus({ preventScroll: true });
  }

  private headerCell(c: number): HTMLTableCellElement {
    const th = document.createElement('th');
    th.scope = 'col';
    th.tabIndex = -1;
    th.setAttribute('aria-colindex', String(c + 1));
    const col = this.spec!.columns[c];
    if (col.className) th.className = col.className;
    col.header(th);
    return th;
  }

  private bodyCell(r: number, c: number, tag: 'th' | 'td'): HTMLTableCellElement {
    const cell = document.createElement(tag);
    if (tag === 'th') cell.scope = 'row';
    cell.tabIndex = -1;
    cell.setAttribute('aria-colindex', String(c + 1));
    const col = this.spec!.columns[c];
    if (col.className) cell.className = col.className;
    this.spec!.cell(r, c, cell);
    return cell;
  }

  private cellAt(row: number, col: number): HTMLTableCellElement | undefined {
    const w = this.win;
    if (row >= 0 && (row < w.r0 || row >= w.r1)) return undefined;
    if (col > 0 && (col < w.c0 || col >= w.c1)) return undefined;
    const tr = row < 0 ? this.thead.rows[0] : this.tbody.querySelector<HTMLTableRowElement>(`tr[aria-rowindex="${row + 2}"]`);
    return tr?.querySelector<HTMLTableCellElement>(`:scope > [aria-colindex="${col + 1}"]`) ?? undefined;
  }

  private onFocusIn(ev: FocusEvent): void {
    const cell = (ev.target as Element).closest('td, th');
    if (!cell || cell.classList.contains('spacer') || !this.table.contains(cell)) return;
    const tr = cell.parentElement as HTMLTableRowElement;
    const row = Number(tr.getAttribute('aria-rowindex')) - 2;
    const col = Number(cell.getAttribute('aria-colindex')) - 1;
    if (!Number.isFinite(row) || !Number.isFinite(col)) return;
    if (row !== this.activeRow || col !== this.activeCol) {
      for (const el of this.table.querySelectorAll<HTMLElement>('[tabindex="0"]')) if (el !== cell) el.tabIndex = -1;
      this.activeRow = row;
      this.activeCol = col;
    }
    (cell as HTMLElement).tabIndex = 0;
  }

  private onKeyDown(ev: KeyboardEvent): void {
    const spec = this.spec;
    if (!spec) return;
    const target = ev.target as HTMLElement;
    const inCell = target.matches('td, th');
    if ((ev.key === 'Enter' || ev.key === ' ') && inCell) {
      const btn = target.querySelector<HTMLElement>('button, a[href]');
      if (btn) {
        ev.preventDefault();
        btn.click();
      }
      return;
    }
    if (!inCell && ev.key === 'Escape') {
      (target.closest('td, th') as HTMLElement | null)?.focus();
      return;
    }
    if (!inCell) return;
    const lastRow = spec.rowCount - 1;
    const lastCol = spec.columns.length - 1;
    const page = Math.max(1, Math.floor((this.viewH - this.headH) / this.rowH) - 1);
    let r = this.activeRow;
    let c = this.activeCol;
    switch (ev.key) {
      case 'ArrowDown': r = Math.min(lastRow, r + 1); break;
      case 'ArrowUp': r = Math.max(-1, r - 1); break;
      case 'ArrowRight': c = Math.min(lastCol, c + 1); break;
      case 'ArrowLeft': c = Math.max(0, c - 1); break;
      case 'Home': c = 0; if (ev.ctrlKey) r = -1; break;
      case 'End': c = lastCol; if (ev.ctrlKey) r = lastRow; break;
      case 'PageDown': r = Math.min(lastRow, r + page); break;
      case 'PageUp': r = Math.max(-1, r - page); break;
      default: return;
    }
    ev.preventDefault();
    this.moveTo(r, c);
  }

  private moveTo(row: number, col: number): void {
    this.activeRow = row;
    this.activeCol = col;
    // Scroll the cell into view, clear of the sticky header and first column.
    const viewH = this.el.clientHeight || this.viewH;
    const viewW = this.el.clientWidth || this.viewW;
    let top = this.el.scrollTop;
    let left = this.el.scrollLeft;
    if (row >= 0) {
      const y = this.headH + row * this.rowH;
      if (y < top + this.headH) top = y - this.headH;
      else if (y + this.rowH > top + viewH) top = y + this.rowH - viewH;
    }
    if (col > 0) {
      const x = this.colX[col];
      const wCol = this.colX[col + 1] - x;
      if (x < left + this.colX[1]) left = x - this.colX[1];
      else if (x + wCol > left + viewW) left = x + wCol - viewW;
    }
    top = Math.max(0, top);
    left = Math.max(0, left);
    if (top !== this.el.scrollTop) this.el.scrollTop = top;
    if (left !== this.el.scrollLeft) this.el.scrollLeft = left;
    this.scrollTop = top;
    this.scrollLeft = left;
    let cell = this.cellAt(row, col);
    if (!cell) {
      this.render(this.computeWindow());
      cell = this.cellAt(row, col);
    }
    if (!cell) return;
    for (const el of this.table.querySelectorAll<HTMLElement>('[tabindex="0"]')) el.tabIndex = -1;
    cell.tabIndex = 0;
    cell.focus({ preventScroll: true });
  }
}

function spacerCell(tag: 'th' | 'td'): HTMLTableCellElement {
  const c = document.createElement(tag);
  c.className = 'spacer';
  c.setAttribute('aria-hidden', 'true');
  return c;
}

function spacerRow(span: number, height: number): HTMLTableRowElement {
  const tr = document.createElement('tr');
  tr.className = 'spacer';
  tr.setAttribute('aria-hidden', 'true');
  const td = document.createElement('td');
  td.className = 'spacer';
  td.colSpan = span;
  td.style.height = `${height}px`;
  tr.append(td);
  return tr;
}
