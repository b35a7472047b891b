import { isMap, isScalar } from 'yaml';
import { t } from '../l10n';
import { LineIndex } from './lines';
import { ProblemCode, type Problem } from './problem';
import { ruleProblems, type RuleOptions } from './rules';
import { schemaProblems } from './schema';
import { lastPair, readYaml, type ReadOptions, type YamlRead } from './yamlAst';

export interface ValidateOptions extends RuleOptions, ReadOptions {
  /** Stop after this many problems (the rest are summarised in one last problem). Default 1000. */
  maxProblems?: number;
}

/** Where a config declares its experiment id (for the workspace-wide duplicate check). */
export interface ExperimentIdSite {
  id: string;
  offset: number;
  length: number;
}

export interface ValidationResult {
  problems: Problem[];
  experimentId?: ExperimentIdSite;
  /** The parsed value, when the YAML could be read (later steps reuse it instead of parsing again). */
  value?: unknown;
}

/** A YAML file declares itself an experiment config with `# edd: experiment` in its first five lines. */
export function hasExperimentMarker(text: string): boolean {
  return /^[ \t]*#[ \t]*edd:[ \t]*experiment\b/m.test(headLines(text, 5));
}

function headLines(text: string, n: number): string {
  let i = -1;
  for (let k = 0; k < n; k++) {
    i = text.indexOf('\n', i + 1);
    if (i === -1) return text;
  }
  return text.slice(0, i);
}

/**
 * Validate an experiment config: YAML syntax, duplicate keys, alias bombs, the schema, then the business rules.
 * Pure and synchronous; linear in the size of the text.
 */
export function validateExperiment(text: string, options: ValidateOptions = {}): ValidationResult {
  const max = options.maxProblems ?? 1000;
  const { doc, problems, value, readable, syntaxOk } = readYaml(text, options);

  if (readable && syntaxOk) {
    if (value === null || value === undefined) {
      problems.push({ offset: 0, length: Math.max(1, Math.min(text.length, 1)), severity: 'error', code: ProblemCode.notAMapping, message: t('The file is empty: an experiment config starts with `experiment:`.') });
    } else if (typeof value !== 'object' || Array.isArray(value)) {
      problems.push({ offset: 0, length: Math.max(1, text.indexOf('\n') === -1 ? text.length : text.indexOf('\n')), severity: 'error', code: ProblemCode.notAMapping, message: t('An experiment config is a mapping that starts with `experiment:`; this file holds {0}.', Array.isArray(value) ? t('a list') : t('a single value')) });
    } else {
      problems.push(...schemaProblems(doc, text, value));
      problems.push(...ruleProblems(doc, text, value, options));
    }
  }

  problems.sort((a, b) => a.offset - b.offset || a.code.localeCompare(b.code));
  if (problems.length > max) {
    const rest = problems.length - max;
    problems.length = max;
    problems.push({ offset: problems[max - 1].offset, length: 1, severity: 'info', code: ProblemCode.tooLarge, message: t('{0} more problems are not shown.', rest) });
  }
  return { problems, experimentId: readable ? experimentIdOf(doc) : undefined, value: readable ? value : undefined };
}

function experimentIdOf(doc: YamlRead['doc']): ExperimentIdSite | undefined {
  const root = doc.contents;
  if (!isMap(root)) return undefined;
  const exp = lastPair(root, 'experiment')?.value;
  if (!isMap(exp)) return undefined;
  const idNode = lastPair(exp, 'id')?.value;
  if (!isScalar(idNode) || typeof idNode.value !== 'string' || !idNode.range) return undefined;
  return { id: idNode.value, offset: idNode.range[0], length: Math.max(1, idNode.range[1] - idNode.range[0]) };
}

/** One config's id, with enough to point at it from another file. */
export interface IdEntry extends ExperimentIdSite {
  /** The file, as the caller wants it shown in messages (workspace-relative path). */
  file: string;
  /** 1-based line of the id, for "also used in file:line". */
  line: number;
}

/** Experiment ids declared in more than one file: one problem per site, naming the other files. */
export function duplicateIdProblems(entries: readonly IdEntry[]): Map<string, Problem[]> {
  const byId = new Map<string, IdEntry[]>();
  for (const e of entries) {
    const list = byId.get(e.id);
    if (list) list.push(e);
    else byId.set(e.id, [e]);
  }
  const out = new Map<string, Problem[]>();
  for (const [id, sites] of byId) {
    const files = new Set(sites.map(s => s.file));
    if (files.size < 2) continue;
    for (const s of sites) {
      const others = sites.filter(o => o.file !== s.file).map(o => `${o.file}:${o.line}`);
      const p: Problem = {
        offset: s.offset, length: s.length, severity: 'error', code: ProblemCode.duplicateExperimentId,
        message: t('Experiment id `{0}` is also used in {1}. Each experiment needs its own id.', id, others.join(', ')),
      };
      const list = out.get(s.file);
      if (list) list.push(p);
      else out.set(s.file, [p]);
    }
  }
  return out;
}

/** 1-based line/column form of a problem, as the CLI prints it. */
export interface PlacedProblem {
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  severity: Problem['severity'];
  code: string;
  message: string;
}

export function placeProblems(text: string, problems: readonly Problem[], index = new LineIndex(text)): PlacedProblem[] {
  return problems.map(p => {
    const s = index.position(p.offset);
    const e = index.position(p.offset + p.length);
    return { line: s.line + 1, column: s.character + 1, endLine: e.line + 1, endColumn: e.character + 1, severity: p.severity, code: p.code, message: p.message };
  });
}
