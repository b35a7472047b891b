import * as fs from 'fs';
import * as path from 'path';
import { t } from '../core/l10n';
import { GateInputError } from '../core/checks/gate';
import { gateJUnit } from '../core/checks/junit';
import { PolicyError } from '../core/checks/policy';
import type { GateReport } from '../core/checks/types';
import { gateWithStore, parseModelRef, RegistryError, type GateTarget } from '../core/registry';
import { UsageError, type Io } from './io';
import { existingStorePath, openStore, storePath } from './store';

function textReport(r: GateReport, io: Io): void {
  const mark = { pass: '✔', fail: '✖', warn: '!', error: '⚠' } as const;
  for (const c of r.checks) io.out(`${mark[c.status]} ${c.status.padEnd(5)} ${c.id} ${c.title} — ${c.message}`);
  io.out(r.passed
    ? t('PASSED: {0} check(s) passed ({1} warning(s)).', r.summary.pass + r.summary.warn, r.summary.warn)
    : t('FAILED: {0} failed, {1} error(s), {2} passed.', r.summary.fail, r.summary.error, r.summary.pass + r.summary.warn));
}

/**
 * `edd gate <policy> [--onnx FILE | --run ID] [--predictions FILE] [--production FILE] [--json] [--junit FILE]`.
 * Exit 0 when the gate passes, 1 when a check fails or errors, 2 for errors in the policy or the inputs.
 */
export async function gateCommand(args: readonly string[], io: Io): Promise<number> {
  const values = new Map<string, string>();
  let json = false;
  let noRecord = false;
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--json') json = true;
    else if (a === '--no-record') noRecord = true;
    else if (['--onnx', '--run', '--experiment', '--predictions', '--production', '--junit', '--store', '--model'].includes(a)) {
      const v = args[++i];
      if (v === undefined || v.startsWith('--')) throw new UsageError(t('{0} needs a value', a));
      values.set(a, v);
    } else if (a.startsWith('-')) throw new UsageError(t('Unknown option {0} for `edd {1}`', a, 'gate'));
    else positional.push(a);
  }
  if (positional.length !== 1) throw new UsageError(t('Usage: edd gate <policy.yaml> [--onnx FILE | --run ID | --experiment ID | --model NAME@VERSION] [--predictions FILE] [--production FILE] [--json] [--junit FILE] [--no-record]'));
  if ([values.has('--onnx'), values.has('--run'), values.has('--experiment'), values.has('--model')].filter(Boolean).length > 1) throw new UsageError(t('Give one candidate: --onnx FILE, --run ID, --experiment ID or --model NAME@VERSION.'));
  const policyFile = path.resolve(io.cwd, positional[0]);
  const needsStore = values.has('--run') || values.has('--experiment') || values.has('--model');
  const storeFile = needsStore ? existingStorePath(io, values.get('--store')) : storePath(io, values.get('--store'));
  // The report is stored with the run or version when there is a store (`--no-record` to skip).
  const store = fs.existsSync(storeFile) ? await openStore(storeFile, noRecord ? { readOnly: true } : { autoSave: false }) : undefined;
  let report: GateReport;
  try {
    const target: GateTarget = { onnx: values.get('--onnx'), predictions: values.get('--predictions'), production: values.get('--production') };
    if (values.has('--experiment')) {
      const latest = store!.listRuns({ experimentId: values.get('--experiment'), status: 'finished', limit: 1 })[0];
      if (!latest) throw new UsageError(t('Experiment {0} has no finished run to gate.', values.get('--experiment')!));
      target.runId = latest.id;
    } else if (values.has('--run')) target.runId = values.get('--run');
    else if (values.has('--model')) target.model = parseModelRef(values.get('--model')!);
    ({ report } = await gateWithStore(policyFile, { root: io.cwd, store, target, predictions: values.get('--predictions'), record: !noRecord }));
    if (store && !noRecord) await store.save();
  } catch (e) {
    if (e instanceof PolicyError || e instanceof GateInputError || e instanceof RegistryError) throw new UsageError(e.message);
    throw e;
  } finally {
    await store?.close();
  }
  const junit = values.get('--junit');
  if (junit) fs.writeFileSync(path.resolve(io.cwd, junit), gateJUnit(report));
  if (json) io.out(JSON.stringify(report, null, 2));
  else textReport(report, io);
  return report.passed ? 0 : 1;
}
