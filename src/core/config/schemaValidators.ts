import type { ValidateFunction } from 'ajv';

/**
 * Validators of the schemas in schemas/, compiled ahead of time, by `$id`. Empty here, so code run from `out/`
 * compiles each schema at its first use; esbuild.mjs replaces this module in every bundle with ajv's standalone code
 * for all of them (made by schemaStandalone.ts), so no bundle compiles a schema when it starts.
 */
export const precompiledValidators: Record<string, ValidateFunction> = {};
