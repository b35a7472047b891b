import { main } from './main';
import { start } from './start';

// The entry of the CLI's ES module build (dist/cli/bin.mjs, started by dist/cli.js for every command but `run`). It is
// an ES module so that esbuild can split the CLI into chunks: each command loads only its own code, and the modules
// the commands share (l10n's message bundle, the error classes `runCli` tests with instanceof) exist once.

start(main);
