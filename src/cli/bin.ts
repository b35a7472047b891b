import type { Io } from './io';
import { loadCliMessages } from './locale';
import { main } from './main';

// The entry of the CLI bundle (dist/cli/bin.mjs, started by dist/cli.js). It is an ES module so that esbuild can
// split the CLI into chunks: each command loads only its own code, and the modules the commands share (l10n's
// message bundle, the error classes `main` tests with instanceof) exist once.

loadCliMessages();
const io: Io = { cwd: process.cwd(), out: l => process.stdout.write(l + '\n'), err: l => process.stderr.write(l + '\n') };
main(process.argv.slice(2), io).then(code => {
  process.exitCode = code;
});
