import * as fs from 'fs';
import * as path from 'path';
import { inert } from '../core/inert';
import { t } from '../core/l10n';
import { launchRecordFiles } from '../core/runs/launch';
import type { RunSummary } from '../core/store';
import { runOrigin } from '../core/store/origin';
import { parseCommandArgs } from './args';
import { UsageError, type Io } from './io';
import { storePath } from './storePath';

// `edd runs`, apart from `edd run`: listing must not load what running needs (the runner, the config validator).

export const fmt = (v: number) => (Number.isInteger(v) ? String(v) : Math.abs(v) >= 1000 || Math.abs(v) < 0.001 ? v.toExponential(3) : v.toFixed(4));
export const seconds = (ms: number | null | undefined) => (ms === null || ms === undefined ? '' : `${(ms / 1000).toFixed(1)} s`);

/** The JSON shape of one row of `edd runs --json`. */
function summaryJson(r: RunSummary) {
  return {
    run_id: r.id,
    experiment_id: r.experimentId,
    status: r.status,
    started_at: r.startedAt === null ? null : new Date(r.startedAt).toISOString(),
    duration_s: r.durationMs === null ? null : r.durationMs / 1000,
    exit_code: r.exitCode,
    seed: r.seed,
    // A sweep's trials (null for other runs): `edd compare --sweep` and scripts group by these.
    sweep_id: r.tags.sweep_id ?? null,
    trial_index: r.tags.trial_index !== undefined ? Number(r.tags.trial_index) : null,
    final_metrics: r.finalMetrics,
    origin: runOrigin(r),
    // `mlflow:<run id>` for a run imported or pulled from MLflow (null for a run made here)
    external_id: r.externalId,
  };
}


/** `edd runs [--experiment ID] [--json] [--limit N]`: newest first. */
export async function runsCommand(args: readonly string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandArgs('runs', args, {
    json: { type: 'boolean' },
    store: { type: 'string' },
    experiment: { type: 'string' },
    limit: { type: 'string' },
  });
  if (positionals.length) throw new UsageError(t('Unexpected argument {0}: `edd runs` takes only options.', inert(positionals[0])));
  const limit = values.limit !== undefined ? Number(values.limit) : undefined;
  if (limit !== undefined && (!Number.isInteger(limit) || limit <= 0)) throw new UsageError(t('--limit needs a positive whole number'));
  const file = storePath(io, values.store);
  // No store yet: nothing to list, and nothing to recover. Answered without loading the store's code and sql.js
  // (compiling its wasm is most of a cold start); a listing never creates the file.
  // (a run whose training started before the store's first save left a launch record: the store opens to recover it)
  if (!fs.existsSync(file) && launchRecordFiles(file).length === 0) return printRuns([], file, values.json === true, io);
  const { openStore, preferQuickWasmStart } = await import('./store');
  preferQuickWasmStart();
  const store = await openStore(file, { readOnly: true }, io);
  try {
    return printRuns(store.listRuns({ experimentId: values.experiment, limit }), file, values.json === true, io);
  } finally {
    await store.close();
  }
}

function printRuns(runs: RunSummary[], file: string, json: boolean, io: Io): number {
  if (json) {
    io.out(JSON.stringify(runs.map(summaryJson), null, 2));
    return 0;
  }
  if (runs.length === 0) {
    io.err(t('No runs recorded yet in {0}. Start one with `edd run <config.yaml>`.', inert(path.relative(io.cwd, file) || file)));
    return 0;
  }
  for (const r of runs) {
    const metrics = Object.entries(r.finalMetrics).sort().map(([k, v]) => `${inert(k)}=${fmt(v)}`).join(' ');
    const start = r.startedAt === null ? '-' : new Date(r.startedAt).toISOString().replace('T', ' ').slice(0, 19);
    const line = `${inert(r.id)}  ${inert(r.experimentId)}  ${r.status.padEnd(11)}  ${start}  ${seconds(r.durationMs).padStart(8)}  ${metrics}`;
    const origin = runOrigin(r);
    io.out(origin === 'remote' ? t('{0}  (remote)', line) : origin === 'imported' ? t('{0}  (imported)', line) : line);
  }
  return 0;
}

