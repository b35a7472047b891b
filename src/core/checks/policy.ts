import * as fs from 'fs';
import * as path from 'path';
import { isMap, isSeq, type Node } from 'yaml';
import promotionSchema from '../../../schemas/promotion.schema.json';
import { t } from '../l10n';
import { parsePointInTime } from '../duration';
import { ProblemCode, type Problem } from '../config/problem';
import { placeProblems } from '../config/validate';
import { schemaProblems, type SchemaNode } from '../config/schema';
import { readYaml } from '../config/yamlAst';
import { outsideMessage, pathProblems, type PathEntry } from '../config/workspacePaths';

export const promotionSchemaJson = promotionSchema as SchemaNode;

/** The kinds of checks a policy may list, in the order the README documents them. */
export const CHECK_KINDS = ['metric', 'regression', 'output', 'perturbation', 'rule', 'bias', 'data_schema', 'drift', 'anomalies', 'latency', 'size'] as const;
export type CheckKind = (typeof CHECK_KINDS)[number];

/** Checks that compare the candidate's predictions with the label. */
const LABEL_CHECKS: ReadonlySet<CheckKind> = new Set(['metric', 'regression', 'bias']);
/** Checks that run or measure the candidate's model. */
const MODEL_CHECKS: ReadonlySet<CheckKind> = new Set(['output', 'perturbation', 'latency', 'size']);

/**
 * A validated policy. What it gates follows from `data` and `predictions` (see {@link gateInputs}):
 * - a model (or a predictions file given with it) on `data.eval`, with `data.label` its label column;
 * - a predictions file alone (`predictions:` and no `data.eval`): the file is the evaluation data, its `y_true` (or
 *   `data.label`) column the label, its other columns the sensitive attributes;
 * - the data alone (`data.eval`, no `data.label`, no `predictions`): only data checks, no model, no label.
 */
export interface Policy {
  model?: string;
  /** Promotion of `model` needs a gate report (registry). */
  require_gate?: boolean;
  data: { eval?: string; reference?: string; label?: string; features?: string[]; classes?: string[] };
  predictions?: string | null;
  /** The time range of a prediction log `predictions` names: a duration back from now or a date and time. */
  since?: string;
  until?: string;
  checks: Array<{ kind: CheckKind; spec: Record<string, unknown>; source: { offset: number; length: number } }>;
}

/** What a gate of `policy` reads: the evaluation data, its label column, and whether it takes a candidate at all. */
export function gateInputs(policy: Pick<Policy, 'data' | 'predictions'>, predictionsOverride?: string): {
  /** The evaluation data: `data.eval`, else the predictions file (undefined: neither, which validation refuses). */
  evalFile?: string;
  label?: string;
  /** `data`: only data checks, no candidate; `predictions`: the predictions file is all; `candidate`: a model or predictions. */
  candidate: 'data' | 'predictions' | 'candidate';
} {
  const predictions = predictionsOverride ?? (typeof policy.predictions === 'string' && policy.predictions.trim() !== '' ? policy.predictions : undefined);
  const { eval: evalFile, label } = policy.data;
  if (evalFile === undefined) return { evalFile: predictions, label: label ?? 'y_true', candidate: 'predictions' };
  if (label === undefined && predictions === undefined) return { evalFile, candidate: 'data' };
  return { evalFile, label, candidate: 'candidate' };
}

/**
 * What a policy cannot do with the inputs it names, each on the line that asks for it: a check that needs the label
 * without `data.label`, a model check in a data-only policy, a drift check without `data.reference`, a policy with
 * neither `data.eval` nor `predictions`.
 */
function inputProblems(root: unknown, items: readonly Node[], text: string, policy: Policy): Problem[] {
  const problems: Problem[] = [];
  const at = (node: Node | null | undefined, message: string): Problem => ({ ...placeOf(node, text), severity: 'error', code: ProblemCode.missingKey, message });
  const inputs = gateInputs(policy);
  if (inputs.evalFile === undefined) {
    problems.push(at(pairOf(root, 'data')?.key as Node | undefined, t('The policy names no data to check: set `data.eval` to the evaluation data (CSV or JSONL), or `predictions:` to a predictions file with y_true, y_pred and the sensitive columns.')));
    return problems;
  }
  policy.checks.forEach((c, i) => {
    const where = (pairOf(items[i], c.kind)?.key as Node | undefined) ?? items[i];
    if (inputs.candidate === 'data' && MODEL_CHECKS.has(c.kind)) {
      problems.push(at(where, t('`{0}` checks the candidate model, but this policy has no `data.label` and no `predictions`, so it checks the data only and runs without a model. Set `data.label` to gate a model, or remove this check.', c.kind)));
    } else if (inputs.label === undefined && LABEL_CHECKS.has(c.kind)) {
      problems.push(at(where, t('`{0}` compares the candidate\'s predictions with the label: set `data.label` to the label column of the evaluation data.', c.kind)));
    } else if (c.kind === 'drift' && policy.data.reference === undefined) {
      problems.push(at(where, t('`drift` compares the evaluation data with reference data: set `data.reference` (e.g. the training data).')));
    }
  });
  return problems;
}

/**
 * The prediction log's time range: each bound must read as a time (at its value), needs `predictions:` (at its key),
 * and that must be a log folder (with a workspace root to look in), and `since` must come before `until`.
 */
function rangeProblems(root: unknown, text: string, policy: Policy, workspace: string | undefined): Problem[] {
  const problems: Problem[] = [];
  const at = (node: unknown, message: string, code: ProblemCode = ProblemCode.invalidValue): Problem => ({ ...placeOf(node as Node | undefined, text), severity: 'error', code, message });
  const now = Date.now();
  const times: Record<string, number | undefined> = {};
  for (const key of ['since', 'until'] as const) {
    const value = policy[key];
    if (value === undefined) continue;
    const pair = pairOf(root, key);
    times[key] = parsePointInTime(value, now);
    if (times[key] === undefined) {
      problems.push(at(pair?.value, t('{0}: "{1}" is neither a duration back from now (24h, 7d) nor a time (2026-12-06T08:00Z).', key, value)));
    } else if (typeof policy.predictions !== 'string' || policy.predictions.trim() === '') {
      problems.push(at(pair?.key, t('`{0}` selects a time range of a prediction log: set `predictions:` to the log folder (e.g. .edd/serving/<model>), or remove `{0}`.', key), ProblemCode.missingKey));
    } else if (workspace !== undefined && isFile(path.resolve(workspace, policy.predictions))) {
      problems.push(at(pair?.key, t('`{0}` selects a time range of a prediction log, but `predictions:` ({1}) is a file, not a log folder. Remove `{0}`, or point `predictions:` at the log folder.', key, policy.predictions)));
    }
  }
  if (times.since !== undefined && times.until !== undefined && times.since >= times.until) {
    problems.push(at(pairOf(root, 'until')?.value, t('`until` ({0}) is not after `since` ({1}): the range holds no record.', policy.until!, policy.since!)));
  }
  return problems;
}

function isFile(file: string): boolean {
  try {
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** The key/value pair `key` of a YAML map node (undefined for anything else). */
function pairOf(map: unknown, key: string) {
  return isMap(map) ? map.items.find(p => String((p.key as { value?: unknown })?.value) === key) : undefined;
}

/** A node's offset and length without its trailing whitespace (the start of the document when there is no node). */
function placeOf(node: Node | null | undefined, text: string): { offset: number; length: number } {
  const r = node?.range;
  let length = r ? r[1] - r[0] : 1;
  if (r) while (length > 1 && /\s/.test(text[r[0] + length - 1])) length--;
  return { offset: r?.[0] ?? 0, length: Math.max(1, length) };
}

/** A YAML file is a promotion policy when it is named `*.policy.yaml` or says `# edd: policy` in its first lines. */
export function isPolicyFile(file: string, text?: string): boolean {
  if (/\.policy\.ya?ml$/i.test(file) || /(^|[\\/])policies[\\/][^\\/]+\.ya?ml$/i.test(file)) return true;
  return text !== undefined && /^[ \t]*#[ \t]*edd:[ \t]*policy\b/m.test(text.split('\n', 5).join('\n'));
}

/**
 * The files a policy names, with where they sit: `data.eval`, `data.reference`, `predictions` and each
 * `data_schema` check's `file`. They resolve against the workspace root.
 */
export function policyPaths(value: unknown): PathEntry[] {
  const out: PathEntry[] = [];
  if (typeof value !== 'object' || value === null) return out;
  const v = value as { data?: unknown; predictions?: unknown; checks?: unknown };
  const data = typeof v.data === 'object' && v.data !== null ? v.data as Record<string, unknown> : {};
  for (const k of ['eval', 'reference']) {
    if (typeof data[k] === 'string' && data[k] !== '') out.push({ segments: ['data', k], key: `data.${k}`, value: data[k] as string });
  }
  if (typeof v.predictions === 'string' && v.predictions !== '') out.push({ segments: ['predictions'], key: 'predictions', value: v.predictions });
  if (Array.isArray(v.checks)) {
    v.checks.forEach((c, i) => {
      const file = (c as { data_schema?: { file?: unknown } } | null)?.data_schema?.file;
      if (typeof file === 'string' && file !== '') out.push({ segments: ['checks', String(i), 'data_schema', 'file'], key: `checks[${i + 1}].data_schema.file`, value: file });
    });
  }
  return out;
}

/** Options of {@link validatePolicy}. */
export interface PolicyValidateOptions {
  /**
   * Workspace root: every path the policy names must resolve inside it (symbolic links included). Without it, only
   * relative paths that climb out with `..` are refused.
   */
  root?: string;
}

/** Validate a policy's text: YAML, duplicate keys, the promotion schema. Problems carry offsets like configs'. */
export function validatePolicy(text: string, options: PolicyValidateOptions = {}): { problems: Problem[]; policy?: Policy } {
  const { doc, problems, value, readable, syntaxOk } = readYaml(text);
  if (!readable || !syntaxOk) return { problems };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    problems.push({ offset: 0, length: Math.max(1, Math.min(text.length, 1)), severity: 'error', code: ProblemCode.notAMapping, message: t('A promotion policy is a mapping with `data:` and `checks:`.') });
    return { problems };
  }
  problems.push(...schemaProblems(doc, text, value, promotionSchemaJson));
  problems.push(...pathProblems(doc, options.root, policyPaths(value)));
  problems.sort((a, b) => a.offset - b.offset);
  if (problems.some(p => p.severity === 'error')) return { problems };
  const v = value as Omit<Policy, 'checks' | 'data'> & { data?: Policy['data']; checks: Array<Record<string, Record<string, unknown>>> };
  // Where each check is declared, so a failed check becomes a Problem on its own line.
  const root = doc.contents;
  const checksNode = pairOf(root, 'checks')?.value as Node | undefined;
  const items = isSeq(checksNode) ? checksNode.items as Node[] : [];
  const checks = v.checks.map((c, i) => {
    const kind = Object.keys(c)[0] as CheckKind;
    return { kind, spec: c[kind] ?? {}, source: placeOf(items[i], text) };
  });
  const policy: Policy = { model: v.model, require_gate: v.require_gate, data: v.data ?? {}, predictions: v.predictions, since: v.since, until: v.until, checks };
  const missing = [...rangeProblems(root, text, policy, options.root), ...inputProblems(root, items, text, policy)];
  if (missing.length) return { problems: [...problems, ...missing].sort((a, b) => a.offset - b.offset) };
  return { problems, policy };
}

/** A policy that cannot be used: each line is `file:line:col code message`, like `edd validate`. */
export class PolicyError extends Error {
  constructor(readonly file: string, readonly details: string[]) {
    super(t('{0} is not a valid promotion policy:\n{1}', file, details.map(d => `  ${d}`).join('\n')));
    this.name = 'PolicyError';
  }
}

/**
 * Refuse a policy that names a file outside the workspace `root` (symbolic links included), before any of its files
 * is opened: throws PolicyError naming the policy file and the key. For policies validated without a root (the
 * editor's gate reuses what it validated) and checks given in code.
 */
export function assertPolicyPaths(policy: Pick<Policy, 'data' | 'predictions'> & { checks: ReadonlyArray<{ kind: CheckKind; spec: Record<string, unknown> }> }, root: string, shown: string): void {
  const entries = policyPaths({ data: policy.data, predictions: policy.predictions, checks: policy.checks.map(c => ({ [c.kind]: c.spec })) });
  const refused = entries.map(e => outsideMessage(root, e.key, e.value)).filter((m): m is string => m !== undefined);
  if (refused.length) throw new PolicyError(shown, refused.map(m => `${ProblemCode.pathOutsideWorkspace} ${m}`));
}

/**
 * Read and validate a policy file, or throw PolicyError with every problem placed at its line. With `root`, the
 * files the policy names must be inside that workspace.
 */
export function loadPolicy(file: string, shown = file, root?: string): { policy: Policy; text: string } {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new PolicyError(shown, [t('cannot read the file: {0}', (e as Error).message)]);
  }
  const { problems, policy } = validatePolicy(text, { root });
  const errors = problems.filter(p => p.severity === 'error');
  if (errors.length || !policy) {
    throw new PolicyError(shown, placeProblems(text, errors).map(p => `${shown}:${p.line}:${p.column} ${p.code} ${p.message}`));
  }
  return { policy, text };
}
