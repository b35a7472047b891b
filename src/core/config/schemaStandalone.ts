import standaloneCode from 'ajv/dist/standalone';
import dataSchema from '../../../schemas/data-schema.schema.json';
import experimentSchema from '../../../schemas/experiment.schema.json';
import promotionSchema from '../../../schemas/promotion.schema.json';
import serviceSchema from '../../../schemas/service.schema.json';
import { createSchemaAjv } from './schemaAjv';

/** Every schema a config kind is validated against (schemas/), by the name its validator gets in the generated code. */
export const SCHEMAS: Record<string, { $id: string }> = { experiment: experimentSchema, dataSchema, promotion: promotionSchema, service: serviceSchema };

/**
 * The CommonJS source of a module in place of schemaValidators.ts: its `precompiledValidators` holds every schema's
 * validator as code, made with the same Ajv setup as a validator compiled at run time (createSchemaAjv); its
 * `compileValidator` throws (a schema outside schemas/ is a bug in a bundle). Its `require`s name ajv's run-time
 * helpers (`ajv/dist/runtime/…`), for the bundler to resolve.
 */
export function standaloneValidatorsSource(): string {
  const ajv = createSchemaAjv({ source: true });
  for (const schema of Object.values(SCHEMAS)) ajv.addSchema(schema);
  const refs = Object.fromEntries(Object.entries(SCHEMAS).map(([name, schema]) => [name, schema.$id]));
  const byId = Object.entries(SCHEMAS).map(([name, schema]) => `${JSON.stringify(schema.$id)}: exports.${name}`).join(', ');
  const refuse = 'exports.compileValidator = schema => { throw new Error(`No validator was compiled into this bundle for the schema ${JSON.stringify(schema.$id)}: add it to SCHEMAS in src/core/config/schemaStandalone.ts.`); };';
  return `${standaloneCode(ajv, refs)}\nexports.precompiledValidators = { ${byId} };\n${refuse}\n`;
}
