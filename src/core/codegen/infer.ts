/**
 * The workspace's own hyperparameters: the keys of `experiment.parameters` that EDD's schema does not name, with a
 * type inferred across every config that uses them.
 */
import { createHash } from 'crypto';
import { isMap, isScalar } from 'yaml';
import { experimentSchemaJson, type SchemaNode } from '../config/schema';
import { readYaml } from '../config/yamlAst';

/** A config to learn from: its path as the user sees it (workspace-relative, `/`-separated) and its text. */
export interface ConfigSource {
  file: string;
  text: string;
}

/** A scalar type of a hyperparameter value; `list` values have their own element types. */
export type ScalarKind = 'int' | 'float' | 'str' | 'bool';

/** The inferred type of one hyperparameter. */
export interface ParameterType {
  /** Scalar types its values take (`int` is dropped when `float` is present: 1 and 0.5 make a float). */
  scalars: ScalarKind[];
  /** Element types when some config gives it a list; undefined when none does. */
  listOf?: ScalarKind[];
}

export interface InferredParameter {
  name: string;
  type: ParameterType;
  /** Some config lacks it, or sets it to null. */
  optional: boolean;
  /** The configs that set it, in the order given. */
  files: string[];
}

export interface Inference {
  parameters: InferredParameter[];
  /** Configs read (those with an `experiment.parameters` mapping). */
  configs: string[];
  /** Configs skipped, with why (unreadable YAML, not an experiment config). */
  skipped: Array<{ file: string; reason: 'yaml' | 'not-experiment' }>;
}

/** Keys of `experiment.parameters` EDD's schema types itself (the client's `Parameters` has fields for them). */
export function schemaParameterNames(schema: SchemaNode = experimentSchemaJson): string[] {
  return Object.keys(schema.properties?.experiment?.properties?.parameters?.properties ?? {});
}

/** Which schema the generated code came from: its `$id` and the sha256 of its canonical JSON (first 12 hex digits). */
export function schemaFingerprint(schema: SchemaNode = experimentSchemaJson): { id: string; sha256: string } {
  const id = String((schema as { $id?: string }).$id ?? 'experiment.schema.json');
  return { id, sha256: createHash('sha256').update(JSON.stringify(schema)).digest('hex').slice(0, 12) };
}

function scalarKind(v: unknown): ScalarKind | undefined {
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'string') return 'str';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  return undefined;
}

const ORDER: ScalarKind[] = ['bool', 'int', 'float', 'str'];

function normalise(kinds: Set<ScalarKind>): ScalarKind[] {
  if (kinds.has('float')) kinds.delete('int');
  return ORDER.filter(k => kinds.has(k));
}

/** The hyperparameters of the configs beyond the schema's, each typed across all the configs. */
export function inferParameters(sources: readonly ConfigSource[]): Inference {
  const known = new Set(schemaParameterNames());
  const seen = new Map<string, { scalars: Set<ScalarKind>; list?: Set<ScalarKind>; nulls: boolean; files: string[] }>();
  const configs: string[] = [];
  const skipped: Inference['skipped'] = [];
  const present: Array<Set<string>> = [];
  for (const { file, text } of sources) {
    const { value, readable, syntaxOk } = readYaml(text);
    if (!readable || !syntaxOk) {
      skipped.push({ file, reason: 'yaml' });
      continue;
    }
    const params = (value as { experiment?: { parameters?: unknown } } | null)?.experiment?.parameters;
    if (!params || typeof params !== 'object' || Array.isArray(params)) {
      skipped.push({ file, reason: 'not-experiment' });
      continue;
    }
    configs.push(file);
    const names = new Set<string>();
    for (const [name, v] of Object.entries(params as Record<string, unknown>)) {
      if (known.has(name)) continue;
      names.add(name);
      const entry = seen.get(name) ?? { scalars: new Set(), nulls: false, files: [] };
      seen.set(name, entry);
      entry.files.push(file);
      if (v === null || v === undefined) entry.nulls = true;
      else if (Array.isArray(v)) {
        entry.list ??= new Set();
        for (const x of v) {
          const k = scalarKind(x);
          if (k) entry.list.add(k);
        }
      } else {
        const k = scalarKind(v);
        if (k) entry.scalars.add(k);
      }
    }
    present.push(names);
  }
  const parameters = [...seen.keys()].sort().map(name => {
    const e = seen.get(name)!;
    return {
      name,
      type: { scalars: normalise(e.scalars), listOf: e.list ? normalise(e.list) : undefined },
      optional: e.nulls || present.some(names => !names.has(name)),
      files: e.files,
    };
  });
  return { parameters, configs, skipped };
}

/** The keys of a config's `experiment.parameters` with where each key is (for a diagnostic on it). */
export function parameterKeys(text: string): Array<{ name: string; offset: number; length: number }> {
  const { doc, readable } = readYaml(text);
  if (!readable) return [];
  const params = doc.getIn(['experiment', 'parameters'], true);
  if (!isMap(params)) return [];
  const out: Array<{ name: string; offset: number; length: number }> = [];
  for (const item of params.items) {
    if (!isScalar(item.key) || !item.key.range) continue;
    out.push({ name: String(item.key.value), offset: item.key.range[0], length: item.key.range[1] - item.key.range[0] });
  }
  return out;
}
