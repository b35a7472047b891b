import * as assert from 'assert';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { listSegments, PredictionLog, readLogLines } from '../../src/core/serve/predictionLog';

describe('serve: the prediction log', () => {
  let dir: string;
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edd-serve-log-')); });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('rotates past segment_mb into segments named by their first record\'s time and the pid, oldest first', () => {
    const log = new PredictionLog({ dir, segmentMb: 1 / 1024, retentionDays: 30 });
    for (let i = 0; i < 60; i++) {
      log.append({ type: 'feedback', request_id: `r${i}`, row: 0, time: 1_765_100_000_000 + i, label: 'Adelie' });
      log.flush();
    }
    log.close();
    const segs = listSegments(dir);
    assert.ok(segs.length > 1, `${segs.length} segment(s)`);
    assert.match(path.basename(segs[0]), new RegExp(`^predictions-1765100000000-${process.pid}\\.jsonl$`));
    const all = segs.flatMap(f => readLogLines(fs.readFileSync(f, 'utf8')));
    assert.deepStrictEqual(all.map(r => (r as { request_id: string }).request_id), Array.from({ length: 60 }, (_, i) => `r${i}`));
    for (const f of segs.slice(0, -1)) assert.ok(fs.statSync(f).size >= 1024 && fs.statSync(f).size < 1024 + 200);
  });

  it('deletes segments older than retention_days when it starts a segment, and nothing else', () => {
    const old = path.join(dir, 'predictions-1000-1.jsonl');
    const other = path.join(dir, 'notes.txt');
    fs.writeFileSync(old, '{}\n');
    fs.writeFileSync(other, 'keep');
    const past = new Date(Date.now() - 3 * 86_400_000);
    fs.utimesSync(old, past, past);
    fs.utimesSync(other, past, past);
    const log = new PredictionLog({ dir, segmentMb: 64, retentionDays: 2 });
    log.append({ type: 'event', time: Date.now(), kind: 'start' });
    log.close();
    assert.ok(!fs.existsSync(old));
    assert.ok(fs.existsSync(other));
    assert.strictEqual(listSegments(dir).length, 1);
  });

  it('redacts: hashed columns become their SHA-256, dropped columns are left out', () => {
    const log = new PredictionLog({ dir, segmentMb: 64, retentionDays: 30, redact: { hash: ['email'], drop: ['name'] } });
    const inputs = { email: 'a@example.com', name: 'Ann', x: 1 };
    assert.deepStrictEqual(log.redact(inputs), { email: createHash('sha256').update('a@example.com').digest('hex'), x: 1 });
    assert.deepStrictEqual(inputs, { email: 'a@example.com', name: 'Ann', x: 1 });
    log.close();
  });

  it('batches the records of one turn into one write, at the end of the turn', async () => {
    const log = new PredictionLog({ dir, segmentMb: 64, retentionDays: 30 });
    for (let i = 0; i < 3; i++) log.append({ type: 'feedback', request_id: `r${i}`, row: 0, time: Date.now(), label: 1 });
    assert.deepStrictEqual(listSegments(dir), []);
    await new Promise(r => setImmediate(r));
    assert.strictEqual(readLogLines(fs.readFileSync(listSegments(dir)[0], 'utf8')).length, 3);
    log.close();
  });
});
