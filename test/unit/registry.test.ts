import * as assert from 'assert';
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { onnx } from 'onnx-proto';
import initSqlJs from 'sql.js';
import {
  gateStatus, gateWithStore, parseModelRef, planPromotion, promote, registerRun, RegistryError, resolveActor, rollback, setAlias, shadowEvaluate, versionFile, gateRequired,
} from '../../src/core/registry';
import { MIGRATIONS, RunStore } from '../../src/core/store';

const root = path.resolve(__dirname, '../../..');
const FIXTURE_MODEL = path.join(root, 'test/fixtures/workspace/models/penguins.onnx');

/** A real, different model: the fixture with its first weight tensor scaled (decoded and re-encoded with onnx-proto). */
function scaledModel(dest: string, scale: number): void {
  const model = onnx.ModelProto.decode(fs.readFileSync(FIXTURE_MODEL));
  const init = model.graph!.initializer!.find(t => (t.rawData?.length ?? 0) >= 8 || (t.floatData?.length ?? 0) >= 2)!;
  if (init.rawData && init.rawData.length) {
    const raw = Buffer.from(init.rawData);
    for (let i = 0; i + 4 <= raw.length; i += 4) raw.writeFloatLE(raw.readFloatLE(i) * scale, i);
    init.rawData = raw;
  } else {
    init.floatData = init.floatData!.map(x => x * scale);
  }
  fs.writeFileSync(dest, onnx.ModelProto.encode(model).finish());
}

interface Ws { dir: string; store: RunStore; run: (name: string, model: string) => string }

async function workspace(): Promise<Ws> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edd-registry-'));
  fs.cpSync(path.join(root, 'examples/penguins/data'), path.join(dir, 'data'), { recursive: true });
  const store = await RunStore.open(RunStore.defaultPath(dir), { autoSave: false });
  const run = (name: string, model: string) => {
    const r = store.createRun({ experimentId: name, status: 'finished' });
    store.addMetrics([{ runId: r.id, key: 'val_accuracy', step: 1, value: 0.9 }]);
    fs.mkdirSync(path.join(dir, 'runs', r.id), { recursive: true });
    const rel = `runs/${r.id}/model.onnx`;
    fs.copyFileSync(model, path.join(dir, rel));
    store.addArtifact({ runId: r.id, path: rel, kind: 'model', sha256: null, size: null });
    return r.id;
  };
  return { dir, store, run };
}

const POLICY = `model: penguins
data:
  eval: data/eval.csv
  label: species
  features: [bill_length_mm, bill_depth_mm, flipper_length_mm, body_mass_g]
checks:
  - metric: { name: accuracy, min: 0.9 }
`;

describe('model registry (src/core/registry over the store)', function () {
  this.timeout(60_000);
  let ws: Ws;
  let weak: string;
  beforeEach(async () => {
    ws = await workspace();
    weak = path.join(ws.dir, 'weak.onnx');
    scaledModel(weak, -1); // flipped weights: a real model that is mostly wrong
  });
  afterEach(async () => {
    await ws.store.close().catch(() => undefined);
    fs.rmSync(ws.dir, { recursive: true, force: true });
  });

  it('parses NAME@VERSION references and refuses malformed ones', () => {
    assert.deepStrictEqual(parseModelRef('penguins@2'), { model: 'penguins', ref: '2' });
    assert.deepStrictEqual(parseModelRef('penguins@champion'), { model: 'penguins', ref: 'champion' });
    assert.deepStrictEqual(parseModelRef('penguins'), { model: 'penguins', ref: 'latest' });
    assert.throws(() => parseModelRef('@2'), RegistryError);
    assert.throws(() => parseModelRef('pen guins@2'), RegistryError);
    assert.throws(() => parseModelRef('penguins@'), RegistryError);
  });

  it('registers a run\'s model: numbered versions, a copy of the file under its sha256, the run\'s metrics, an audit entry', async () => {
    const a = ws.run('exp-a', FIXTURE_MODEL);
    const b = ws.run('exp-b', weak);
    const v1 = await registerRun(ws.store, { root: ws.dir, runId: a.slice(0, 8), model: 'penguins', actor: 'Ann <ann@example.com>' });
    const v2 = await registerRun(ws.store, { root: ws.dir, runId: b, model: 'penguins', actor: 'Ann <ann@example.com>' });
    assert.deepStrictEqual([v1.version, v2.version, v1.stage, v2.stage], [1, 2, 'none', 'none']);
    assert.strictEqual(v1.runId, a);
    assert.deepStrictEqual(v1.metrics, { val_accuracy: 0.9 });
    // the copy survives the run folder being cleaned
    fs.rmSync(path.join(ws.dir, 'runs'), { recursive: true });
    const copy = versionFile(ws.store, v1);
    assert.ok(copy.startsWith(path.join(ws.dir, '.edd', 'models', 'penguins')));
    assert.deepStrictEqual(fs.readFileSync(copy), fs.readFileSync(FIXTURE_MODEL));
    assert.strictEqual(path.basename(copy), `${v1.sha256}.onnx`);
    assert.deepStrictEqual(ws.store.listModels().map(m => [m.name, m.versionCount, m.latestVersion, m.productionVersion]), [['penguins', 2, 2, null]]);
    assert.deepStrictEqual(ws.store.auditLog('penguins').map(e => [e.action, e.version, e.actor]), [['register', 1, 'Ann <ann@example.com>'], ['register', 2, 'Ann <ann@example.com>']]);
  });

  it('refuses registering an unfinished run, a run without a model, and bad names; the same file again names its version', async () => {
    const a = ws.run('exp-a', FIXTURE_MODEL);
    const first = await registerRun(ws.store, { root: ws.dir, runId: a, model: 'penguins', actor: 'x' });
    const again = await registerRun(ws.store, { root: ws.dir, runId: ws.run('exp-a2', FIXTURE_MODEL), model: 'penguins', actor: 'x' });
    assert.deepStrictEqual([again.version, again.id, again.alreadyRegistered], [1, first.id, true]);
    assert.strictEqual(ws.store.auditLog().length, 1, 'no second audit entry');
    const running = ws.store.createRun({ experimentId: 'e', status: 'running' });
    await assert.rejects(registerRun(ws.store, { root: ws.dir, runId: running.id, model: 'penguins', actor: 'x' }), /is running: only a finished run/);
    const bare = ws.store.createRun({ experimentId: 'e', status: 'finished' });
    await assert.rejects(registerRun(ws.store, { root: ws.dir, runId: bare.id, model: 'penguins', actor: 'x' }), /no ONNX model artifact/);
    await assert.rejects(registerRun(ws.store, { root: ws.dir, runId: a, model: 'bad name', actor: 'x' }), /is not a model name/);
    await assert.rejects(registerRun(ws.store, { root: ws.dir, runId: 'nope', model: 'penguins', actor: 'x' }), /No run with id nope/);
    const outside = ws.store.createRun({ experimentId: 'e', status: 'finished' });
    ws.store.addArtifact({ runId: outside.id, path: '../elsewhere/model.onnx', kind: 'model', sha256: null, size: null });
    await assert.rejects(registerRun(ws.store, { root: ws.dir, runId: outside.id, model: 'penguins', actor: 'x' }), /outside the workspace/);
  });

  it('stage rules: production archives the previous production version; reasons are required; one version per alias', async () => {
    for (let i = 0; i < 3; i++) {
      const m = path.join(ws.dir, `m${i}.onnx`);
      scaledModel(m, 1 + i / 10);
      await registerRun(ws.store, { root: ws.dir, runId: ws.run(`e${i}`, m), model: 'penguins', actor: 'x' });
    }
    assert.throws(() => promote(ws.store, { model: 'penguins', ref: 1, to: 'production', actor: 'x' }), /needs a reason/);
    assert.throws(() => promote(ws.store, { model: 'penguins', ref: 1, to: 'none', actor: 'x' }), /staging, production or archived/);
    promote(ws.store, { model: 'penguins', ref: 1, to: 'staging', actor: 'x' });
    assert.throws(() => promote(ws.store, { model: 'penguins', ref: 1, to: 'staging', actor: 'x' }), /already in staging/);
    promote(ws.store, { model: 'penguins', ref: 1, to: 'production', actor: 'x', reason: 'first release', alias: 'champion' });
    const r = promote(ws.store, { model: 'penguins', ref: 2, to: 'production', actor: 'y', reason: 'better f1' });
    assert.strictEqual(r.plan.replaces, 1);
    const stages = () => ws.store.listModelVersions('penguins').map(v => [v.version, v.stage, v.aliases.join(',')]);
    assert.deepStrictEqual(stages(), [[3, 'none', ''], [2, 'production', ''], [1, 'archived', 'champion']]);
    setAlias(ws.store, { model: 'penguins', ref: 2, alias: 'champion', actor: 'y' });
    setAlias(ws.store, { model: 'penguins', ref: 3, alias: 'challenger', actor: 'y' });
    assert.deepStrictEqual(stages(), [[3, 'none', 'challenger'], [2, 'production', 'champion'], [1, 'archived', '']]);
    assert.strictEqual(ws.store.findModelVersion('penguins', 'champion')!.version, 2);
    assert.throws(() => setAlias(ws.store, { model: 'penguins', ref: 3, alias: 'production', actor: 'y' }), /cannot be an alias/);
    assert.throws(() => setAlias(ws.store, { model: 'penguins', ref: 9, alias: 'x1', actor: 'y' }), /has no version 9/);
  });

  it('refuses promoting a version whose latest gate failed; --force needs a reason, and the override is recorded', async () => {
    const good = await registerRun(ws.store, { root: ws.dir, runId: ws.run('good', FIXTURE_MODEL), model: 'penguins', actor: 'x' });
    const bad = await registerRun(ws.store, { root: ws.dir, runId: ws.run('bad', weak), model: 'penguins', actor: 'x' });
    const policyFile = path.join(ws.dir, 'penguins.policy.yaml');
    fs.writeFileSync(policyFile, POLICY);
    // gating the bad run (before or after registration, the report finds the version through the file's sha256)
    const failed = await gateWithStore(policyFile, { root: ws.dir, store: ws.store, target: { runId: bad.runId! } });
    assert.strictEqual(failed.report.passed, false);
    assert.strictEqual(failed.stored!.modelSha256, bad.sha256);
    assert.strictEqual(gateStatus(ws.store, bad).state, 'failed');
    const passed = await gateWithStore(policyFile, { root: ws.dir, store: ws.store, target: { model: { model: 'penguins', ref: '1' } } });
    assert.strictEqual(passed.report.passed, true, JSON.stringify(passed.report.checks));
    assert.deepStrictEqual([passed.stored!.model, passed.stored!.version, passed.report.candidate.model], ['penguins', 1, 'penguins@1']);
    assert.strictEqual(gateStatus(ws.store, good).state, 'passed');

    const plan = planPromotion(ws.store, { model: 'penguins', ref: 2, to: 'production' });
    assert.strictEqual(plan.refusals.length, 1);
    assert.match(plan.refusals[0], /1-metric/);
    assert.throws(() => promote(ws.store, { model: 'penguins', ref: 2, to: 'production', actor: 'x', reason: 'ship it' }),
      (e: unknown) => e instanceof RegistryError && e.kind === 'refused' && /refused: its latest gate \(penguins\.policy\.yaml, .*\) failed/.test(e.message));
    assert.throws(() => promote(ws.store, { model: 'penguins', ref: 2, to: 'staging', actor: 'x' }), /refused/);
    assert.throws(() => promote(ws.store, { model: 'penguins', ref: 2, to: 'staging', actor: 'x', force: true }), /needs a reason/);
    // archiving is never blocked
    promote(ws.store, { model: 'penguins', ref: 1, to: 'production', actor: 'x', reason: 'passed its gate' });
    promote(ws.store, { model: 'penguins', ref: 2, to: 'staging', actor: 'boss', force: true, reason: 'needed for the demo' });
    const entry = ws.store.auditLog('penguins').filter(e => e.action === 'promote').at(-1)!;
    assert.deepStrictEqual([entry.version, entry.toStage, entry.forced, entry.actor, entry.reason], [2, 'staging', true, 'boss', 'needed for the demo']);
    assert.strictEqual(entry.details.gate, 'failed');
    assert.strictEqual(entry.details.gateReport, failed.stored!.id);
    assert.ok(Array.isArray(entry.details.overridden));
  });

  it('require_gate in a policy blocks a version without any gate report', async () => {
    await registerRun(ws.store, { root: ws.dir, runId: ws.run('a', FIXTURE_MODEL), model: 'penguins', actor: 'x' });
    fs.writeFileSync(path.join(ws.dir, 'penguins.policy.yaml'), POLICY.replace('model: penguins', 'model: penguins\nrequire_gate: true'));
    assert.strictEqual(gateRequired(ws.dir, 'penguins'), true);
    assert.strictEqual(gateRequired(ws.dir, 'other'), false);
    assert.throws(() => promote(ws.store, { model: 'penguins', ref: 1, to: 'staging', actor: 'x', requireGate: true }), /has no gate report/);
    promote(ws.store, { model: 'penguins', ref: 1, to: 'staging', actor: 'x', requireGate: false });
  });

  it('rollback restores the production version before the current one, each step recorded; twice goes two back', async () => {
    for (let i = 0; i < 3; i++) {
      const m = path.join(ws.dir, `m${i}.onnx`);
      scaledModel(m, 1 + i / 10);
      await registerRun(ws.store, { root: ws.dir, runId: ws.run(`e${i}`, m), model: 'penguins', actor: 'x' });
    }
    assert.throws(() => rollback(ws.store, { model: 'penguins', actor: 'x' }), /no version in production/);
    for (const v of [1, 2, 3]) promote(ws.store, { model: 'penguins', ref: v, to: 'production', actor: 'x', reason: `release ${v}` });
    assert.strictEqual(rollback(ws.store, { model: 'penguins', actor: 'ops', reason: 'latency spike' }).restored.version, 2);
    assert.strictEqual(ws.store.findModelVersion('penguins', 3)!.stage, 'archived');
    assert.strictEqual(rollback(ws.store, { model: 'penguins', actor: 'ops' }).restored.version, 1);
    assert.throws(() => rollback(ws.store, { model: 'penguins', actor: 'ops' }), /first production version/);
    const log = ws.store.auditLog('penguins').map(e => `${e.action} v${e.version} ${e.fromStage ?? '-'}→${e.toStage ?? '-'}`);
    assert.deepStrictEqual(log, [
      'register v1 -→none', 'register v2 -→none', 'register v3 -→none',
      'promote v1 none→production',
      'archive v1 production→archived', 'promote v2 none→production',
      'archive v2 production→archived', 'promote v3 none→production',
      'archive v3 production→archived', 'rollback v2 archived→production',
      'archive v2 production→archived', 'rollback v1 archived→production',
    ]);
    assert.strictEqual(ws.store.auditLog('penguins')[9].reason, 'latency spike');
    // the history survives a save and a re-open, in order
    await ws.store.save();
    const again = await RunStore.open(ws.store.file, { readOnly: true });
    try {
      assert.deepStrictEqual(again.auditLog().map(e => e.seq), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    } finally {
      await again.close();
    }
  });

  it('the audit log is append-only in the file itself (SQLite triggers refuse UPDATE and DELETE)', async () => {
    await registerRun(ws.store, { root: ws.dir, runId: ws.run('a', FIXTURE_MODEL), model: 'penguins', actor: 'x' });
    await ws.store.save();
    const SQL = await initSqlJs();
    const db = new SQL.Database(fs.readFileSync(ws.store.file));
    try {
      assert.throws(() => db.exec("UPDATE audit_log SET actor = 'mallory'"), /append-only/);
      assert.throws(() => db.exec('DELETE FROM audit_log'), /append-only/);
      assert.strictEqual(db.exec('SELECT COUNT(*) FROM audit_log')[0].values[0][0], 1);
    } finally {
      db.close();
    }
  });

  it('shadow evaluation: both models on the same rows, agreement rate, McNemar p-value, the disagreeing rows', async () => {
    await registerRun(ws.store, { root: ws.dir, runId: ws.run('good', FIXTURE_MODEL), model: 'penguins', actor: 'x' });
    const cand = await registerRun(ws.store, { root: ws.dir, runId: ws.run('bad', weak), model: 'penguins', actor: 'x' });
    promote(ws.store, { model: 'penguins', ref: 1, to: 'production', actor: 'x', reason: 'first' });
    const policyFile = path.join(ws.dir, 'penguins.policy.yaml');
    fs.writeFileSync(policyFile, POLICY);
    const r = await shadowEvaluate(policyFile, { root: ws.dir, store: ws.store, target: { model: { model: 'penguins', ref: String(cand.version) } } });
    assert.deepStrictEqual(r.production, { model: 'penguins', version: 1 });
    const c = r.report.checks[0];
    assert.strictEqual(c.kind, 'regression');
    const m = c.measured as Record<string, number>;
    const ev = c.evidence as { rows: number; disagreement_count: number; disagreements: Array<{ row: number; candidate: string; production: string }>; production: string };
    assert.strictEqual(ev.production, 'penguins@1');
    assert.ok(m.agreement_rate >= 0 && m.agreement_rate < 1, String(m.agreement_rate));
    assert.strictEqual(Math.round((1 - m.agreement_rate) * ev.rows), ev.disagreement_count);
    assert.ok(ev.disagreements.length === Math.min(50, ev.disagreement_count));
    for (const d of ev.disagreements) assert.notStrictEqual(d.candidate, d.production);
    assert.ok(m.mcnemar_p_value < 0.05, `the flipped model is significantly worse (p = ${m.mcnemar_p_value})`);
    assert.strictEqual(c.status, 'fail');
    assert.strictEqual(r.stored, undefined, 'a shadow evaluation is not a gate report');
    // a regression check in a real gate uses the registry's production version by itself
    fs.writeFileSync(policyFile, POLICY.replace('  - metric: { name: accuracy, min: 0.9 }', '  - regression: { metric: accuracy, max_drop: 0.01, test: mcnemar }'));
    const g = await gateWithStore(policyFile, { root: ws.dir, store: ws.store, target: { model: { model: 'penguins', ref: '2' } } });
    assert.strictEqual(g.report.checks[0].status, 'fail');
    assert.strictEqual((g.report.checks[0].evidence as { production: string }).production, 'penguins@1');
  });

  it('two processes promoting different versions to production at once: the first save wins, the other is recorded as refused', async () => {
    const v1 = await registerRun(ws.store, { root: ws.dir, runId: ws.run('a', FIXTURE_MODEL), model: 'penguins', actor: 'x' });
    const v2 = await registerRun(ws.store, { root: ws.dir, runId: ws.run('b', weak), model: 'penguins', actor: 'x' });
    await ws.store.save();
    const script = path.join(__dirname, '../store/promoter.js');
    const start = (versionId: string, actor: string) => {
      const child = spawn(process.execPath, [script, ws.store.file, versionId, actor], { stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', d => (out += d));
      child.stderr.on('data', d => (err += d));
      const exited = new Promise<number>(resolve => child.on('exit', code => resolve(code ?? -1)));
      return { child, out: () => out, err: () => err, exited };
    };
    const a = start(v1.id, 'alice');
    const b = start(v2.id, 'bob');
    const deadline = Date.now() + 30_000;
    while (!a.out().includes('ready') || !b.out().includes('ready')) {
      if (Date.now() > deadline || a.child.exitCode !== null || b.child.exitCode !== null) assert.fail(`promoters did not start: ${a.out()} ${a.err()} ${b.out()} ${b.err()}`);
      await new Promise(r => setTimeout(r, 10));
    }
    a.child.stdin.end('go\n');
    b.child.stdin.end('go\n');
    assert.deepStrictEqual(await Promise.all([a.exited, b.exited]), [0, 0], a.err() + b.err());
    const after = await RunStore.open(ws.store.file, { readOnly: true });
    try {
      const versions = after.listModelVersions('penguins');
      const prod = versions.filter(v => v.stage === 'production');
      assert.strictEqual(prod.length, 1, JSON.stringify(versions.map(v => [v.version, v.stage])));
      // whoever saved first is in production; the other promotion was decided on a copy without it, so it is not
      // applied over it (nothing archived) but recorded as refused
      assert.strictEqual(versions.filter(v => v.stage === 'none').length, 1);
      const log = after.auditLog('penguins');
      const promoted = log.filter(e => e.action === 'promote');
      const refused = log.filter(e => e.action === 'promote-refused');
      assert.deepStrictEqual([promoted.length, refused.length], [1, 1]);
      assert.deepStrictEqual([promoted[0].actor, refused[0].actor].sort(), ['alice', 'bob']);
      assert.strictEqual(promoted[0].version, prod[0].version);
      assert.deepStrictEqual(refused[0].details.concurrent, { production: prod[0].version });
      assert.ok(after.verifyAuditLog().ok);
    } finally {
      await after.close();
    }
  });

  it('two processes registering at once get distinct, dense version numbers', async () => {
    const other = await RunStore.open(ws.store.file, { autoSave: false });
    try {
      const ra = ws.run('a', FIXTURE_MODEL);
      await ws.store.save();
      await other.reloadIfChanged();
      const rb = other.createRun({ experimentId: 'b', status: 'finished' });
      fs.mkdirSync(path.join(ws.dir, 'runs', rb.id), { recursive: true });
      fs.copyFileSync(weak, path.join(ws.dir, 'runs', rb.id, 'model.onnx'));
      other.addArtifact({ runId: rb.id, path: `runs/${rb.id}/model.onnx`, kind: 'model', sha256: null, size: null });
      const mine = await registerRun(ws.store, { root: ws.dir, runId: ra, model: 'penguins', actor: 'a' });
      const theirs = await registerRun(other, { root: ws.dir, runId: rb.id, model: 'penguins', actor: 'b' });
      assert.deepStrictEqual([mine.version, theirs.version], [1, 1], 'each copy numbered on its own');
      other.setModelStage({ versionId: theirs.id, to: 'staging', actor: 'b' });
      await ws.store.save();
      await other.save(); // merges: its registration is replayed onto ours and becomes version 2
      await ws.store.reloadIfChanged();
      assert.deepStrictEqual(ws.store.listModelVersions('penguins').map(v => [v.version, v.id, v.stage]), [[2, theirs.id, 'staging'], [1, mine.id, 'none']]);
    } finally {
      await other.close();
    }
  });

  it('migrates a version 3 store (runs kept, registry tables added)', async () => {
    const SQL = await initSqlJs();
    const db = new SQL.Database();
    for (const m of MIGRATIONS.filter(x => x.version <= 3)) db.exec(m.sql);
    db.exec("PRAGMA user_version = 3; INSERT INTO experiments (id, name, created_at, updated_at) VALUES ('e', 'e', 1, 1); INSERT INTO runs (id, experiment_id, status, created_at) VALUES ('r1', 'e', 'finished', 1)");
    const file = path.join(ws.dir, 'old.sqlite');
    fs.writeFileSync(file, db.export());
    db.close();
    const store = await RunStore.open(file, { autoSave: false });
    try {
      assert.strictEqual(store.getRun('r1')!.status, 'finished');
      assert.deepStrictEqual(store.listModels(), []);
      assert.deepStrictEqual(store.listGateReports(), []);
    } finally {
      await store.close();
    }
  });

  it('the actor comes from an explicit value, EDD_USER, or git', async () => {
    assert.strictEqual(await resolveActor(ws.dir, ' Bo <bo@x> '), 'Bo <bo@x>');
    const saved = process.env.EDD_USER;
    process.env.EDD_USER = 'ci-bot';
    try {
      assert.strictEqual(await resolveActor(ws.dir), 'ci-bot');
    } finally {
      if (saved === undefined) delete process.env.EDD_USER;
      else process.env.EDD_USER = saved;
    }
    const git = (args: string[]) => new Promise<void>((resolve, reject) => spawn('git', args, { cwd: ws.dir }).on('exit', c => (c === 0 ? resolve() : reject(new Error(`git ${args.join(' ')}`)))));
    await git(['init', '-q']);
    await git(['config', 'user.name', 'Kim Minji']);
    await git(['config', 'user.email', 'minji@example.com']);
    if (process.env.EDD_USER === undefined) assert.strictEqual(await resolveActor(ws.dir), 'Kim Minji <minji@example.com>');
  });
});
