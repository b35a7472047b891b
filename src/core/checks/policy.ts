import * as fs from 'fs';
import { isMap, isSeq, type Node } from 'yaml';
import promotionSchema from '../../../schemas/promotion.schema.json';
import { t } from '../l10n';
import { ProblemCode, type Problem } from '../config/problem';
import { placeProblems } from '../config/validate';
import { schemaProblems, type SchemaNode } from '../config/schema';
import { readYaml } from '../config/yamlAst';
import { outsideMessage, pathProblems, type PathEntry } from '../config/workspacePaths';

export const promotionSchemaJson = promotionSchema as SchemaNode;

/** The kinds of checks a policy may list, in the order the README documents them. */
export const CHECK_KINDS = ['metric', 'regression', 'output', 'perturbation', 'rule', 'bias', 'data_schema', 'drift', 'anomalies', 'latency', 'size'] as const;
export type CheckKind = (typeof CHECK_KINDS)[number];

/** A validated policy. */
export interface Policy {
  model?: string;
  /** Promotion of `model` needs a gate report (registry). */
  require_gate?: boolean;
  data: { eval: string; reference?: string; label: string; features?: string[]; classes?: string[] };
  predictions?: string | null;
  checks: Array<{ kind: CheckKind; spec: Record<string, unknown>; source: { offset: number; length: number } }>;
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
  const v = value as Omit<Policy, 'checks'> & { checks: Array<Record<string, Record<string, unknown>>> };
  // Where each check is declared, so a failed check becomes a Problem on its own line.
  const root = doc.contents;
  const checksNode = isMap(root) ? (root.items.find(p => String((p.key as { value?: unknown })?.value) === 'checks')?.value as Node | undefined) : undefined;
  const items = isSeq(checksNode) ? checksNode.items as Node[] : [];
  const checks = v.checks.map((c, i) => {
    const kind = Object.keys(c)[0] as CheckKind;
    const r = items[i]?.range;
    let length = r ? r[1] - r[0] : 1;
    if (r) while (length > 1 && /\s/.test(text[r[0] + length - 1])) length--;
    return { kind, spec: c[kind] ?? {}, source: { offset: r?.[0] ?? 0, length } };
  });
  return { problems, policy: { model: v.model, require_gate: v.require_gate, data: v.data, predictions: v.predictions, checks } };
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
