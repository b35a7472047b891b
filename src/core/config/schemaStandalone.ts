import standaloneCode from 'ajv/dist/standalone';
import dataSchema from '../../../schemas/data-schema.schema.json';
import experimentSchema from '../../../schemas/experiment.schema.json';
import promotionSchema from '../../../schemas/promotion.schema.json';
import serviceSchema from '../../../schemas/service.schema.json';
import { createSchemaAjv } from './schema';

/** Every schema a config kind is validated against (schemas/), by the name its validator gets in the generated code. */
export const SCHEMAS: Record<string, { $id: string }> = { experiment: experimentSchema, dataSchema, promotion: promotionSchema, service: serviceSchema };

/**
 * The CommonJS source of a module like schemaValidators.ts whose `precompiledValidators` holds every schema's
 * validator as code, made with the same Ajv setup as a validator compiled at run time (createSchemaAjv). Its
 * `require`s name ajv's runtime helpers (`ajv/dist/runtime/…`), for the bundler to resolve.
 */
export function standaloneValidatorsSource(): string {
  const ajv = createSchemaAjv({ source: true });
  for (const schema of Object.values(SCHEMAS)) ajv.addSchema(schema);
  const refs = Object.fromEntries(Object.entries(SCHEMAS).map(([name, schema]) => [name, schema.$id]));
  const byId = Object.entries(SCHEMAS).map(([name, schema]) => `${JSON.stringify(schema.$id)}: exports.${name}`).join(', ');
  return `${standaloneCode(ajv, refs)}\nexports.precompiledValidators = { ${byId} };\n`;
}
