import type { Io } from './io';
import { loadCliMessages } from './locale';

/**
 * Starts the CLI in this process: the user's language, stdout and stderr as the commands' `Io`, and the exit once the
 * command is done. Shared by the two entries (src/cli/bin.ts, every command; src/cli/binRun.ts, `edd run`).
 */
export function start(cli: (argv: readonly string[], io: Io) => Promise<number>): void {
  loadCliMessages();
  // A reader that goes away (`edd runs | head`) is not an error of ours: the rest of the output is dropped and the
  // command finishes its work (an `edd run` still records the run and waits for its training), instead of dying of an
  // unhandled EPIPE with a stack trace.
  const closed = { stdout: false, stderr: false };
  for (const name of ['stdout', 'stderr'] as const) {
    process[name].on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EPIPE') throw e;
      closed[name] = true;
    });
  }
  const io: Io = {
    cwd: process.cwd(),
    out: l => { if (!closed.stdout) process.stdout.write(l + '\n'); },
    err: l => { if (!closed.stderr) process.stderr.write(l + '\n'); },
  };
  void cli(process.argv.slice(2), io).then(async code => {
    process.exitCode = code;
    // The command is done (every command awaits its own work: an `edd serve` returns only once stopped). Leaving now,
    // once what was written to stdout and stderr is flushed (pipes are asynchronous), spares the wait for Node's own
    // teardown: 5–15 ms of a short command's life.
    await Promise.all((['stdout', 'stderr'] as const).map(name => new Promise<void>(resolve => {
      if (closed[name] || !process[name].writable) resolve();
      else process[name].write('', () => resolve());
    })));
    process.exit(code);
  });
}
