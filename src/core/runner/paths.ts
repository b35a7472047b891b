/**
 * Workspace containment for every path the runner touches (cwd, artifact dir, reported artifacts, dataset files).
 *
 * The check is lexical (after `path.resolve`): `..` segments and absolute paths that leave the workspace are
 * refused. Symbolic links inside the workspace are followed on purpose: `data -> /mnt/datasets` and
 * `outputs -> /scratch/run42` are ordinary ML set-ups, and the training process can read anything anyway.
 */
import * as path from 'path';

/** True when `absPath` is `root` itself or below it. Both must be absolute. */
export function isInside(root: string, absPath: string): boolean {
  const rel = path.relative(path.resolve(root), path.resolve(absPath));
  if (rel === '') return true;
  return rel !== '..' && !rel.startsWith('..' + path.sep) && !path.isAbsolute(rel);
}

/**
 * Resolve `p` (absolute, or relative to `base`, which defaults to `root`) and return the absolute path when it
 * stays inside `root`; `undefined` when it escapes.
 */
export function resolveInside(root: string, p: string, base: string = root): string | undefined {
  const abs = path.resolve(base, p);
  return isInside(root, abs) ? abs : undefined;
}

/** `abs` relative to `root` with `/` separators (`''` for the root itself), for records and messages. */
export function workspaceRelative(root: string, abs: string): string {
  return path.relative(path.resolve(root), abs).split(path.sep).join('/');
}
