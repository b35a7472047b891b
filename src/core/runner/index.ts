/** The runner: spawn a training command, parse the metrics protocol, capture the environment. */
export * from './protocol';
export * from './runner';
export * from './environment';
export { hashFile, hashPath, combineHashes, listFiles } from './hash';
export type { FileHash } from './hash';
export { confinePath, isInside, resolveInside, workspaceRelative } from './paths';
export type { ConfinedPath } from './paths';
