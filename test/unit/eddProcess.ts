// Runs the real bundled CLI (`node dist/cli.js …`) as a user would, for the tests that need a fresh process.
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

const cliJs = path.resolve(__dirname, '../../../dist/cli.js');

export interface EddResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** `edd args…` in `cwd`, with `env` over this process's environment and `require` preloaded (a hook file) if given. */
export function edd(args: readonly string[], cwd: string, options: { env?: NodeJS.ProcessEnv; require?: string } = {}): Promise<EddResult> {
  const node = options.require ? ['--require', options.require] : [];
  return new Promise(resolve => {
    execFile(process.execPath, [...node, cliJs, ...args], { cwd, env: { ...process.env, ...options.env } }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

/** Writes `<dir>/<name>.yaml`: an experiment config whose training is `node -e <script>` (default: does nothing). */
export function nodeConfig(dir: string, name: string, options: { id?: string; script?: string } = {}): void {
  fs.writeFileSync(path.join(dir, `${name}.yaml`), [
    'experiment:', `  id: "${options.id ?? 'exp_20250101_001'}"`, `  name: ${name}`, '  hypothesis: h', '  parameters:', '    model_type: none',
    '  run:', `    command: [${JSON.stringify(process.execPath)}, "-e", ${JSON.stringify(options.script ?? '0')}]`, '',
  ].join('\n'));
}
