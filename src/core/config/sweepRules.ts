import { type Document } from 'yaml';
import { t } from '../l10n';
import { distributionOf, readSweepSpec, trialCount } from '../sweep/spec';
import { hasPath } from '../sweep/trialConfig';
import { ProblemCode, type Problem, type Severity } from './problem';
import { closest } from './suggest';
import { locate, span } from './yamlAst';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Above this many trials a grid gets a warning: it is usually a mistake (a forgotten `run_cap`, a list too long). */
export const LARGE_GRID = 1000;

/** Every dotted path inside `experiment`, for "did you mean" on an override key. */
function paths(value: unknown, prefix = '', out: string[] = []): string[] {
  if (!isObj(value)) return out;
  for (const [k, v] of Object.entries(value)) {
    const p = prefix ? `${prefix}.${k}` : k;
    out.push(p);
    if (k !== 'sweep') paths(v, p, out);
  }
  return out;
}

/**
 * What the schema cannot say about `experiment.sweep`: a grid over a distribution, a random search without `run_cap`,
 * an override of a key the base config does not have, bounds that cannot be sampled, a grid of more than
 * {@link LARGE_GRID} trials.
 */
export function sweepProblems(doc: Document.Parsed, exp: Obj): Problem[] {
  const sweep = exp.sweep;
  const problems: Problem[] = [];
  if (!isObj(sweep)) return problems;
  const base = ['experiment', 'sweep'];
  const add = (segments: string[], onKey: boolean, severity: Severity, code: Problem['code'], message: string, fixes?: Problem['fixes']) => {
    const where = locate(doc, [...base, ...segments]);
    const r = onKey ? (span(where?.key) ?? span(where?.value)) : (span(where?.value) ?? span(where?.key));
    problems.push({ offset: r?.[0] ?? 0, length: r?.[1] ?? 1, severity, code, message, fixes });
  };
  const params = isObj(sweep.parameters) ? sweep.parameters : {};
  const known = paths(exp).filter(p => p !== 'sweep' && !p.startsWith('sweep.'));
  for (const [key, p] of Object.entries(params)) {
    if (key === 'sweep' || key.startsWith('sweep.') || !hasPath(exp, key)) {
      const guess = closest(key, known);
      const r = span(locate(doc, [...base, 'parameters', key])?.key);
      problems.push({
        offset: r?.[0] ?? 0, length: r?.[1] ?? 1, severity: 'error', code: ProblemCode.sweepUnknownOverride,
        message: guess
          ? t('`{0}` is not in the base config, so the sweep would override nothing; did you mean `{1}`? (Add the key to `experiment` first to give it a value outside the sweep.)', key, guess)
          : t('`{0}` is not in the base config, so the sweep would override nothing: add it under `experiment` first (its value outside the sweep), or fix the path.', key),
        fixes: guess && r ? [{ title: t('Rename `{0}` to `{1}`', key, guess), preferred: true, edits: [{ offset: r[0], length: r[1], newText: guess }] }] : undefined,
      });
    }
    if (!isObj(p) || Array.isArray(p.values) || 'value' in p) continue;
    const distribution = distributionOf(p);
    if (sweep.method === 'grid') {
      add(['parameters', key], true, 'error', ProblemCode.sweepGridDistribution, distribution
        ? t('A grid sweep cannot enumerate the {0} distribution of `{1}`: list its `values`, or use `method: random`.', distribution, key)
        : t('A grid sweep needs `values` (or one `value`) for `{0}`: list them, or use `method: random`.', key));
      continue;
    }
    if (!distribution) {
      add(['parameters', key], true, 'error', ProblemCode.missingKey, t('`{0}` needs `values`, `value`, or a `distribution` with `min` and `max`.', key));
      continue;
    }
    if (distribution !== 'normal') {
      if (!isNum(p.min) || !isNum(p.max)) {
        add(['parameters', key], true, 'error', ProblemCode.missingKey, t('`{0}` ({1}) needs both `min` and `max`.', key, distribution));
        continue;
      }
      if (p.min > p.max) {
        add(['parameters', key, 'min'], false, 'error', ProblemCode.minAboveMax, t('`min` ({0}) is larger than `max` ({1}).', p.min, p.max));
      }
      if (distribution === 'log_uniform_values' && p.min <= 0) {
        add(['parameters', key, 'min'], false, 'error', ProblemCode.outOfRange,
          t('`log_uniform_values` takes the bounds themselves, which must be greater than 0 (`min` is {0}); for bounds given as natural logarithms use `log_uniform`.', p.min));
      }
      if (distribution === 'int_uniform' && (!Number.isInteger(p.min) || !Number.isInteger(p.max))) {
        add(['parameters', key], true, 'error', ProblemCode.wrongType, t('`int_uniform` takes whole-number bounds.'));
      }
    }
  }
  if (sweep.method === 'random' && sweep.run_cap === undefined) {
    add(['method'], false, 'error', ProblemCode.sweepRunCapMissing,
      t('A random sweep needs `run_cap` (the number of runs to draw): add e.g. `run_cap: 30` under `sweep`.'));
  }
  if (isObj(sweep.early_terminate) && !(isObj(sweep.metric) && typeof sweep.metric.name === 'string')) {
    add(['early_terminate'], true, 'error', ProblemCode.missingKey, t('Early stopping needs the sweep\'s `metric` (name and goal) to judge the trials by.'));
  }
  if (sweep.method === 'grid' && !problems.some(p => p.code === ProblemCode.sweepGridDistribution)) {
    let count = 0;
    try {
      count = trialCount(readSweepSpec({ experiment: exp }));
    } catch {
      // A block the schema already flags (a parameter that is not a mapping) has no count to report.
    }
    if (count > LARGE_GRID) {
      add(['method'], false, 'warning', ProblemCode.sweepGridLarge,
        t('This grid has {0} trials (more than {1}): shorten the value lists, set `run_cap`, or use `method: random`.', count, LARGE_GRID));
    }
  }
  return problems;
}
