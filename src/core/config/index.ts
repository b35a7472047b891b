export * from './problem';
export * from './lines';
export { validateExperiment, hasExperimentMarker, duplicateIdProblems, placeProblems } from './validate';
export type { ValidateOptions, ValidationResult, ExperimentIdSite, IdEntry, PlacedProblem } from './validate';
export { schemaAt, experimentSchemaJson, splitArgs, dottedPath } from './schema';
export type { SchemaNode } from './schema';
export { versionPattern } from './rules';
export { completeAt, hoverAt } from './assist';
export type { CompletionEntry, HoverInfo } from './assist';
