import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { CLASSES, HOUR, penguins, predictOf, records, workspace, writeSegment, type PenguinRow } from './monitor.fixtures';
import { edd } from './registryFixtures';

const CHECKS = `checks:
  - metric: { name: f1, average: macro, min: 0.8 }
  - metric: { name: accuracy, min: 0.99 }
  - bias: { sensitive: sex, positive_label: Adelie, demographic_parity_difference: { max: 0.9 } }
  - drift: { columns: [bill_length_mm, flipper_length_mm, island], psi: { max: 0.2 } }
  - output: { range: [0, 1], finite: true }
`;

const policy = (predictions: string) => `data:
  reference: data/penguins.csv
  label: species
  classes: [Adelie, Chinstrap, Gentoo]
predictions: ${predictions}
${CHECKS}`;

interface Report { passed: boolean; checks: Array<{ kind: string; status: string; measured: Record<string, unknown>; evidence?: Record<string, unknown>; message: string }>; log?: Record<string, unknown> }

/** Every 7th row gets no feedback. */
const labelled = (i: number) => i % 7 !== 0;

describe('edd gate --predictions <prediction log> (issue 13 item 5)', function () {
  this.timeout(60000);
  let dir: string;
  let rows: PenguinRow[];
  before(() => {
    dir = workspace();
    rows = penguins();
    const now = Math.floor(Date.now() / HOUR) * HOUR;
    // A day-old segment that a --since of 2h leaves out: every prediction there is wrong.
    const old = now - 24 * HOUR;
    writeSegment(dir, records(rows.slice(0, 50), { start: old, step: 1000, feedback: true, tag: 'old', predict: (r) => ({ prediction: r.species === 'Gentoo' ? 'Adelie' : 'Gentoo', probabilities: [0.3, 0.3, 0.4] }) }), old);
    // The recent segment: feedback for most rows, a 500 (not a row), and a torn last line from a writer killed mid-record.
    const start = now - HOUR;
    const recs = (records(rows, { start, step: 1000, feedback: true, status: i => (i === 5 ? 500 : 200) }) as Array<Record<string, unknown>>)
      .filter(r => r.type !== 'feedback' || labelled(Number(String(r.request_id).slice(2))));
    writeSegment(dir, recs, start, 4242, '{"type":"prediction","request_id":"r-torn","row":0,"time":');

    // The same rows as a predictions file: what was answered, the label where feedback came, empty where it did not.
    const names = ['island', 'bill_length_mm', 'bill_depth_mm', 'flipper_length_mm', 'body_mass_g', 'sex'];
    // (the label column is the policy's `data.label`, species; a predictions file needs `y_true` too)
    const lines = [[...names, 'species', 'y_true', 'y_pred', ...CLASSES.map(c => `score_${c}`)].join(',')];
    rows.forEach((r, i) => {
      if (i === 5) return;
      const out = predictOf(r, i);
      lines.push([...names.map(n => (r[n] === null ? '' : String(r[n]))), labelled(i) ? String(r.species) : '', labelled(i) ? String(r.species) : '', out.prediction, ...out.probabilities.map(String)].join(','));
    });
    fs.writeFileSync(path.join(dir, 'rows.csv'), lines.join('\n') + '\n');
    fs.writeFileSync(path.join(dir, 'csv.policy.yaml'), policy('rows.csv'));
    fs.writeFileSync(path.join(dir, 'log.policy.yaml'), policy('.edd/serving/penguins'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const json = async (args: string[]) => {
    const r = await edd(['gate', ...args, '--json', '--no-record'], dir);
    assert.ok(r.code === 0 || r.code === 1, r.stderr + r.stdout);
    return JSON.parse(r.stdout) as Report;
  };

  it('gives the numbers the same rows give as a predictions file (policy or --predictions); the torn line and unlabelled rows are counted', async () => {
    const csv = await json(['csv.policy.yaml']);
    const fromPolicy = await json(['log.policy.yaml', '--since', '2h']);
    const fromFlag = await json(['csv.policy.yaml', '--predictions', '.edd/serving/penguins', '--since', '2h']);
    assert.deepStrictEqual(csv.checks.map(c => c.status), ['pass', 'fail', 'pass', 'pass', 'pass'], JSON.stringify(csv.checks.map(c => c.message)));
    for (const replay of [fromPolicy, fromFlag]) {
      assert.deepStrictEqual(replay.checks.map(c => [c.kind, c.status, c.measured]), csv.checks.map(c => [c.kind, c.status, c.measured]));
      assert.strictEqual(replay.passed, csv.passed);
      const unlabelled = rows.filter((_, i) => i !== 5 && !labelled(i)).length;
      assert.deepStrictEqual(replay.checks[0].evidence?.rows_missing_label, unlabelled, 'rows without feedback are left out of the metric, and counted');
      assert.deepStrictEqual(replay.checks[0].evidence?.rows, csv.checks[0].evidence?.rows);
      assert.deepStrictEqual(
        [replay.log?.dir, replay.log?.segments, replay.log?.rows, replay.log?.labelled, replay.log?.unlabelled, replay.log?.torn],
        // the day-old segment is opened (its successor starts inside the range) but none of its records is taken
        ['.edd/serving/penguins', 2, rows.length - 1, rows.length - 1 - unlabelled, unlabelled, 1],
      );
    }
    const text = await edd(['gate', 'log.policy.yaml', '--since', '2h', '--no-record'], dir);
    assert.match(text.stdout, new RegExp(`Prediction log \\.edd/serving/penguins \\(.* to …\\): ${rows.length - 1} answered predictions from 2 segment\\(s\\); \\d+ with feedback, \\d+ without`));
    assert.match(text.stdout, /1 torn last line\(s\) skipped/);
  });

  it('the policy\'s since/until cut the log as --since/--until do; the flags override them; a bad value is refused at file:line:col', async () => {
    const until = new Date(Date.now() - 2 * HOUR).toISOString();
    fs.writeFileSync(path.join(dir, 'since.policy.yaml'), policy('.edd/serving/penguins\nsince: 2h'));
    fs.writeFileSync(path.join(dir, 'until.policy.yaml'), policy(`.edd/serving/penguins\nuntil: "${until}"`));
    fs.writeFileSync(path.join(dir, 'empty.policy.yaml'), policy('.edd/serving/penguins\nsince: 1ms'));
    const [fromPolicy, fromFlag, untilPolicy, untilFlag, overridden] = await Promise.all([
      json(['since.policy.yaml']), json(['log.policy.yaml', '--since', '2h']),
      json(['until.policy.yaml']), json(['log.policy.yaml', '--until', until]),
      json(['empty.policy.yaml', '--since', '2h']),
    ]);
    for (const [a, b] of [[fromPolicy, fromFlag], [untilPolicy, untilFlag], [overridden, fromFlag]]) {
      assert.deepStrictEqual(a.checks.map(c => [c.kind, c.status, c.measured]), b.checks.map(c => [c.kind, c.status, c.measured]));
      assert.deepStrictEqual([a.log?.rows, a.log?.segments, a.log?.labelled, a.log?.until], [b.log?.rows, b.log?.segments, b.log?.labelled, b.log?.until]);
    }
    assert.strictEqual(fromPolicy.log?.rows, rows.length - 1);
    assert.strictEqual(untilPolicy.log?.rows, 50);
    assert.strictEqual(untilPolicy.log?.until, until);

    fs.writeFileSync(path.join(dir, 'bad.policy.yaml'), policy('.edd/serving/penguins\nsince: yesterday'));
    const bad = await edd(['gate', 'bad.policy.yaml', '--no-record'], dir);
    assert.strictEqual(bad.code, 2, bad.stdout);
    assert.match(bad.stderr, /bad\.policy\.yaml:6:8 invalid-value since: "yesterday" is neither a duration back from now/);
  });

  it('without a range it reads the whole log; --until cuts it; bad ranges and empty ranges are input errors (exit 2)', async () => {
    const all = await json(['log.policy.yaml']);
    assert.strictEqual(all.log?.rows, rows.length - 1 + 50);
    assert.strictEqual(all.log?.segments, 2);
    const oldOnly = await json(['log.policy.yaml', '--until', new Date(Date.now() - 2 * HOUR).toISOString()]);
    assert.strictEqual(oldOnly.log?.rows, 50);
    assert.strictEqual(oldOnly.checks[1].measured.accuracy, 0);

    const bad = await edd(['gate', 'log.policy.yaml', '--since', 'yesterday'], dir);
    assert.strictEqual(bad.code, 2, bad.stdout);
    assert.match(bad.stderr, /--since: "yesterday" is neither a duration/);
    const empty = await edd(['gate', 'log.policy.yaml', '--since', '1ms'], dir);
    assert.strictEqual(empty.code, 2, empty.stdout);
    assert.match(empty.stderr, /\.edd\/serving\/penguins: no answered predictions in the range read/);
    const notLog = await edd(['gate', 'csv.policy.yaml', '--since', '2h'], dir);
    assert.strictEqual(notLog.code, 2);
    assert.match(notLog.stderr, /not a log folder/);
    fs.mkdirSync(path.join(dir, 'empty-log'));
    const noSegments = await edd(['gate', 'csv.policy.yaml', '--predictions', 'empty-log'], dir);
    assert.strictEqual(noSegments.code, 2);
    assert.match(noSegments.stderr, /empty-log: no prediction log segments/);
  });
});
