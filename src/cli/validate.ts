import * as fs from 'fs';
import * as path from 'path';
import {
  LineIndex, duplicateIdProblems, hasExperimentMarker, isDataSchemaFile, placeProblems, validateDataSchema, validateExperiment,
  type IdEntry, type PlacedProblem, type Problem,
} from '../core/config';
import { isPolicyFile, validatePolicy } from '../core/checks/policy';
import { isServiceFile, validateService } from '../core/serve/spec';
import { inert } from '../core/inert';
import { t } from '../core/l10n';
import { parseCommandArgs } from './args';
import { UsageError, type Io } from './io';

// Loaded with require() so that esbuild bundles tinyglobby's CommonJS build: its ESM build (and fdir's) calls
// createRequire(import.meta.url), and import.meta.url is undefined in the CommonJS bundle (dist/cli.js crashed on load).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { glob, isDynamicPattern } = require('tinyglobby') as typeof import('tinyglobby');

/** One problem in `edd validate --json` output. Lines and columns are 1-based; the end is exclusive. */
export interface JsonProblem extends PlacedProblem {
  file: string;
}

export const DEFAULT_GLOB = '**/experiments/**/*.{yaml,yml}';
const IGNORE = ['**/node_modules/**', '**/.git/**', '**/.edd/**'];

/** Expand the arguments (files, folders, globs) into a sorted list of YAML files. */
export async function expandInputs(inputs: readonly string[], cwd: string): Promise<string[]> {
  const files = new Set<string>();
  const patterns = inputs.length ? inputs : [DEFAULT_GLOB];
  for (const input of patterns) {
    const abs = path.resolve(cwd, input);
    if (!isDynamicPattern(input) && fs.existsSync(abs)) {
      if (fs.statSync(abs).isDirectory()) {
        // A folder means "the experiment configs in it", not every YAML file (CI files, docker-compose…).
        for (const f of await glob('**/*.{yaml,yml}', { cwd: abs, ignore: IGNORE, absolute: true })) {
          if (looksLikeConfig(f)) files.add(path.normalize(f));
        }
      } else {
        files.add(abs);
      }
      continue;
    }
    if (!isDynamicPattern(input)) throw new UsageError(t('No such file or folder: {0}', inert(input)));
    const matched = await glob(input, { cwd, ignore: IGNORE, absolute: true, dot: false });
    if (matched.length === 0 && inputs.length) throw new UsageError(t('No file matches {0}', inert(input)));
    for (const f of matched) files.add(path.normalize(f));
  }
  return [...files].sort();
}

/**
 * Is a YAML file found in a folder one of EDD's? An experiment config when it sits under an `experiments/` folder,
 * carries `# edd: experiment` in its first lines, or starts with the top-level key `experiment:`; a promotion policy
 * a data schema or a service spec by its name or marker comment.
 */
export function looksLikeConfig(file: string): boolean {
  if (/(^|[\\/])experiments[\\/]/.test(file)) return true;
  let head = '';
  try {
    const fd = fs.openSync(file, 'r');
    const buf = Buffer.alloc(4096);
    head = buf.subarray(0, fs.readSync(fd, buf, 0, buf.length, 0)).toString('utf8');
    fs.closeSync(fd);
  } catch {
    return false;
  }
  return hasExperimentMarker(head) || /^experiment[ \t]*:/m.test(head) || isPolicyFile(file, head) || isDataSchemaFile(file, head) || isServiceFile(file, head);
}

/** `edd validate [paths or globs…] [--json]`: exit 1 if any error, else 0. */
export async function validateCommand(args: readonly string[], io: Io): Promise<number> {
  const { values, positionals: inputs } = parseCommandArgs('validate', args, {
    'json': { type: 'boolean' },
    'f1-tolerance': { type: 'string' },
  });
  const json = values.json === true;
  const f1Tolerance = values['f1-tolerance'] === undefined ? undefined : Number(values['f1-tolerance'].trim() || NaN);
  if (f1Tolerance !== undefined && (!Number.isFinite(f1Tolerance) || f1Tolerance < 0)) throw new UsageError(t('--f1-tolerance needs a number ≥ 0'));
  const files = await expandInputs(inputs, io.cwd);
  if (files.length === 0) {
    io.err(t('No experiment configs found (looked for {0}). Pass files, folders or globs: edd validate experiments/', DEFAULT_GLOB));
    return inputs.length ? 2 : 0;
  }

  const show = (f: string) => path.relative(io.cwd, f) || f;
  const results: Array<{ file: string; text: string; problems: Problem[]; index: LineIndex }> = [];
  const ids: IdEntry[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (e) {
      throw new UsageError(t('Cannot read {0}: {1}', inert(show(file)), inert((e as Error).message)));
    }
    // Promotion policies, data schemas and service specs are validated against their own schemas.
    // The current folder is the workspace root: the paths a file names must resolve inside it.
    const { problems, experimentId } = isPolicyFile(file, text) ? { problems: validatePolicy(text, { root: io.cwd }).problems, experimentId: undefined }
      : isDataSchemaFile(file, text) ? { problems: validateDataSchema(text).problems, experimentId: undefined }
        : isServiceFile(file, text) ? { problems: validateService(text, { root: io.cwd }).problems, experimentId: undefined }
        : validateExperiment(text, { f1Tolerance, root: io.cwd });
    const index = new LineIndex(text);
    results.push({ file, text, problems, index });
    if (experimentId) ids.push({ ...experimentId, file: show(file), line: index.position(experimentId.offset).line + 1 });
  }
  const dupes = duplicateIdProblems(ids);
  for (const r of results) {
    const extra = dupes.get(show(r.file));
    if (extra) r.problems.push(...extra);
    r.problems.sort((a, b) => a.offset - b.offset);
  }

  const all: JsonProblem[] = [];
  for (const r of results) for (const p of placeProblems(r.text, r.problems, r.index)) all.push({ file: show(r.file), ...p });
  const errors = all.filter(p => p.severity === 'error').length;
  const warnings = all.filter(p => p.severity === 'warning').length;
  if (json) {
    io.out(JSON.stringify(all, null, 2));
  } else {
    for (const p of all) io.out(`${inert(p.file)}:${p.line}:${p.column} ${p.severity} ${p.code} ${inert(p.message)}`);
    io.err(t('{0} file(s) checked: {1} error(s), {2} warning(s).', files.length, errors, warnings));
  }
  return errors > 0 ? 1 : 0;
}
