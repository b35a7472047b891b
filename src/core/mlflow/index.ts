// MLflow interop: read MLflow's file store and SQLite database, import them into EDD's store.
export * from './types';
export { readMlflowFileStore, readMetricFile } from './fileSource';
export { readMlflowSqlite, sqlitePathOf, TESTED_REVISIONS } from './sqliteSource';
export { importMlflow, externalIdOf, paramValue, versionSourceOf, localPathOf } from './importer';
export type { ImportOptions, ImportResult, Origin } from './importer';
export { readMlflowSource } from './source';
export { MlflowRest, MlflowApiError, MlflowUnreachableError, credentialsFromEnv, displayUrl } from './rest';
export type { Credentials, RestOptions } from './rest';
export { pushRuns, pullRuns, syncStatePath, flattenParams, LIMITS } from './sync';
export { LiveLogger } from './live';
export type { LiveOptions } from './live';
export type { SyncOptions, PushResult, PullResult } from './sync';
