import * as fs from 'fs';
import * as path from 'path';
import { setMessages } from '../core/l10n';

/** The UI language the CLI should speak: `EDD_LOCALE`, else the POSIX locale variables; `en` by default. */
export function cliLanguage(env: NodeJS.ProcessEnv = process.env): string {
  const raw = env.EDD_LOCALE || env.LC_ALL || env.LC_MESSAGES || env.LANG || 'en';
  const lang = raw.split(/[_.@-]/)[0].toLowerCase();
  return lang === 'c' || lang === 'posix' || !lang ? 'en' : lang;
}

/** Load `l10n/bundle.l10n.<lang>.json` (shipped beside `dist/`) when the language is not English. */
export function loadCliMessages(env: NodeJS.ProcessEnv = process.env): void {
  const lang = cliLanguage(env);
  if (lang === 'en') return;
  // This module is bundled into dist/cli/ (the CLI's chunks), two folders below the package root.
  const file = path.join(__dirname, '..', '..', 'l10n', `bundle.l10n.${lang}.json`);
  try {
    setMessages(JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, string>);
  } catch {
    // No bundle for this language: English it is.
  }
}
