/**
 * Loads a panel's bundle (the comparison panel's by default, or the gate report's) in headless Chromium the way VS
 * Code does: the page of webview/<panel>/README.md with its strict CSP and a fresh nonce, the bundle and its
 * stylesheet served from one origin (standing in for `webview.cspSource`), and a fake `acquireVsCodeApi` that
 * records what the webview posts and keeps its state. Used by the DOM tests and the render benchmark.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as http from 'http';
import type { AddressInfo } from 'net';
import * as path from 'path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { HostMessage, WebviewMessage } from '../../src/protocol/compare';

export const ROOT = path.resolve(__dirname, '..', '..', '..');
const DIST = path.join(ROOT, 'dist', 'webview');
const CHROMIUM = process.env.EDD_CHROMIUM || '/usr/bin/chromium';

export type ThemeKind = 'dark' | 'light' | 'high-contrast';

/** The panels whose bundles the harness serves (dist/webview/<name>.js and .css). */
export type Bundle = 'compare' | 'gate' | 'monitor';
const BUNDLES: Bundle[] = ['compare', 'gate', 'monitor'];

/** A few of the variables VS Code sets on <html>, per theme kind (values from the default themes). */
const THEMES: Record<ThemeKind, Record<string, string>> = {
  dark: {
    '--vscode-button-background': '#0078d4', '--vscode-button-foreground': '#ffffff', '--vscode-button-hoverBackground': '#026ec1',
    '--vscode-button-secondaryBackground': '#313131', '--vscode-button-secondaryForeground': '#cccccc', '--vscode-button-secondaryHoverBackground': '#3c3c3c',
    '--vscode-button-border': '#ffffff12', '--vscode-settings-dropdownBackground': '#313131', '--vscode-settings-dropdownForeground': '#cccccc',
    '--vscode-settings-dropdownBorder': '#3c3c3c', '--vscode-settings-checkboxBackground': '#313131', '--vscode-settings-checkboxBorder': '#3c3c3c',
    '--vscode-checkbox-background': '#313131', '--vscode-checkbox-border': '#3c3c3c', '--vscode-list-activeSelectionBackground': '#04395e',
    '--vscode-list-hoverBackground': '#2a2d2e', '--vscode-badge-background': '#616161', '--vscode-badge-foreground': '#f8f8f8',
    '--vscode-editorWidget-border': '#454545', '--vscode-textLink-foreground': '#4daafc',
    '--vscode-foreground': '#cccccc', '--vscode-editor-background': '#1f1f1f', '--vscode-focusBorder': '#0078d4',
    '--vscode-charts-blue': '#3794ff', '--vscode-charts-orange': '#d18616', '--vscode-charts-green': '#89d185',
    '--vscode-charts-purple': '#b180d7', '--vscode-charts-red': '#f14c4c', '--vscode-charts-yellow': '#cca700',
    '--vscode-font-family': 'system-ui, sans-serif', '--vscode-font-size': '13px', '--vscode-descriptionForeground': '#9d9d9d',
  },
  light: {
    '--vscode-button-background': '#005fb8', '--vscode-button-foreground': '#ffffff', '--vscode-button-hoverBackground': '#0258a8',
    '--vscode-button-secondaryBackground': '#e5e5e5', '--vscode-button-secondaryForeground': '#3b3b3b', '--vscode-button-secondaryHoverBackground': '#cccccc',
    '--vscode-button-border': '#0000001a', '--vscode-settings-dropdownBackground': '#ffffff', '--vscode-settings-dropdownForeground': '#3b3b3b',
    '--vscode-settings-dropdownBorder': '#cecece', '--vscode-settings-checkboxBackground': '#f8f8f8', '--vscode-settings-checkboxBorder': '#cecece',
    '--vscode-checkbox-background': '#f8f8f8', '--vscode-checkbox-border': '#cecece', '--vscode-list-activeSelectionBackground': '#e8e8e8',
    '--vscode-list-hoverBackground': '#f2f2f2', '--vscode-badge-background': '#cccccc', '--vscode-badge-foreground': '#3b3b3b',
    '--vscode-editorWidget-border': '#c8c8c8', '--vscode-textLink-foreground': '#005fb8', '--vscode-list-inactiveSelectionBackground': '#e4e6f1',
    '--vscode-foreground': '#3b3b3b', '--vscode-editor-background': '#ffffff', '--vscode-focusBorder': '#005fb8',
    '--vscode-charts-blue': '#1a85ff', '--vscode-charts-orange': '#d18616', '--vscode-charts-green': '#388a34',
    '--vscode-charts-purple': '#652d90', '--vscode-charts-red': '#e51400', '--vscode-charts-yellow': '#bf8803',
    '--vscode-font-family': 'system-ui, sans-serif', '--vscode-font-size': '13px', '--vscode-descriptionForeground': '#717171',
  },
  'high-contrast': {
    '--vscode-button-background': '#000000', '--vscode-button-foreground': '#ffffff', '--vscode-button-border': '#6fc3df',
    '--vscode-button-secondaryBackground': '#000000', '--vscode-button-secondaryForeground': '#ffffff',
    '--vscode-settings-dropdownBackground': '#000000', '--vscode-settings-dropdownForeground': '#ffffff', '--vscode-settings-dropdownBorder': '#6fc3df',
    '--vscode-settings-checkboxBackground': '#000000', '--vscode-settings-checkboxBorder': '#6fc3df', '--vscode-checkbox-background': '#000000',
    '--vscode-checkbox-border': '#6fc3df', '--vscode-list-activeSelectionBackground': '#000000', '--vscode-list-focusOutline': '#f38518',
    '--vscode-badge-background': '#000000', '--vscode-badge-foreground': '#ffffff', '--vscode-editorWidget-border': '#6fc3df',
    '--vscode-textLink-foreground': '#21a6ff',
    '--vscode-foreground': '#ffffff', '--vscode-editor-background': '#000000', '--vscode-focusBorder': '#f38518',
    '--vscode-contrastBorder': '#6fc3df', '--vscode-contrastActiveBorder': '#f38518',
    '--vscode-charts-blue': '#3794ff', '--vscode-charts-orange': '#d18616', '--vscode-charts-green': '#89d185',
    '--vscode-charts-purple': '#b180d7', '--vscode-charts-red': '#f14c4c', '--vscode-charts-yellow': '#ffff00',
    '--vscode-font-family': 'system-ui, sans-serif', '--vscode-font-size': '13px', '--vscode-descriptionForeground': '#ffffff',
  },
};

const BODY_CLASS: Record<ThemeKind, string> = { dark: 'vscode-dark', light: 'vscode-light', 'high-contrast': 'vscode-high-contrast' };

export function csp(nonce: string, cspSource: string): string {
  return `default-src 'none'; script-src 'nonce-${nonce}'; style-src ${cspSource} 'nonce-${nonce}'; img-src ${cspSource} data:; font-src ${cspSource};`;
}

/** The page of webview/compare/README.md (the host builds the same with webview.asWebviewUri / cspSource). */
export function panelHtml(o: { nonce: string; cspSource: string; scriptUri: string; styleUri: string; theme: ThemeKind; themeUri: string; l10n?: Record<string, string> }): string {
  const l10n = o.l10n ? `\n  <script type="application/json" id="edd-l10n">${JSON.stringify(o.l10n).replace(/</g, '\\u003c')}</script>` : '';
  return `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="UTF-8">
  <meta http-equiv="Content-Security-Policy" content="${csp(o.nonce, o.cspSource)}">
  <meta name="viewport" content="width=device-width, initial-scale=1.0">
  <link rel="stylesheet" href="${o.themeUri}" nonce="${o.nonce}">
  <link rel="stylesheet" href="${o.styleUri}" nonce="${o.nonce}">
  <title>Compare runs</title>
</head>
<body class="${BODY_CLASS[o.theme]}" data-vscode-theme-kind="${BODY_CLASS[o.theme]}">
  <div id="app"></div>${l10n}
  <script nonce="${o.nonce}" src="${o.scriptUri}"></script>
</body>
</html>`;
}

export interface Harness {
  browser: Browser;
  base: string;
  close(): Promise<void>;
}

export async function startHarness(): Promise<Harness> {
  for (const f of BUNDLES.flatMap(b => [`${b}.js`, `${b}.css`])) {
    if (!fs.existsSync(path.join(DIST, f))) throw new Error(`${path.join(DIST, f)} is missing: run "node esbuild.mjs" first`);
  }
  if (!fs.existsSync(CHROMIUM)) throw new Error(`No Chromium at ${CHROMIUM}: apt-get install chromium (or set EDD_CHROMIUM)`);
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const origin = `http://${req.headers.host}`;
    if (url.pathname === '/panel.html') {
      const theme = (url.searchParams.get('theme') ?? 'dark') as ThemeKind;
      const nonce = crypto.randomBytes(16).toString('base64');
      const l10n = url.searchParams.get('l10n');
      const bundle = BUNDLES.find(b => b === url.searchParams.get('bundle')) ?? 'compare';
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(panelHtml({ nonce, cspSource: origin, scriptUri: `${origin}/dist/webview/${bundle}.js`, styleUri: `${origin}/dist/webview/${bundle}.css`, theme, themeUri: `${origin}/theme.css?kind=${theme}`, l10n: l10n ? JSON.parse(l10n) as Record<string, string> : undefined }));
      return;
    }
    if (url.pathname === '/theme.css') {
      const theme = THEMES[(url.searchParams.get('kind') ?? 'dark') as ThemeKind] ?? THEMES.dark;
      res.writeHead(200, { 'content-type': 'text/css' });
      res.end(`:root {\n${Object.entries(theme).map(([k, v]) => `  ${k}: ${v};`).join('\n')}\n}\n`);
      return;
    }
    const m = /^\/dist\/webview\/([\w.-]+)$/.exec(url.pathname);
    if (m && fs.existsSync(path.join(DIST, m[1]))) {
      const type = m[1].endsWith('.js') ? 'text/javascript' : m[1].endsWith('.css') ? 'text/css' : 'application/json';
      res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(fs.readFileSync(path.join(DIST, m[1])));
      return;
    }
    if (url.pathname === '/favicon.ico') {
      res.writeHead(204);
      res.end();
      return;
    }
    res.writeHead(404);
    res.end();
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  return {
    browser,
    base,
    async close() {
      await browser.close().catch(() => {});
      await new Promise<void>(resolve => server.close(() => resolve()));
    },
  };
}

/** What the fake VS Code API recorded in the page. */
export interface Recorded {
  posted: WebviewMessage[];
  state: unknown;
  setStateCalls: number;
  violations: Array<{ directive: string; blocked: string; sample: string }>;
  acquired: number;
}

declare global {
  interface Window {
    __edd: Recorded;
    acquireVsCodeApi(): unknown;
  }
}

export interface Panel {
  context: BrowserContext;
  page: Page;
  /** Console errors and page errors seen so far. */
  errors: string[];
  recorded(): Promise<Recorded>;
  posted(): Promise<WebviewMessage[]>;
  send(msg: HostMessage | unknown): Promise<void>;
  /** Sends a message and waits until the app has painted the render it caused. */
  sendAndWait(msg: HostMessage, what?: 'comparison' | 'curves'): Promise<void>;
  waitRendered(what: 'comparison' | 'curves', seq: number): Promise<void>;
  /** Reloads the page (the webview's state survives, as in VS Code) and waits for `ready`. */
  reload(): Promise<void>;
  close(): Promise<void>;
}

export interface OpenOptions {
  state?: unknown;
  theme?: ThemeKind;
  viewport?: { width: number; height: number };
  /** Translations put in the page's `edd-l10n` block. */
  l10n?: Record<string, string>;
  /** Which panel's bundle the page loads (default: the comparison panel). */
  bundle?: Bundle;
}

export async function openPanel(h: Harness, o: OpenOptions = {}): Promise<Panel> {
  const context = await h.browser.newContext({ viewport: o.viewport ?? { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  const errors: string[] = [];
  page.on('console', m => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  page.on('pageerror', e => errors.push(`page error: ${e.message}`));
  page.on('dialog', d => {
    errors.push(`dialog opened: ${d.message()}`);
    void d.dismiss();
  });
  // Runs before the page's scripts (injected by the browser, so the page's CSP does not apply to it).
  await page.addInitScript((initial: unknown) => {
    // Like VS Code, the state outlives a reload of the webview (kept here in the page's sessionStorage).
    const kept = sessionStorage.getItem('edd-test-state');
    const rec: Recorded = { posted: [], state: kept === null ? initial : JSON.parse(kept), setStateCalls: 0, violations: [], acquired: 0 };
    window.__edd = rec;
    document.addEventListener('securitypolicyviolation', e => {
      rec.violations.push({ directive: e.violatedDirective, blocked: e.blockedURI, sample: e.sample });
    });
    window.acquireVsCodeApi = () => {
      if (rec.acquired++ > 0) throw new Error('An instance of the VS Code API has already been acquired');
      return Object.freeze({
        postMessage: (m: unknown) => rec.posted.push(structuredClone(m) as WebviewMessage),
        getState: () => rec.state,
        setState: (s: unknown) => {
          rec.state = structuredClone(s);
          rec.setStateCalls++;
          sessionStorage.setItem('edd-test-state', JSON.stringify(s));
        },
      });
    };
  }, o.state);
  await page.goto(`${h.base}/panel.html?theme=${o.theme ?? 'dark'}&bundle=${o.bundle ?? 'compare'}${o.l10n ? `&l10n=${encodeURIComponent(JSON.stringify(o.l10n))}` : ''}`);
  await page.waitForFunction(() => window.__edd.posted.length > 0);
  const counts = { comparison: 0, curves: 0 };
  const panel: Panel = {
    context,
    page,
    errors,
    recorded: () => page.evaluate(() => window.__edd),
    posted: () => page.evaluate(() => window.__edd.posted),
    send: msg => page.evaluate(m => window.postMessage(m, '*'), msg),
    async waitRendered(what, seq) {
      const attr = what === 'comparison' ? 'eddRendered' : 'eddCurves';
      await page.waitForFunction(([a, n]) => Number(document.getElementById('app')!.dataset[a as string] ?? 0) >= (n as number), [attr, seq] as const);
    },
    async sendAndWait(msg, what = msg.type === 'curves' ? 'curves' : 'comparison') {
      const seq = ++counts[what];
      await panel.send(msg);
      await panel.waitRendered(what, seq);
    },
    async reload() {
      await page.reload();
      await page.waitForFunction(() => window.__edd.posted.length > 0);
      counts.comparison = 0;
      counts.curves = 0;
    },
    close: () => context.close(),
  };
  return panel;
}
