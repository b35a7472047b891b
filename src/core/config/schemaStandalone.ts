import standaloneCode from 'ajv/dist/standalone';
import dataSchema from '../../../schemas/data-schema.schema.json';
import experimentSchema from '../../../schemas/experiment.schema.json';
import promotionSchema from '../../../schemas/promotion.schema.json';
import serviceSchema from '../../../schemas/service.schema.json';
import { createSchemaAjv } from './schemaAjv';

/** Every schema a config kind is validated against (schemas/), by the name its validator gets in the generated code. */
export const SCHEMAS: Record<string, { $id: string }> = { experiment: experimentSchema, dataSchema, promotion: promotionSchema, service: serviceSchema };

/** How the module in place of schemaValidators.ts names the module of one schema's validator (see esbuild.mjs). */
export const VALIDATOR_MODULE_PREFIX = 'edd-schema-validator:';

/**
 * The CommonJS sources of the modules in place of schemaValidators.ts, made with the same Ajv setup as a validator
 * compiled at run time (createSchemaAjv). `index` stands for schemaValidators.ts: its `precompiledValidators` has a
 * getter per schema `$id` that requires that schema's module (`edd-schema-validator:<name>`, whose `validate` is the
 * validator) at its first use; its `compileValidator` throws (a schema outside schemas/ is a bug in a bundle). One
 * module per schema: the four validators together are ~500 KB of code, and `edd run` needs only the experiment's
 * (~80 KB, with what it references of the others inlined); the others are bundled but never evaluated. The modules'
 * `require`s name ajv's run-time helpers (`ajv/dist/runtime/…`), for the bundler to resolve.
 */
export function standaloneValidatorSources(): { index: string; validators: Record<string, string> } {
  const validators: Record<string, string> = {};
  for (const [name, schema] of Object.entries(SCHEMAS)) {
    const ajv = createSchemaAjv({ source: true });
    for (const s of Object.values(SCHEMAS)) ajv.addSchema(s);
    validators[name] = standaloneCode(ajv, { validate: schema.$id });
  }
  const getters = Object.entries(SCHEMAS).map(([name, schema]) =>
    `Object.defineProperty(validators, ${JSON.stringify(schema.$id)}, { enumerable: true, get: () => require(${JSON.stringify(VALIDATOR_MODULE_PREFIX + name)}).validate });`);
  const refuse = 'exports.compileValidator = schema => { throw new Error(`No validator was compiled into this bundle for the schema ${JSON.stringify(schema.$id)}: add it to SCHEMAS in src/core/config/schemaStandalone.ts.`); };';
  const index = ['const validators = {};', ...getters, 'exports.precompiledValidators = validators;', refuse, ''].join('\n');
  return { index, validators };
}
