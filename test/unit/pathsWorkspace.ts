// A workspace with files and symbolic links inside and outside it, shared by the path confinement tests.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const repo = path.resolve(__dirname, '../../..');

/**
 * `base/ws` is the workspace, `base/outside` holds what it must not reach. Links: `ws/data/link` -> the outside
 * folder, `ws/data/secret-link.csv` -> the outside file, `ws/data/inner-link.csv` -> a file inside, `ws/data/dangling.csv`
 * -> an outside file that does not exist (yet).
 */
export function pathsWorkspace(): { base: string; ws: string; outside: string } {
  const base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'edd-paths-')));
  const ws = path.join(base, 'ws');
  const outside = path.join(base, 'outside');
  fs.mkdirSync(outside);
  fs.cpSync(path.join(repo, 'examples/penguins/data'), path.join(ws, 'data'), { recursive: true });
  const evalLines = fs.readFileSync(path.join(ws, 'data/eval.csv'), 'utf8').trim().split('\n');
  fs.writeFileSync(path.join(outside, 'secret.csv'), [`${evalLines[0]},secret`, ...evalLines.slice(1).map((l, i) => `${l},TOPSECRET${i}`)].join('\n') + '\n');
  fs.writeFileSync(path.join(outside, 'schema.data.yaml'), 'columns:\n  species: { type: category, allowed: [TOPSECRET] }\n');
  fs.symlinkSync(outside, path.join(ws, 'data/link'));
  fs.symlinkSync(path.join(outside, 'secret.csv'), path.join(ws, 'data/secret-link.csv'));
  fs.symlinkSync('eval.csv', path.join(ws, 'data/inner-link.csv'));
  fs.symlinkSync(path.join(outside, 'not-yet.csv'), path.join(ws, 'data/dangling.csv'));
  return { base, ws, outside };
}

