import * as fs from 'fs';
import * as path from 'path';
import { t } from '../core/l10n';
import { GateInputError } from '../core/checks/gate';
import { gateJUnit } from '../core/checks/junit';
import { PolicyError } from '../core/checks/policy';
import type { GateReport } from '../core/checks/types';
import { gateWithStore, parseModelRef, RegistryError, type GateTarget } from '../core/registry';
import { inert } from '../core/inert';
import { MonitorInputError } from '../core/monitor/options';
import { parsePointInTime } from '../core/duration';
import { parseCommandArgs } from './args';
import { UsageError, usageErrorFrom, type Io } from './io';
import { existingStorePath, openStore, storePath } from './store';

function textReport(r: GateReport, io: Io): void {
  const mark = { pass: '✔', fail: '✖', warn: '!', error: '⚠' } as const;
  for (const c of r.checks) io.out(`${mark[c.status]} ${c.status.padEnd(5)} ${inert(c.id)} ${inert(c.title)} — ${inert(c.message)}`);
  io.out(r.passed
    ? t('PASSED: {0} check(s) passed ({1} warning(s)).', r.summary.pass + r.summary.warn, r.summary.warn)
    : t('FAILED: {0} failed, {1} error(s), {2} passed.', r.summary.fail, r.summary.error, r.summary.pass + r.summary.warn));
}

/** `--since 24h` (back from now) or a time (`2026-12-06T08:00Z`), as epoch ms. */
function timeOf(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  const at = parsePointInTime(text);
  if (at === undefined) throw new UsageError(t('{0}: "{1}" is neither a duration back from now (24h, 7d) nor a time (2026-12-06T08:00Z).', flag, text));
  return at;
}

function logLine(log: NonNullable<GateReport['log']>, io: Io): void {
  io.out(t('Prediction log {0} ({1} to {2}): {3} answered predictions from {4} segment(s); {5} with feedback, {6} without (left out of the label-based checks).',
    inert(log.dir), log.since ?? '…', log.until ?? '…', log.rows, log.segments, log.labelled, log.unlabelled));
  if (log.torn) io.out(t('{0} torn last line(s) skipped (a writer stopped mid-record).', log.torn));
  if (log.bad) io.err(t('{0} line(s) of the log are not JSON records and were skipped.', log.bad));
}

/**
 * `edd gate <policy> [--onnx FILE | --run ID] [--predictions FILE] [--production FILE] [--json] [--junit FILE]`.
 * Exit 0 when the gate passes, 1 when a check fails or errors, 2 for errors in the policy or the inputs.
 */
export async function gateCommand(args: readonly string[], io: Io): Promise<number> {
  const { values, positionals: positional } = parseCommandArgs('gate', args, {
    'json': { type: 'boolean' },
    'no-record': { type: 'boolean' },
    'onnx': { type: 'string' },
    'run': { type: 'string' },
    'experiment': { type: 'string' },
    'predictions': { type: 'string' },
    'production': { type: 'string' },
    'junit': { type: 'string' },
    'store': { type: 'string' },
    'model': { type: 'string' },
    'since': { type: 'string' },
    'until': { type: 'string' },
  });
  const json = values.json === true;
  const noRecord = values['no-record'] === true;
  if (positional.length !== 1) throw new UsageError(t('Usage: edd gate <policy.yaml> [--onnx FILE | --run ID | --experiment ID | --model NAME@VERSION] [--predictions FILE | --predictions LOG_DIR [--since 24h|TIME] [--until TIME]] [--production FILE] [--json] [--junit FILE] [--no-record]'));
  if ([values.onnx, values.run, values.experiment, values.model].filter(v => v !== undefined).length > 1) throw new UsageError(t('Give one candidate: --onnx FILE, --run ID, --experiment ID or --model NAME@VERSION.'));
  const policyFile = path.resolve(io.cwd, positional[0]);
  const needsStore = values.run !== undefined || values.experiment !== undefined || values.model !== undefined;
  const storeFile = needsStore ? existingStorePath(io, values.store) : storePath(io, values.store);
  // The report is stored with the run or version when there is a store (`--no-record` to skip).
  const store = fs.existsSync(storeFile) ? await openStore(storeFile, noRecord ? { readOnly: true } : { autoSave: false }, io) : undefined;
  let report: GateReport;
  try {
    const target: GateTarget = { onnx: values.onnx, predictions: values.predictions, production: values.production };
    if (values.experiment !== undefined) {
      const latest = store!.listRuns({ experimentId: values.experiment, status: 'finished', limit: 1 })[0];
      if (!latest) throw new UsageError(t('Experiment {0} has no finished run to gate.', inert(values.experiment)));
      target.runId = latest.id;
    } else if (values.run !== undefined) target.runId = values.run;
    else if (values.model !== undefined) target.model = parseModelRef(values.model);
    const since = timeOf(values.since, '--since');
    const until = timeOf(values.until, '--until');
    ({ report } = await gateWithStore(policyFile, { root: io.cwd, store, target, predictions: values.predictions, since, until, record: !noRecord }));
    if (store && !noRecord) await store.save();
  } catch (e) {
    if (e instanceof PolicyError || e instanceof GateInputError || e instanceof RegistryError || e instanceof MonitorInputError) throw usageErrorFrom(e);
    throw e;
  } finally {
    await store?.close();
  }
  const junit = values.junit;
  if (junit) fs.writeFileSync(path.resolve(io.cwd, junit), gateJUnit(report));
  if (json) io.out(JSON.stringify(report, null, 2));
  else {
    if (report.log) logLine(report.log, io);
    textReport(report, io);
  }
  return report.passed ? 0 : 1;
}
