import Ajv from 'ajv';

/**
 * The one Ajv setup of the config schemas, for the validators compiled at first use (schemaValidators.ts, when run
 * from `out/`) and for the ones compiled ahead of time into the bundles (schemaStandalone.ts): both must report the
 * same errors.
 */
export function createSchemaAjv(options: { source?: boolean } = {}): Ajv {
  // Strict mode catches mistakes in our own schemas; the editor-only keywords are declared as annotations. The
  // check against JSON Schema's meta-schema is left to a unit test (cli.coldstart.test.ts): compiling the
  // meta-schema was most of the schema's cost on every `edd run` and `edd validate`.
  return new Ajv({ allErrors: true, strict: true, strictTypes: false, allowUnionTypes: true, verbose: true, validateSchema: false, code: { source: options.source === true } })
    .addKeyword({ keyword: 'markdownDescription', schemaType: 'string' })
    .addKeyword({ keyword: 'errorMessage', schemaType: 'string' })
    .addKeyword({ keyword: 'defaultSnippets', schemaType: 'array' });
}
