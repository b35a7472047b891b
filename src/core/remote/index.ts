// Runs elsewhere than on this machine: a Ray cluster, through its Jobs REST API.
export * from './rayClient';
export * from './rayRun';
export * from './rayTrials';
export { shQuote, shJoin, rayEntrypoint } from './entrypoint';
export { workspaceFiles, workspacePackage, zipFiles } from './package';
