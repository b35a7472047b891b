import { spawnSync } from 'child_process';
import { t } from '../core/l10n';
import { buildComparison, CompareError, suggestVerdict } from '../core/compare/build';
import { comparisonJson, comparisonMarkdown } from '../core/compare/render';
import { UsageError, type Io } from './io';
import { existingStorePath, openStore } from './store';

/**
 * `edd compare <run or experiment ids…> [--baseline ID] [--json | --markdown] [--no-latency] [--conclude] [--store FILE]`.
 * Exit 0 when the comparison was built, 2 for usage errors (unknown ids, fewer than two runs).
 */
export async function compareCommand(args: readonly string[], io: Io): Promise<number> {
  let json = false;
  let markdown = false;
  let latency = true;
  let conclude = false;
  let baseline: string | undefined;
  let storeFile: string | undefined;
  let alpha: number | undefined;
  let open = false;
  const goals: Record<string, 'min' | 'max'> = {};
  const targets: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--json') json = true;
    else if (a === '--markdown') markdown = true;
    else if (a === '--no-latency') latency = false;
    else if (a === '--conclude') conclude = true;
    else if (a === '--open') open = true;
    else if (a === '--goal') {
      const m = /^([^=]+)=(min|max)$/.exec(args[++i] ?? '');
      if (!m) throw new UsageError(t('--goal takes METRIC=min or METRIC=max, e.g. --goal val_loss=min'));
      goals[m[1]] = m[2] as 'min' | 'max';
    }
    else if (a === '--baseline' || a === '--store' || a === '--alpha') {
      const v = args[++i];
      if (v === undefined) throw new UsageError(t('{0} needs a value', a));
      if (a === '--baseline') baseline = v;
      else if (a === '--store') storeFile = v;
      else {
        alpha = Number(v);
        if (!(alpha > 0 && alpha < 1)) throw new UsageError(t('--alpha needs a number between 0 and 1'));
      }
    } else if (a.startsWith('-')) throw new UsageError(t('Unknown option {0} for `edd {1}`', a, 'compare'));
    else targets.push(a);
  }
  if (json && markdown) throw new UsageError(t('Choose one of --json and --markdown.'));
  if (targets.length === 0) throw new UsageError(t('Usage: edd compare <run or experiment ids…> [--baseline ID] [--json | --markdown]'));
  const store = await openStore(existingStorePath(io, storeFile), { readOnly: !conclude });
  try {
    let comparison;
    try {
      comparison = await buildComparison(store, targets, { workspaceRoot: io.cwd, baseline, measureLatency: latency, alpha, goals });
    } catch (e) {
      if (e instanceof CompareError) throw new UsageError(e.message);
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
        if (!json) io.err(t('Hypothesis of {0}: {1} ({2})', h.experimentId, v.status, v.decidedBy));
      }
      await store.save();
    }
    if (json) io.out(JSON.stringify(comparisonJson(comparison), null, 2));
    else io.out(comparisonMarkdown(comparison).trimEnd());
    if (open) return openInEditor(comparison.runs.map(r => r.runId), comparison.runs[comparison.baselineIndex].runId, io);
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
    io.err(t('Could not open the comparison in the editor with `{0}` ({1}). Open it from the Experiments view, or set EDD_CODE_CLI.', cli, r.error ? r.error.message : `exit ${r.status}`));
    return 1;
  }
  return 0;
}
