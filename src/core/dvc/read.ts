// Reads what a DVC project records about its runs, as DVC and DVCLive write it (DVCLive 3's documented layout):
// - `params.yaml` and the files named by `params:` in dvc.yaml (top level, or a stage's `params:` entries
//   `{file.yaml: [keys]}`; plain keys name params.yaml);
// - the metrics files dvc.yaml names (`metrics:` at the top level and a stage's `metrics:` outputs): JSON or YAML,
//   nested keys joined with `/` as DVCLive names its plots;
// - DVCLive's folder (`dvclive/` unless dvc.yaml names another): `metrics.json` (the summary: latest value per metric
//   and `step`), `params.yaml`, and `plots/metrics/**/<name>.tsv` (the history: tab-separated, a header
//   `[timestamp] step <name>`, one row per logged value).
// The workspace is one run; in a git repository each DVC experiment (`refs/exps/…`) is another, read from its commit.
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { LineCounter, parseDocument } from 'yaml';
import { t } from '../l10n';

/** A bad DVC input: the message names the file (and line) and says what to do. The CLI exits 2. */
export class DvcInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DvcInputError';
  }
}

export interface DvcPoint {
  key: string;
  step: number;
  value: number;
  /** Epoch milliseconds, when DVCLive wrote a `timestamp` column. */
  time: number | null;
}

export interface DvcRun {
  /** `workspace`, or the experiment's name. */
  name: string;
  /** The commit the run's files were read from (the workspace's HEAD), null outside git. */
  gitCommit: string | null;
  /** An experiment's baseline commit (the commit it was run on). */
  baseline: string | null;
  /** When the run ended, as well as the files tell: the commit time of an experiment, the files' latest change otherwise. */
  time: number;
  params: Record<string, unknown>;
  points: DvcPoint[];
  /** Files read, relative to the project folder. */
  files: string[];
}

export interface DvcProject {
  dir: string;
  runs: DvcRun[];
}

/** Where a run's files come from: the working tree, or a commit. Paths are relative to the project folder. */
interface Tree {
  /** What a message calls `rel`: a path, or `<commit>:<path>`. */
  label(rel: string): string;
  read(rel: string): Promise<string | undefined>;
  /** Files under `rel` (recursively), relative to the project folder. */
  list(rel: string): Promise<string[]>;
}

const GIT_ENV = { ...process.env, GIT_OPTIONAL_LOCKS: '0', LC_ALL: 'C' };

function git(cwd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('git', args, { cwd, env: GIT_ENV, maxBuffer: 256 * 1024 * 1024, encoding: 'utf8' }, (err, stdout) => (err ? reject(err) : resolve(stdout)));
  });
}

function workTree(dir: string): Tree {
  return {
    label: rel => path.join(dir, rel),
    async read(rel) {
      try {
        return await fs.promises.readFile(path.join(dir, rel), 'utf8');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw e;
      }
    },
    async list(rel) {
      const out: string[] = [];
      const walk = async (sub: string) => {
        let entries: fs.Dirent[];
        try {
          entries = await fs.promises.readdir(path.join(dir, sub), { withFileTypes: true });
        } catch {
          return;
        }
        for (const e of entries) {
          const p = path.posix.join(sub, e.name);
          if (e.isDirectory()) await walk(p);
          else if (e.isFile()) out.push(p);
        }
      };
      await walk(rel);
      return out.sort();
    },
  };
}

function commitTree(dir: string, commit: string, prefix: string): Tree {
  return {
    label: rel => `${commit.slice(0, 12)}:${path.posix.join(prefix, rel)}`,
    async read(rel) {
      try {
        return await git(dir, ['show', `${commit}:${path.posix.join(prefix, rel)}`]);
      } catch {
        return undefined;
      }
    },
    async list(rel) {
      const out = await git(dir, ['ls-tree', '-r', '--name-only', commit, '--', path.posix.join(prefix, rel)]).catch(() => '');
      return out.split('\n').filter(Boolean).map(p => path.posix.relative(prefix, p)).sort();
    },
  };
}

/** Reads the workspace and, in a git repository, every DVC experiment. @throws DvcInputError for a bad file */
export async function readDvcProject(dir: string): Promise<DvcProject> {
  const root = path.resolve(dir);
  const tree = workTree(root);
  const hasDvc = ['dvc.yaml', 'params.yaml', 'dvclive/metrics.json'].some(f => fs.existsSync(path.join(root, f)));
  if (!hasDvc) {
    throw new DvcInputError(t('{0} has no dvc.yaml, params.yaml or dvclive/metrics.json: give the folder of a DVC project (or of a DVCLive run).', root));
  }
  const head = await git(root, ['rev-parse', '--verify', '-q', 'HEAD']).then(s => s.trim() || null, () => null);
  const runs: DvcRun[] = [];
  const workspace = await readRun(tree, 'workspace');
  const mtimes = workspace.files.map(f => fs.statSync(path.join(root, f)).mtimeMs);
  runs.push({ ...workspace, gitCommit: head, baseline: null, time: Math.round(Math.max(0, ...mtimes)) });
  if (head) {
    const prefix = (await git(root, ['rev-parse', '--show-prefix'])).trim().replace(/\/$/, '');
    // DVC keeps an experiment as a commit under refs/exps/<baseline sha split 2/38>/<name>.
    const refs = await git(root, ['for-each-ref', '--format=%(refname)%09%(objectname)%09%(committerdate:unix)', 'refs/exps/']).catch(() => '');
    for (const line of refs.split('\n').filter(Boolean)) {
      const [ref, commit, time] = line.split('\t');
      const m = /^refs\/exps\/([0-9a-f]{2})\/([0-9a-f]{38})\/(.+)$/.exec(ref);
      if (!m) continue; // refs/exps/celery/… and other bookkeeping refs are not experiments
      const run = await readRun(commitTree(root, commit, prefix), m[3]);
      runs.push({ ...run, gitCommit: commit, baseline: m[1] + m[2], time: Number(time) * 1000 });
    }
  }
  return { dir: root, runs };
}

type Yaml = Record<string, unknown>;

async function readRun(tree: Tree, name: string): Promise<Omit<DvcRun, 'gitCommit' | 'baseline' | 'time'>> {
  const files: string[] = [];
  const load = async (rel: string): Promise<unknown> => {
    const text = await tree.read(rel);
    if (text === undefined) return undefined;
    files.push(rel);
    return parseStructured(tree.label(rel), rel, text);
  };
  const dvcYaml = (await load('dvc.yaml')) as Yaml | undefined;
  if (dvcYaml !== undefined && !isMap(dvcYaml)) throw new DvcInputError(t('{0}:1: dvc.yaml is not a mapping (stages:, params:, metrics:, plots:).', tree.label('dvc.yaml')));

  // params: params.yaml first, then the files dvc.yaml names (DVCLive's own params.yaml last: what the run logged)
  const paramFiles = new Set<string>(['params.yaml']);
  const metricFiles = new Set<string>();
  const listOf = (v: unknown) => (Array.isArray(v) ? v : []);
  for (const entry of listOf(dvcYaml?.params)) if (typeof entry === 'string') paramFiles.add(entry);
  for (const entry of listOf(dvcYaml?.metrics)) if (typeof entry === 'string') metricFiles.add(entry);
  const stages = isMap(dvcYaml?.stages) ? (dvcYaml!.stages as Yaml) : {};
  const stageKeys = new Map<string, Set<string>>();
  for (const stage of Object.values(stages)) {
    if (!isMap(stage)) continue;
    for (const entry of listOf(stage.params)) {
      if (typeof entry === 'string') continue; // a key of params.yaml, which is read whole
      if (isMap(entry)) for (const [file, keys] of Object.entries(entry)) {
        paramFiles.add(file);
        const wanted = stageKeys.get(file) ?? new Set<string>();
        for (const k of listOf(keys)) if (typeof k === 'string') wanted.add(k);
        stageKeys.set(file, wanted);
      }
    }
    for (const entry of listOf(stage.metrics)) {
      if (typeof entry === 'string') metricFiles.add(entry);
      else if (isMap(entry)) for (const file of Object.keys(entry)) metricFiles.add(file);
    }
  }
  const live = [...metricFiles].map(f => /^(.*)\/metrics\.json$/.exec(f)?.[1]).find(d => d !== undefined) ?? 'dvclive';
  paramFiles.add(`${live}/params.yaml`);
  metricFiles.add(`${live}/metrics.json`);

  const params: Record<string, unknown> = {};
  for (const file of paramFiles) {
    const doc = await load(file);
    if (doc === undefined) continue;
    if (!isMap(doc)) throw new DvcInputError(t('{0}:1: a params file holds a mapping of names to values.', tree.label(file)));
    const keys = stageKeys.get(file);
    // a stage that names only some keys of a file uses only those (an empty list means the whole file)
    for (const [k, v] of Object.entries(doc)) if (!keys?.size || keys.has(k)) params[k] = v;
  }

  const points: DvcPoint[] = [];
  const summary = new Map<string, number>();
  let summaryStep = 0;
  for (const file of metricFiles) {
    const doc = await load(file);
    if (doc === undefined) continue;
    if (!isMap(doc)) throw new DvcInputError(t('{0}:1: a metrics file holds a mapping of names to numbers.', tree.label(file)));
    if (file === `${live}/metrics.json` && typeof doc.step === 'number') summaryStep = doc.step;
    flatten(doc, '', summary, file === `${live}/metrics.json`);
  }
  const histories = new Set<string>();
  for (const file of await tree.list(`${live}/plots/metrics`)) {
    if (!file.endsWith('.tsv')) continue;
    const key = file.slice(`${live}/plots/metrics/`.length, -'.tsv'.length);
    const text = await tree.read(file);
    if (text === undefined) continue;
    files.push(file);
    points.push(...parseTsv(tree.label(file), key, text));
    histories.add(key);
  }
  // a metric with no history file (a metrics file of a stage, or a summary value set by hand) is one point
  for (const [key, value] of summary) if (!histories.has(key)) points.push({ key, step: summaryStep, value, time: null });
  return { name, params, points, files };
}

const isMap = (v: unknown): v is Yaml => typeof v === 'object' && v !== null && !Array.isArray(v);

function flatten(doc: Yaml, prefix: string, out: Map<string, number>, isSummary: boolean): void {
  for (const [k, v] of Object.entries(doc)) {
    if (isSummary && !prefix && k === 'step') continue;
    const key = prefix ? `${prefix}/${k}` : k;
    if (typeof v === 'number') out.set(key, v);
    else if (typeof v === 'boolean') out.set(key, v ? 1 : 0);
    else if (isMap(v)) flatten(v, key, out, isSummary);
    // strings and lists (a confusion matrix, a note) are not metrics
  }
}

/** JSON or YAML by extension; a syntax error names the file, line and column. */
function parseStructured(label: string, rel: string, text: string): unknown {
  if (rel.endsWith('.json')) {
    try {
      return JSON.parse(text);
    } catch (e) {
      const at = /position (\d+)/.exec((e as Error).message);
      const offset = at ? Number(at[1]) : text.length;
      const before = text.slice(0, offset).split('\n');
      throw new DvcInputError(t('{0}:{1}:{2}: not valid JSON ({3}). Fix the file or run the stage again to rewrite it.', label, before.length, before[before.length - 1].length + 1, (e as Error).message));
    }
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter });
  const error = doc.errors[0];
  if (error) {
    const pos = error.linePos?.[0];
    throw new DvcInputError(t('{0}:{1}:{2}: not valid YAML ({3}). Fix the file or run the stage again to rewrite it.', label, pos?.line ?? 1, pos?.col ?? 1, error.message.split('\n')[0]));
  }
  return doc.toJS({ maxAliasCount: 100 }) as unknown;
}

/** A DVCLive history: a header naming `step` and the metric's column (and `timestamp` if logged), then rows. */
export function parseTsv(label: string, key: string, text: string): DvcPoint[] {
  const lines = text.split(/\r?\n/);
  const header = lines[0].split('\t');
  const column = path.posix.basename(key);
  const stepAt = header.indexOf('step');
  const valueAt = header.indexOf(column);
  const timeAt = header.indexOf('timestamp');
  if (stepAt < 0 || valueAt < 0) {
    throw new DvcInputError(t('{0}:1: a DVCLive history starts with a header naming the columns step and {1} (tab-separated); found {2}.', label, column, JSON.stringify(lines[0])));
  }
  const points: DvcPoint[] = [];
  for (let i = 1; i < lines.length; i++) {
    if (lines[i] === '') continue;
    const cells = lines[i].split('\t');
    const step = Number(cells[stepAt]);
    const time = timeAt >= 0 ? Number(cells[timeAt]) : null;
    const numeric = (s: string | undefined) => s !== undefined && /^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$|^\s*[-+]?(nan|inf|infinity)\s*$/i.test(s);
    if (cells.length !== header.length || !Number.isInteger(step) || !numeric(cells[valueAt]) || (time !== null && !Number.isFinite(time))) {
      throw new DvcInputError(t('{0}:{1}: expected {2} tab-separated cells ({3}) with a whole-number step and a numeric value; found {4}.', label, i + 1, header.length, header.join(', '), JSON.stringify(lines[i])));
    }
    points.push({ key, step, value: pyNumber(cells[valueAt]), time });
  }
  return points;
}

/** Python writes nan, inf and -inf for the non-finite floats. */
function pyNumber(s: string): number {
  const low = s.trim().toLowerCase().replace(/^\+/, '');
  if (low === 'nan' || low === '-nan') return NaN;
  if (low === 'inf' || low === 'infinity') return Infinity;
  if (low === '-inf' || low === '-infinity') return -Infinity;
  return Number(s);
}
