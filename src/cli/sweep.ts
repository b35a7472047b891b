import { inert } from '../core/inert';
import { t } from '../core/l10n';
import { ConfigNotRunnableError } from '../core/runs';
import { parseRayAddress, RayError, RayTrialExecutor } from '../core/remote';
import { LocalExecutor, SweepError, SweepSpecError, loadSweep, runSweep, trialJson, type SweepResult } from '../core/sweep';
import { parseCommandArgs } from './args';
import { UsageError, usageErrorFrom, type Io } from './io';
import { openStore, storePath } from './store';

const usage = () => t('Usage: edd sweep <config.yaml> [--parallel N] [--dry-run] [--resume SWEEP_ID] [--json] [--on ray --address URL]');

/**
 * `edd sweep <config> [--parallel N] [--dry-run] [--resume SWEEP_ID] [--json] [--on ray --address URL]`. Exit 0 when every trial finished (or
 * was stopped early by the sweep's rule), 1 when a trial failed, 130 when cancelled (Ctrl+C or SIGTERM).
 */
export async function sweepCommand(args: readonly string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandArgs('sweep', args, {
    json: { type: 'boolean' },
    'dry-run': { type: 'boolean' },
    parallel: { type: 'string' },
    resume: { type: 'string' },
    store: { type: 'string' },
    on: { type: 'string' },
    address: { type: 'string' },
  });
  if (positionals.length !== 1) throw new UsageError(usage());
  if (values.on !== undefined && values.on !== 'ray') throw new UsageError(t('--on accepts only `ray` (a Ray cluster); without --on the run is local.'));
  if (values.on === 'ray' && values.address === undefined) throw new UsageError(t('--on ray needs --address, the URL of the Ray dashboard (for example http://127.0.0.1:8265).'));
  if (values.on === undefined && values.address !== undefined) throw new UsageError(t('--address is only for --on ray.'));
  if (values.address !== undefined) {
    try {
      parseRayAddress(values.address);
    } catch (e) {
      throw usageErrorFrom(e as Error);
    }
  }
  const parallel = values.parallel !== undefined ? Number(values.parallel) : undefined;
  if (parallel !== undefined && (!Number.isInteger(parallel) || parallel <= 0)) throw new UsageError(t('--parallel needs a positive whole number'));
  const json = values.json === true;
  const workspaceRoot = io.cwd;
  const asUsage = (e: unknown): never => {
    if (e instanceof ConfigNotRunnableError || e instanceof SweepSpecError || e instanceof SweepError || e instanceof RayError) throw usageErrorFrom(e);
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new UsageError(t('Cannot read {0}: no such file.', inert(positionals[0])));
    throw e;
  };

  // Read and check the config before opening the store: a bad config or a wrong path leaves no `.edd/` behind.
  const { configRel, trials } = await loadSweep(workspaceRoot, positionals[0]).catch(asUsage);
  if (values['dry-run']) {
    if (json) io.out(JSON.stringify({ config: configRel, trials: trials.map(trialJson) }, null, 2));
    else {
      io.out(t('{0}: {1} trial(s).', inert(configRel), trials.length));
      for (const tr of trials) {
        const o = Object.entries(tr.overrides).map(([k, v]) => `${inert(k)}=${inert(JSON.stringify(v))}`).join(' ');
        io.out(`  #${tr.index}  seed=${tr.seed}  ${o}`);
      }
    }
    return 0;
  }

  // On Ray, the cluster is checked and the workspace uploaded before the store is opened: an unreachable cluster
  // records nothing.
  let executor: LocalExecutor | RayTrialExecutor = new LocalExecutor();
  if (values.address !== undefined) {
    const ray = new RayTrialExecutor(values.address);
    await ray.prepare(workspaceRoot).catch(asUsage);
    executor = ray;
  }
  const store = await openStore(storePath(io, values.store), {}, io);
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let result: SweepResult;
  try {
    result = await runSweep({
      store, workspaceRoot, configPath: positionals[0], executor, parallel, resume: values.resume,
      signal: controller.signal,
      onEvent: e => {
        if (e.type === 'start') {
          // Also with --json (on stderr): a sweep killed before its JSON is printed is resumed by this id.
          io.err(t('Sweep {0}: {1} trial(s), {2} already done, {3} at a time.', e.sweepId, e.total, e.skipped, e.parallel));
          // The id on stdout too, in a fixed form that scripts read (not translated): they resume with it.
          if (!json) io.out(`sweep ${e.sweepId}`);
        } else if (json) {
          return;
        } else if (e.type === 'trial-start') {
          io.err(t('Trial {0} (seed {1}) started: run {2}.', e.trial.index, e.trial.seed, inert(e.runId)));
        } else {
          if (e.stoppedEarly) io.err(t('Trial {0}: stopped early — {1}', e.trial.index, inert(e.outcome.error ?? '')));
          else if (e.outcome.error) io.err(t('Trial {0}: {1} — {2}', e.trial.index, e.outcome.status, inert(e.outcome.error)));
          else io.err(t('Trial {0}: {1}', e.trial.index, e.outcome.status));
        }
      },
    }).catch(asUsage);
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    await store.close();
  }
  const outcomes = [...result.outcomes].sort(([a], [b]) => a - b);
  const count = (f: (o: (typeof outcomes)[number][1]) => boolean) => outcomes.filter(([, o]) => f(o)).length;
  const finished = count(o => o.status === 'finished');
  const stopped = count(o => o.stoppedEarly);
  const failed = count(o => o.status === 'failed' || o.status === 'interrupted');
  const cancelled = count(o => o.status === 'cancelled' && !o.stoppedEarly);
  if (json) {
    io.out(JSON.stringify({
      sweep_id: result.sweepId, total: result.total, skipped: result.skipped, cancelled: result.cancelled,
      trials: outcomes.map(([index, o]) => ({ trial_index: index, run_id: o.runId, status: o.status, stopped_early: o.stoppedEarly, error: o.error ?? null, final_metrics: o.finalMetrics })),
    }, null, 2));
  } else {
    io.out(t('Sweep {0}: {1} finished, {2} stopped early, {3} failed, {4} cancelled, {5} skipped (done before), {6} not started.',
      result.sweepId, finished, stopped, failed, cancelled, result.skipped, result.total - result.skipped - outcomes.length));
    if (result.cancelled) io.err(t('Resume with: edd sweep {0} --resume {1}', inert(positionals[0]), result.sweepId));
  }
  if (result.cancelled) return 130;
  return failed > 0 ? 1 : 0;
}
