import { t } from '../core/l10n';
import { UsageError } from './io';

export interface ParsedArgs {
  flags: Set<string>;
  values: Map<string, string>;
  positional: string[];
}

/**
 * Splits a command's arguments into `flags` (no value), `values` (`--name VALUE`) and positional arguments; an unknown
 * option or a missing value is a usage error. Options in `freeText` take any value, even one starting with `--`
 * (a reason is the user's words).
 */
export function parseArgs(args: readonly string[], command: string, flags: readonly string[], valued: readonly string[], freeText: readonly string[] = []): ParsedArgs {
  const out: ParsedArgs = { flags: new Set(), values: new Map(), positional: [] };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (flags.includes(a)) out.flags.add(a);
    else if (valued.includes(a) || freeText.includes(a)) {
      const v = args[++i];
      if (v === undefined || (v.startsWith('--') && !freeText.includes(a))) throw new UsageError(t('{0} needs a value', a));
      out.values.set(a, v);
    } else if (a.startsWith('-')) throw new UsageError(t('Unknown option {0} for `edd {1}`', a, command));
    else out.positional.push(a);
  }
  return out;
}
