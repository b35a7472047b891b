/**
 * Workspace containment.
 *
 * {@link isInside} and {@link resolveInside} are lexical (after `path.resolve`): `..` segments and absolute paths
 * that leave the workspace are refused, symbolic links are not looked at. The runner uses them for what the training
 * process reports at run time (artifacts, its artifact dir), where `outputs -> /scratch/run42` is an ordinary set-up
 * and the process could read anything anyway.
 *
 * {@link confinePath} is the check for every path a YAML file names (policies, experiment configs, and later
 * service specs): EDD itself opens those files and copies their contents into reports, so a committed
 * `data -> /etc` symlink must not be a way around the check. It follows symbolic links.
 */
import * as fs from 'fs';
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

/** Where a path a YAML file names really leads. */
export type ConfinedPath =
  /** `abs`: the path as resolved (for messages); `real`: with symbolic links followed (open this one). */
  | { inside: true; abs: string; real: string }
  /** `via`: where a symbolic link on the way really leads, when the path itself stays inside. */
  | { inside: false; abs: string; via?: string };

/**
 * `p` with symbolic links followed, as far as it exists; the part that does not exist yet is appended as written. A
 * dangling link counts by its target, so creating that target later cannot turn the answer around.
 */
function realpathAsFarAsExists(p: string, depth = 0): string {
  let head = p;
  const tail: string[] = [];
  for (;;) {
    try {
      return path.join(fs.realpathSync(head), ...tail.reverse());
    } catch {
      let target: string | undefined;
      try {
        if (depth < 40 && fs.lstatSync(head).isSymbolicLink()) target = fs.readlinkSync(head);
      } catch {
        // not there at all: look at its folder
      }
      if (target !== undefined) return path.join(realpathAsFarAsExists(path.resolve(path.dirname(head), target), depth + 1), ...tail.reverse());
      const parent = path.dirname(head);
      if (parent === head) return p;
      tail.push(path.basename(head));
      head = parent;
    }
  }
}

/**
 * Resolve `p` (absolute, or relative to `base`, which defaults to `root`) and say whether it stays inside `root`,
 * symbolic links included: the resolved path must be below the root, and so must the file it really is (the path
 * with every link followed, as far as it exists; a file that does not exist yet counts by its folder). The root may
 * itself be reached through a link (`/tmp` -> `/private/tmp`); an absolute path inside it either way is accepted.
 */
export function confinePath(root: string, p: string, base: string = root): ConfinedPath {
  const rootAbs = path.resolve(root);
  const rootReal = realpathAsFarAsExists(rootAbs);
  const abs = path.resolve(base, p);
  if (!isInside(rootAbs, abs) && !isInside(rootReal, abs)) return { inside: false, abs };
  const real = realpathAsFarAsExists(abs);
  if (!isInside(rootReal, real)) return { inside: false, abs, via: real };
  return { inside: true, abs, real };
}
