import { parseArgs, type ParseArgsConfig } from 'util';
import { closest } from '../core/config/suggest';
import { inert } from '../core/inert';
import { t } from '../core/l10n';
import { UsageError } from './io';

/** A command's options, as node:util's parseArgs declares them: `{ json: { type: 'boolean' }, store: { type: 'string' } }`. */
export type Options = NonNullable<ParseArgsConfig['options']>;

type Config<O extends Options> = { args: string[]; options: O; strict: true; allowPositionals: true; tokens: true };

/** `values` (keyed by the option's name without `--`), `positionals` and `tokens`, typed from the declaration. */
export type ParsedArgs<O extends Options> = ReturnType<typeof parseArgs<Config<O>>>;

/**
 * The one argument parser of every `edd` command, node:util's parseArgs in strict mode, so every command follows the
 * same rules: `--opt value` and `--opt=value`; `--` ends the options (what follows is positional, even `--json`);
 * an unknown option is an error naming the closest known one; an option given twice is an error unless it is
 * declared `multiple`; a value that starts with `-` must be attached (`--reason=-x`), so a forgotten value never
 * swallows the next option. Every mistake is a UsageError (exit 2) in the user's language.
 */
export function parseCommandArgs<const O extends Options>(command: string, args: readonly string[], options: O): ParsedArgs<O> {
  let parsed: ParsedArgs<O>;
  try {
    parsed = parseArgs({ args: [...args], options, strict: true, allowPositionals: true, tokens: true });
  } catch (e) {
    throw new UsageError(explain(command, args, options) ?? inert((e as Error).message));
  }
  const seen = new Set<string>();
  for (const token of parsed.tokens) {
    if (token.kind !== 'option' || options[token.name]?.multiple) continue;
    if (seen.has(token.name)) throw new UsageError(t('{0} is given more than once for `edd {1}`; give it once.', `--${token.name}`, command));
    seen.add(token.name);
  }
  return parsed;
}

/**
 * Why strict parsing refused `args`, in words the user can act on. parseArgs' own messages are English only and do
 * not suggest a spelling, so the same arguments are read again without strictness and the first wrong one explained.
 */
function explain(command: string, args: readonly string[], options: Options): string | undefined {
  const { tokens } = parseArgs({ args: [...args], options, strict: false, allowPositionals: true, tokens: true });
  for (const token of tokens) {
    if (token.kind !== 'option') continue;
    const declared = Object.hasOwn(options, token.name) ? options[token.name] : undefined;
    const raw = inert(token.rawName);
    if (!declared) {
      const near = token.rawName.startsWith('--') ? closest(token.name, Object.keys(options)) : undefined;
      return near
        ? t('Unknown option {0} for `edd {1}`; did you mean --{2}?', raw, command, near)
        : t('Unknown option {0} for `edd {1}`', raw, command);
    }
    if (declared.type === 'boolean' && token.value !== undefined) return t('{0} takes no value', raw);
    if (declared.type === 'string' && token.value === undefined) return t('{0} needs a value', raw);
    if (declared.type === 'string' && !token.inlineValue && token.value!.startsWith('-')) {
      return t('{0} needs a value; to give one that starts with "-", write {0}=VALUE', raw);
    }
  }
  return undefined;
}
