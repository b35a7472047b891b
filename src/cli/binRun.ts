import { runCli } from './dispatch';
import { runCommand } from './run';
import { start } from './start';

// The entry of `edd run`'s own bundle (dist/cli/run.cjs, one CommonJS file that knows only `run`), which dist/cli.js
// loads with a V8 code cache (src/cli/codeCache.ts): `edd run` is the command that is started again and again, and
// compiling its ~750 KB (the YAML parser, the config checks, the runner, the store) was a third of what it spent
// before its training started. An ES module build cannot take a code cache on Node 20.

start((argv, io) => runCli(argv, io, { run: runCommand }));
