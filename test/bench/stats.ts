// Summary of repeated timings, shared by the benchmarks (they report medians of several runs).

export interface Stats {
  median: number;
  /** The 90th percentile (nearest rank). */
  p90: number;
  min: number;
  max: number;
}

export function stats(samples: readonly number[]): Stats {
  if (samples.length === 0) throw new Error('stats() of no samples');
  const s = [...samples].sort((a, b) => a - b);
  const median = s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  const p90 = s[Math.min(s.length - 1, Math.ceil(0.9 * s.length) - 1)];
  return { median, p90, min: s[0], max: s[s.length - 1] };
}
