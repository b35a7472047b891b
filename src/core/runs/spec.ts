import { t } from '../l10n';
import { placeProblems, validateExperiment } from '../config';

/** What a config says about how to run it: read from a config that validated without errors. */
export interface RunSpec {
  experimentId: string;
  name: string;
  hypothesis: string | null;
  command: string[];
  cwd?: string;
  env?: Record<string, string | number | boolean>;
  timeoutS?: number;
  seed: number;
  params: Record<string, unknown>;
  dataFiles: string[];
  /** The whole config as data (what `$EDD_CONFIG_JSON` holds, for clients without a YAML reader). */
  config: Record<string, unknown>;
}

/** The config cannot be run: it has errors, or no `run.command`. `details` lists `line:col message` per problem. */
export class ConfigNotRunnableError extends Error {
  constructor(message: string, readonly details: string[] = []) {
    super(details.length ? `${message}\n${details.map(d => `  ${d}`).join('\n')}` : message);
    this.name = 'ConfigNotRunnableError';
  }
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Validate `text` and extract the run specification. A config with errors is refused (the user sees the same
 * problems as in the editor), so a run never starts from a config EDD itself would flag. With the workspace `root`,
 * its paths must resolve inside it, symbolic links included.
 */
export function readRunSpec(text: string, file: string, root?: string): RunSpec {
  const { problems, value } = validateExperiment(text, { root });
  const errors = problems.filter(p => p.severity === 'error');
  if (errors.length) {
    const placed = placeProblems(text, errors).slice(0, 10).map(p => `${file}:${p.line}:${p.column} ${p.code} ${p.message}`);
    throw new ConfigNotRunnableError(t('{0} has {1} error(s); fix them before running it:', file, errors.length), placed);
  }
  const exp = (value as Obj).experiment as Obj;
  const run = isObj(exp.run) ? exp.run : undefined;
  if (!run) {
    throw new ConfigNotRunnableError(t('{0} has no `experiment.run.command`: add the training command as an argv list, e.g. `run: {command: [python, train.py]}`.', file));
  }
  const data = isObj(exp.data) ? exp.data : {};
  return {
    experimentId: String(exp.id),
    name: String(exp.name),
    hypothesis: typeof exp.hypothesis === 'string' ? exp.hypothesis : null,
    command: (run.command as string[]).slice(),
    cwd: typeof run.cwd === 'string' ? run.cwd : undefined,
    env: isObj(run.env) ? (run.env as Record<string, string | number | boolean>) : undefined,
    timeoutS: typeof run.timeout === 'number' ? run.timeout : undefined,
    seed: typeof exp.random_seed === 'number' ? exp.random_seed : 42,
    params: isObj(exp.parameters) ? { ...exp.parameters } : {},
    dataFiles: Array.isArray(data.files) ? (data.files as string[]) : [],
    config: value as Obj,
  };
}
