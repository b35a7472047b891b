/**
 * The schemas' own words (`errorMessage` in schemas/*.json) in the user's language.
 *
 * The schema files are JSON, so their English text is not a `t('…')` call the l10n extractor can see; each one is
 * listed here as a literal instead. A unit test (config.l10n.test.ts) checks every `errorMessage` of every schema
 * has its case, so a new or reworded one cannot reach a user untranslated.
 */
import type { ErrorObject } from 'ajv';
import { t } from '../l10n';

/** `text` (an `errorMessage` of one of the schemas) translated; unknown text is returned as it is. */
export function schemaMessage(text: string): string {
  switch (text) {
    case 'an experiment id looks like `exp_YYYYMMDD_NNN`, e.g. `exp_20250101_001`':
      return t('an experiment id looks like `exp_YYYYMMDD_NNN`, e.g. `exp_20250101_001`');
    case 'environment keys name a component and end in `_version`, e.g. `tensorflow_version`':
      return t('environment keys name a component and end in `_version`, e.g. `tensorflow_version`');
    case '`run.command` is an argv list such as `[python, train.py, --epochs, "10"]`, not a shell string':
      return t('`run.command` is an argv list such as `[python, train.py, --epochs, "10"]`, not a shell string');
    case 'environment variable names are letters, digits and `_`, not starting with a digit':
      return t('environment variable names are letters, digits and `_`, not starting with a digit');
    case 'each check is one key naming its kind, e.g. `- metric: { name: f1, average: macro, min: 0.9 }`':
      return t('each check is one key naming its kind, e.g. `- metric: { name: f1, average: macro, min: 0.9 }`');
    case 'a swept key is a dotted path inside `experiment`, e.g. `parameters.learning_rate`':
      return t('a swept key is a dotted path inside `experiment`, e.g. `parameters.learning_rate`');
    default:
      return text;
  }
}

/** Why a value fails a schema keyword, in words (ajv's own `err.message` is English only). */
export function schemaReason(err: ErrorObject, custom: string | undefined): string {
  if (custom !== undefined) return schemaMessage(custom);
  const params = err.params as { pattern?: string; format?: string; allowedValue?: unknown };
  switch (err.keyword) {
    case 'pattern': return t('it must match the pattern `{0}`', String(params.pattern));
    case 'format': return t('it must be a valid {0}', String(params.format));
    case 'const': return t('it must be {0}', JSON.stringify(params.allowedValue));
    case 'oneOf': return t('it must take exactly one of the allowed forms');
    case 'anyOf': return t('it must take one of the allowed forms');
    default: return t('it breaks the schema rule `{0}`', err.keyword);
  }
}

/** A YAML parser error (the `yaml` library's code) in words; its own message is English only. */
export function yamlErrorReason(code: string, english: string): string {
  // "a: b: c" comes as BLOCK_AS_IMPLICIT_KEY, but it is nesting on one line that the user wrote
  if (/nested mappings/i.test(english)) return t('a mapping cannot be nested on the same line as its key (`a: b: c`)');
  switch (code) {
    case 'ALIAS_PROPS': return t('an alias cannot have an anchor or a tag');
    case 'BAD_ALIAS': return t('an alias names no anchor defined before it');
    case 'BAD_DIRECTIVE': return t('a `%` directive is not valid here');
    case 'BAD_DQ_ESCAPE': return t('a double-quoted string has an invalid escape sequence');
    case 'BAD_INDENT': return t('the indentation is wrong here');
    case 'BAD_PROP_ORDER': return t('an anchor or tag is in the wrong place');
    case 'BAD_SCALAR_START': return t('a plain value cannot start with this character: quote it');
    case 'BLOCK_AS_IMPLICIT_KEY': return t('a block value cannot be used as a key');
    case 'BLOCK_IN_FLOW': return t('a block value cannot be inside a flow collection (`[…]` or `{…}`)');
    case 'DUPLICATE_KEY': return t('a key appears twice in the same mapping');
    case 'MISSING_CHAR': return t('a closing character is missing (a quote, `]` or `}`)');
    case 'MULTILINE_IMPLICIT_KEY': return t('a key must be on one line');
    case 'MULTIPLE_ANCHORS': return t('a value has more than one anchor');
    case 'MULTIPLE_DOCS': return t('the file has more than one YAML document');
    case 'MULTIPLE_TAGS': return t('a value has more than one tag');
    case 'NON_STRING_KEY': return t('a key must be a plain string');
    case 'TAB_AS_INDENT': return t('tabs cannot indent YAML: use spaces');
    case 'TAG_RESOLVE_FAILED': return t('a tag cannot be resolved');
    case 'UNEXPECTED_TOKEN': return t('unexpected text here');
    case 'KEY_OVER_1024_CHARS': return t('a key without quotes or `?` must end (with `:`) within 1024 characters of its start');
    case 'BAD_COLLECTION_TYPE': return t('a collection has the wrong type for its tag');
    default: return t('the YAML cannot be read here');
  }
}
