/**
 * Small DOM helpers. Every string given to them becomes a text node or a property (never markup), so data from the
 * host can be passed in as it is: there is no path from here to `innerHTML`.
 */

export type Child = Node | string | number | null | undefined | false;

export interface Props {
  class?: string;
  id?: string;
  title?: string;
  role?: string;
  hidden?: boolean;
  tabIndex?: number;
  /** Attributes (aria-*, data-*, …). Values are strings set with `setAttribute`; `null` leaves it out. */
  attrs?: Record<string, string | number | boolean | null | undefined>;
  /** Event listeners (added with `addEventListener`; no inline handlers). */
  on?: { [K in keyof HTMLElementEventMap]?: (ev: HTMLElementEventMap[K]) => void };
}

/** Creates `<tag>` with props and children; strings become text nodes. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props?: Props | null, ...children: Child[]): HTMLElementTagNameMap[K];
export function h(tag: string, props?: Props | null, ...children: Child[]): HTMLElement;
export function h(tag: string, props?: Props | null, ...children: Child[]): HTMLElement {
  const el = document.createElement(tag);
  if (props) applyProps(el, props);
  append(el, children);
  return el;
}

export function applyProps(el: HTMLElement, props: Props): void {
  if (props.class) el.className = props.class;
  if (props.id) el.id = props.id;
  if (props.title !== undefined) el.title = props.title;
  if (props.role) el.setAttribute('role', props.role);
  if (props.hidden) el.hidden = true;
  if (props.tabIndex !== undefined) el.tabIndex = props.tabIndex;
  if (props.attrs) {
    for (const [k, v] of Object.entries(props.attrs)) {
      if (v === null || v === undefined || v === false) continue;
      el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  if (props.on) {
    for (const [type, fn] of Object.entries(props.on)) el.addEventListener(type, fn as EventListener);
  }
}

export function append(el: Node, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.appendChild(typeof c === 'object' ? c : document.createTextNode(String(c)));
  }
}

/** Replaces the children of `el` (text for strings). */
export function setChildren(el: Node & ParentNode, ...children: Child[]): void {
  el.replaceChildren();
  append(el, children);
}

/** Text shown to sighted users only as an icon; read aloud by screen readers as `text` (kept in the DOM). */
export function icon(glyph: string, cls: string): HTMLSpanElement {
  return h('span', { class: `icon ${cls}`, attrs: { 'aria-hidden': 'true' } }, glyph);
}

/** Visually hidden text for assistive technology. */
export function srOnly(text: string): HTMLSpanElement {
  return h('span', { class: 'sr-only' }, text);
}
