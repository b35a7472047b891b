/**
 * Durations and points in time as users write them in specs, policies and flags: `200ms`, `90s`, `15m`, `1h`, `1.5d`,
 * `1w`; a point in time is a duration back from now (`24h`) or a date and time (`2026-12-06T08:00Z`). Callers put
 * their own messages around an undefined (the key or flag is theirs).
 */

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** A duration longer than zero → milliseconds; undefined when `text` is not one. */
export function parseDuration(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)\s*$/.exec(text);
  if (!m) return undefined;
  const ms = Number(m[1]) * UNIT_MS[m[2]];
  return ms > 0 ? ms : undefined;
}

/** True when `text` has a duration's shape (a number and a unit), zero included: it is then never read as a date. */
export function looksLikeDuration(text: string): boolean {
  return /^\s*\d+(\.\d+)?\s*(ms|s|m|h|d|w)\s*$/.test(text);
}

/** A duration back from `now` or a date and time → epoch ms; undefined when it is neither. */
export function parsePointInTime(text: string, now = Date.now()): number | undefined {
  if (looksLikeDuration(text)) {
    const ms = parseDuration(text);
    return ms === undefined ? undefined : now - ms;
  }
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : at;
}
