import { inert } from '../core/inert';

/** What a CLI command may touch: its working directory and two output streams (so tests can capture them). */
export interface Io {
  cwd: string;
  out(line: string): void;
  err(line: string): void;
}

/** A mistake in how the command was called: exit code 2, with the message and a pointer to `edd --help`. */
export class UsageError extends Error {}

/**
 * A core error (bad reference, unreadable input, invalid policy or config) as a usage error. Its message quotes the
 * user's values, so it is made inert and stays one line; an error that lists problems (PolicyError,
 * ConfigNotRunnableError: `details`, one per line under a heading) keeps one line per problem.
 */
export function usageErrorFrom(e: Error): UsageError {
  const details = (e as { details?: unknown }).details;
  if (Array.isArray(details) && details.length && details.every(d => typeof d === 'string')) {
    const tail = details.map(d => `  ${d}`).join('\n');
    if (e.message.endsWith(`\n${tail}`)) {
      const heading = e.message.slice(0, -tail.length - 1);
      return new UsageError([inert(heading), ...details.map(d => `  ${inert(d)}`)].join('\n'));
    }
  }
  return new UsageError(inert(e.message));
}
