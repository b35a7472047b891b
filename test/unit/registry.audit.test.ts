import * as assert from 'assert';
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import initSqlJs from 'sql.js';
import { promote, promotionOutcome, registerRun, rollback, rollbackOutcome } from '../../src/core/registry';
import { MIGRATIONS, RunStore } from '../../src/core/store';
import { auditHash } from '../../src/core/store/auditChain';
import { checkpoint, CLI, edd, FIXTURE_MODEL, flippedModel, tamper, workspaceWithRuns, type CliResult } from './registryFixtures';

// Issue 10, items 9 and 10: the audit log is a hash chain that `edd audit --verify` checks together with the stages
// and aliases it implies; promotion and rollback refuse a log that fails; refused promotions are recorded; two
// promotions to production saved at once each report what actually happened.

/** register v1, v2; v1 → production (+ champion); v2 → production (v1 archived); rollback (v1 back): 8 entries. */
async function registryWithHistory(): Promise<{ dir: string; file: string }> {
  const ws = await workspaceWithRuns([FIXTURE_MODEL, FIXTURE_MODEL]);
  flippedModel(path.join(ws.dir, 'runs', ws.runs[1], 'model.onnx'));
  const store = await RunStore.open(ws.file, { autoSave: false });
  try {
    for (const runId of ws.runs) await registerRun(store, { root: ws.dir, runId, model: 'penguins', actor: 'alice' });
    promote(store, { model: 'penguins', ref: 1, to: 'production', actor: 'alice', reason: 'first release', alias: 'champion' });
    promote(store, { model: 'penguins', ref: 2, to: 'production', actor: 'bob', reason: 'second release' });
    rollback(store, { model: 'penguins', actor: 'carol', reason: 'accuracy dropped' });
  } finally {
    await store.close();
  }
  return ws;
}

describe('audit log: hash chain, edd audit --verify, refusals on a tampered log (issue 10 item 9)', function () {
  this.timeout(120_000);
  let base: { dir: string; file: string };
  let dir: string;
  before(async () => {
    base = await registryWithHistory();
  });
  after(() => fs.rmSync(base.dir, { recursive: true, force: true }));
  beforeEach(() => {
    dir = `${base.dir}-case-${Math.random().toString(36).slice(2)}`;
    fs.cpSync(base.dir, dir, { recursive: true });
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
  const storeFile = () => RunStore.defaultPath(dir);

  it('every entry stores the previous entry\'s hash and its own; verify says OK with the count and the head', async () => {
    const store = await RunStore.open(storeFile(), { readOnly: true });
    let log;
    try {
      log = store.auditLog();
    } finally {
      await store.close();
    }
    assert.deepStrictEqual(log.map(e => `${e.action} v${e.version}`), ['register v1', 'register v2', 'promote v1', 'alias v1', 'archive v1', 'promote v2', 'archive v2', 'rollback v1']);
    for (const [i, e] of log.entries()) {
      assert.strictEqual(e.prevHash, i === 0 ? null : log[i - 1].hash, `entry #${e.seq} links to the one before`);
      assert.match(e.hash ?? '', /^[0-9a-f]{64}$/);
    }
    assert.strictEqual(new Set(log.map(e => e.hash)).size, log.length);

    const ok = await edd(['audit', '--verify'], dir);
    assert.strictEqual(ok.code, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, /Audit log OK: 8 entries, hash chain intact; the stages of 2 version\(s\) and all aliases agree with the log\./);
    assert.ok(ok.stdout.includes(`Head: ${log[7].hash}`), ok.stdout);
    const json = JSON.parse((await edd(['audit', '--verify', '--json'], dir)).stdout);
    assert.deepStrictEqual([json.ok, json.entries, json.versions, json.head, json.problem, json.migrated], [true, 8, 2, log[7].hash, null, null]);
  });

  const cases: Array<{ name: string; sql: () => string; kind: string; message: RegExp }> = [
    {
      name: 'an entry rewritten (the promotion\'s reason)',
      sql: () => "UPDATE audit_log SET reason = 'approved by the board' WHERE seq = 3",
      kind: 'content',
      message: /entry #3 \(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d, promote penguins@1\) does not match its hash: it was changed after it was written/,
    },
    {
      name: 'an entry deleted from the middle (the alias)',
      sql: () => 'DELETE FROM audit_log WHERE seq = 4',
      kind: 'gap',
      message: /entry #4 is missing: the log jumps from #3 to #5 \(.*archive penguins@1\)/,
    },
    {
      name: 'the last entry deleted (the rollback)',
      sql: () => 'DELETE FROM audit_log WHERE seq = 8',
      kind: 'tail',
      message: /the log ends at #7, but the store recorded #8 as its last entry: entries were deleted from the end/,
    },
    {
      name: 'a stage set by hand, with no promotion on record',
      sql: () => "UPDATE model_versions SET stage = 'production' WHERE version = 2; UPDATE model_versions SET stage = 'archived' WHERE version = 1",
      kind: 'stage',
      message: /penguins@1 is in archived, but the audit log leaves it in production \(last entry about it: #8 \(.*rollback penguins@1\)\): its stage was changed without a record/,
    },
    {
      name: 'an alias moved by hand',
      sql: () => "UPDATE model_aliases SET version = 2 WHERE alias = 'champion'",
      kind: 'alias',
      message: /alias penguins@champion names v2, but the audit log says v1 \(#4 /,
    },
  ];
  for (const c of cases) {
    it(`${c.name}: verify exits 1 naming it; promote and rollback refuse; edd audit warns`, async () => {
      await tamper(storeFile(), c.sql());
      const before = fs.readFileSync(storeFile());
      const v = await edd(['audit', '--verify'], dir);
      assert.strictEqual(v.code, 1, v.stdout + v.stderr);
      assert.match(v.stdout, /^Audit log verification FAILED: /);
      assert.match(v.stdout, c.message);
      const json = JSON.parse((await edd(['audit', '--verify', '--json'], dir)).stdout);
      assert.deepStrictEqual([json.ok, json.problem.kind], [false, c.kind]);
      assert.match(json.problem.message, c.message);

      const p = await edd(['promote', 'penguins@2', '--to', 'staging'], dir);
      assert.strictEqual(p.code, 1, p.stdout + p.stderr);
      assert.match(p.stderr, /Promotion of penguins@2 to staging refused: the audit log fails verification: /);
      assert.match(p.stderr, c.message);
      const r = await edd(['rollback', 'penguins', '--reason', 'try'], dir);
      assert.strictEqual(r.code, 1, r.stdout + r.stderr);
      assert.match(r.stderr, /Rollback of penguins refused: the audit log fails verification: /);
      assert.ok(fs.readFileSync(storeFile()).equals(before), 'a refusal writes nothing');

      const listing = await edd(['audit'], dir);
      assert.strictEqual(listing.code, 0);
      assert.match(listing.stderr, /warning: the audit log fails verification \(.*\); run `edd audit --verify`/);
    });
  }

  it('an entry rewritten with its own hash recomputed breaks the link of the next one', async () => {
    await checkpoint(storeFile());
    const SQL = await initSqlJs();
    const db = new SQL.Database(fs.readFileSync(storeFile()));
    const row = db.exec('SELECT seq, id, at, actor, action, model, version, from_stage, to_stage, alias, reason, forced, details, prev_hash FROM audit_log WHERE seq = 3')[0].values[0];
    db.close();
    row[10] = 'approved by the board';
    const hash = auditHash(row[13] as string, row.slice(0, 13));
    await tamper(storeFile(), `UPDATE audit_log SET reason = 'approved by the board', hash = '${hash}' WHERE seq = 3`);
    const v = await edd(['audit', '--verify'], dir);
    assert.strictEqual(v.code, 1);
    assert.match(v.stdout, /entry #4 \(.*alias penguins@1\) does not follow the entry before it/);
  });

  it('the last entry replaced with its hash recomputed shows at the head the store recorded', async () => {
    await checkpoint(storeFile());
    const SQL = await initSqlJs();
    const db = new SQL.Database(fs.readFileSync(storeFile()));
    const row = db.exec('SELECT seq, id, at, actor, action, model, version, from_stage, to_stage, alias, reason, forced, details, prev_hash FROM audit_log WHERE seq = 8')[0].values[0];
    db.close();
    row[10] = 'nothing to see';
    await tamper(storeFile(), `UPDATE audit_log SET reason = 'nothing to see', hash = '${auditHash(row[13] as string, row.slice(0, 13))}' WHERE seq = 8`);
    const replaced = await edd(['audit', '--verify'], dir);
    assert.strictEqual(replaced.code, 1);
    assert.match(replaced.stdout, /the last entry #8 is not the one the store recorded: it was replaced/);
  });

  it('a promotion the gate refuses is recorded (promote-refused), listed and translated; the chain stays valid', async () => {
    const store = await RunStore.open(storeFile(), { autoSave: false });
    store.addGateReport({ policy: 'penguins.policy.yaml', passed: false, model: 'penguins', version: 2, report: { checks: [{ id: '1-metric', title: 'accuracy ≥ 0.9', status: 'fail' }] } });
    await store.close();
    const p = await edd(['promote', 'penguins@2', '--to', 'production', '--reason', 'ship it'], dir);
    assert.strictEqual(p.code, 1);
    assert.match(p.stderr, /Promotion of penguins@2 to production refused: its latest gate \(penguins\.policy\.yaml, .*\) failed: 1-metric accuracy ≥ 0\.9/);
    const log = JSON.parse((await edd(['audit', 'penguins', '--json'], dir)).stdout);
    const last = log.at(-1);
    assert.deepStrictEqual([last.seq, last.action, last.version, last.from_stage, last.to_stage, last.actor, last.reason, last.forced], [9, 'promote-refused', 2, 'archived', 'production', 'Tester <t@example.com>', 'ship it', false]);
    assert.match(last.details.refusals[0], /its latest gate \(penguins\.policy\.yaml, .*\) failed/);
    assert.strictEqual(last.details.gate, 'failed');
    const text = await edd(['audit'], dir);
    assert.match(text.stdout, /#9 .* penguins {2}REFUSED promotion v2 archived → production: its latest gate .* failed: 1-metric accuracy ≥ 0\.9 {2}by Tester <t@example\.com> — ship it/);
    const ko = await edd(['audit'], dir, { EDD_LOCALE: 'ko' });
    assert.doesNotMatch(ko.stdout, /REFUSED promotion/);
    assert.match(ko.stdout, /#9 .*v2 archived → production/);
    const v = await edd(['audit', '--verify'], dir);
    assert.strictEqual(v.code, 0, v.stdout);
    assert.match(v.stdout, /Audit log OK: 9 entries/);
  });

  it('a version 4 store: the migration chains the existing entries and says so; its triggers still refuse updates', async () => {
    const SQL = await initSqlJs();
    const db = new SQL.Database();
    for (const m of MIGRATIONS.filter(x => x.version <= 4)) db.exec(m.sql);
    db.exec(`PRAGMA user_version = 4;
      INSERT INTO models (name, created_at) VALUES ('penguins', 1);
      INSERT INTO model_versions (model, version, id, stage, file, sha256, size, created_at) VALUES ('penguins', 1, 'v1-id', 'production', 'm.onnx', '${'a'.repeat(64)}', 1, 1);
      INSERT INTO audit_log (id, at, actor, action, model, version, to_stage) VALUES ('e1', 1000, 'alice', 'register', 'penguins', 1, 'none');
      INSERT INTO audit_log (id, at, actor, action, model, version, from_stage, to_stage, reason) VALUES ('e2', 2000, 'alice', 'promote', 'penguins', 1, 'none', 'production', 'go');`);
    const file = path.join(dir, 'old.sqlite');
    fs.writeFileSync(file, db.export());
    db.close();
    const store = await RunStore.open(file, { autoSave: false });
    try {
      const log = store.auditLog();
      assert.deepStrictEqual(log.map(e => [e.seq, e.prevHash === null, /^[0-9a-f]{64}$/.test(e.hash ?? '')]), [[1, true, true], [2, false, true]]);
      const v = store.verifyAuditLog();
      assert.deepStrictEqual([v.ok, v.entries, v.migrated?.through], [true, 2, 2]);
      store.setModelStage({ versionId: 'v1-id', to: 'archived', actor: 'bob' });
      assert.strictEqual(store.auditLog()[2].prevHash, log[1].hash);
      await store.save();
    } finally {
      await store.close();
    }
    const out = await edd(['audit', '--verify', '--store', file], dir);
    assert.strictEqual(out.code, 0, out.stdout + out.stderr);
    assert.match(out.stdout, /Audit log OK: 3 entries/);
    assert.match(out.stdout, /Entries #1 to #2 were written before the log was chained; they were chained when the store was upgraded on \d{4}-/);
    const raw = new SQL.Database(fs.readFileSync(file));
    try {
      assert.throws(() => raw.exec("UPDATE audit_log SET actor = 'mallory'"), /append-only/);
      assert.throws(() => raw.exec("INSERT INTO audit_log (id, at, actor, action, model) VALUES ('x', 1, 'm', 'promote', 'penguins')"), /must be chained/);
    } finally {
      raw.close();
    }
  });

  it('entries two processes append at once are chained in the order they land in the file (hash computed at replay)', async () => {
    const a = await RunStore.open(storeFile(), { autoSave: false });
    const b = await RunStore.open(storeFile(), { autoSave: false });
    try {
      a.setModelAlias({ versionId: a.findModelVersion('penguins', 1)!.id, alias: 'stable', actor: 'alice' });
      b.setModelAlias({ versionId: b.findModelVersion('penguins', 2)!.id, alias: 'candidate', actor: 'bob' });
      b.setModelStage({ versionId: b.findModelVersion('penguins', 2)!.id, to: 'staging', actor: 'bob' });
      await a.save();
      await b.save(); // replays bob's entries onto alice's file
      assert.deepStrictEqual(b.auditLog().slice(8).map(e => `${e.seq} ${e.action} ${e.actor}`), ['9 alias alice', '10 alias bob', '11 promote bob']);
      const v = b.verifyAuditLog();
      assert.ok(v.ok, JSON.stringify(v.problem));
      assert.strictEqual(v.entries, 11);
    } finally {
      await a.close();
      await b.close();
    }
  });
});

describe('two promotions to production saved at once (issue 10 item 10)', function () {
  this.timeout(180_000);

  it('in one process with two store copies: the later save is not applied, recorded as refused, and its outcome names the winner', async () => {
    const ws = await workspaceWithRuns([FIXTURE_MODEL, FIXTURE_MODEL]);
    flippedModel(path.join(ws.dir, 'runs', ws.runs[1], 'model.onnx'));
    try {
      const setup = await RunStore.open(ws.file, { autoSave: false });
      for (const runId of ws.runs) await registerRun(setup, { root: ws.dir, runId, model: 'penguins', actor: 'x' });
      await setup.close();
      const a = await RunStore.open(ws.file, { autoSave: false });
      const b = await RunStore.open(ws.file, { autoSave: false });
      try {
        const ra = promote(a, { model: 'penguins', ref: 1, to: 'production', actor: 'alice', reason: 'a' });
        const rb = promote(b, { model: 'penguins', ref: 2, to: 'production', actor: 'bob', reason: 'b', alias: 'champion' });
        assert.deepStrictEqual([rb.version.stage, rb.version.aliases], ['production', ['champion']], 'in its own copy it looks applied');
        await a.save();
        await b.save(); // merges alice's save first
        assert.strictEqual(promotionOutcome(a, ra).applied, true);
        const outcome = promotionOutcome(b, rb);
        assert.deepStrictEqual([outcome.applied, outcome.version.stage, outcome.production?.version, outcome.productionEntry?.actor], [false, 'none', 1, 'alice']);
        const entry = b.auditEntry(rb.auditId)!;
        assert.deepStrictEqual([entry.action, entry.actor, entry.toStage, entry.details.concurrent], ['promote-refused', 'bob', 'production', { production: 1 }]);
        // the alias that came with the overtaken promotion does not move either
        assert.deepStrictEqual(b.listModelVersions('penguins').map(v => [v.version, v.stage, v.aliases]), [[2, 'none', []], [1, 'production', []]]);
        const v = b.verifyAuditLog();
        assert.ok(v.ok, JSON.stringify(v.problem));
      } finally {
        await a.close();
        await b.close();
      }
    } finally {
      fs.rmSync(ws.dir, { recursive: true, force: true });
    }
  });

  it('two rollbacks saved at once: the later one is not applied (not two versions back), and it knows', async () => {
    const ws = await registryWithHistory(); // production history v1, v2, then rolled back to v1
    try {
      const setup = await RunStore.open(ws.file, { autoSave: false });
      promote(setup, { model: 'penguins', ref: 2, to: 'production', actor: 'x', reason: 'again' });
      promote(setup, { model: 'penguins', ref: 1, to: 'production', actor: 'x', reason: 'and back' }); // history v1, v2, v1
      await setup.close();
      const a = await RunStore.open(ws.file, { autoSave: false });
      const b = await RunStore.open(ws.file, { autoSave: false });
      try {
        const ra = rollback(a, { model: 'penguins', actor: 'alice', reason: 'a' });
        const rb = rollback(b, { model: 'penguins', actor: 'bob', reason: 'b' });
        assert.deepStrictEqual([ra.restored.version, rb.restored.version], [2, 2]);
        await a.save();
        await b.save();
        assert.strictEqual(rollbackOutcome(a, ra).applied, true);
        const outcome = rollbackOutcome(b, rb);
        assert.deepStrictEqual([outcome.applied, outcome.production?.version, outcome.productionEntry?.actor], [false, 2, 'alice']);
        assert.strictEqual(b.auditEntry(rb.auditId), undefined);
        assert.deepStrictEqual(b.auditLog().filter(e => e.action === 'rollback').map(e => e.actor), ['carol', 'alice']);
        assert.ok(b.verifyAuditLog().ok);
      } finally {
        await a.close();
        await b.close();
      }
    } finally {
      fs.rmSync(ws.dir, { recursive: true, force: true });
    }
  });

  it('two `edd promote --to production` processes started at once, repeatedly: each output agrees with the final store', async () => {
    const ws = await workspaceWithRuns([FIXTURE_MODEL, FIXTURE_MODEL]);
    flippedModel(path.join(ws.dir, 'runs', ws.runs[1], 'model.onnx'));
    const start = (args: string[], actor: string): Promise<CliResult> => new Promise(resolve => {
      const child = spawn(process.execPath, [CLI, ...args], { cwd: ws.dir, env: { ...process.env, EDD_USER: actor } });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', d => (stdout += d));
      child.stderr.on('data', d => (stderr += d));
      child.on('exit', code => resolve({ code: code ?? -1, stdout, stderr }));
    });
    try {
      const store = await RunStore.open(ws.file, { autoSave: false });
      await registerRun(store, { root: ws.dir, runId: ws.runs[0], model: 'penguins', actor: 'x' });
      await registerRun(store, { root: ws.dir, runId: ws.runs[1], model: 'penguins', actor: 'x' });
      await store.close();
      let raced = 0;
      for (let round = 0; round < 5; round++) {
        // both versions start out of production: the first round from none, later rounds from archived
        const [ra, rb] = await Promise.all([
          start(['promote', 'penguins@1', '--to', 'production', '--reason', `round ${round} alice`], 'alice'),
          start(['promote', 'penguins@2', '--to', 'production', '--reason', `round ${round} bob`], 'bob'),
        ]);
        const after = await RunStore.open(ws.file, { readOnly: true });
        try {
          const prod = after.listModelVersions('penguins').filter(v => v.stage === 'production').map(v => v.version);
          assert.strictEqual(prod.length, 1, `round ${round}: one production version, got ${prod.join(', ')}`);
          const outputs: Array<[number, CliResult]> = [[1, ra], [2, rb]];
          for (const [version, r] of outputs) {
            const other = version === 1 ? 2 : 1;
            const otherOut = version === 1 ? rb : ra;
            const said = `round ${round} v${version}: ${r.code} ${r.stdout}${r.stderr} / other: ${otherOut.stdout}`;
            if (/is now in production/.test(r.stdout)) {
              assert.strictEqual(r.code, 0, said);
              // it was in production when it said so: it still is, or the other promotion came later and said it archived it
              if (prod[0] !== version) assert.match(otherOut.stdout, new RegExp(`penguins@${version} was archived\\.`), said);
            } else {
              assert.strictEqual(r.code, 1, said);
              assert.match(r.stdout, new RegExp(`penguins@${version} was NOT promoted to production: another promotion was saved at the same time and came first\\. penguins@${other} is in production \\(promoted by ${other === 1 ? 'alice' : 'bob'} at `), said);
              assert.strictEqual(prod[0], other, said);
              raced++;
            }
          }
          assert.ok(after.verifyAuditLog().ok, JSON.stringify(after.verifyAuditLog().problem));
          const refused = after.auditLog().filter(e => e.action === 'promote-refused' && e.reason?.startsWith(`round ${round} `));
          assert.strictEqual(refused.length, [ra, rb].filter(r => r.code === 1).length);
        } finally {
          await after.close();
        }
        // archive whichever won so the next round starts with neither in production
        const reset = await edd(['promote', `penguins@${(await currentProduction(ws.file))}`, '--to', 'archived'], ws.dir);
        assert.strictEqual(reset.code, 0, reset.stderr);
      }
      // how often the two really overlapped depends on the machine; every round checked consistency either way
      process.stdout.write(`      (${raced} of 5 rounds had the two promotions overlap)\n`);
    } finally {
      fs.rmSync(ws.dir, { recursive: true, force: true });
    }
  });
});

async function currentProduction(file: string): Promise<number> {
  const s = await RunStore.open(file, { readOnly: true });
  try {
    return s.findModelVersion('penguins', 'production')!.version;
  } finally {
    await s.close();
  }
}
