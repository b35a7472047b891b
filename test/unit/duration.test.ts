import * as assert from 'assert';
import { parseDuration, parsePointInTime } from '../../src/core/duration';
import { parseDuration as specDuration } from '../../src/core/serve/spec';
import { MonitorInputError, parseDuration as monitorDuration } from '../../src/core/monitor/options';

describe('durations and points in time (one reader for specs, policies and flags)', () => {
  it('reads a number and a unit, longer than zero', () => {
    assert.strictEqual(parseDuration('200ms'), 200);
    assert.strictEqual(parseDuration(' 1.5d '), 129_600_000);
    assert.strictEqual(parseDuration('2 h'), 7_200_000);
    assert.strictEqual(parseDuration('1w'), 604_800_000);
    for (const bad of ['0h', '', 'h', '1y', '-1h', 'soon', '1e3s']) assert.strictEqual(parseDuration(bad), undefined, bad);
    assert.strictEqual(specDuration, parseDuration, 'the service spec uses the shared reader');
  });

  it('monitoring takes a number of milliseconds too and names the key in its error', () => {
    assert.strictEqual(monitorDuration('15m', 'monitoring.window'), 900_000);
    assert.strictEqual(monitorDuration(5000, '--window'), 5000);
    assert.throws(() => monitorDuration('0h', '--window'), (e: Error) => e instanceof MonitorInputError && e.message.startsWith('--window: "0h" is not a duration') && (e as MonitorInputError).key === '--window');
  });

  it('a point in time is a duration back from now or a date and time', () => {
    const now = Date.UTC(2026, 11, 7, 12);
    assert.strictEqual(parsePointInTime('24h', now), now - 86_400_000);
    assert.strictEqual(parsePointInTime('2026-12-06T08:00Z', now), Date.UTC(2026, 11, 6, 8));
    // a duration's shape is never read as a date, even when it is not a valid duration
    assert.strictEqual(parsePointInTime('0h', now), undefined);
    assert.strictEqual(parsePointInTime('yesterday', now), undefined);
  });
});
