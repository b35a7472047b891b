/**
 * The gate with the store around it: what the CLI and the editor run. It resolves the candidate (a run's model
 * artifact, a registered version, or a file), takes the production model from the registry for `regression` checks
 * when the policy names a model, runs the policy, and stores the report with the run, the version and the model
 * file's sha256 (a version finds the reports of its file even when they were made on the run before it was
 * registered). Shadow evaluation is the same machinery with one `regression` check.
 */
import * as fs from 'fs';
import * as path from 'path';
import { t } from '../l10n';
import { runGate, type GateOptions } from '../checks/gate';
import { loadPolicy, isPolicyFile, validatePolicy, type Policy } from '../checks/policy';
import type { GateReport } from '../checks/types';
import { hashFile } from '../runner/hash';
import type { RunStore, StoredGateReport } from '../store';
import { findRun, modelArtifactOf, RegistryError, resolveVersion, versionFile } from './registry';

/** What to gate. One of `runId`, `model`, `onnx`, `predictions` (a run or version needs the store). */
export interface GateTarget {
  runId?: string;
  /** A registered version: `{ model: 'penguins', ref: '2' }` (ref: number, alias or stage). */
  model?: { model: string; ref: string };
  onnx?: string;
  predictions?: string;
  /** The production model's file; default: the registry's production version of the policy's model. */
  production?: string;
}

export interface StoreGateOptions extends Omit<GateOptions, 'onnx' | 'production' | 'candidate' | 'policy'> {
  store?: RunStore;
  target: GateTarget;
  /** Store the report (default: when a writable store is given). */
  record?: boolean;
}

export interface StoreGateResult {
  report: GateReport;
  stored?: StoredGateReport;
  /** The registry version used as production, if any. */
  production?: { model: string; version: number };
}

/** Resolves the candidate's model file and the links its report is stored with. */
function candidateOf(store: RunStore | undefined, root: string, target: GateTarget) {
  if (target.runId !== undefined) {
    if (!store) throw new RegistryError(t('No run store: run an experiment first (`edd run <config.yaml>`).'), 'invalid');
    const run = findRun(store, target.runId);
    return { onnx: modelArtifactOf(store, root, run.id).file, runId: run.id, model: undefined, version: undefined };
  }
  if (target.model) {
    if (!store) throw new RegistryError(t('No run store, so no registry: register a model first (`edd register <run-id> --model NAME`).'), 'invalid');
    const v = resolveVersion(store, target.model.model, target.model.ref);
    return { onnx: versionFile(store, v), runId: v.runId ?? undefined, model: v.model, version: v.version };
  }
  return { onnx: target.onnx && path.resolve(root, target.onnx), runId: undefined, model: undefined, version: undefined };
}

export async function gateWithStore(policyFile: string, o: StoreGateOptions): Promise<StoreGateResult> {
  const { policy } = loadPolicy(policyFile, path.relative(o.root, policyFile) || policyFile, o.root);
  const c = candidateOf(o.store, o.root, o.target);
  let production = o.target.production && path.resolve(o.root, o.target.production);
  let productionVersion: StoreGateResult['production'];
  if (!production && o.store && policy.model) {
    const prod = o.store.findModelVersion(policy.model, 'production');
    if (prod && !(c.model === prod.model && c.version === prod.version)) {
      production = versionFile(o.store, prod);
      productionVersion = { model: prod.model, version: prod.version };
    }
  }
  const shown = (f: string | undefined) => f && (path.relative(o.root, f) || f);
  const report = await runGate(policyFile, {
    ...o, policy, onnx: c.onnx, production,
    productionLabel: productionVersion && `${productionVersion.model}@${productionVersion.version}`,
    candidate: {
      model: c.model !== undefined ? `${c.model}@${c.version}` : undefined, run: c.runId, onnx: shown(c.onnx), predictions: o.target.predictions ?? o.predictions,
    },
  });
  const result: StoreGateResult = { report, production: productionVersion };
  const record = o.record ?? true;
  if (record && o.store && !o.signal?.aborted) {
    let sha: string | null = null;
    try {
      if (c.onnx) sha = (await hashFile(c.onnx)).sha256;
    } catch {
      // the gate already reported an unreadable model; the report is still worth keeping
    }
    result.stored = o.store.addGateReport({
      policy: report.policy, passed: report.passed, report, runId: c.runId ?? null, model: c.model ?? policy.model ?? null,
      version: c.version ?? null, modelSha256: sha,
    });
  }
  return result;
}

/**
 * Shadow evaluation: the candidate and the production model on the policy's evaluation data — agreement rate, the
 * metric of each, their difference with McNemar's exact test on per-row correctness, and the rows where they disagree.
 */
export async function shadowEvaluate(policyFile: string, o: { root: string; store?: RunStore; target: GateTarget; metric?: 'accuracy' | 'f1'; alpha?: number; signal?: AbortSignal }): Promise<StoreGateResult> {
  return gateWithStore(policyFile, {
    root: o.root, store: o.store, target: o.target, record: false, signal: o.signal,
    checks: [{ kind: 'regression', spec: { metric: o.metric ?? 'accuracy', max_drop: 0, test: 'mcnemar', alpha: o.alpha ?? 0.05, on_missing_production: 'error' } }],
  });
}

const SKIP_DIRS = new Set(['node_modules', '.git', '.edd', 'dist', 'out', '.vscode-test', '__pycache__', '.venv', 'venv']);

/** Promotion policy files below `root` (by name, or a `# edd: policy` marker), at most `maxDepth` folders deep. */
export function findPolicyFiles(root: string, maxDepth = 6): string[] {
  const out: string[] = [];
  const walk = (dir: string, depth: number) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (depth < maxDepth && !SKIP_DIRS.has(e.name) && !e.name.startsWith('.')) walk(full, depth + 1);
      } else if (/\.ya?ml$/i.test(e.name)) {
        if (isPolicyFile(full)) out.push(full);
        else {
          try {
            const head = fs.readFileSync(full, 'utf8').slice(0, 400);
            if (isPolicyFile(full, head)) out.push(full);
          } catch {
            // unreadable: not ours to report here
          }
        }
      }
    }
  };
  walk(root, 0);
  return out.sort();
}

/** The valid promotion policies below `root`, in path order (an unreadable or invalid one guards nothing). */
export function validPolicies(root: string): Array<{ file: string; policy: Policy }> {
  const out: Array<{ file: string; policy: Policy }> = [];
  for (const file of findPolicyFiles(root)) {
    try {
      const { policy } = validatePolicy(fs.readFileSync(file, 'utf8'));
      if (policy) out.push({ file, policy });
    } catch {
      // unreadable: skipped
    }
  }
  return out;
}

/** The valid policies below `root` that guard `model`. */
export function policiesForModel(root: string, model: string): Array<{ file: string; policy: Policy }> {
  return validPolicies(root).filter(p => p.policy.model === model);
}

/** True when a policy of `model` below `root` says `require_gate: true`. */
export function gateRequired(root: string, model: string): boolean {
  return policiesForModel(root, model).some(p => p.policy.require_gate === true);
}
