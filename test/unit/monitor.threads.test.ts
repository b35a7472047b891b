import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { execFile } from 'child_process';
import { promisify } from 'util';
import { loadServiceView, monitorService } from '../../src/core/monitor';
import { workerScript } from '../../src/core/monitor/parallel';
import { HOUR, penguins, records, repo, workspace, writeSegment } from './monitor.fixtures';

const run = promisify(execFile);
const hourAgo = (h: number) => Math.floor((Date.now() - h * HOUR) / HOUR) * HOUR;

/**
 * A log whose segments cut through everything a reader carries from one record to the next: a request's rows split
 * between two segments in one window, feedback segments after its prediction (and feedback for a row never logged),
 * server samples of one window in three segments (the CPU mean adds them in log order), a category first seen in a
 * later segment, a shadow's answers, an event, a line that is not JSON in the middle and a torn last line.
 */
export function writeLog(dir: string): void {
  const rows = penguins();
  const t0 = hourAgo(5);
  const step = Math.floor((3 * HOUR) / rows.length);
  const all = records(rows, { start: t0, step, feedback: false, latency: i => (i % 7) / 3, status: i => (i % 97 === 0 ? 500 : i % 89 === 0 ? 400 : 200) }) as Array<Record<string, unknown>>;
  all.forEach((r, i) => { if (i > rows.length / 2 && (r.inputs as Record<string, unknown>).island === 'Dream') (r.inputs as Record<string, unknown>).island = 'Torgersen-2'; });
  const third = Math.floor(all.length / 3);
  const segs = [all.slice(0, third), all.slice(third, 2 * third), all.slice(2 * third)];
  // One request of two rows, the second row in the next segment.
  const last = segs[0][segs[0].length - 1];
  segs[1].unshift({ ...last, row: 1, time: (last.time as number) + 1 });
  segs[0].push({ ...last, slot: 'shadow', outputs: { prediction: 'Gentoo', probabilities: [0, 0, 1] } });
  segs.forEach((s, k) => {
    const start = s[0].time as number;
    for (let j = 0; j < 5; j++) s.splice(j * 20, 0, { type: 'sample', time: start + j, cpu_percent: 10.1 + k * 7.3 + j * 0.37, rss_bytes: 1e8 + k, heap_bytes: 5e7, in_flight: k + j });
  });
  segs[1].push({ type: 'event', time: segs[1][10].time, kind: 'switch', from: 2, to: 3 });
  // Feedback two segments later, for every third answered row, a row 1, and one for no logged prediction.
  const feedback = all.filter((r, i) => r.type === 'prediction' && r.status === 200 && i % 3 === 0)
    .map(r => ({ type: 'feedback', request_id: r.request_id, row: 0, time: (r.time as number) + 10, label: (r.outputs as { prediction: string }).prediction === 'Adelie' ? 'Adelie' : 'Gentoo' }));
  segs[2].push(...feedback, { type: 'feedback', request_id: last.request_id, row: 1, time: t0 + 3 * HOUR, label: 'Chinstrap' }, { type: 'feedback', request_id: 'never', row: 0, time: t0 + 3 * HOUR, label: 'Adelie' });
  writeSegment(dir, segs[0], segs[0][0].time as number, 1);
  const middle = writeSegment(dir, segs[1], segs[1][0].time as number, 2);
  fs.writeFileSync(middle, fs.readFileSync(middle, 'utf8').replace('\n', '\nnot json\n'));
  writeSegment(dir, segs[2], segs[2][0].time as number, 3, '{"type":"prediction","request_id":"torn","ti');
}

describe('monitor: worker threads read and report exactly as one thread does', function () {
  this.timeout(60_000);
  let dir: string;
  before(() => { dir = workspace(); writeLog(dir); });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('the compiled worker script is found beside the module (dist/monitorWorker.js beside the CLI bundle)', () => {
    assert.ok(workerScript(), 'out/src/core/monitor/monitorWorker.js');
    assert.ok(fs.existsSync(path.join(repo, 'dist/monitorWorker.js')), 'dist/monitorWorker.js: run node esbuild.mjs');
  });

  for (const since of [undefined, 4.5]) {
    it(`the same result with 2 and 3 threads as with none${since ? ' (with --since)' : ''}`, async () => {
      const view = loadServiceView(path.join(dir, 'penguins.service.yaml'));
      const o = { root: dir, windowMs: HOUR / 2, ...(since ? { since: Date.now() - since * HOUR } : {}) };
      const one = await monitorService(view, { ...o, threads: 0 });
      assert.strictEqual(one.result.read.threads, 0);
      assert.strictEqual(one.result.read.bad, 1);
      assert.strictEqual(one.result.read.torn, 1);
      // 3 hours of records in half-hour windows; --since 4.5h keeps 1.5 to 2.5 hours of them, by the time of day
      assert.ok(one.result.windows.length >= (since ? 3 : 6), String(one.result.windows.length));
      assert.ok(one.result.windows.some(w => w.model.labelled > 0 && w.infrastructure && w.infrastructure.samples > 1));
      for (const threads of [2, 3]) {
        const many = await monitorService(view, { ...o, threads });
        assert.strictEqual(many.result.read.threads, Math.min(threads, one.result.read.segments), 'at most one thread per segment read');
        assert.deepStrictEqual({ ...many.result, read: { ...many.result.read, threads: 0 } }, one.result);
        assert.deepStrictEqual(many.aggregator.windowRows(), one.aggregator.windowRows());
        assert.strictEqual(many.aggregator.unmatchedFeedback, one.aggregator.unmatchedFeedback);
      }
    });
  }

  it('the CLI bundle reads with dist/monitorWorker.js (EDD_MONITOR_THREADS) and prints the same JSON; a bad value is refused', async () => {
    const cli = path.join(repo, 'dist/cli.js');
    const json = async (threads: string) => JSON.parse((await run(process.execPath, [cli, 'monitor', 'penguins.service.yaml', '--json'], { cwd: dir, env: { ...process.env, EDD_MONITOR_THREADS: threads } })).stdout);
    const [none, two] = await Promise.all([json('0'), json('2')]);
    assert.strictEqual(two.read.threads, 2);
    two.read.threads = 0;
    assert.deepStrictEqual(two, none);
    await assert.rejects(run(process.execPath, [cli, 'monitor', 'penguins.service.yaml'], { cwd: dir, env: { ...process.env, EDD_MONITOR_THREADS: 'many' } }),
      (e: { code: number; stderr: string }) => e.code === 2 && /EDD_MONITOR_THREADS/.test(e.stderr));
  });
});
