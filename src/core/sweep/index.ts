/** Sweeps: one config's `sweep:` block expanded into trials, each run as a normal run tagged with the sweep. */
export { TrialStop } from './executor';
export type { Trial, TrialContext, TrialExecutor, TrialOutcome } from './executor';
export { DISTRIBUTIONS, SweepSpecError, distributionOf, expandTrials, gridSize, hasSweep, readSweepSpec, sample, trialCount, trialJson } from './spec';
export type { Distribution, SweepParameter, SweepSpec } from './spec';
export { hasPath, sweepIdOf, trialConfigText } from './trialConfig';
export { LocalExecutor } from './local';
export { MedianStopper, SWEEP_TAGS, SweepError, isTrialDone, loadSweep, runSweep, sweepProgress, sweepRuns, trialDigest } from './scheduler';
export type { SweepEvent, SweepOptions, SweepProgress, SweepResult } from './scheduler';
