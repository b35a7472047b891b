import { spawnSync } from 'child_process';
import { t } from '../core/l10n';
import { buildComparison, CompareError, suggestVerdict } from '../core/compare/build';
import { comparisonJson, comparisonMarkdown } from '../core/compare/render';
import { buildSweepComparison } from '../core/compare/sweep';
import { sweepJson, sweepMarkdown } from '../core/compare/sweepRender';
import { inert } from '../core/inert';
import { parseCommandArgs } from './args';
import { UsageError, usageErrorFrom, type Io } from './io';
import { existingStorePath, openStore } from './store';

/**
 * `edd compare <run or experiment ids…> [--baseline ID] [--json | --markdown] [--no-latency] [--conclude] [--store FILE]`.
 * Exit 0 when the comparison was built, 2 for usage errors (unknown ids, fewer than two runs).
 */
export async function compareCommand(args: readonly string[], io: Io): Promise<number> {
  const { values, positionals: targets } = parseCommandArgs('compare', args, {
    'json': { type: 'boolean' },
    'markdown': { type: 'boolean' },
    'no-latency': { type: 'boolean' },
    'conclude': { type: 'boolean' },
    'open': { type: 'boolean' },
    'goal': { type: 'string', multiple: true },
    'baseline': { type: 'string' },
    'store': { type: 'string' },
    'alpha': { type: 'string' },
    'sweep': { type: 'string' },
    'group-by': { type: 'string' },
    'metric': { type: 'string' },
  });
  const json = values.json === true;
  const markdown = values.markdown === true;
  const latency = values['no-latency'] !== true;
  const conclude = values.conclude === true;
  const { baseline, store: storeFile } = values;
  const alpha = values.alpha === undefined ? undefined : Number(values.alpha);
  if (alpha !== undefined && !(alpha > 0 && alpha < 1)) throw new UsageError(t('--alpha needs a number between 0 and 1'));
  if (values.sweep !== undefined) return sweepCompare(values.sweep, { ...values, alpha }, targets, io);
  const goals: Record<string, 'min' | 'max'> = {};
  for (const goal of values.goal ?? []) {
    const m = /^([^=]+)=(min|max)$/.exec(goal);
    if (!m) throw new UsageError(t('--goal takes METRIC=min or METRIC=max, e.g. --goal val_loss=min'));
    goals[m[1]] = m[2] as 'min' | 'max';
  }
  if (json && markdown) throw new UsageError(t('Choose one of --json and --markdown.'));
  if (targets.length === 0) throw new UsageError(t('Usage: edd compare <run or experiment ids…> [--baseline ID] [--json | --markdown]'));
  const store = await openStore(existingStorePath(io, storeFile), { readOnly: !conclude }, io);
  try {
    let comparison;
    try {
      comparison = await buildComparison(store, targets, { workspaceRoot: io.cwd, baseline, measureLatency: latency, alpha, goals });
    } catch (e) {
      if (e instanceof CompareError) throw usageErrorFrom(e);
      throw e;
    }
    if (conclude) {
      const base = comparison.runs[comparison.baselineIndex].experimentId;
      for (const h of comparison.hypotheses) {
        if (h.experimentId === base) continue;
        const v = suggestVerdict(comparison, h.experimentId);
        if (!v) continue;
        const e = store.setHypothesisStatus(h.experimentId, v.status, v.decidedBy);
        h.status = v.status;
        h.decidedBy = v.decidedBy;
        h.decidedAt = e.hypothesisDecidedAt;
        if (!json) io.err(t('Hypothesis of {0}: {1} ({2})', inert(h.experimentId), v.status, inert(v.decidedBy)));
      }
      await store.save();
    }
    if (json) io.out(JSON.stringify(comparisonJson(comparison), null, 2));
    else io.out(comparisonMarkdown(comparison).trimEnd());
    if (values.open) return openInEditor(comparison.runs.map(r => r.runId), comparison.runs[comparison.baselineIndex].runId, io);
    return 0;
  } finally {
    await store.close();
  }
}

/**
 * `edd compare --sweep SWEEP_ID [--group-by PARAM] [--metric M] [--goal min|max] [--alpha A] [--json]`: the best
 * trial, the groups with Welch's t and Holm-adjusted p-values, the parameter importance. The metric and goal come
 * from the sweep config's `experiment.sweep.metric` when the runs' `sweep_config` tag points at one.
 */
async function sweepCompare(
  sweepId: string,
  values: { json?: boolean; markdown?: boolean; goal?: string[]; metric?: string; 'group-by'?: string; store?: string; alpha?: number },
  targets: readonly string[],
  io: Io,
): Promise<number> {
  if (targets.length > 0) throw new UsageError(t('--sweep compares the runs of one sweep: leave out the run ids ({0}).', targets.join(' ')));
  if (!sweepId.trim()) throw new UsageError(t('--sweep needs a sweep id (the sweep_id tag of its runs, shown by "edd runs --json").'));
  let goal: 'min' | 'max' | undefined;
  for (const g of values.goal ?? []) {
    const m = /^(?:([^=]+)=)?(min|max|minimize|maximize)$/.exec(g);
    if (!m || (m[1] !== undefined && values.metric !== undefined && m[1] !== values.metric)) {
      throw new UsageError(t('With --sweep, --goal takes min or max (or METRIC=min|max for the --metric), e.g. --goal max'));
    }
    goal = m[2].startsWith('min') ? 'min' : 'max';
  }
  const store = await openStore(existingStorePath(io, values.store), { readOnly: true }, io);
  try {
    let sweep;
    try {
      sweep = buildSweepComparison(store, sweepId, { metric: values.metric, goal, groupBy: values['group-by'], alpha: values.alpha, workspaceRoot: io.cwd });
    } catch (e) {
      if (e instanceof CompareError) throw usageErrorFrom(e);
      throw e;
    }
    io.out(values.json ? JSON.stringify(sweepJson(sweep), null, 2) : sweepMarkdown(sweep).trimEnd());
    return 0;
  } finally {
    await store.close();
  }
}

/** The URI the extension's handler opens the comparison panel for (`vscode://edd.edd/compare?runs=…&baseline=…`). */
export function compareUri(runIds: readonly string[], baseline: string, scheme = 'vscode'): string {
  return `${scheme}://edd.edd/compare?runs=${encodeURIComponent(runIds.join(','))}&baseline=${encodeURIComponent(baseline)}`;
}

/** Ask the editor (`$EDD_CODE_CLI`, default `code`) to open the panel, through its URI handler. Argv, no shell. */
function openInEditor(runIds: readonly string[], baseline: string, io: Io): number {
  const cli = process.env.EDD_CODE_CLI || 'code';
  const scheme = process.env.EDD_URI_SCHEME || 'vscode';
  const r = spawnSync(cli, ['--open-url', compareUri(runIds, baseline, scheme)], { stdio: 'ignore' });
  if (r.error || r.status !== 0) {
    io.err(t('Could not open the comparison in the editor with `{0}` ({1}). Open it from the Experiments view, or set EDD_CODE_CLI.', inert(cli), inert(r.error ? r.error.message : `exit ${r.status}`)));
    return 1;
  }
  return 0;
}
