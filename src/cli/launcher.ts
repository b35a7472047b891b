import * as path from 'path';
import { pathToFileURL } from 'url';
import type * as CodeCache from './codeCache';

// dist/cli.js, the `edd` of package.json's `bin`: starts `edd run`'s CommonJS bundle with its V8 code cache
// (dist/cli/run.cjs, see src/cli/binRun.ts) or, for every other command, the ES module build (dist/cli/bin.mjs,
// split into chunks so that each command loads only its own code). Kept small: it is loaded before every command.

function cannotLoad(e: unknown): void {
  process.stderr.write(`edd: cannot load the CLI from ${path.join(__dirname, 'cli')}: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  process.exitCode = 70;
}

if (process.argv[2] === 'run') {
  try {
    // Required here, not imported at the top: the other commands do without it (and the modules it loads).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    (require('./codeCache') as typeof CodeCache).runWithCodeCache(path.join(__dirname, 'cli', 'run.cjs'));
  } catch (e) {
    cannotLoad(e);
  }
} else {
  import(pathToFileURL(path.join(__dirname, 'cli', 'bin.mjs')).href).catch(cannotLoad);
}
