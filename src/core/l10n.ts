/**
 * Message localisation for code that must not import `vscode` (core and CLI).
 *
 * Messages are written in English in the source and looked up in a bundle (`l10n/bundle.l10n.<lang>.json`, the
 * same file `vscode.l10n` reads for the extension). The extension passes `vscode.l10n`'s bundle in at activation;
 * the CLI loads the bundle that matches `EDD_LOCALE`, `LC_ALL`, `LC_MESSAGES` or `LANG`.
 */

let bundle: Record<string, string> | undefined;

/** Use `messages` (English source string → translation) for every later {@link t} call; `undefined` = English. */
export function setMessages(messages: Record<string, string> | undefined): void {
  bundle = messages;
}

/** Translate `message` and fill `{0}`, `{1}`, … with `args`. Same contract as `vscode.l10n.t(message, ...args)`. */
export function t(message: string, ...args: Array<string | number | boolean>): string {
  const template = bundle?.[message] ?? message;
  return template.replace(/\{(\d+)\}/g, (whole, i: string) => (Number(i) < args.length ? String(args[Number(i)]) : whole));
}

export const l10n = { t };
