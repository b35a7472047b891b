/**
 * The one module that knows about @vscode-elements: it registers the components the panel uses and builds them.
 * Everything else asks this module for a button, checkbox, select or radio group, so replacing the component
 * library touches one file.
 *
 * Components used: vscode-button, vscode-checkbox, vscode-single-select (+ vscode-option), vscode-radio-group
 * (+ vscode-radio). Tables are plain semantic `<table>`s (see grid.ts): vscode-table renders every cell as a
 * custom element with a shadow root, which is far too slow for 100 runs × 50 metrics, and cannot be windowed.
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-radio/index.js';
import '@vscode-elements/elements/dist/vscode-radio-group/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import type { VscodeButton } from '@vscode-elements/elements/dist/vscode-button/vscode-button.js';
import type { VscodeCheckbox } from '@vscode-elements/elements/dist/vscode-checkbox/vscode-checkbox.js';
import type { VscodeRadio } from '@vscode-elements/elements/dist/vscode-radio/vscode-radio.js';
import type { VscodeRadioGroup } from '@vscode-elements/elements/dist/vscode-radio-group/vscode-radio-group.js';
import type { VscodeSingleSelect } from '@vscode-elements/elements/dist/vscode-single-select/vscode-single-select.js';

export interface ButtonOptions {
  secondary?: boolean;
  title?: string;
  disabled?: boolean;
  id?: string;
  ariaLabel?: string;
}

export function button(label: string, onClick: () => void, opts: ButtonOptions = {}): VscodeButton {
  const b = document.createElement('vscode-button');
  b.textContent = label;
  b.secondary = opts.secondary ?? false;
  b.disabled = opts.disabled ?? false;
  if (opts.title) b.title = opts.title;
  if (opts.id) b.id = opts.id;
  if (opts.ariaLabel) b.setAttribute('aria-label', opts.ariaLabel);
  b.addEventListener('click', () => {
    if (!b.disabled) onClick();
  });
  return b;
}

export interface Checkbox {
  el: VscodeCheckbox;
  get checked(): boolean;
  set checked(v: boolean);
}

export function checkbox(label: string, checked: boolean, onChange: (checked: boolean) => void, id?: string): Checkbox {
  const c = document.createElement('vscode-checkbox');
  c.label = label;
  c.checked = checked;
  if (id) c.id = id;
  c.addEventListener('change', () => onChange(c.checked));
  return {
    el: c,
    get checked() {
      return c.checked;
    },
    set checked(v: boolean) {
      c.checked = v;
    },
  };
}

export interface SelectOption {
  value: string;
  label: string;
  description?: string;
}

export interface Select {
  el: VscodeSingleSelect;
  /** Replaces the options (only when they changed, so an open dropdown and the focus survive a live update). */
  setOptions(options: SelectOption[], value: string | undefined): void;
  get value(): string;
  set value(v: string);
}

export function select(ariaLabel: string, onChange: (value: string) => void, id?: string): Select {
  const s = document.createElement('vscode-single-select');
  s.setAttribute('aria-label', ariaLabel);
  if (id) s.id = id;
  let signature = '';
  s.addEventListener('change', () => onChange(s.value));
  return {
    el: s,
    setOptions(options, value) {
      const sig = JSON.stringify(options);
      if (sig !== signature) {
        signature = sig;
        s.combobox = options.length > 15; // typing filters a long list of runs
        s.replaceChildren(...options.map(o => {
          const opt = document.createElement('vscode-option');
          opt.value = o.value;
          opt.textContent = o.label;
          if (o.description) opt.description = o.description;
          if (o.value === value) opt.selected = true;
          return opt;
        }));
      }
      if (value !== undefined && s.value !== value) s.value = value;
    },
    get value() {
      return s.value;
    },
    set value(v: string) {
      s.value = v;
    },
  };
}

export interface RadioGroup<V extends string> {
  el: VscodeRadioGroup;
  get value(): V;
  set value(v: V);
}

export function radioGroup<V extends string>(name: string, ariaLabel: string, options: Array<{ value: V; label: string }>, value: V, onChange: (v: V) => void): RadioGroup<V> {
  const g = document.createElement('vscode-radio-group');
  g.setAttribute('aria-label', ariaLabel);
  g.variant = 'horizontal';
  const radios: VscodeRadio[] = options.map(o => {
    const r = document.createElement('vscode-radio');
    r.name = name;
    r.id = `${name}-${o.value}`;
    r.value = o.value;
    r.label = o.label;
    r.checked = o.value === value;
    return r;
  });
  g.append(...radios);
  g.addEventListener('change', ev => {
    const r = ev.target as VscodeRadio;
    if (r.checked) onChange(r.value as V);
  });
  return {
    el: g,
    get value() {
      return (radios.find(r => r.checked)?.value ?? value) as V;
    },
    set value(v: V) {
      for (const r of radios) r.checked = r.value === v;
    },
  };
}
