import * as path from 'path';
import { inert } from '../core/inert';
import { t } from '../core/l10n';
import { credentialsFromEnv, displayUrl, MlflowApiError, MlflowUnreachableError, pullRuns, pushRuns, syncStatePath } from '../core/mlflow';
import { parseCommandArgs } from './args';
import { UsageError, type Io } from './io';
import { openStore, storePath } from './store';

/**
 * `edd sync mlflow --tracking-uri URL [--push] [--pull] [--json] [--store FILE] [--retries N]`: both directions when
 * neither is given. The URL may also come from EDD_TRACKING_URI or MLFLOW_TRACKING_URI; credentials only from
 * MLFLOW_TRACKING_TOKEN or MLFLOW_TRACKING_USERNAME / MLFLOW_TRACKING_PASSWORD (never an argument: it would be in the
 * shell history). Exit 1 when the server is unreachable (progress is kept: run it again to resume).
 */
export async function syncCommand(args: readonly string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandArgs('sync', args, {
    'tracking-uri': { type: 'string' },
    push: { type: 'boolean' },
    pull: { type: 'boolean' },
    json: { type: 'boolean' },
    store: { type: 'string' },
    retries: { type: 'string' },
  });
  const [kind, extra] = positionals;
  if (kind !== 'mlflow') throw new UsageError(kind === undefined ? t('`edd sync` needs the server kind: `edd sync mlflow --tracking-uri URL`.') : t('Unknown sync target {0}: EDD syncs with `mlflow`.', inert(kind)));
  if (extra !== undefined) throw new UsageError(t('Unexpected argument {0}: `edd sync mlflow` takes only options.', inert(extra)));
  const uri = values['tracking-uri'] ?? process.env.EDD_TRACKING_URI ?? process.env.MLFLOW_TRACKING_URI;
  if (!uri) throw new UsageError(t('`edd sync mlflow` needs --tracking-uri URL (or EDD_TRACKING_URI / MLFLOW_TRACKING_URI).'));
  if (!/^https?:\/\//i.test(uri)) throw new UsageError(t('{0} is not a tracking server URL: give http://host:port or https://….', inert(displayUrl(uri))));
  const retries = values.retries === undefined ? undefined : Number(values.retries);
  if (retries !== undefined && (!Number.isInteger(retries) || retries < 0)) throw new UsageError(t('--retries needs a whole number of 0 or more'));
  const both = !values.push && !values.pull;
  const file = storePath(io, values.store);
  const store = await openStore(file, {}, io);
  const options = { trackingUri: uri, credentials: credentialsFromEnv(), retries };
  const out: Record<string, unknown> = { server: displayUrl(uri), store: file };
  let code = 0;
  try {
    if (values.push || both) {
      const pushed = await pushRuns(store, options);
      out.push = pushed;
      for (const w of pushed.warnings) io.err(`edd: ${inert(w)}`);
      if (!values.json) io.out(t('Pushed {0} run(s) to {1} ({2} metric point(s), {3} request(s)); {4} already there.', pushed.pushed, inert(displayUrl(uri)), pushed.metricPoints, pushed.requests, pushed.alreadyPushed));
    }
    if (values.pull || both) {
      const pulled = await pullRuns(store, options);
      out.pull = pulled;
      for (const w of pulled.warnings) io.err(`edd: ${inert(w)}`);
      if (!values.json) io.out(t('Pulled {0} run(s) from {1}: {2} new, {3} updated, {4} metric point(s); {5} unchanged, {6} pushed from here.', pulled.fetched, inert(displayUrl(uri)), pulled.runsCreated, pulled.runsUpdated, pulled.points, pulled.unchanged, pulled.own));
    }
  } catch (e) {
    if (e instanceof MlflowUnreachableError || e instanceof MlflowApiError) {
      io.err(`edd: ${inert(e.message)}`);
      io.err(t('What was sent is recorded in {0}; run the same command again to resume.', inert(path.relative(io.cwd, syncStatePath(file)) || syncStatePath(file))));
      code = 1;
      out.error = e.message;
    } else {
      throw e;
    }
  } finally {
    await store.close();
  }
  if (values.json) io.out(JSON.stringify(out, null, 2));
  return code;
}
