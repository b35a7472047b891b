/** Severity of a problem, as the CLI prints it and as the extension maps it to a `DiagnosticSeverity`. */
export type Severity = 'error' | 'warning' | 'info';

/** Stable problem codes. They are part of the CLI's JSON output and of the diagnostics: never rename one. */
export const ProblemCode = {
  yamlSyntax: 'yaml-syntax',
  duplicateKey: 'duplicate-key',
  aliasLimit: 'alias-limit',
  tooLarge: 'file-too-large',
  tooDeep: 'nesting-too-deep',
  internalError: 'internal-error',
  notAMapping: 'not-a-mapping',
  unknownKey: 'unknown-key',
  missingKey: 'missing-key',
  wrongType: 'wrong-type',
  invalidValue: 'invalid-value',
  outOfRange: 'out-of-range',
  f1Inconsistent: 'f1-inconsistent',
  metricOutOfRange: 'metric-out-of-range',
  learningRateNotPositive: 'learning-rate-not-positive',
  learningRateLarge: 'learning-rate-large',
  notPositive: 'not-positive',
  batchExceedsTrain: 'batch-exceeds-train',
  versionUnparseable: 'version-unparseable',
  likelyTypo: 'likely-typo',
  cwdOutsideWorkspace: 'cwd-outside-workspace',
  pathOutsideWorkspace: 'path-outside-workspace',
  duplicateExperimentId: 'duplicate-experiment-id',
  minAboveMax: 'min-above-max',
  boundsNotNumeric: 'bounds-not-numeric',
  sweepGridDistribution: 'sweep-grid-distribution',
  sweepRunCapMissing: 'sweep-run-cap-missing',
  sweepUnknownOverride: 'sweep-unknown-override',
  sweepGridLarge: 'sweep-grid-large',
} as const;
export type ProblemCode = (typeof ProblemCode)[keyof typeof ProblemCode];

/** Replace `length` characters at `offset` with `newText` (offsets in UTF-16 code units, like VS Code's). */
export interface TextEdit {
  offset: number;
  length: number;
  newText: string;
}

/** A quick fix: a title the user picks and the edits it applies to the same document. */
export interface Fix {
  title: string;
  edits: TextEdit[];
  /** The one obvious repair; the editor may apply it with "Auto Fix". */
  preferred?: boolean;
}

/** One problem in a document. Ranges are offsets; only the editor and the CLI turn them into lines and columns. */
export interface Problem {
  offset: number;
  length: number;
  severity: Severity;
  code: ProblemCode;
  message: string;
  fixes?: Fix[];
}
