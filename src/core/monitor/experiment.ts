/**
 * The loop's last arrow: an alert becomes a new experiment config (schemas/experiment.schema.json) whose objective
 * states the problem the monitoring saw and whose hypothesis is the usual fix, retraining on recent data, with the
 * target the model met before the alert. The alert is linked by a tag (`alert:<metric>[:<column>]`) and by the
 * description (spec, window, value, threshold), so `edd runs` and the editor can find what the experiment answers.
 */
import * as fs from 'fs';
import * as path from 'path';
import { stringify } from 'yaml';
import { t } from '../l10n';
import type { Alert, WindowReport } from './aggregate';

export interface AlertExperiment {
  id: string;
  text: string;
}

/** The first `exp_<YYYYMMDD>_NNN` (from 901 up) not used by an experiment config in `dir`. */
function freeId(dir: string, day: string): string {
  const used = new Set<string>();
  let names: string[] = [];
  try { names = fs.readdirSync(dir); } catch { /* a new folder */ }
  for (const name of names) {
    if (!/\.ya?ml$/.test(name)) continue;
    try {
      for (const m of fs.readFileSync(path.join(dir, name), 'utf8').matchAll(/exp_\d{8}_\d{3,}/g)) used.add(m[0]);
    } catch { /* unreadable: ignore */ }
  }
  for (let n = 901; ; n++) { const id = `exp_${day}_${n}`; if (!used.has(id)) return id; }
}

/** The most serious alert: model drift and accuracy first, then bias, business, application, infrastructure. */
export function pickAlert(alerts: readonly Alert[]): Alert | undefined {
  const order = ['model', 'bias', 'business', 'application', 'infrastructure'];
  return [...alerts].sort((a, b) => order.indexOf(a.layer) - order.indexOf(b.layer) || (a.window_start < b.window_start ? -1 : 1))[0];
}

/** A new experiment config for `alert` (the YAML text and its id); `dir` is where it will be written. */
export function experimentFromAlert(o: {
  alert: Alert; model: string; spec: string; windows: readonly WindowReport[]; dir: string; reference?: string; retrainDays?: number; now?: Date;
}): AlertExperiment {
  const now = o.now ?? new Date();
  const day = now.toISOString().slice(0, 10).replace(/-/g, '');
  const id = freeId(o.dir, day);
  const since = o.alert.window_start.slice(0, 10);
  // The target: the best macro F1 the model had in the range (before it degraded), else the accuracy bound, else 0.9.
  const f1s = o.windows.map(w => w.model.macro_f1).filter((v): v is number => v !== null);
  const target = f1s.length ? Math.floor(Math.max(...f1s) * 100) / 100 : 0.9;
  const days = o.retrainDays ?? 30;
  const what = o.alert.column
    ? t('{0} in `{1}` since {2} ({3} = {4}, threshold {5})', o.alert.metric, o.alert.column, since, o.alert.metric, o.alert.value.toPrecision(3), o.alert.threshold)
    : t('{0} since {1} ({2}, threshold {3})', o.alert.metric, since, o.alert.value.toPrecision(3), o.alert.threshold);
  const experiment = {
    experiment: {
      id,
      name: `${o.model}_after_${o.alert.metric}${o.alert.column ? `_${o.alert.column}` : ''}`.replace(/[^A-Za-z0-9_]/g, '_'),
      objective: t('Restore {0} after the monitoring alert: {1}', o.model, what),
      hypothesis: t('Retraining on the last {0} days restores macro F1 ≥ {1}', days, target.toFixed(2)),
      description: t('Created from the alert of {0} (window {1}): {2}', o.spec, o.alert.window_start, o.alert.message),
      tags: ['monitoring', `alert:${o.alert.metric}${o.alert.column ? `:${o.alert.column}` : ''}`],
      parameters: { model_type: o.model, retrain_window_days: days },
      ...(o.reference ? { data: { files: [o.reference] } } : {}),
    },
  };
  return { id, text: stringify(experiment, { lineWidth: 0 }) };
}
