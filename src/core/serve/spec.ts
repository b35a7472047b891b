/**
 * Service specs (`*.service.yaml`, or `# edd: service` in the first five lines): what `edd serve` serves and how.
 *
 * ```yaml
 * model: penguins
 * stage: production                 # or alias: champion
 * input: data/penguins.data.yaml    # the existing data-schema format
 * features: [bill_length_mm, bill_depth_mm, flipper_length_mm, body_mass_g]
 * classes: [Adelie, Chinstrap, Gentoo]
 * ```
 *
 * The editor, `edd validate` and `edd serve` all read it through {@link validateService}, so they accept and refuse
 * the same files. {@link loadServiceSpec} also resolves every path (inside the workspace, symbolic links included),
 * reads the input data schema and fills in the defaults: the parsed {@link ServiceSpec} is what the server and
 * `edd monitor` code against.
 */
import * as fs from 'fs';
import * as path from 'path';
import { isMap, isSeq, type Document, type Node } from 'yaml';
import serviceSchema from '../../../schemas/service.schema.json';
import { parseDataSchema } from '../checks/dataSchema';
import { parseDuration } from '../duration';
import { t } from '../l10n';
import type { DataSchema } from '../config/dataSchema';
import { ProblemCode, type Problem } from '../config/problem';
import { schemaProblems, type SchemaNode } from '../config/schema';
import { placeProblems } from '../config/validate';
import { outsideMessage, pathProblems, type PathEntry } from '../config/workspacePaths';
import { locate, readYaml, span } from '../config/yamlAst';

export const serviceSchemaJson = serviceSchema as SchemaNode;

/** `# edd: service` in the first five lines. */
export function hasServiceMarker(text: string): boolean {
  return /^[ \t]*#[ \t]*edd:[ \t]*service\b/m.test(text.split('\n', 5).join('\n'));
}

/** A YAML file is a service spec when it is named `*.service.yaml` / `*.service.yml` or carries the marker comment. */
export function isServiceFile(file: string, text?: string): boolean {
  return /\.service\.ya?ml$/i.test(file) || (text !== undefined && hasServiceMarker(text));
}

/** One preprocessing step, in the order the spec lists them. Statistics left out are taken from the reference data. */
export type PreprocessStep =
  | { kind: 'impute'; columns: string[]; strategy: 'mean' | 'median' | 'constant'; value?: number | string }
  | { kind: 'standardize'; columns: string[]; mean?: Record<string, number>; std?: Record<string, number> }
  | { kind: 'one_hot'; column: string; categories?: Array<string | number | boolean> }
  | { kind: 'category_map'; column: string; map: Record<string, number>; default?: number }
  | { kind: 'clip'; columns: string[]; min?: number; max?: number };

export interface PostprocessSpec {
  positive_class?: string;
  threshold?: number;
  top_k?: number;
  /** `{ column: { value: threshold } }`: the threshold of `positive_class` for the rows of each group. */
  group_thresholds: Record<string, Record<string, number>>;
}

/** The output validation, as the gate's `output` check takes it (defaults filled in). */
export interface OutputRules {
  shape?: Array<number | null>;
  range?: [number, number];
  sum_to_one: boolean;
  tolerance: number;
  finite: boolean;
}

/** The `monitoring` section, with its defaults filled in and its paths absolute. Its YAML shape is fixed. */
export interface MonitoringSpec {
  /** As written, e.g. `1h`. */
  window: string;
  /** The same in milliseconds. */
  window_ms: number;
  /** Absolute path of the reference rows (CSV/JSONL), when given. */
  reference?: string;
  label?: string;
  sensitive: string[];
  positive_class?: string;
  alerts: {
    error_rate?: number;
    latency_p95_ms?: number;
    drift?: { psi?: number; ks_p_value?: number };
    prediction_psi?: number;
    accuracy_min?: number;
    bias?: { demographic_parity_difference?: number; equal_opportunity_difference?: number };
    /** `expr`: `mean(condition)`, `count(condition)` or a condition alone (= mean), in the rule language. */
    kpis: Array<{ name: string; expr: string; min?: number; max?: number }>;
  };
  /** `dir` is absolute; default `<root>/.edd/serving/<model>`. */
  log: { dir: string; segment_mb: number; retention_days: number };
  redact: { hash: string[]; drop: string[] };
  auto_correct: boolean;
}

/** Thresholds a canary must stay within against production, per interval (accuracy: over all feedback so far). */
export interface CanaryGuards {
  /** Largest canary error rate minus production's (errors: 5xx answers). */
  error_rate_delta: number;
  /** Largest canary p95 latency over production's… */
  latency_p95_ratio: number;
  /** …and only once the difference is at least this many milliseconds (sub-millisecond noise is no breach). */
  latency_p95_slack_ms: number;
  /** Largest PSI between the canary's and production's predicted classes (or predicted values). */
  prediction_psi: number;
  /** Roll back when a one-sided Welch test says the canary's accuracy is below production's with p below this. */
  accuracy_p_value: number;
  /** Labelled predictions each side needs before accuracy is tested. */
  min_feedback: number;
}

/** A canary or shadow deployment of another version, as the spec or `edd canary start` gives it. */
export interface CanarySpec {
  version: number;
  /** The first share of requests, percent. */
  percent: number;
  /** Added to the share after each interval whose guards passed; at 100 the canary is promoted. */
  step: number;
  /** As written, e.g. `60s`. */
  interval: string;
  interval_ms: number;
  /** `canary` answers the share from the candidate; `shadow` answers from production and sends the candidate a copy. */
  mode: 'canary' | 'shadow';
  /** Split by this column's value (one key stays on one side) instead of by request id. */
  sticky_key?: string;
  /** Requests each side needs in an interval before it is judged; a quieter interval is extended. */
  min_requests: number;
  guards: CanaryGuards;
}

export const CANARY_GUARD_DEFAULTS: CanaryGuards = {
  error_rate_delta: 0.02, latency_p95_ratio: 2, latency_p95_slack_ms: 10, prediction_psi: 0.25, accuracy_p_value: 0.05, min_feedback: 30,
};

/** A canary plan with the defaults filled in; `interval` must already be a valid duration. */
export function canaryPlan(raw: RawCanary): CanarySpec {
  const interval = raw.interval ?? '60s';
  return {
    version: raw.version,
    percent: raw.percent ?? 10,
    step: raw.step ?? 10,
    interval, interval_ms: parseDuration(interval) ?? 60_000,
    mode: raw.mode ?? 'canary',
    ...(raw.sticky_key !== undefined ? { sticky_key: raw.sticky_key } : {}),
    min_requests: raw.min_requests ?? 100,
    guards: { ...CANARY_GUARD_DEFAULTS, ...(raw.guards ?? {}) },
  };
}

/** The `canary` section as written. */
export interface RawCanary {
  version: number; percent?: number; step?: number; interval?: string; mode?: 'canary' | 'shadow'; sticky_key?: string; min_requests?: number;
  guards?: Partial<CanaryGuards>;
}

/** A valid service spec, ready to serve. */
export interface ServiceSpec {
  /** Absolute path of the spec file. */
  file: string;
  /** The workspace root its paths resolve against. */
  root: string;
  model: string;
  /** What is served: a stage (default `production`) or an alias. The server follows it. */
  target: { kind: 'stage'; stage: 'staging' | 'production' } | { kind: 'alias'; alias: string };
  /** Absolute path of the input data schema, and the schema itself. */
  input?: { file: string; schema: DataSchema };
  /** Absolute path of the reference rows for preprocessing statistics and warm-up (`reference`, else `monitoring.reference`). */
  reference?: string;
  features: string[];
  classes?: string[];
  preprocess: PreprocessStep[];
  postprocess: PostprocessSpec;
  output: OutputRules;
  server: { body_limit_bytes: number; timeout_ms: number; max_instances: number };
  monitoring: MonitoringSpec;
  /** A canary or shadow deployment started with the server (`edd canary start` starts one on a running server). */
  canary?: CanarySpec;
}

/** Raw YAML value, after the schema said it is well formed. */
interface RawService {
  model: string; stage?: 'staging' | 'production'; alias?: string; input?: string; reference?: string;
  features: string[]; classes?: string[];
  preprocess?: Array<Record<string, Record<string, unknown>>>;
  postprocess?: Partial<PostprocessSpec>;
  output?: Partial<OutputRules>;
  server?: { body_limit_kb?: number; timeout_ms?: number; max_instances?: number };
  monitoring?: {
    window?: string; reference?: string; label?: string; sensitive?: string[]; positive_class?: string;
    alerts?: Partial<MonitoringSpec['alerts']>;
    log?: { dir?: string; segment_mb?: number; retention_days?: number };
    redact?: { hash?: string[]; drop?: string[] };
    auto_correct?: boolean;
  };
  canary?: RawCanary;
}

/** `200ms`, `90s`, `5m`, `1h`, `1.5d` → milliseconds; undefined when it is not such a duration (src/core/duration.ts). */
export { parseDuration };

/** The files a spec names, with where they sit; each must resolve inside the workspace. */
export function servicePaths(value: unknown): PathEntry[] {
  const out: PathEntry[] = [];
  if (typeof value !== 'object' || value === null) return out;
  const v = value as RawService;
  for (const k of ['input', 'reference'] as const) if (typeof v[k] === 'string' && v[k] !== '') out.push({ segments: [k], key: k, value: v[k]! });
  const m = typeof v.monitoring === 'object' && v.monitoring !== null ? v.monitoring : undefined;
  if (typeof m?.reference === 'string' && m.reference !== '') out.push({ segments: ['monitoring', 'reference'], key: 'monitoring.reference', value: m.reference });
  if (typeof m?.log?.dir === 'string' && m.log.dir !== '') out.push({ segments: ['monitoring', 'log', 'dir'], key: 'monitoring.log.dir', value: m.log.dir });
  return out;
}

export interface ServiceValidateOptions {
  /** Workspace root: the paths the spec names must resolve inside it. */
  root?: string;
}

/** Validate a spec's text: YAML, duplicate keys, the service schema, the paths, then what the schema cannot say. */
export function validateService(text: string, options: ServiceValidateOptions = {}): { problems: Problem[]; value?: unknown } {
  const { doc, problems, value, readable, syntaxOk } = readYaml(text);
  if (!readable || !syntaxOk) return { problems };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    problems.push({ offset: 0, length: Math.max(1, Math.min(text.length, 1)), severity: 'error', code: ProblemCode.notAMapping, message: t('A service spec is a mapping with `model:` and `features:` (and usually `stage:`, `input:`, `classes:`).') });
    return { problems };
  }
  problems.push(...schemaProblems(doc, text, value, serviceSchemaJson));
  problems.push(...pathProblems(doc, options.root, servicePaths(value)));
  problems.push(...ruleProblems(doc, value as RawService));
  problems.sort((a, b) => a.offset - b.offset);
  return problems.some(p => p.severity === 'error') ? { problems } : { problems, value };
}

function at(doc: Document.Parsed, segments: readonly string[], message: string, code: ProblemCode = ProblemCode.invalidValue): Problem {
  const where = locate(doc, segments);
  const r = span(where?.key) ?? span(where?.value) ?? [0, 1];
  return { offset: r[0], length: r[1], severity: 'error', code, message };
}

/** What JSON Schema cannot say: stage and alias together, a window that is zero, clip bounds crossed, thresholds without classes. */
function ruleProblems(doc: Document.Parsed, v: RawService): Problem[] {
  const problems: Problem[] = [];
  if (v.stage !== undefined && v.alias !== undefined) {
    problems.push(at(doc, ['alias'], t('Give `stage` or `alias`, not both: the server follows one of them. Remove one.')));
  }
  const window = v.monitoring?.window;
  if (typeof window === 'string' && /^\d/.test(window) && parseDuration(window) === undefined) {
    problems.push(at(doc, ['monitoring', 'window'], t('`monitoring.window` must be longer than zero, e.g. `1h`.')));
  }
  const interval = v.canary?.interval;
  if (typeof interval === 'string' && /^\d/.test(interval) && parseDuration(interval) === undefined) {
    problems.push(at(doc, ['canary', 'interval'], t('`canary.interval` must be longer than zero, e.g. `60s`.')));
  }
  const steps = Array.isArray(v.preprocess) ? v.preprocess : [];
  steps.forEach((s, i) => {
    const clip = s?.clip as { min?: unknown; max?: unknown } | undefined;
    if (clip && typeof clip.min === 'number' && typeof clip.max === 'number' && clip.min > clip.max) {
      problems.push(at(doc, ['preprocess', String(i), 'clip', 'min'], t('`clip.min` ({0}) is above `clip.max` ({1}). Swap them.', clip.min, clip.max), ProblemCode.minAboveMax));
    }
    const imp = s?.impute as { strategy?: unknown; value?: unknown } | undefined;
    if (imp && imp.strategy === 'constant' && imp.value === undefined) {
      problems.push(at(doc, ['preprocess', String(i), 'impute', 'strategy'], t('`strategy: constant` needs `value:`, the value that fills the missing cells.'), ProblemCode.missingKey));
    }
  });
  const post = v.postprocess;
  if (post && (post.threshold !== undefined || post.group_thresholds !== undefined || post.top_k !== undefined) && !Array.isArray(v.classes)) {
    // Without `classes` the names may come from the model's metadata; only the positive class must then be named.
    if ((post.threshold !== undefined || post.group_thresholds !== undefined) && post.positive_class === undefined && v.monitoring?.positive_class === undefined) {
      problems.push(at(doc, ['postprocess'], t('A threshold applies to one class: set `postprocess.positive_class` (or `classes:`, whose second class is then the default).'), ProblemCode.missingKey));
    }
  }
  if (post && Array.isArray(v.classes) && typeof post.top_k === 'number' && post.top_k > v.classes.length) {
    problems.push(at(doc, ['postprocess', 'top_k'], t('`top_k` ({0}) is more than the number of classes ({1}).', post.top_k, v.classes.length), ProblemCode.outOfRange));
  }
  const positive = post?.positive_class ?? v.monitoring?.positive_class;
  if (Array.isArray(v.classes) && typeof positive === 'string' && !v.classes.includes(positive)) {
    const segs = post?.positive_class !== undefined ? ['postprocess', 'positive_class'] : ['monitoring', 'positive_class'];
    problems.push(at(doc, segs, t('`positive_class` {0} is not one of `classes` ({1}).', positive, v.classes.join(', '))));
  }
  if (Array.isArray(v.features)) {
    const seen = new Set<string>();
    const root = doc.contents;
    const featuresNode = isMap(root) ? root.items.find(p => String((p.key as { value?: unknown })?.value) === 'features')?.value : undefined;
    const items = isSeq(featuresNode) ? featuresNode.items as Node[] : [];
    v.features.forEach((f, i) => {
      if (seen.has(f)) {
        const r = span(items[i]) ?? [0, 1];
        problems.push({ offset: r[0], length: r[1], severity: 'error', code: ProblemCode.invalidValue, message: t('Feature `{0}` is listed twice.', f) });
      }
      seen.add(f);
    });
  }
  return problems;
}

/** A spec that cannot be served: each line is `file:line:col code message`, like `edd validate`. */
export class ServiceSpecError extends Error {
  constructor(readonly file: string, readonly details: string[]) {
    super(t('{0} is not a valid service spec:\n{1}', file, details.map(d => `  ${d}`).join('\n')));
    this.name = 'ServiceSpecError';
  }
}

/**
 * Read, validate and resolve a service spec. Relative paths resolve against `root` (the workspace); each must stay
 * inside it. The input data schema is read and validated too. Throws {@link ServiceSpecError}.
 */
export function loadServiceSpec(file: string, root: string): ServiceSpec {
  const abs = path.resolve(root, file);
  const shown = path.relative(root, abs) || abs;
  let text: string;
  try {
    text = fs.readFileSync(abs, 'utf8');
  } catch (e) {
    throw new ServiceSpecError(shown, [t('cannot read the file: {0}', (e as Error).message)]);
  }
  const { problems, value } = validateService(text, { root });
  const errors = problems.filter(p => p.severity === 'error');
  if (errors.length || value === undefined) {
    throw new ServiceSpecError(shown, placeProblems(text, errors).map(p => `${shown}:${p.line}:${p.column} ${p.code} ${p.message}`));
  }
  const v = value as RawService;
  const resolve = (key: string, p: string): string => {
    const refused = outsideMessage(root, key, p);
    if (refused) throw new ServiceSpecError(shown, [`${ProblemCode.pathOutsideWorkspace} ${refused}`]);
    return path.resolve(root, p);
  };
  let input: ServiceSpec['input'];
  if (v.input !== undefined) {
    const inputFile = resolve('input', v.input);
    let schemaText: string;
    try {
      schemaText = fs.readFileSync(inputFile, 'utf8');
    } catch (e) {
      throw new ServiceSpecError(shown, [t('`input` {0} cannot be read: {1}', v.input, (e as Error).message)]);
    }
    try {
      input = { file: inputFile, schema: parseDataSchema(schemaText, path.relative(root, inputFile)) };
    } catch (e) {
      throw new ServiceSpecError(shown, [(e as Error).message]);
    }
  }
  const m = v.monitoring ?? {};
  const monitoringReference = m.reference !== undefined ? resolve('monitoring.reference', m.reference) : undefined;
  const preprocess: PreprocessStep[] = (v.preprocess ?? []).map(s => {
    const kind = Object.keys(s)[0] as PreprocessStep['kind'];
    const body = s[kind];
    return (kind === 'impute' ? { kind, strategy: 'median', ...body } : { kind, ...body }) as PreprocessStep;
  });
  const post = v.postprocess ?? {};
  const positive = post.positive_class ?? m.positive_class ?? (v.classes && v.classes.length >= 2 && (post.threshold !== undefined || post.group_thresholds !== undefined) ? v.classes[1] : undefined);
  const out = v.output ?? {};
  const srv = v.server ?? {};
  const window = m.window ?? '1h';
  return {
    file: abs, root, model: v.model,
    target: v.alias !== undefined ? { kind: 'alias', alias: v.alias } : { kind: 'stage', stage: v.stage ?? 'production' },
    ...(input ? { input } : {}),
    ...(v.reference !== undefined ? { reference: resolve('reference', v.reference) } : monitoringReference ? { reference: monitoringReference } : {}),
    features: [...v.features],
    ...(v.classes ? { classes: [...v.classes] } : {}),
    preprocess,
    postprocess: {
      ...(positive !== undefined ? { positive_class: positive } : {}),
      ...(post.threshold !== undefined ? { threshold: post.threshold } : {}),
      ...(post.top_k !== undefined ? { top_k: post.top_k } : {}),
      group_thresholds: post.group_thresholds ?? {},
    },
    output: {
      ...(out.shape ? { shape: out.shape } : {}),
      ...(out.range ? { range: out.range as [number, number] } : {}),
      sum_to_one: out.sum_to_one ?? false,
      tolerance: out.tolerance ?? 1e-4,
      finite: out.finite ?? true,
    },
    server: {
      body_limit_bytes: (srv.body_limit_kb ?? 1024) * 1024,
      timeout_ms: srv.timeout_ms ?? 10_000,
      max_instances: srv.max_instances ?? 1024,
    },
    monitoring: {
      window, window_ms: parseDuration(window) ?? 3_600_000,
      ...(monitoringReference ? { reference: monitoringReference } : {}),
      ...(m.label !== undefined ? { label: m.label } : {}),
      sensitive: m.sensitive ?? [],
      ...(m.positive_class !== undefined ? { positive_class: m.positive_class } : {}),
      alerts: { ...(m.alerts ?? {}), kpis: m.alerts?.kpis ?? [] },
      log: {
        dir: m.log?.dir !== undefined ? resolve('monitoring.log.dir', m.log.dir) : path.join(root, '.edd', 'serving', v.model),
        segment_mb: m.log?.segment_mb ?? 64,
        retention_days: m.log?.retention_days ?? 30,
      },
      redact: { hash: m.redact?.hash ?? [], drop: m.redact?.drop ?? [] },
      auto_correct: m.auto_correct ?? false,
    },
    ...(v.canary ? { canary: canaryPlan(v.canary) } : {}),
  };
}
