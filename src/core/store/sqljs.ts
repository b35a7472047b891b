import * as fs from 'fs';
import * as path from 'path';
import type { SqlJsStatic } from 'sql.js';

// sql.js (≈ 650 KB of JS + a 650 KB wasm) is loaded on the first `RunStore.open`, never when this module is imported:
// the extension imports the core at activation and must not pay for SQLite until a store is actually opened.

const modules = new Map<string, Promise<SqlJsStatic>>();

/**
 * Where `sql-wasm.wasm` is when no `wasmPath` is given: in `dist/` if a bundle copied it there (esbuild puts this
 * module into `dist/extension.js`, `dist/storeWorker.js`, or one of the CLI's chunks in `dist/cli/`), else in the
 * installed sql.js package (tests and the CLI run from `out/`).
 */
export function defaultWasmPath(): string {
  for (const folder of [__dirname, path.dirname(__dirname)]) {
    const beside = path.join(folder, 'sql-wasm.wasm');
    if (fs.existsSync(beside)) return beside;
  }
  return require.resolve('sql.js/dist/sql-wasm.wasm');
}

/** The sql.js module for a wasm file, initialised once per process and path. */
export function loadSqlJs(wasmPath?: string): Promise<SqlJsStatic> {
  let wasm: string;
  try {
    wasm = wasmPath ?? defaultWasmPath();
  } catch (e) {
    return Promise.reject(new Error(`The SQLite engine's wasm file (sql-wasm.wasm) was not found in ${__dirname} nor in the sql.js package (${(e as Error).message.split('\n')[0]}). Copy node_modules/sql.js/dist/sql-wasm.wasm there or pass the \`wasmPath\` option.`));
  }
  let loaded = modules.get(wasm);
  if (!loaded) {
    loaded = (async () => {
      let wasmBinary: Uint8Array;
      try {
        wasmBinary = await fs.promises.readFile(wasm);
      } catch (e) {
        throw new Error(`Cannot read the SQLite engine's wasm file ${wasm}: ${(e as Error).message}. Check the \`wasmPath\` option (it must point to sql.js's dist/sql-wasm.wasm).`);
      }
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy on purpose (see above)
      const initSqlJs = require('sql.js') as typeof import('sql.js');
      // Handing over the bytes (not a URL) keeps sql.js from resolving the file on its own.
      return initSqlJs({ wasmBinary: wasmBinary.buffer.slice(wasmBinary.byteOffset, wasmBinary.byteOffset + wasmBinary.byteLength) as ArrayBuffer });
    })();
    modules.set(wasm, loaded);
    loaded.catch(() => modules.delete(wasm));
  }
  return loaded;
}
