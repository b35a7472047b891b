/**
 * Paths that YAML files name (a policy's data files, a config's data files and working folder): each must stay
 * inside the workspace, symbolic links included, or it is a problem at the value itself.
 */
import * as path from 'path';
import type { Document } from 'yaml';
import { t } from '../l10n';
import { confinePath } from '../runner/paths';
import { ProblemCode, type Problem } from './problem';
import { locate, span } from './yamlAst';

/** One path value of a document: where it sits (keys and list indices) and how messages name it (`data.eval`). */
export interface PathEntry {
  segments: readonly string[];
  key: string;
  value: string;
}

/**
 * Why `value` (named by `key`) may not be used, or undefined when it resolves inside `root`. Without a root (a
 * document not in a workspace folder) only what is certain without one is refused: a relative path that climbs
 * above its start with `..`.
 */
export function outsideMessage(root: string | undefined, key: string, value: string): string | undefined {
  if (root === undefined) {
    const p = value.replace(/\\/g, '/');
    if (path.posix.isAbsolute(p) || /^[A-Za-z]:/.test(p)) return undefined;
    const n = path.posix.normalize(p);
    return n === '..' || n.startsWith('../')
      ? t('`{0}` "{1}" is outside the workspace. EDD only reads files inside the workspace: give a path relative to its root, or an absolute path inside it.', key, value)
      : undefined;
  }
  const c = confinePath(root, value);
  if (c.inside) return undefined;
  return c.via
    ? t('`{0}` "{1}" leads outside the workspace through a symbolic link (to {2}). EDD only reads files inside the workspace ({3}): copy the file into it, or give a path inside it.', key, value, c.via, root)
    : t('`{0}` "{1}" is outside the workspace ({2}). EDD only reads files inside the workspace: give a path relative to its root, or an absolute path inside it.', key, value, root);
}

/** A problem (code `code`, at the value's range) for each entry that leaves the workspace `root`. */
export function pathProblems(doc: Document.Parsed, root: string | undefined, entries: readonly PathEntry[], code: ProblemCode = ProblemCode.pathOutsideWorkspace): Problem[] {
  const problems: Problem[] = [];
  for (const e of entries) {
    const message = outsideMessage(root, e.key, e.value);
    if (!message) continue;
    const where = locate(doc, e.segments);
    const r = span(where?.value) ?? span(where?.key);
    problems.push({ offset: r?.[0] ?? 0, length: r?.[1] ?? 1, severity: 'error', code, message });
  }
  return problems;
}
