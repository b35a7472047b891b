import type Ajv from 'ajv';
import type { ValidateFunction } from 'ajv';
import { createSchemaAjv } from './schemaAjv';

/**
 * The validators of the config schemas. Run from `out/` (tests), each schema is compiled at its first use. Every
 * bundle has this module replaced (esbuild.mjs) by ajv's standalone code for all of schemas/ (schemaStandalone.ts),
 * with a `compileValidator` that refuses: no bundle compiles a schema when it starts, nor carries ajv's compiler.
 */

/** Validators compiled ahead of time, by schema `$id` (none here). */
export const precompiledValidators: Record<string, ValidateFunction> = {};

let ajv: Ajv | undefined;

/** A validator for a schema that has none compiled ahead of time. */
export function compileValidator(schema: object): ValidateFunction {
  ajv ??= createSchemaAjv();
  return ajv.compile(schema);
}
