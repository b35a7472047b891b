/** What a CLI command may touch: its working directory and two output streams (so tests can capture them). */
export interface Io {
  cwd: string;
  out(line: string): void;
  err(line: string): void;
}

/** A mistake in how the command was called: exit code 2, with the message and a pointer to `edd --help`. */
export class UsageError extends Error {}
