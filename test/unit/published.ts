import * as assert from 'assert';

/**
 * Assert a value against one published by a reference library (scipy, statsmodels, scikit-learn, Fairlearn):
 * |actual − published| ≤ ½ unit of the last printed digit, floored at 1e-12 relative. An integer literal (no point,
 * no exponent) is an exact value.
 */
export function published(actual: number, text: string, what = ''): void {
  const value = Number(text);
  const m = /^-?\d*\.?(\d*)(?:e([+-]?\d+))?$/i.exec(text.trim());
  assert.ok(m, `bad published literal ${text}`);
  const decimals = m[1].length - Number(m[2] ?? 0);
  const exact = !/[.e]/i.test(text);
  const tol = exact ? 1e-12 * Math.abs(value) : Math.max(0.5 * 10 ** -decimals, 1e-12 * Math.abs(value));
  assert.ok(Math.abs(actual - value) <= tol, `${what} ${actual} ≠ published ${text} (±${tol})`);
}

/** numpy.linspace: i·step + start, the last point set to stop exactly (the inputs of scipy's tests). */
export function linspace(start: number, stop: number, num: number): number[] {
  const step = (stop - start) / (num - 1);
  const out = Array.from({ length: num }, (_, i) => i * step + start);
  out[num - 1] = stop;
  return out;
}

/** numpy.repeat of one value: `k` copies of `v`. */
export const rep = (v: number, k: number): number[] => new Array<number>(k).fill(v);
