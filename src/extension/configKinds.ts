import { hasExperimentMarker, isDataSchemaFile } from '../core/config';
import { isPolicyFile } from '../core/checks/policy';
import { isServiceFile } from '../core/serve/spec';
import type { ConfigKind } from './validationWorkerClient';

// No `vscode` here: the workspace scan's benchmark and the unit tests call it in plain node.

/**
 * How each kind of EDD file is recognised from its path and its first lines, first match wins. A new kind is one line
 * here (and its validator in `validateAny`).
 */
const KINDS: ReadonlyArray<{ kind: ConfigKind; is: (path: string, head: string, inGlob: boolean) => boolean }> = [
  { kind: 'policy', is: (p, head) => isPolicyFile(p, head) },
  { kind: 'data-schema', is: (p, head) => isDataSchemaFile(p, head) },
  { kind: 'service', is: (p, head) => isServiceFile(p, head) },
  { kind: 'experiment', is: (_p, head, inGlob) => inGlob || hasExperimentMarker(head) },
];

/**
 * The kind of a YAML file, or undefined when it is none of EDD's (then it is never parsed). `head` is the start of the
 * text (the markers sit in the first lines); `inGlob` says the path matches the experiment glob (`edd.glob`).
 */
export function configKindOf(path: string, head: string, inGlob: boolean): ConfigKind | undefined {
  return KINDS.find(k => k.is(path, head, inGlob))?.kind;
}
