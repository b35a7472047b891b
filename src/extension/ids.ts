/** Command, view, setting and context-key ids. A unit test checks them against package.json. */
export const Commands = {
  validateWorkspace: 'edd.validateWorkspace',
  showProblems: 'edd.showProblems',
  openConfig: 'edd.openConfig',
} as const;

export const Views = {
  container: 'edd',
  configs: 'edd.configs',
} as const;

export const Settings = {
  section: 'edd',
  glob: 'experiments.glob',
  debounceMs: 'validation.debounceMs',
  f1Tolerance: 'validation.f1Tolerance',
} as const;

export const ContextKeys = {
  hasConfigs: 'edd.hasConfigs',
} as const;

/** Diagnostics from EDD carry this `source`. */
export const DIAGNOSTIC_SOURCE = 'edd';

export const DEFAULT_GLOB = '**/experiments/**/*.{yaml,yml}';
