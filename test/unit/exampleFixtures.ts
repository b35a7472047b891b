import * as fs from 'fs';
import * as path from 'path';

const root = path.resolve(__dirname, '../../..');

/**
 * A copy of the repository's `examples/` in `dir`, runnable there. The configs name
 * node_modules/vega-datasets/data/penguins.json, and a config's data files must really be inside the workspace (no
 * symbolic link out of it): that package is copied, the others (onnxruntime-node…) linked.
 */
export function cloneExample(dir: string): void {
  fs.cpSync(path.join(root, 'examples'), path.join(dir, 'examples'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'node_modules'));
  for (const name of fs.readdirSync(path.join(root, 'node_modules'))) {
    const from = path.join(root, 'node_modules', name);
    if (name === 'vega-datasets') fs.cpSync(fs.realpathSync(from), path.join(dir, 'node_modules', name), { recursive: true });
    else fs.symlinkSync(from, path.join(dir, 'node_modules', name), 'dir');
  }
}
