import * as path from 'path';
import { inert } from '../core/inert';
import { t } from '../core/l10n';
import { DvcInputError, importDvc, readDvcProject } from '../core/dvc';
import { importMlflow, MlflowInputError, readMlflowSource, type ImportResult } from '../core/mlflow';
import { NAME_PATTERN } from '../core/store';
import { parseCommandArgs } from './args';
import { UsageError, type Io } from './io';
import { openStore, storePath } from './store';

/**
 * `edd import mlflow <mlruns | mlflow.db | sqlite:///path> [--copy-artifacts] [--json] [--store FILE]` and
 * `edd import dvc [DIR] [--experiment ID] [--json] [--store FILE]`.
 */
export async function importCommand(args: readonly string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandArgs('import', args, {
    json: { type: 'boolean' },
    store: { type: 'string' },
    'copy-artifacts': { type: 'boolean' },
    experiment: { type: 'string' },
  });
  const [kind, source, extra] = positionals;
  if (kind === 'dvc') return importDvcCommand(source, extra, values, io);
  if (kind !== 'mlflow') throw new UsageError(kind === undefined ? t('`edd import` needs what to import: `edd import mlflow <mlruns | mlflow.db | sqlite:///path>` or `edd import dvc [DIR]`.') : t('Unknown import source {0}: EDD imports `mlflow` and `dvc`.', inert(kind)));
  if (values.experiment !== undefined) throw new UsageError(t('--experiment is for `edd import dvc`: MLflow runs keep their experiments.'));
  if (source === undefined) throw new UsageError(t('`edd import mlflow` needs an mlruns folder, an mlflow.db file or sqlite:///path.'));
  if (extra !== undefined) throw new UsageError(t('Unexpected argument {0}: import one source at a time.', inert(extra)));
  let data;
  try {
    data = await readMlflowSource(source, io.cwd);
  } catch (e) {
    if (e instanceof MlflowInputError) throw new UsageError(inert(e.message));
    throw e;
  }
  const file = storePath(io, values.store);
  const store = await openStore(file, {}, io);
  let result: ImportResult;
  try {
    result = await importMlflow(store, data, { origin: 'mlflow-import', copyArtifacts: values['copy-artifacts'] === true });
  } finally {
    await store.close();
  }
  for (const w of result.warnings) io.err(`edd: ${inert(w)}`);
  if (values.json) {
    io.out(JSON.stringify({ source: data.source, store: file, ...result }, null, 2));
    return 0;
  }
  io.out(t('Imported from {0} into {1}: {2} experiment(s), {3} new run(s), {4} updated, {5} metric point(s), {6} model version(s), {7} stage change(s), {8} alias(es).',
    inert(data.source), inert(path.relative(io.cwd, file) || file), result.experiments, result.runsCreated, result.runsUpdated, result.points, result.versionsCreated, result.stageChanges, result.aliasesSet));
  if (result.pointsCollapsed) io.out(t('{0} metric point(s) shared a step with a later value of the same metric; EDD keeps the later one.', result.pointsCollapsed));
  if (result.artifactsCopied) io.out(t('{0} artifact file(s) copied.', result.artifactsCopied));
  return 0;
}

async function importDvcCommand(source: string | undefined, extra: string | undefined, values: { json?: boolean; store?: string; 'copy-artifacts'?: boolean; experiment?: string }, io: Io): Promise<number> {
  if (extra !== undefined) throw new UsageError(t('Unexpected argument {0}: import one source at a time.', inert(extra)));
  if (values['copy-artifacts']) throw new UsageError(t('--copy-artifacts is for `edd import mlflow`: DVC keeps its files in its own cache.'));
  if (values.experiment !== undefined && !NAME_PATTERN.test(values.experiment)) throw new UsageError(t('--experiment {0}: an experiment id is letters, digits, ".", "_" or "-".', inert(values.experiment)));
  let project;
  try {
    project = await readDvcProject(path.resolve(io.cwd, source ?? '.'));
  } catch (e) {
    if (e instanceof DvcInputError) throw new UsageError(inert(e.message));
    throw e;
  }
  const file = storePath(io, values.store);
  const store = await openStore(file, {}, io);
  let result;
  try {
    result = importDvc(store, project, values.experiment);
  } finally {
    await store.close();
  }
  if (values.json) {
    io.out(JSON.stringify({ source: project.dir, store: file, ...result }, null, 2));
    return 0;
  }
  io.out(t('Imported {0} DVC run(s) from {1} into experiment {2}: {3} new, {4} updated, {5} metric point(s).',
    project.runs.length, inert(project.dir), inert(result.experiment), result.runsCreated, result.runsUpdated, result.points));
  return 0;
}
