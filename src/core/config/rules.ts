import { type Document } from 'yaml';
import { t } from '../l10n';
import { ProblemCode, type Problem, type Severity } from './problem';
import { closest } from './suggest';
import { experimentSchemaJson } from './schema';
import { locate, span } from './yamlAst';
import { pathProblems } from './workspacePaths';
import { sweepProblems } from './sweepRules';

/** Settings of the business rules. */
export interface RuleOptions {
  /** Largest accepted |f1_score − 2PR/(P+R)|. Default 0.005. */
  f1Tolerance?: number;
  /**
   * Workspace root: `data.files` and `run.cwd` must resolve inside it, symbolic links included. Without it, only
   * what needs no root is checked (`..` climbing out, an absolute `run.cwd`).
   */
  root?: string;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Metrics that are ratios and must lie in [0, 1]. */
const ratioMetric = /^(accuracy|precision|recall|f1_score|f1|roc_auc|auc|pr_auc|specificity|sensitivity)$|_(accuracy|precision|recall|f1|auc)$/;

/**
 * Versions such as `v1.2.3`, `3.9.7`, `11.3`, `2.1.0+cu118`, `1.0.0-rc.1`, `3.12.0rc1`.
 * Anything else ("latest", "1..2", "three") cannot be compared or reproduced.
 */
export const versionPattern = /^v?\d+(\.\d+){0,3}((a|b|rc|alpha|beta|dev|post)\.?\d*)?(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/;

/** Rules a schema cannot express: consistency of results, sizes, learning rate, versions, likely typos. */
export function ruleProblems(doc: Document.Parsed, text: string, value: unknown, options: RuleOptions = {}): Problem[] {
  const problems: Problem[] = [];
  if (!isObj(value) || !isObj(value.experiment)) return problems;
  const exp = value.experiment;
  const base = ['experiment'];
  const add = (segments: string[], severity: Severity, code: Problem['code'], message: string, fixes?: Problem['fixes']) => {
    const where = locate(doc, segments);
    const r = span(where?.value) ?? span(where?.key);
    problems.push({ offset: r?.[0] ?? 0, length: r?.[1] ?? 1, severity, code, message, fixes });
  };

  const params = isObj(exp.parameters) ? exp.parameters : undefined;
  const data = isObj(exp.data) ? exp.data : undefined;
  if (params) {
    const lr = params.learning_rate;
    if (isNum(lr) && lr <= 0) {
      add([...base, 'parameters', 'learning_rate'], 'error', ProblemCode.learningRateNotPositive,
        t('`learning_rate` must be greater than 0 (it is {0}); typical values are 0.0001 to 0.1.', lr));
    } else if (isNum(lr) && lr > 1) {
      add([...base, 'parameters', 'learning_rate'], 'warning', ProblemCode.learningRateLarge,
        t('`learning_rate` is {0}, larger than 1: training will probably diverge. Typical values are 0.0001 to 0.1.', lr));
    }
    for (const k of ['batch_size', 'epochs']) {
      if (isNum(params[k]) && params[k] <= 0) {
        add([...base, 'parameters', k], 'error', ProblemCode.notPositive, t('`{0}` must be a positive number (it is {1}).', k, params[k] as number));
      }
    }
    const known = Object.keys(experimentSchemaJson.properties!.experiment.properties!.parameters.properties!);
    for (const k of Object.keys(params)) {
      if (known.includes(k)) continue;
      const guess = closest(k, known);
      if (!guess) continue;
      const taken = guess in params; // renaming would create a duplicate key: say so instead of offering it
      const where = locate(doc, [...base, 'parameters', k]);
      const r = span(where?.key);
      problems.push({
        offset: r?.[0] ?? 0, length: r?.[1] ?? 1, severity: 'warning', code: ProblemCode.likelyTypo,
        message: taken
          ? t('Parameter `{0}` is not a known parameter and looks like a typo of `{1}`, which is also set: remove one of them.', k, guess)
          : t('Parameter `{0}` is not a known parameter; did you mean `{1}`?', k, guess),
        fixes: r && !taken ? [{ title: t('Rename `{0}` to `{1}`', k, guess), preferred: true, edits: [{ offset: r[0], length: r[1], newText: guess }] }] : undefined,
      });
    }
  }
  if (data) {
    for (const k of ['train_size', 'val_size', 'test_size']) {
      if (isNum(data[k]) && data[k] <= 0) {
        add([...base, 'data', k], 'error', ProblemCode.notPositive, t('`data.{0}` must be a positive number of examples (it is {1}).', k, data[k] as number));
      }
    }
    if (typeof data.dataset_version === 'string' && !versionPattern.test(data.dataset_version.trim())) {
      add([...base, 'data', 'dataset_version'], 'error', ProblemCode.versionUnparseable,
        t('`data.dataset_version` "{0}" is not a version; use a form like `v1.2.3`.', data.dataset_version));
    }
  }
  if (params && data && isNum(params.batch_size) && isNum(data.train_size) && data.train_size > 0 && params.batch_size > data.train_size) {
    add([...base, 'parameters', 'batch_size'], 'error', ProblemCode.batchExceedsTrain,
      t('`batch_size` ({0}) is larger than `data.train_size` ({1}): a batch cannot hold more examples than the training set.', params.batch_size, data.train_size));
  }

  if (isObj(exp.environment)) {
    for (const [k, v] of Object.entries(exp.environment)) {
      if (typeof v === 'string' && !versionPattern.test(v.trim())) {
        add([...base, 'environment', k], 'error', ProblemCode.versionUnparseable,
          t('`environment.{0}` "{1}" is not a version; use a form like `3.11.4` or `12.1`.', k, v));
      }
    }
  }

  if (isObj(exp.run) && typeof exp.run.cwd === 'string') {
    const cwd = exp.run.cwd.replace(/\\/g, '/');
    if (cwd.startsWith('/') || /^[A-Za-z]:/.test(cwd) || cwd.split('/').includes('..')) {
      add([...base, 'run', 'cwd'], 'error', ProblemCode.cwdOutsideWorkspace,
        t('`run.cwd` "{0}" must be a path inside the workspace, relative to its root (no absolute path, no `..`).', exp.run.cwd));
    } else if (options.root !== undefined) {
      problems.push(...pathProblems(doc, options.root, [{ segments: [...base, 'run', 'cwd'], key: 'run.cwd', value: exp.run.cwd }], ProblemCode.cwdOutsideWorkspace));
    }
  }
  if (data && Array.isArray(data.files)) {
    const files = data.files.map((f, i) => ({ segments: [...base, 'data', 'files', String(i)], key: `data.files[${i + 1}]`, value: f }));
    problems.push(...pathProblems(doc, options.root, files.filter((f): f is typeof f & { value: string } => typeof f.value === 'string' && f.value !== '')));
  }

  problems.push(...sweepProblems(doc, exp));

  if (isObj(exp.results)) {
    const r = exp.results;
    for (const [k, v] of Object.entries(r)) {
      if (isNum(v) && ratioMetric.test(k) && (v < 0 || v > 1)) {
        add([...base, 'results', k], 'error', ProblemCode.metricOutOfRange,
          t('`results.{0}` is {1}, but it is a ratio and must be between 0 and 1{2}.', k, v, v >= 2 && v <= 100 ? t(' (a percentage? write {0})', v / 100) : ''));
      }
    }
    const { precision: p, recall: rc, f1_score: f1 } = r;
    const inUnit = (x: unknown): x is number => isNum(x) && x >= 0 && x <= 1;
    if (inUnit(p) && inUnit(rc) && inUnit(f1)) {
      const expected = p + rc === 0 ? 0 : (2 * p * rc) / (p + rc);
      const tol = options.f1Tolerance ?? 0.005;
      if (Math.abs(f1 - expected) > tol) {
        const where = locate(doc, [...base, 'results', 'f1_score']);
        const s = span(where?.value);
        const rounded = String(Math.round(expected * 10000) / 10000);
        problems.push({
          offset: s?.[0] ?? 0, length: s?.[1] ?? 1, severity: 'error', code: ProblemCode.f1Inconsistent,
          message: t('`f1_score` {0} does not agree with precision {1} and recall {2}: 2·P·R/(P+R) = {3} (difference {4}, more than {5}).',
            f1, p, rc, rounded, Math.abs(f1 - expected).toFixed(4), tol),
          fixes: s ? [{ title: t('Set `f1_score` to {0}', rounded), preferred: true, edits: [{ offset: s[0], length: s[1], newText: rounded }] }] : undefined,
        });
      }
    }
  }
  return problems;
}
