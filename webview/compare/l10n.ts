/**
 * Runtime strings of the webview. Keys are the English messages (as with `vscode.l10n.t`), with `{0}`-style
 * placeholders. The host may put its translations in the page as
 * `<script type="application/json" id="edd-l10n">{ "English": "번역", … }</script>` (for example
 * `vscode.l10n.bundle`); the block is data, never executed, so the CSP does not apply to it.
 */
let bundle: Record<string, string> | undefined;

function load(): Record<string, string> {
  if (bundle) return bundle;
  bundle = {};
  const el = typeof document === 'undefined' ? null : document.getElementById('edd-l10n');
  if (el?.textContent) {
    try {
      const parsed: unknown = JSON.parse(el.textContent);
      if (typeof parsed === 'object' && parsed !== null) {
        for (const [k, v] of Object.entries(parsed)) if (typeof v === 'string') bundle[k] = v;
      }
    } catch {
      // A broken bundle falls back to English rather than breaking the panel.
    }
  }
  return bundle;
}

/** The translation of `message`, with `{0}`, `{1}`, … replaced by `args`. */
export function t(message: string, ...args: Array<string | number>): string {
  const s = load()[message] ?? message;
  return args.length === 0 ? s : s.replace(/\{(\d+)\}/g, (m, i: string) => (Number(i) < args.length ? String(args[Number(i)]) : m));
}
