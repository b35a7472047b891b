import type { RunSummary } from './types';

export type RunOrigin = 'local' | 'remote' | 'imported';

/** `local` (run here), `remote` (pulled from the team's tracking server), `imported` (read from MLflow's or DVC's files). */
export function runOrigin(r: Pick<RunSummary, 'tags'>): RunOrigin {
  const origin = r.tags['edd.origin'];
  return origin === undefined ? 'local' : origin === 'mlflow-remote' ? 'remote' : 'imported';
}
