import * as fs from 'fs';
import * as path from 'path';
import { inert } from '../core/inert';
import { t } from '../core/l10n';
import { loadServiceView, monitorService, MonitorInputError, parseDuration, type ServiceView, type WindowReport } from '../core/monitor';
import { experimentFromAlert, pickAlert } from '../core/monitor/experiment';
import { concatRows, suggestThresholds, writeGroupThresholds, type BiasMetric, type ThresholdSuggestion } from '../core/monitor/thresholds';
import { DatasetError } from '../core/checks/dataset';
import { recordThresholdChange, resolveActor } from '../core/registry';
import type { AuditEntry } from '../core/store';
import { parseCommandArgs } from './args';
import { UsageError, usageErrorFrom, type Io } from './io';
import { openStore, storePath } from './store';

const f = (v: number | null | undefined, digits = 3) => (v === null || v === undefined || Number.isNaN(v) ? '—' : Math.abs(v) >= 1000 ? v.toFixed(0) : v.toFixed(digits));

function windowLine(w: WindowReport): string {
  const a = w.application, m = w.model;
  const worstDrift = Object.entries(m.drift).sort((x, y) => y[1].psi - x[1].psi)[0];
  const dp = Object.entries(w.bias).map(([c, b]) => `${c} ${f(b.demographic_parity_difference)}`).join(', ');
  const kpis = Object.entries(w.business).map(([k, v]) => `${k} ${f(v)}`).join(', ');
  const infra = w.infrastructure ? `${f(w.infrastructure.cpu_percent_mean, 1)}% ${(w.infrastructure.rss_bytes_max / 1048576).toFixed(0)} MB` : '—';
  return [
    w.start.slice(0, 16).replace('T', ' '), String(a.records), f(a.throughput_per_s, 2), `${f(a.error_rate * 100, 2)}%`, f(a.latency_ms?.p95),
    f(m.accuracy), f(m.macro_f1), f(m.prediction_psi), worstDrift ? `${worstDrift[0]} ${f(worstDrift[1].psi)}` : '—', dp || '—', kpis || '—', infra,
    w.alerts.length ? `⚠ ${w.alerts.length}` : '',
  ].join(' | ');
}

/**
 * Writes the thresholds into the spec and records them in the registry's audit log. The entry is made first and the
 * store saved after the spec is written; if the save fails, the spec gets its old text back, so a change to what is
 * served is never left unrecorded.
 */
async function applyThresholds(io: Io, opts: { store?: string; user?: string; reason?: string }, file: string, shown: string, service: ServiceView, s: ThresholdSuggestion, auto: boolean): Promise<AuditEntry> {
  const store = await openStore(storePath(io, opts.store), { autoSave: false }, io);
  try {
    const entry = recordThresholdChange(store, {
      model: service.model, served: service.served, spec: path.relative(io.cwd, file).split(path.sep).join('/') || shown, column: s.column, metric: s.metric, bound: s.bound,
      positiveClass: s.positive_class, rows: s.rows, thresholds: s.thresholds, previous: service.groupThresholds[s.column] ?? null, before: s.before, after: s.after,
      auto, actor: await resolveActor(io.cwd, opts.user), reason: opts.reason ?? null,
    });
    const old = fs.readFileSync(file, 'utf8');
    writeGroupThresholds(file, s.column, s.thresholds);
    try {
      await store.save();
    } catch (e) {
      fs.writeFileSync(file, old);
      throw e;
    }
    return entry;
  } finally {
    await store.close();
  }
}

/** `edd monitor <service.yaml> [--since 24h] [--window 1h] [--json] [--check] [--suggest-thresholds [--apply]] [--new-experiment OUT.yaml]`. */
export async function monitorCommand(args: readonly string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandArgs('monitor', args, {
    since: { type: 'string' },
    window: { type: 'string' },
    json: { type: 'boolean' },
    check: { type: 'boolean' },
    'suggest-thresholds': { type: 'boolean' },
    apply: { type: 'boolean' },
    metric: { type: 'string' },
    sensitive: { type: 'string' },
    'new-experiment': { type: 'string' },
    store: { type: 'string' },
    user: { type: 'string' },
    reason: { type: 'string' },
  });
  if (positionals.length !== 1) throw new UsageError(t('`edd monitor` needs one service spec, e.g. edd monitor penguins.service.yaml'));
  if (values.apply && !values['suggest-thresholds']) throw new UsageError(t('--apply writes the suggested thresholds: use it with --suggest-thresholds'));
  const file = path.resolve(io.cwd, positionals[0]);
  try {
    const service = loadServiceView(file, positionals[0], io.cwd);
    const since = values.since !== undefined ? Date.now() - parseDuration(values.since, '--since') : undefined;
    const windowMs = values.window !== undefined ? parseDuration(values.window, '--window') : undefined;
    // EDD_MONITOR_THREADS: how many worker threads read the log (0: none); by default one per CPU for a large log.
    const threadsEnv = process.env.EDD_MONITOR_THREADS;
    const threads = threadsEnv ? Number(threadsEnv) : undefined;
    if (threads !== undefined && !(Number.isInteger(threads) && threads >= 0)) throw new UsageError(t('EDD_MONITOR_THREADS must be a whole number of threads (0 reads the log without worker threads), got {0}', JSON.stringify(threadsEnv)));
    const { result, aggregator } = await monitorService(service, { root: io.cwd, since, windowMs, threads });

    if (values['suggest-thresholds']) {
      const m = service.monitoring;
      const bias = m.alerts.bias ?? {};
      const metric = (values.metric ?? (bias.demographic_parity_difference !== undefined ? 'demographic_parity_difference' : 'equal_opportunity_difference')) as BiasMetric;
      if (metric !== 'demographic_parity_difference' && metric !== 'equal_opportunity_difference') throw new UsageError(t('--metric must be demographic_parity_difference or equal_opportunity_difference'));
      const bound = bias[metric];
      if (bound === undefined) throw new UsageError(t('{0}: set monitoring.alerts.bias.{1} (the bound the thresholds must meet)', positionals[0], metric));
      const column = values.sensitive ?? m.sensitive[0];
      if (!column) throw new UsageError(t('{0}: set monitoring.sensitive (the column whose groups get thresholds)', positionals[0]));
      const positive = m.positiveClass ?? service.classes[0];
      const rows = [...aggregator.windowRows().values()];
      if (!rows.length) throw new UsageError(t('no predictions in the log {0} in the range read', result.log_dir));
      const s = suggestThresholds(concatRows(rows), column, positive, metric, bound);
      const applied = Boolean((values.apply || m.autoCorrect) && s.feasible && s.needed);
      const entry = applied ? await applyThresholds(io, values, file, positionals[0], service, s, !values.apply) : undefined;
      if (values.json) {
        io.out(JSON.stringify({ ...s, applied, ...(entry ? { audit: { seq: entry.seq, id: entry.id } } : {}) }, null, 2));
      } else if (!s.needed) {
        io.out(t('{0} for {1} is {2}, within the bound {3}, on {4} labelled predictions: no thresholds needed.', metric, column, f(s.before.metric), s.bound, s.rows));
      } else {
        io.out(t('Per-group thresholds on P({0}) for {1} ({2} labelled predictions):', s.positive_class, s.column, s.rows));
        for (const [g, th] of Object.entries(s.thresholds)) io.out(`  ${inert(g)}: ${th}`);
        io.out('  ' + t('before: {0} = {1}, accuracy {2}', metric, f(s.before.metric), f(s.before.accuracy)));
        io.out('  ' + t('after: {0} = {1}, accuracy {2} (bound {3}; searched under {4} to allow for sampling error)', metric, f(s.after.metric), f(s.after.accuracy), s.bound, f(s.search_bound)));
        if (!s.feasible) io.out(t('No thresholds meet the bound on these rows; the least biased are shown. Collect more feedback or relax the bound.'));
        else if (entry) io.out(t('Written to {0}: postprocess.group_thresholds.{1} (audit log entry #{2}).', positionals[0], column, entry.seq));
        else io.out(t('Add --apply to write them into {0} (postprocess.group_thresholds).', positionals[0]));
      }
      return s.feasible ? 0 : 1;
    }

    if (values['new-experiment']) {
      const alert = pickAlert(result.alerts);
      if (!alert) {
        io.err(t('No alert in the range read: nothing to turn into an experiment.'));
        return 1;
      }
      const out = path.resolve(io.cwd, values['new-experiment']);
      if (fs.existsSync(out)) throw new UsageError(t('{0} exists; give a new file name (an experiment config is never overwritten)', values['new-experiment']));
      const e = experimentFromAlert({ alert, model: service.model, spec: positionals[0], windows: result.windows, dir: path.dirname(out), reference: service.monitoring.reference });
      fs.mkdirSync(path.dirname(out), { recursive: true });
      fs.writeFileSync(out, e.text, { flag: 'wx' });
      io.out(t('Wrote experiment {0} to {1} from the alert: {2}', e.id, values['new-experiment'], alert.message));
      return 0;
    }

    // auto_correct: a bias alert is answered at once with the thresholds that meet its bound (when some do).
    let correction: ThresholdSuggestion | undefined;
    let correctionEntry: AuditEntry | undefined;
    const biasAlert = service.monitoring.autoCorrect ? result.alerts.find(a => a.layer === 'bias' && a.column) : undefined;
    if (biasAlert) {
      const rows = [...aggregator.windowRows().values()];
      const s = suggestThresholds(concatRows(rows), biasAlert.column!, service.monitoring.positiveClass ?? service.classes[0], biasAlert.metric as BiasMetric, biasAlert.threshold);
      if (s.feasible && s.needed) { correctionEntry = await applyThresholds(io, values, file, positionals[0], service, s, true); correction = s; }
    }
    if (values.json) {
      io.out(JSON.stringify(correction ? { ...result, auto_correction: { ...correction, audit: { seq: correctionEntry!.seq, id: correctionEntry!.id } } } : result, null, 2));
    } else {
      io.out(t('{0}: {1} windows of {2} from {3} ({4} records read, {5} segments, {6} skipped by time)', service.model, result.windows.length, values.window ?? `${result.window_ms / 60000} min`, result.log_dir, result.read.lines, result.read.segments, result.read.skipped));
      io.out(t('window | predictions | per s | errors | p95 ms | accuracy | macro F1 | prediction PSI | largest drift (PSI) | demographic parity | KPIs | CPU, memory | alerts'));
      for (const w of result.windows) io.out(windowLine(w));
      if (result.read.torn) io.out(t('{0} torn last line(s) skipped (a writer stopped mid-record).', result.read.torn));
      if (result.read.bad) io.err(t('{0} line(s) are not JSON records and were skipped, e.g. {1}', result.read.bad, result.read.badAt.join(', ')));
      if (result.alerts.length) {
        io.out(t('Alerts:'));
        for (const a of result.alerts) io.out(`  ${a.window_start.slice(0, 16).replace('T', ' ')} ${inert(a.message)}`);
      } else {
        io.out(t('No alerts.'));
      }
      if (correction) {
        io.out(t('auto_correct: wrote per-group thresholds for {0} into {1} (postprocess.group_thresholds): {2} {3} → {4}, accuracy {5} → {6}', correction.column, positionals[0], correction.metric, f(correction.before.metric), f(correction.after.metric), f(correction.before.accuracy), f(correction.after.accuracy)));
        io.out(t('Recorded in the audit log as entry #{0}.', correctionEntry!.seq));
      }
    }
    return values.check && result.alerts.length ? 1 : 0;
  } catch (e) {
    if (e instanceof MonitorInputError || e instanceof DatasetError) throw usageErrorFrom(e);
    throw e;
  }
}
