/** Command, view, setting and context-key ids. A unit test checks them against package.json. */
export const Commands = {
  validateWorkspace: 'edd.validateWorkspace',
  showProblems: 'edd.showProblems',
  openConfig: 'edd.openConfig',
  runExperiment: 'edd.runExperiment',
  runSweep: 'edd.runSweep',
  cancelRun: 'edd.cancelRun',
  rerun: 'edd.rerun',
  reproduceRun: 'edd.reproduceRun',
  openLog: 'edd.openLog',
  openRunConfig: 'edd.openRunConfig',
  revealArtifact: 'edd.revealArtifact',
  deleteRun: 'edd.deleteRun',
  refreshExperiments: 'edd.refreshExperiments',
  showMoreRuns: 'edd.showMoreRuns',
  compareRuns: 'edd.compareRuns',
  checkPromotion: 'edd.checkPromotion',
  showGateReport: 'edd.showGateReport',
  registerModel: 'edd.registerModel',
  promoteVersion: 'edd.promoteVersion',
  setAlias: 'edd.setAlias',
  rollbackModel: 'edd.rollbackModel',
  compareWithProduction: 'edd.compareWithProduction',
  revealModelFile: 'edd.revealModelFile',
  showAuditLog: 'edd.showAuditLog',
  refreshModels: 'edd.refreshModels',
  checkVersion: 'edd.checkVersion',
  showVersionGateReport: 'edd.showVersionGateReport',
  installPythonHelper: 'edd.installPythonHelper',
  generateTypedConfig: 'edd.generateTypedConfig',
  createExampleProject: 'edd.createExampleProject',
  openMonitoring: 'edd.openMonitoring',
  createExperimentFromAlert: 'edd.createExperimentFromAlert',
  importMlflow: 'edd.importMlflow',
  syncMlflow: 'edd.syncMlflow',
  setMlflowCredentials: 'edd.setMlflowCredentials',
  startServing: 'edd.startServing',
  stopServing: 'edd.stopServing',
  startCanary: 'edd.startCanary',
  canaryStatus: 'edd.canaryStatus',
  stopCanary: 'edd.stopCanary',
  servingActions: 'edd.servingActions',
} as const;

export const Views = {
  container: 'edd',
  experiments: 'edd.experiments',
  configs: 'edd.configs',
  models: 'edd.models',
} as const;

export const Settings = {
  section: 'edd',
  glob: 'experiments.glob',
  debounceMs: 'validation.debounceMs',
  f1Tolerance: 'validation.f1Tolerance',
  storePath: 'store.path',
  keyMetric: 'runs.keyMetric',
  goals: 'compare.goals',
  registryUser: 'registry.user',
  pythonPath: 'python.path',
  trackingUri: 'tracking.uri',
  servePort: 'serve.port',
} as const;

export const ContextKeys = {
  hasConfigs: 'edd.hasConfigs',
  hasExperiments: 'edd.hasExperiments',
  hasModels: 'edd.hasModels',
} as const;

/** The task type of `tasks.json` entries that run an experiment config. */
export const TASK_TYPE = 'edd';

/** Diagnostics from EDD carry this `source`. */
export const DIAGNOSTIC_SOURCE = 'edd';

export const DEFAULT_GLOB = '**/experiments/**/*.{yaml,yml}';
