import * as fs from 'fs';
import * as path from 'path';
import { t } from '../l10n';
import { captureEnvironment, datasetFingerprint, type EnvironmentInfo } from '../runner';
import type { RunRecord, RunStore } from '../store';
import { readRunSpec, type RunSpec } from './spec';

/** One thing that is not the same now as when the original run started. */
export interface Difference {
  /** Stable id: `git-commit`, `git-dirty`, `data`, `python`, `package`, `node`, `os`, `config-file`. */
  kind: string;
  what: string;
  original: string;
  now: string;
}

export interface ReproductionPlan {
  original: RunRecord;
  spec: RunSpec;
  /** Empty when everything EDD records matches. */
  differences: Difference[];
}

export class RunNotFoundError extends Error {
  constructor(id: string, message?: string) {
    super(message ?? t('No run with id {0} in this store. `edd runs` lists the runs.', id));
    this.name = 'RunNotFoundError';
  }
}

/** Find a run by its full id or a unique prefix (at least 4 characters), as users type ids from listings. */
export function findRun(store: RunStore, idOrPrefix: string): RunRecord {
  const exact = store.getRun(idOrPrefix);
  if (exact) return exact;
  if (idOrPrefix.length >= 4) {
    const matches = store.listRuns({}).filter(r => r.id.startsWith(idOrPrefix));
    if (matches.length === 1) return store.getRun(matches[0].id)!;
    if (matches.length > 1) throw new RunNotFoundError(idOrPrefix, t('Run id prefix {0} is ambiguous: {1} runs start with it.', idOrPrefix, matches.length));
  }
  throw new RunNotFoundError(idOrPrefix);
}

const show = (v: unknown) => (v === undefined || v === null || v === '' ? t('(none)') : String(v));

/** Compare what was recorded for `original` with the workspace as it is now. */
export function environmentDifferences(original: RunRecord, now: EnvironmentInfo, nowFingerprint: string | null): Difference[] {
  const before = (original.environment ?? {}) as Partial<EnvironmentInfo>;
  const out: Difference[] = [];
  const add = (kind: string, what: string, a: unknown, b: unknown) => {
    if (show(a) !== show(b)) out.push({ kind, what, original: show(a), now: show(b) });
  };
  add('git-commit', t('git commit'), original.gitCommit, now.git?.commit);
  const dirtyBefore = before.git?.dirtyFiles ?? [];
  const dirtyNow = now.git?.dirtyFiles ?? [];
  if (Boolean(original.gitDirty) !== Boolean(now.git?.dirty) || dirtyBefore.join('\n') !== dirtyNow.join('\n')) {
    out.push({ kind: 'git-dirty', what: t('uncommitted changes'), original: dirtyBefore.join(', ') || t('(none)'), now: dirtyNow.join(', ') || t('(none)') });
  }
  add('data', t('data fingerprint'), original.datasetFingerprint, nowFingerprint);
  add('python', t('Python version'), before.python?.version, now.python?.version);
  const pa = before.python?.packages ?? {};
  const pb = now.python?.packages ?? {};
  for (const name of [...new Set([...Object.keys(pa), ...Object.keys(pb)])].sort()) {
    add('package', t('package {0}', name), pa[name], pb[name]);
  }
  add('node', t('Node.js version'), before.node, now.node);
  add('os', t('operating system'), before.os && `${before.os.platform} ${before.os.release}`, `${now.os.platform} ${now.os.release}`);
  return out;
}

/** Everything needed to show the user what differs before a reproduction starts. */
export async function planReproduction(store: RunStore, workspaceRoot: string, runId: string): Promise<ReproductionPlan> {
  const original = findRun(store, runId);
  if (!original.configSnapshot) throw new Error(t('Run {0} has no stored config snapshot, so it cannot be reproduced.', original.id));
  const spec = readRunSpec(original.configSnapshot, original.configPath ?? 'config', workspaceRoot);
  const env = await captureEnvironment({ workspaceRoot, command: spec.command, cwd: spec.cwd });
  let fingerprint: string | null = null;
  try {
    if (spec.dataFiles.length) fingerprint = (await datasetFingerprint(spec.dataFiles, workspaceRoot)).sha256;
  } catch (e) {
    fingerprint = t('unavailable: {0}', (e as Error).message);
  }
  const differences = environmentDifferences(original, env, fingerprint);
  if (original.configPath) {
    try {
      const current = await fs.promises.readFile(path.resolve(workspaceRoot, original.configPath), 'utf8');
      if (current !== original.configSnapshot) {
        differences.push({ kind: 'config-file', what: t('config file {0}', original.configPath), original: t('as snapshotted'), now: t('edited since (the snapshot is what runs)') });
      }
    } catch {
      differences.push({ kind: 'config-file', what: t('config file {0}', original.configPath), original: t('as snapshotted'), now: t('deleted (the snapshot is what runs)') });
    }
  }
  return { original, spec, differences };
}

export interface MetricDifference {
  key: string;
  original: number | null;
  reproduced: number | null;
  delta: number | null;
}

/** Final metrics of the original and the reproduction, key by key. */
export function metricDifferences(original: Record<string, number>, reproduced: Record<string, number>): MetricDifference[] {
  return [...new Set([...Object.keys(original), ...Object.keys(reproduced)])].sort().map(key => {
    const a = key in original ? original[key] : null;
    const b = key in reproduced ? reproduced[key] : null;
    return { key, original: a, reproduced: b, delta: a !== null && b !== null ? b - a : null };
  });
}
