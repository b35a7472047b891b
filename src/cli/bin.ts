import type { Io } from './io';
import { loadCliMessages } from './locale';
import { main } from './main';

// The entry of the CLI bundle (dist/cli/bin.mjs, started by dist/cli.js). It is an ES module so that esbuild can
// split the CLI into chunks: each command loads only its own code, and the modules the commands share (l10n's
// message bundle, the error classes `main` tests with instanceof) exist once.

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
main(process.argv.slice(2), io).then(code => {
  process.exitCode = code;
});
