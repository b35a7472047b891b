export { inferParameters, parameterKeys, schemaFingerprint, schemaParameterNames } from './infer';
export type { ConfigSource, Inference, InferredParameter, ParameterType, ScalarKind } from './infer';
export { DEFAULT_OUTPUT, generateCode, generatePython, generateTypeScript, missingParameters, readGeneratedHeader } from './generate';
export type { CodegenLanguage, GeneratedHeader } from './generate';
