// Writes a DVC project's runs into EDD's store. The workspace's external id is `dvc:<project folder>` and an
// experiment's `dvc:<experiment name>`, so importing again updates the same runs and never duplicates one.
import * as path from 'path';
import { addNewPoints } from '../mlflow/importer';
import { NAME_PATTERN, type JsonObject, type MetricPoint, type RunStore } from '../store';
import type { DvcProject, DvcRun } from './read';

export interface DvcImportResult {
  experiment: string;
  runsCreated: number;
  runsUpdated: number;
  points: number;
  runs: Array<{ name: string; id: string; externalId: string; gitCommit: string | null }>;
}

/** The external id of a DVC run: the workspace by its folder, an experiment by its name. */
export const dvcExternalIdOf = (project: DvcProject, run: DvcRun) => `dvc:${run.baseline === null ? project.dir : run.name}`;

/** The experiment a project's runs go to unless one is given: the folder's name, made a valid EDD name. */
export function dvcExperimentOf(dir: string): string {
  const name = path.basename(dir).replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '');
  return NAME_PATTERN.test(name) ? name : 'dvc';
}

export function importDvc(store: RunStore, project: DvcProject, experiment = dvcExperimentOf(project.dir)): DvcImportResult {
  const result: DvcImportResult = { experiment, runsCreated: 0, runsUpdated: 0, points: 0, runs: [] };
  store.upsertExperiment({ id: experiment, name: experiment });
  for (const run of project.runs) {
    const externalId = dvcExternalIdOf(project, run);
    const tags: Record<string, string> = { 'edd.origin': 'dvc-import', 'dvc.name': run.name, 'dvc.path': project.dir };
    if (run.baseline) tags['dvc.baseline'] = run.baseline;
    const fields = { status: 'finished' as const, endedAt: run.time, gitCommit: run.gitCommit, params: run.params as JsonObject, tags };
    const existing = store.findRunByExternalId(externalId);
    let id: string;
    if (existing) {
      id = store.updateRun(existing.id, fields).id;
      result.runsUpdated++;
    } else {
      id = store.createRun({ experimentId: experiment, externalId, createdAt: run.time, startedAt: run.time, ...fields }).id;
      result.runsCreated++;
    }
    // a value logged without a timestamp gets the run's time, so that importing again finds it unchanged
    const latest = new Map<string, MetricPoint>();
    for (const p of run.points) latest.set(`${p.key}\0${p.step}`, { runId: id, key: p.key, step: p.step, value: p.value, time: p.time ?? run.time });
    result.points += addNewPoints(store, id, [...latest.values()], existing !== undefined);
    result.runs.push({ name: run.name, id, externalId, gitCommit: run.gitCommit });
  }
  return result;
}
