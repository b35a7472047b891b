import * as fs from 'fs';
import * as path from 'path';
import { t } from '../core/l10n';
import { GateInputError, runGate } from '../core/checks/gate';
import { gateJUnit } from '../core/checks/junit';
import { PolicyError } from '../core/checks/policy';
import type { GateReport } from '../core/checks/types';
import { RunStore } from '../core/store';
import { UsageError, type Io } from './io';

/** The model artifact of a recorded run (its `model` artifact, or its only .onnx). */
async function runModel(io: Io, storeFile: string | undefined, runId: string | undefined, experimentId?: string): Promise<{ onnx: string; runId: string }> {
  const file = path.resolve(io.cwd, storeFile ?? RunStore.DEFAULT_RELATIVE_PATH);
  if (!fs.existsSync(file)) throw new UsageError(t('No run store at {0}: run an experiment first (`edd run <config.yaml>`).', path.relative(io.cwd, file) || file));
  const store = await RunStore.open(file, { readOnly: true });
  try {
    let run;
    if (experimentId !== undefined) {
      const latest = store.listRuns({ experimentId, status: 'finished', limit: 1 })[0];
      if (!latest) throw new UsageError(t('Experiment {0} has no finished run to gate.', experimentId));
      run = store.getRun(latest.id)!;
    } else {
      const id = runId!;
      const prefixed = store.listRuns({}).filter(r => r.id.startsWith(id));
      run = store.getRun(id) ?? (prefixed.length === 1 ? store.getRun(prefixed[0].id) : undefined);
      if (!run) throw new UsageError(t('No run with id {0} in this store. `edd runs` lists the runs.', id));
    }
    const artifacts = store.getArtifacts(run.id);
    const model = artifacts.find(a => a.kind === 'model' && a.path.endsWith('.onnx')) ?? artifacts.find(a => a.path.endsWith('.onnx'));
    if (!model) throw new UsageError(t('Run {0} has no ONNX model artifact to gate.', run.id));
    return { onnx: path.isAbsolute(model.path) ? model.path : path.join(io.cwd, model.path), runId: run.id };
  } finally {
    await store.close();
  }
}

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
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--json') json = true;
    else if (['--onnx', '--run', '--experiment', '--predictions', '--production', '--junit', '--store', '--model'].includes(a)) {
      const v = args[++i];
      if (v === undefined || v.startsWith('--')) throw new UsageError(t('{0} needs a value', a));
      values.set(a, v);
    } else if (a.startsWith('-')) throw new UsageError(t('Unknown option {0} for `edd {1}`', a, 'gate'));
    else positional.push(a);
  }
  if (positional.length !== 1) throw new UsageError(t('Usage: edd gate <policy.yaml> [--onnx FILE | --run ID | --experiment ID] [--predictions FILE] [--production FILE] [--json] [--junit FILE]'));
  if (values.has('--model')) throw new UsageError(t('`--model NAME@VERSION` needs the model registry, which this version does not have yet; use --run ID or --onnx FILE.'));
  if ([values.has('--onnx'), values.has('--run'), values.has('--experiment')].filter(Boolean).length > 1) throw new UsageError(t('Give one candidate: --onnx FILE, --run ID or --experiment ID.'));
  const policyFile = path.resolve(io.cwd, positional[0]);
  let onnx = values.get('--onnx');
  let runId: string | undefined;
  if (values.has('--run') || values.has('--experiment')) ({ onnx, runId } = await runModel(io, values.get('--store'), values.get('--run'), values.get('--experiment')));
  let report: GateReport;
  try {
    report = await runGate(policyFile, {
      root: io.cwd, onnx, predictions: values.get('--predictions'), production: values.get('--production'),
      candidate: { run: runId, onnx: onnx && path.relative(io.cwd, onnx), predictions: values.get('--predictions') },
    });
  } catch (e) {
    if (e instanceof PolicyError || e instanceof GateInputError) throw new UsageError(e.message);
    throw e;
  }
  const junit = values.get('--junit');
  if (junit) fs.writeFileSync(path.resolve(io.cwd, junit), gateJUnit(report));
  if (json) io.out(JSON.stringify(report, null, 2));
  else textReport(report, io);
  return report.passed ? 0 : 1;
}
