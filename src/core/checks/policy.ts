import * as fs from 'fs';
import { isMap, isSeq, type Node } from 'yaml';
import promotionSchema from '../../../schemas/promotion.schema.json';
import { t } from '../l10n';
import { ProblemCode, type Problem } from '../config/problem';
import { placeProblems } from '../config/validate';
import { schemaProblems, type SchemaNode } from '../config/schema';
import { readYaml } from '../config/yamlAst';

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

/** Validate a policy's text: YAML, duplicate keys, the promotion schema. Problems carry offsets like configs'. */
export function validatePolicy(text: string): { problems: Problem[]; policy?: Policy } {
  const { doc, problems, value, readable, syntaxOk } = readYaml(text);
  if (!readable || !syntaxOk) return { problems };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    problems.push({ offset: 0, length: Math.max(1, Math.min(text.length, 1)), severity: 'error', code: ProblemCode.notAMapping, message: t('A promotion policy is a mapping with `data:` and `checks:`.') });
    return { problems };
  }
  problems.push(...schemaProblems(doc, text, value, promotionSchemaJson));
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

/** Read and validate a policy file, or throw PolicyError with every problem placed at its line. */
export function loadPolicy(file: string, shown = file): { policy: Policy; text: string } {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new PolicyError(shown, [t('cannot read the file: {0}', (e as Error).message)]);
  }
  const { problems, policy } = validatePolicy(text);
  const errors = problems.filter(p => p.severity === 'error');
  if (errors.length || !policy) {
    throw new PolicyError(shown, placeProblems(text, errors).map(p => `${shown}:${p.line}:${p.column} ${p.code} ${p.message}`));
  }
  return { policy, text };
}
