/**
 * A small seeded pseudo-random number generator (mulberry32, Tommy Ettinger's public-domain 32-bit generator) so
 * that resampling is reproducible: the same seed always yields the same sequence, on every platform.
 * Not for cryptography.
 */

/** A generator of uniform numbers in [0, 1). */
export type Random = () => number;

/**
 * mulberry32 seeded with `seed` (an integer; it is reduced modulo 2³²). Each call returns a multiple of 2⁻³² in
 * [0, 1).
 */
export function mulberry32(seed: number): Random {
  if (!Number.isInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
  let state = Number(BigInt.asUintN(32, BigInt(seed)));
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A uniform integer in [0, n) from `random` (⌊u·n⌋; the bias is below n/2³², negligible for sample sizes). */
export function randomIndex(random: Random, n: number): number {
  return Math.floor(random() * n);
}
