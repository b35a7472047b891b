/**
 * Making user-derived text inert before it is printed: run ids, experiment ids, metric names, params, tags, reasons,
 * actors and file paths come from configs, training processes and the command line, and a terminal obeys the
 * control characters in them (ESC sequences clear the screen, set the window title, hide text; a newline forges an
 * extra record in `edd audit`). Bidi overrides and isolates reorder what the reader sees (Trojan Source).
 *
 * `--json` output needs none of this: JSON.stringify already escapes control characters.
 */

// C0 controls, DEL, C1 controls, line/paragraph separators, bidi embeddings/overrides and isolates.
// eslint-disable-next-line no-control-regex -- matching exactly these characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
// The same without the line feed, for multi-line text whose line structure EDD itself made.
// eslint-disable-next-line no-control-regex -- as above
const CONTROL_BUT_LF = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** How one control character is shown: `\n`, `\r`, `\t`, `\x1b` (below U+0100) or `\u202e`. */
export function escapeControl(c: string): string {
  const code = c.charCodeAt(0);
  return NAMED[c] ?? (code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`);
}

/**
 * `text` with every control character shown escaped, so it prints as itself on one line. Backslashes are left
 * alone (Windows paths stay readable): a literal `\n` typed by the user looks like an escaped newline, but it cannot
 * break the line either.
 */
export function inert(text: string): string {
  return text.replace(CONTROL, escapeControl);
}

/** Like {@link inert} but keeps line feeds: for messages made of several lines on purpose (a caret under a rule). */
export function inertLines(text: string): string {
  return text.replace(CONTROL_BUT_LF, escapeControl);
}

const HTML: Record<string, string> = { '<': '&lt;', '>': '&gt;', '&': '&amp;' };

/**
 * `text` as the content of a Markdown table cell that shows exactly the text: control characters escaped, HTML
 * escaped (`<img onerror>` stays text), pipes escaped (a cell stays one cell), and the characters that would start
 * code spans, links, images, emphasis or strike-through escaped with a backslash. An underscore inside a word stays
 * as it is (`val_loss`): GitHub-flavoured Markdown does not read it as emphasis.
 */
export function markdownCell(text: string): string {
  return inert(text)
    .replace(/[\\`*[\]~|]/g, c => `\\${c}`)
    .replace(/(?<![\p{L}\p{N}])_|_(?![\p{L}\p{N}])/gu, '\\_')
    .replace(/[<>&]/g, c => HTML[c]);
}
