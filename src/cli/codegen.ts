import * as fs from 'fs';
import * as path from 'path';
import { DEFAULT_OUTPUT, generateCode, inferParameters, type CodegenLanguage } from '../core/codegen';
import { inert } from '../core/inert';
import { t } from '../core/l10n';
import { parseCommandArgs } from './args';
import { UsageError, type Io } from './io';
import { expandInputs } from './validate';

/**
 * `edd codegen python|typescript [configs, folders or globs…] [--out FILE] [--check]`: write the typed config made
 * from the schema and the configs' hyperparameters. With --check, write nothing and exit 1 when the file is missing
 * or differs from what would be written (for CI).
 */
export async function codegenCommand(args: readonly string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandArgs('codegen', args, {
    out: { type: 'string' },
    check: { type: 'boolean' },
  });
  const [language, ...inputs] = positionals;
  if (language !== 'python' && language !== 'typescript') {
    throw new UsageError(language === undefined
      ? t('`edd codegen` needs a language: `edd codegen python` or `edd codegen typescript`.')
      : t('Unknown language `{0}` for `edd codegen`: use `python` or `typescript`.', inert(language)));
  }
  const lang: CodegenLanguage = language;
  const files = await expandInputs(inputs, io.cwd);
  const sources = files.map(f => {
    try {
      return { file: path.relative(io.cwd, f).split(path.sep).join('/'), text: fs.readFileSync(f, 'utf8') };
    } catch (e) {
      throw new UsageError(t('{0}: cannot read the config: {1}', inert(f), inert((e as Error).message)));
    }
  });
  const inference = inferParameters(sources);
  for (const s of inference.skipped) {
    io.err(s.reason === 'yaml'
      ? t('{0}: skipped: its YAML cannot be read (run `edd validate` on it).', inert(s.file))
      : t('{0}: skipped: not an experiment config (no `experiment.parameters` mapping).', inert(s.file)));
  }
  if (inference.configs.length === 0) io.err(t('No experiment config found: the typed config has only the schema\'s keys.'));
  const out = path.resolve(io.cwd, values.out ?? DEFAULT_OUTPUT[lang]);
  const text = generateCode(lang, inference);
  const shown = inert(path.relative(io.cwd, out) || out);
  if (values.check) {
    let current: string | undefined;
    try {
      current = fs.readFileSync(out, 'utf8');
    } catch {
      current = undefined;
    }
    if (current === text) {
      io.out(t('{0} is up to date ({1} hyperparameters from {2} configs).', shown, inference.parameters.length, inference.configs.length));
      return 0;
    }
    io.out(current === undefined
      ? t('{0} does not exist: run `edd codegen {1}` to write it.', shown, lang)
      : t('{0} is out of date: run `edd codegen {1}` to write it again.', shown, lang));
    return 1;
  }
  try {
    fs.mkdirSync(path.dirname(out), { recursive: true });
    const tmp = `${out}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, text);
    fs.renameSync(tmp, out);
  } catch (e) {
    throw new UsageError(t('Cannot write {0}: {1}', shown, inert((e as Error).message)));
  }
  io.out(t('Wrote {0}: {1} hyperparameters from {2} configs.', shown, inference.parameters.length, inference.configs.length));
  return 0;
}
