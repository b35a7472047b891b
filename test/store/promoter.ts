// A second process for the registry concurrency test: opens the store, waits for "go" on stdin, promotes one
// version to production (by id), saves, and prints "done".
import { RunStore } from '../../src/core/store';

async function main(): Promise<void> {
  const [file, versionId, actor] = process.argv.slice(2);
  const store = await RunStore.open(file, { autoSave: false });
  process.stdout.write('ready\n');
  await new Promise<void>(resolve => process.stdin.once('data', () => resolve()));
  process.stdin.destroy(); // an open stdin would keep the process alive
  store.setModelStage({ versionId, to: 'production', actor, reason: `promoted by ${actor}` });
  await store.close();
  process.stdout.write('done\n');
}

main().catch(e => {
  process.stderr.write(String(e?.stack ?? e));
  process.exit(1);
});
