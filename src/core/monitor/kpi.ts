/**
 * Business KPIs: an aggregate over a window's answered instances of a condition in the rule language
 * (src/core/checks/rule.ts), e.g. `mean(prediction == 'Adelie')` (the share of Adelie predictions) or
 * `count(label != null and prediction != label)`. The rule language has no functions, so the aggregate is the one
 * thing read here: `mean(…)` / `share(…)` (the share of rows where the condition holds), `count(…)` (how many), or a
 * bare condition (= mean). Inside, names are the logged inputs, `prediction` (also the rule language's `pred`),
 * `label` (the feedback; null until it arrives), and `score['Adelie']` / `score_Adelie` (the logged probabilities).
 */
import { t } from '../l10n';
import { compileRule, RuleSyntaxError } from '../checks/rule';
import type { Column } from '../checks/types';
import type { WindowRows } from './aggregate';
import { MonitorInputError } from './options';

const AGGREGATE = /^\s*(mean|share|count)\s*\(([\s\S]*)\)\s*$/;

/** Splits `mean(cond)` into the aggregate and the condition (with its offset in `expr`, for carets). */
export function splitKpi(expr: string): { aggregate: 'mean' | 'count'; condition: string; offset: number } {
  const m = AGGREGATE.exec(expr);
  if (!m) return { aggregate: 'mean', condition: expr, offset: 0 };
  return { aggregate: m[1] === 'count' ? 'count' : 'mean', condition: m[2], offset: expr.indexOf('(') + 1 };
}

/** The KPI's value on a window's rows; null when the window has no rows. Throws MonitorInputError on a bad expression. */
export function evaluateKpi(expr: string, rows: WindowRows): number | null {
  if (rows.data.rows === 0) return null;
  const { aggregate, condition, offset } = splitKpi(expr);
  const columns = new Map<string, Column>(rows.data.columns);
  columns.set('prediction', { kind: 'string', values: rows.yPred });
  columns.set('label', { kind: 'string', values: rows.yTrue });
  const data = { ...rows.data, names: [...rows.data.names, 'prediction', 'label'], columns };
  let test: (i: number) => boolean;
  try {
    test = compileRule(condition, { data, outputs: { classes: rows.classes, scores: rows.scores, yPred: rows.yPred } }).test;
  } catch (e) {
    if (!(e instanceof RuleSyntaxError)) throw e;
    const at = offset + e.offset;
    throw new MonitorInputError(t('KPI expression {0}: {1}\n  {2}\n  {3}', JSON.stringify(expr), e.message, expr, `${' '.repeat(at)}^`), 'monitoring.alerts.kpis');
  }
  let hits = 0;
  for (let i = 0; i < rows.data.rows; i++) if (test(i)) hits++;
  return aggregate === 'count' ? hits : hits / rows.data.rows;
}
