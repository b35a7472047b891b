/**
 * Shared shape of the messages between a panel's host (src/extension) and its webview (webview/).
 * Each panel gets its own protocol module beside this one, with a discriminated union per direction; both sides
 * import it, and every message is checked with a guard when it arrives (never cast).
 */

/** Every message has a string `type` that discriminates the union. */
export interface Message {
  type: string;
}

/** The webview sends `{ type: 'ready' }` once its script runs; the host posts data only after that. */
export const READY = 'ready' as const;
export interface ReadyMessage {
  type: typeof READY;
}

/** Is `value` an object with a string `type` — the minimum before a panel's own guard looks further. */
export function isMessage(value: unknown): value is Message {
  return typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string';
}

/** Guard for `ready`. */
export function isReady(value: unknown): value is ReadyMessage {
  return isMessage(value) && value.type === READY;
}
