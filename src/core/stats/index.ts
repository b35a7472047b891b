/**
 * Statistics for comparing runs and gating models: significance tests, intervals, classification metrics and
 * distribution-shift measures. Distribution functions come from @stdlib (t, χ², normal, binomial, beta); the tests
 * are written on top and checked against published scipy / statsmodels / scikit-learn values
 * (test/unit/stats.*.test.ts).
 *
 * Result fields are camelCase; each function's JSDoc names the reference function and the scipy / statsmodels
 * name of each field (e.g. `pValue` ↔ `pvalue`).
 */
export { welchTTest, studentTTest } from './ttest';
export type { TTestOptions, TTestResult } from './ttest';
export { mcnemarExact, mcnemarChiSquare, mcnemarFromPredictions } from './mcnemar';
export type { McNemarResult, McNemarTable } from './mcnemar';
export { wilsonInterval, clopperPearsonInterval, normalInterval, agrestiCoullInterval, jeffreysInterval, proportionInterval } from './proportion';
export type { ProportionInterval, ProportionMethod } from './proportion';
export { pairedBootstrap } from './bootstrap';
export type { PairedBootstrapOptions, PairedBootstrapResult } from './bootstrap';
export { mulberry32, randomIndex } from './prng';
export type { Random } from './prng';
export {
  accuracy, confusionMatrix, precisionRecallF1, precision, recall, f1, fBeta, matthewsCorrcoef, cohenKappa, precisionRecallCurve,
  averagePrecision, averagePrecisionOvr, rocAuc, rocAucOvr, rocAucOvrPerClass, uniqueLabels,
} from './classification';
export type { Label, Average, ConfusionMatrix, PrfOptions, PrfResult, LabelScores, OvrAuc, PrCurve } from './classification';
export { ks2Samp, kolmogorovCdf, kolmogorovSf, smirnovSf } from './ks';
export type { KsMode, KsResult } from './ks';
export { psi, wassersteinDistance, jensenShannonDistance, linfDistance } from './drift';
export type { PsiOptions, PsiBin, PsiResult } from './drift';
export { mean, variance, quantileSorted, checkAlternative } from './descriptive';
export type { Alternative } from './descriptive';
export { holm } from './holm';
export type { HolmResult } from './holm';
export { fUpperTail, oneWayAnova } from './anova';
export type { AnovaResult } from './anova';
