import * as path from 'path';
import { t } from '../l10n';
import { readPredictions } from '../compare/predictions';
import { isLogFolder, LogReplayError, replayLog } from '../monitor/replay';
import { parsePointInTime } from '../duration';
import { anomaliesCheck } from './anomalies';
import { biasCheck } from './bias';
import { dataSchemaCheck } from './dataSchema';
import { readDataset } from './dataset';
import { driftCheck } from './drift';
import { metricCheck } from './metric';
import { loadModel, releaseModels } from './model';
import { outputCheck } from './output';
import { perturbationCheck } from './perturbation';
import { assertPolicyPaths, gateInputs, loadPolicy, type CheckKind, type Policy } from './policy';
import { regressionCheck } from './regression';
import { ruleCheck } from './rule';
import { latencyCheck, sizeCheck } from './cost';
import type { CheckResult, CheckStatus, Dataset, GateContext, GateReport, ModelOutputs } from './types';

type CheckFn = (ctx: GateContext, spec: never, id: string) => Promise<CheckResult>;

const CHECKS: Record<CheckKind, CheckFn> = {
  metric: metricCheck as CheckFn,
  regression: regressionCheck as CheckFn,
  output: outputCheck as CheckFn,
  perturbation: perturbationCheck as CheckFn,
  rule: ruleCheck as CheckFn,
  bias: biasCheck as CheckFn,
  data_schema: dataSchemaCheck as CheckFn,
  drift: driftCheck as CheckFn,
  anomalies: anomaliesCheck as CheckFn,
  latency: latencyCheck as CheckFn,
  size: sizeCheck as CheckFn,
};

/** Inputs given on the command line or by the editor (the policy gives the data). */
export interface GateOptions {
  /** Workspace root: the policy's relative paths resolve against it. */
  root: string;
  /** The candidate's ONNX model. */
  onnx?: string;
  /**
   * A predictions file (y_true, y_pred, score_<class>) instead of a model, or a prediction log folder
   * (`.edd/serving/<model>/`, whose rows then are the evaluation data); overrides the policy's `predictions`.
   */
  predictions?: string;
  /** With a prediction log: only records at or after / before these times (epoch ms). */
  since?: number;
  until?: number;
  /** The production model's ONNX file, for `regression` checks. */
  production?: string;
  /** How reports name the production model (default: its path), e.g. `penguins@2`. */
  productionLabel?: string;
  /** Only these check ids (Test Explorer runs a single check). */
  only?: string[];
  signal?: AbortSignal;
  /** Called before each check with its index and the number of checks. */
  onProgress?: (done: number, total: number, title: string) => void;
  candidate?: GateReport['candidate'];
  /** The policy, when the caller has already read and validated `policyFile` (it is not read again). */
  policy?: Policy;
  /** Run these checks instead of the policy's (shadow evaluation runs one `regression` check on the policy's data). */
  checks?: Array<{ kind: CheckKind; spec: Record<string, unknown> }>;
}

/** Something the gate cannot start with: a bad policy, missing data, a model that does not fit. Exit code 2. */
export class GateInputError extends Error {}

function idOf(i: number, kind: string): string {
  return `${i + 1}-${kind}`;
}

/** Outputs read from a predictions file, aligned with the rows of the evaluation data. */
function outputsFromPredictions(file: string, evalRows: number): ModelOutputs {
  let p;
  try {
    p = readPredictions(file);
  } catch (e) {
    throw new GateInputError((e as Error).message); // a bad predictions file is a bad input: exit 2 with the reason
  }
  if (p.yPred.length !== evalRows) {
    throw new GateInputError(t('{0} has {1} rows, but the evaluation data has {2}: the predictions must be for the evaluation rows, in order.', file, p.yPred.length, evalRows));
  }
  // Without score columns the classes are the labels that occur; the scores are then one-hot predictions.
  const scored = Object.keys(p.scores);
  const classes = scored.length ? scored : [...new Set([...p.yTrue, ...p.yPred])].sort();
  const scores = new Float32Array(evalRows * Math.max(1, classes.length));
  if (scored.length) classes.forEach((c, j) => p.scores[c].forEach((v, i) => { scores[i * classes.length + j] = v; }));
  else p.yPred.forEach((y, i) => { scores[i * classes.length + classes.indexOf(y)] = 1; });
  return { classes, scores, yPred: p.yPred };
}

function defaultFeatures(ds: Dataset, label: string | undefined): string[] {
  const skip = new Set([label, 'row_id', 'id']);
  return ds.names.filter(n => !skip.has(n) && ds.columns.get(n)?.kind === 'number');
}

/**
 * Run a promotion policy: read the data, run the candidate model once on the evaluation rows (or read the
 * predictions), then every check. A check that cannot run reports `error`; the gate passes only when no check
 * failed or errored. A data-only policy (no `data.label`, no `predictions`) runs its checks on the data with no
 * candidate; a predictions-only policy (no `data.eval`) takes the predictions file as the evaluation data.
 */
export async function runGate(policyFile: string, options: GateOptions): Promise<GateReport> {
  const started = Date.now();
  const shown = path.relative(options.root, policyFile) || policyFile;
  const policy = options.policy ?? loadPolicy(policyFile, shown, options.root).policy;
  assertPolicyPaths({ ...policy, checks: options.checks ?? policy.checks }, options.root, shown);
  const resolve = (p: string) => path.resolve(options.root, p);
  const predictionsFile = options.predictions ?? policy.predictions ?? undefined;
  const inputs = gateInputs(policy, options.predictions);
  // A prediction log is what production saw: its rows are the evaluation data (`data.eval` is not read) and its
  // logged predictions the candidate.
  const logDir = predictionsFile !== undefined && isLogFolder(resolve(predictionsFile)) ? predictionsFile : undefined;
  if (logDir === undefined && (options.since !== undefined || options.until !== undefined)) {
    throw new GateInputError(t('--since/--until select a time range of a prediction log; the predictions given ({0}) are not a log folder.', predictionsFile ?? '—'));
  }
  // The policy's range, where the flags give none (`since: 24h` is back from now, when the gate runs).
  const policyTime = (key: 'since' | 'until') => {
    const text = policy[key];
    if (text === undefined || logDir === undefined) return undefined;
    const at = parsePointInTime(text);
    if (at === undefined) throw new GateInputError(t('{0}: {1}: "{2}" is neither a duration back from now (24h, 7d) nor a time (2026-12-06T08:00Z).', shown, key, text));
    return at;
  };
  const since = options.since ?? policyTime('since');
  const until = options.until ?? policyTime('until');
  const { evalFile, candidate } = logDir !== undefined ? { evalFile: logDir, candidate: 'predictions' as const } : inputs;
  const label = logDir !== undefined ? policy.data.label ?? 'y_true' : inputs.label;
  // validatePolicy refuses a policy with neither; a caller's own Policy object may still lack both
  if (evalFile === undefined) throw new GateInputError(t('{0}: no evaluation data: set `data.eval`, or `predictions:` to a predictions file.', shown));
  const read = async (p: string) => {
    try {
      return await readDataset(resolve(p), { label, shown: path.relative(options.root, resolve(p)) || p, root: options.root });
    } catch (e) {
      throw new GateInputError((e as Error).message);
    }
  };
  const replay = logDir === undefined ? undefined : (() => {
    try {
      return replayLog(resolve(logDir), { since, until, classes: policy.data.classes, label: label!, shown: path.relative(options.root, resolve(logDir)) || logDir });
    } catch (e) {
      throw e instanceof LogReplayError ? new GateInputError(e.message) : e;
    }
  })();
  const evalData = replay ? replay.data : await read(evalFile);
  if (label !== undefined && !evalData.columns.has(label)) {
    throw new GateInputError(t('{0}: the label column `{1}` is not in the evaluation data (columns: {2}).', shown, label, evalData.names.join(', ')));
  }
  const reference = policy.data.reference ? await read(policy.data.reference) : undefined;
  const features = policy.data.features ?? defaultFeatures(evalData, label);
  const ctx: GateContext = { root: options.root, eval: evalData, reference, label, features };

  // Model problems (missing file, wrong width, classes that disagree, a text feature column) are input errors.
  const asInput = async <T>(f: () => Promise<T> | T): Promise<T> => {
    try {
      return await f();
    } catch (e) {
      throw e instanceof GateInputError ? e : new GateInputError((e as Error).message);
    }
  };
  try {
    return await runChecks();
  } finally {
    await releaseModels(); // sessions are cached per file; an extension host must not keep them
  }

  async function runChecks(): Promise<GateReport> {
    // A data-only policy has no check that reads a model or predictions: a candidate given with it is not loaded.
    // Without `data.eval` the predictions file is the evaluation data, and the candidate.
    let usedPredictions: string | undefined;
    if (replay) {
      usedPredictions = logDir;
      ctx.outputs = replay.outputs;
    } else if (candidate === 'predictions') {
      usedPredictions = evalFile;
      ctx.outputs = outputsFromPredictions(resolve(evalFile!), evalData.rows);
    } else if (candidate === 'candidate' && options.onnx) {
      const model = await asInput(() => loadModel(resolve(options.onnx!)));
      await asInput(() => model.check(features));
      ctx.modelFile = resolve(options.onnx);
      ctx.outputs = await asInput(() => model.outputsFor(evalData, features, policy.data.classes, label));
      ctx.predict = model.predictFn();
    } else if (candidate === 'candidate' && predictionsFile) {
      usedPredictions = predictionsFile;
      ctx.outputs = outputsFromPredictions(resolve(predictionsFile), evalData.rows);
    }
    if (options.production && candidate !== 'data') {
      const prod = await asInput(() => loadModel(resolve(options.production!)));
      await asInput(() => prod.check(features));
      const outputs = await asInput(() => prod.outputsFor(evalData, features, policy.data.classes, label));
      ctx.production = { ...outputs, label: options.productionLabel ?? path.relative(options.root, resolve(options.production)) };
    }

    const checks: CheckResult[] = [];
    const declared = options.checks ? options.checks.map(c => ({ ...c, source: undefined })) : policy.checks;
    const selected = declared.map((c, i) => ({ ...c, id: idOf(i, c.kind) })).filter(c => !options.only || options.only.includes(c.id));
    for (let i = 0; i < selected.length; i++) {
      if (options.signal?.aborted) break;
      const c = selected[i];
      options.onProgress?.(i, selected.length, c.kind);
      const t0 = Date.now();
      let r: CheckResult;
      try {
        r = await CHECKS[c.kind](ctx, c.spec as never, c.id);
      } catch (e) {
        r = { id: c.id, kind: c.kind, title: c.kind, status: 'error', measured: {}, threshold: c.spec, message: (e as Error).message, durationMs: Date.now() - t0 };
      }
      checks.push({ ...r, id: c.id, kind: c.kind, source: c.source });
    }
    const summary: Record<CheckStatus, number> = { pass: 0, fail: 0, warn: 0, error: 0 };
    for (const c of checks) summary[c.status]++;
    return {
      policy: shown,
      passed: !options.signal?.aborted && summary.fail === 0 && summary.error === 0,
      summary,
      checks,
      startedAt: new Date(started).toISOString(),
      durationMs: Date.now() - started,
      candidate: usedPredictions && options.candidate && options.candidate.predictions === undefined
        ? { ...options.candidate, predictions: usedPredictions } // the policy's own predictions file was the candidate
        : options.candidate ?? { onnx: options.onnx, predictions: predictionsFile },
      ...(replay ? { log: replay.summary } : {}),
    };
  }
}
