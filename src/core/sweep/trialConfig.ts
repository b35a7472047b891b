import { createHash } from 'crypto';
import { parseDocument } from 'yaml';
import type { Trial } from './executor';

/**
 * The config text a trial runs: the base config with each override set at its dotted path inside `experiment` and
 * the trial's seed as `experiment.random_seed`. Edited through the YAML document, so the user's comments and layout
 * stay, and the run's config snapshot reads like the file it came from.
 */
export function trialConfigText(baseText: string, trial: Trial): string {
  const doc = parseDocument(baseText, { uniqueKeys: false });
  for (const [key, value] of Object.entries(trial.overrides)) doc.setIn(['experiment', ...key.split('.')], value);
  doc.setIn(['experiment', 'random_seed'], trial.seed);
  return doc.toString({ lineWidth: 0 });
}

/** True when `key` (dotted, inside `experiment`) names a value present in the base config. */
export function hasPath(experiment: unknown, key: string): boolean {
  let at: unknown = experiment;
  for (const part of key.split('.')) {
    if (typeof at !== 'object' || at === null || Array.isArray(at) || !Object.hasOwn(at, part)) return false;
    at = (at as Record<string, unknown>)[part];
  }
  return true;
}

/**
 * A sweep's id, derived from the config's workspace-relative path and the time the sweep started: the same pair
 * always names the same sweep, and two sweeps of one config started at different times never share an id.
 */
export function sweepIdOf(configPath: string, startedAt: Date): string {
  const digest = createHash('sha256').update(`${configPath}\n${startedAt.toISOString()}`).digest('hex');
  return `sw-${digest.slice(0, 12)}`;
}
