import * as path from 'path';
import { t } from '../core/l10n';
import { executeRun, findRun, metricDifferences, planReproduction, ConfigNotRunnableError, RunNotFoundError, type ExecuteOptions, type ExecuteResult } from '../core/runs';
import { inert } from '../core/inert';
import type { RunStore } from '../core/store';
import { parseCommandArgs } from './args';
import { codeCacheReady } from './codeCache';
import { UsageError, usageErrorFrom, type Io } from './io';
import { fmt, seconds } from './runs';
import { storePath } from './storePath';

// The store (sql.js), Ray and MLflow are imported when used: a local `edd run` starts its training before it loads
// the store's code, and never loads the other two.


/** The JSON shape of one finished `edd run`. */
function runJson(r: ExecuteResult) {
  return {
    run_id: r.run.id,
    experiment_id: r.run.experimentId,
    status: r.run.status,
    exit_code: r.run.exitCode,
    duration_s: r.run.durationMs === null ? null : r.run.durationMs / 1000,
    peak_memory_mb: r.run.peakMemoryBytes === null ? null : r.run.peakMemoryBytes / 1048576,
    final_metrics: r.finalMetrics,
    artifacts: r.outcome.artifacts.map(a => ({ path: a.path, kind: a.kind ?? null, sha256: a.sha256 ?? null, size_bytes: a.sizeBytes ?? null, ...(a.error ? { error: a.error } : {}) })),
    error: r.run.error,
    warnings: r.warnings,
  };
}

/**
 * Exit code of `edd run`: the training's own exit code (1 if it died by a signal), 130 when cancelled with Ctrl+C or
 * SIGTERM (also when the signal came while the artifacts were being hashed, after the training itself had finished).
 */
function exitCodeOf(r: ExecuteResult, signalled: boolean): number {
  if (r.run.status === 'cancelled' || signalled) return 130;
  if (r.run.status === 'finished') return 0;
  return r.run.exitCode && r.run.exitCode > 0 ? r.run.exitCode : 1;
}

/** `edd run <config> [--json] [--on ray --address URL]` and `edd run --reproduce RUN_ID [--json]`. */
export async function runCommand(args: readonly string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandArgs('run', args, {
    json: { type: 'boolean' },
    quiet: { type: 'boolean' },
    store: { type: 'string' },
    reproduce: { type: 'string' },
    on: { type: 'string' },
    address: { type: 'string' },
    'tracking-uri': { type: 'string' },
  });
  const json = values.json === true;
  const reproduce = values.reproduce;
  if (reproduce !== undefined ? positionals.length > 0 : positionals.length !== 1) {
    throw new UsageError(t('Usage: edd run <config.yaml> [--json] [--on ray --address URL]  or  edd run --reproduce RUN_ID [--json]'));
  }
  if (values.on !== undefined && values.on !== 'ray') throw new UsageError(t('--on accepts only `ray` (a Ray cluster); without --on the run is local.'));
  if (values.on === 'ray' && values.address === undefined) throw new UsageError(t('--on ray needs --address, the URL of the Ray dashboard (for example http://127.0.0.1:8265).'));
  if (values.on === undefined && values.address !== undefined) throw new UsageError(t('--address is only for --on ray.'));
  const rayAddress = values.address;
  const ray = rayAddress === undefined ? undefined : await import('../core/remote');
  if (ray && rayAddress !== undefined) {
    // A malformed address is refused before the store is opened.
    try {
      ray.parseRayAddress(rayAddress);
    } catch (e) {
      throw usageErrorFrom(e as Error);
    }
  }
  // Live logging to an MLflow tracking server (the editor's runs go through the store worker's execute op instead).
  const trackingUri = values['tracking-uri'] ?? (process.env.EDD_TRACKING_URI || undefined);
  const mlflow = trackingUri === undefined ? undefined : await import('../core/mlflow');
  if (mlflow && trackingUri !== undefined && !/^https?:\/\//i.test(trackingUri)) throw new UsageError(t('{0} is not a tracking server URL: give http://host:port or https://….', inert(mlflow.displayUrl(trackingUri))));
  const workspaceRoot = io.cwd;
  const file = storePath(io, values.store);
  let opening: Promise<RunStore> | undefined;
  const openStore = () => (opening ??= import('./store').then(m => {
    // What ran until now (the config checks and the training's start) is what a code cache saves most of; made before
    // the flag below changes (src/cli/codeCache.ts).
    codeCacheReady();
    m.preferQuickWasmStart();
    return m.openStore(file, { verify: 'header' }, io);
  }));
  // A local run opens the store once its training has started (executeRun calls openStore).
  const local = reproduce === undefined && rayAddress === undefined && trackingUri === undefined;
  const store = local ? undefined : await openStore();
  const live = store === undefined || mlflow === undefined || trackingUri === undefined ? undefined : new mlflow.LiveLogger(store, { trackingUri, credentials: mlflow.credentialsFromEnv() });
  const controller = new AbortController();
  const onSigint = () => controller.abort();
  process.once('SIGINT', onSigint);
  process.once('SIGTERM', onSigint);
  try {
    let configPath: string;
    let configText: string | undefined;
    let original: { id: string; finalMetrics: Record<string, number> } | undefined;
    if (reproduce !== undefined) {
      const plan = await planReproduction(store!, workspaceRoot, reproduce).catch(e => {
        if (e instanceof RunNotFoundError || e instanceof ConfigNotRunnableError) throw usageErrorFrom(e);
        throw e;
      });
      original = { id: plan.original.id, finalMetrics: store!.finalMetrics(plan.original.id) };
      configPath = plan.original.configPath ?? 'config.yaml';
      configText = plan.original.configSnapshot ?? undefined;
      if (!json) {
        io.err(t('Reproducing run {0} of {1} from its stored config snapshot.', inert(plan.original.id), inert(plan.original.experimentId)));
        if (plan.differences.length === 0) io.err(t('Nothing EDD records differs from the original run.'));
        else {
          io.err(t('What differs from the original run:'));
          for (const d of plan.differences) io.err(`  ${inert(d.what)}: ${inert(String(d.original))} → ${inert(String(d.now))}`);
        }
      }
    } else {
      configPath = path.resolve(io.cwd, positionals[0]);
    }
    let result: ExecuteResult;
    try {
      const options: Omit<ExecuteOptions, 'store'> = {
        workspaceRoot, configPath, configText,
        extraParams: original ? { reproduces: original.id } : undefined,
        signal: controller.signal,
        onStart: run => {
          if (!json) io.err(t('Run {0} started ({1}).', inert(run.id), inert(run.experimentId)));
          live?.begin(run);
        },
        onMetrics: live ? points => live.onMetrics(points) : undefined,
        onEvent: e => {
          // The training's own output goes through raw, as `npm run` passes a script's output: it is the user's
          // process writing to the user's terminal. Everything EDD writes around it is made inert.
          if (e.type === 'log' && !json && !values.quiet) io.err(e.text);
          if (e.type === 'protocol-error' && !json) io.err(t('warning: line {0} of the metrics protocol: {1}', e.line, inert(e.message)));
        },
      };
      // A training that is over at once is recorded without starting SQLite when the store allows it (QuickRunStore).
      const openQuick = () => {
        codeCacheReady(); // (see openStore) the training has started: what ran until now is what the cache is for
        return import('../core/store/quickStore').then(m => m.QuickRunStore.open(file, { openFull: openStore }));
      };
      result = ray && rayAddress !== undefined ? await ray.executeRayRun({ ...options, store: store!, address: rayAddress }) : await executeRun({ ...options, store: store ?? { file, openStore, openQuick } });
    } catch (e) {
      live?.abandon();
      if (e instanceof ConfigNotRunnableError) throw usageErrorFrom(e);
      // The config named on the command line could not be read: the user's mistake, not an internal error.
      const err = e as NodeJS.ErrnoException;
      if (err.syscall !== undefined && (err.path === configPath || (err.path === undefined && err.code === 'EISDIR'))) { // (a read of a folder names no path)
        const shown = inert(path.relative(io.cwd, configPath) || configPath);
        throw new UsageError(err.code === 'ENOENT' ? t('Cannot read {0}: no such file.', shown) : t('{0}: cannot read the file ({1}); check that it exists and that you may read it.', shown, inert(err.code ?? err.message)));
      }
      // The cluster could not be reached or refused the upload: nothing was recorded, the address is to check.
      if (ray && e instanceof ray.RayError) throw usageErrorFrom(e);
      throw e;
    }
    if (live) {
      const warning = await live.end(result.run);
      if (warning) result.warnings.push(warning);
    }
    if (json) {
      const out: Record<string, unknown> = runJson(result);
      if (original) {
        out.reproduces = original.id;
        out.metric_differences = metricDifferences(original.finalMetrics, result.finalMetrics);
      }
      io.out(JSON.stringify(out, null, 2));
    } else {
      io.out(`${inert(result.run.id)} ${inert(result.run.experimentId)} ${result.run.status} ${seconds(result.run.durationMs)}${result.run.error ? ` — ${inert(result.run.error)}` : ''}`);
      for (const [k, v] of Object.entries(result.finalMetrics).sort()) io.out(`  ${inert(k)} = ${fmt(v)}`);
      if (original) {
        io.out(t('Compared with run {0}:', inert(original.id)));
        for (const d of metricDifferences(original.finalMetrics, result.finalMetrics)) {
          io.out(`  ${inert(d.key)}: ${d.original === null ? '—' : fmt(d.original)} → ${d.reproduced === null ? '—' : fmt(d.reproduced)}${d.delta === null ? '' : ` (${d.delta >= 0 ? '+' : ''}${fmt(d.delta)})`}`);
        }
      }
    }
    if (!json) for (const w of result.warnings) io.err(t('warning: {0}', w));
    return exitCodeOf(result, controller.signal.aborted);
  } finally {
    process.removeListener('SIGINT', onSigint);
    process.removeListener('SIGTERM', onSigint);
    // executeRun has settled the opening, if it started one (a store that could not be opened was its error)
    await (await opening?.catch(() => undefined))?.close();
  }
}

export { findRun };
