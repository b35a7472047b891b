// DVC interop: read a DVC project's params, metrics and DVCLive output, import them into EDD's store.
export { readDvcProject, parseTsv, DvcInputError } from './read';
export type { DvcProject, DvcRun, DvcPoint } from './read';
export { importDvc, dvcExternalIdOf, dvcExperimentOf } from './import';
export type { DvcImportResult } from './import';
