import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import initSqlJs from 'sql.js';
import { RunStore } from '../../src/core/store';
import { assertSameRegistry, assertSameRuns, python, WRITER, type Expected } from './mlflowFixtures';
import { edd } from './registryFixtures';

describe('edd import mlflow: runs written by MLflow 3.17 itself, compared value by value', function () {
  this.timeout(180_000);
  let dir: string;
  let db: Expected;
  let files: Expected;

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edd-mlflow-import-'));
    python([WRITER, `sqlite:///${path.join(dir, 'mlflow.db')}`, path.join(dir, 'db.json'), '--registry'], dir);
    python([WRITER, `file://${path.join(dir, 'mlruns')}`, path.join(dir, 'fs.json'), '--registry'], dir);
    db = JSON.parse(fs.readFileSync(path.join(dir, 'db.json'), 'utf8')) as Expected;
    files = JSON.parse(fs.readFileSync(path.join(dir, 'fs.json'), 'utf8')) as Expected;
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const storeOf = (name: string) => path.join(dir, name, 'edd.sqlite');

  it('imports mlflow.db: runs, params, every metric point, tags, the registry with stages and aliases; deleted rows skipped', async () => {
    const r = await edd(['import', 'mlflow', 'mlflow.db', '--json', '--store', storeOf('db')], dir);
    assert.strictEqual(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { runsCreated: number; versionsCreated: number };
    assert.strictEqual(out.runsCreated, 3);
    const store = await RunStore.open(storeOf('db'), { readOnly: true });
    try {
      assertSameRuns(store, db, 'mlflow-import');
      assert.deepStrictEqual(store.listExperiments().map(e => e.id), ['penguins-mlflow'], 'the deleted experiment is skipped');
      assert.deepStrictEqual(store.listModels().map(m => m.name), ['penguins-clf'], 'the deleted model is skipped');
      assertSameRegistry(store, db);
      assert.strictEqual(store.auditLog('penguins-clf').length >= 8, true);
    } finally {
      await store.close();
    }
    assert.match(r.stderr, /no local ONNX file/, 'versions without an ONNX file are reported');
  });

  it('imports again in place: no duplicate run, point or version; a tag and a point MLflow added since arrive', async () => {
    const before = fs.statSync(storeOf('db')).size;
    const again = await edd(['import', 'mlflow', `sqlite:///${path.join(dir, 'mlflow.db')}`, '--json', '--store', storeOf('db')], dir);
    assert.strictEqual(again.code, 0, again.stderr);
    const o = JSON.parse(again.stdout) as Record<string, number>;
    assert.deepStrictEqual([o.runsCreated, o.runsUpdated, o.points, o.versionsCreated, o.stageChanges, o.aliasesSet], [0, 3, 0, 0, 0, 0]);
    assert.ok(Math.abs(fs.statSync(storeOf('db')).size - before) < 4096);
    const runId = db.experiments[0].runs[0].run_id;
    python(['-c', `import sys; from mlflow.tracking import MlflowClient
c = MlflowClient("sqlite:///${path.join(dir, 'mlflow.db')}")
c.set_tag("${runId}", "reviewed", "yes"); c.log_metric("${runId}", "loss", 0.01, timestamp=1700000999000, step=9)`], dir);
    const third = await edd(['import', 'mlflow', 'mlflow.db', '--json', '--store', storeOf('db')], dir);
    assert.strictEqual(third.code, 0, third.stderr);
    assert.strictEqual((JSON.parse(third.stdout) as Record<string, number>).points, 1);
    const store = await RunStore.open(storeOf('db'), { readOnly: true });
    try {
      const run = store.findRunByExternalId(`mlflow:${runId}`)!;
      assert.strictEqual(run.tags.reviewed, 'yes');
      assert.deepStrictEqual(store.getMetrics(run.id, 'loss').at(-1), { key: 'loss', step: 9, value: 0.01, time: 1700000999000 });
      assert.strictEqual(store.listRuns().length, 3);
      assert.strictEqual(store.listModelVersions('penguins-clf').length, 3);
    } finally {
      await store.close();
    }
  });

  it('imports an mlruns file store (integer status, `/` keys as sub-folders, the registry under models/), value by value', async () => {
    const r = await edd(['import', 'mlflow', 'mlruns', '--store', storeOf('fs')], dir);
    assert.strictEqual(r.code, 0, r.stderr);
    assert.match(r.stdout, /3 new run/);
    const store = await RunStore.open(storeOf('fs'), { readOnly: true });
    try {
      assertSameRuns(store, files, 'mlflow-import');
      assert.deepStrictEqual(files.models.map(m => [m.name, m.versions.length]), [['penguins-clf', 3]], 'the fixture: one model left, version 4 deleted');
      assertSameRegistry(store, files);
    } finally {
      await store.close();
    }
  });

  it('imports the file store\'s registry again in place: nothing duplicated; a stage and an alias MLflow changed since arrive', async () => {
    const again = await edd(['import', 'mlflow', 'mlruns', '--json', '--store', storeOf('fs')], dir);
    assert.strictEqual(again.code, 0, again.stderr);
    const o = JSON.parse(again.stdout) as Record<string, number>;
    assert.deepStrictEqual([o.runsCreated, o.versionsCreated, o.stageChanges, o.aliasesSet], [0, 0, 0, 0]);
    python(['-c', `import warnings; from mlflow.tracking import MlflowClient
c = MlflowClient("file://${path.join(dir, 'mlruns')}")
warnings.simplefilter("ignore")
c.transition_model_version_stage("penguins-clf", "3", "Archived"); c.set_registered_model_alias("penguins-clf", "candidate", "1")`], dir);
    const third = await edd(['import', 'mlflow', 'mlruns', '--json', '--store', storeOf('fs')], dir);
    assert.strictEqual(third.code, 0, third.stderr);
    const t3 = JSON.parse(third.stdout) as Record<string, number>;
    assert.deepStrictEqual([t3.versionsCreated, t3.stageChanges, t3.aliasesSet], [0, 1, 1]);
    python([WRITER, `file://${path.join(dir, 'mlruns')}`, path.join(dir, 'fs2.json'), '--registry', '--dump'], dir);
    const now = JSON.parse(fs.readFileSync(path.join(dir, 'fs2.json'), 'utf8')) as Expected;
    const store = await RunStore.open(storeOf('fs'), { readOnly: true });
    try {
      assertSameRegistry(store, now);
      assert.strictEqual(store.findModelVersion('penguins-clf', 3)!.stage, 'archived');
      assert.deepStrictEqual(store.findModelVersion('penguins-clf', 1)!.aliases, ['candidate']);
    } finally {
      await store.close();
    }
  });

  it('copies local artifacts only with --copy-artifacts', async () => {
    const run = files.experiments[0].runs[0];
    const artifacts = new URL(run.artifact_uri).pathname;
    fs.mkdirSync(path.join(artifacts, 'plots'), { recursive: true });
    fs.writeFileSync(path.join(artifacts, 'plots', 'loss.txt'), 'a plot');
    const r = await edd(['import', 'mlflow', 'mlruns', '--copy-artifacts', '--json', '--store', storeOf('fs')], dir);
    assert.strictEqual(r.code, 0, r.stderr);
    assert.strictEqual((JSON.parse(r.stdout) as { artifactsCopied: number }).artifactsCopied, 1);
    const copied = path.join(dir, 'fs', 'artifacts', 'mlflow', run.run_id, 'plots', 'loss.txt');
    assert.strictEqual(fs.readFileSync(copied, 'utf8'), 'a plot');
  });

  describe('bad inputs: a clear error naming the file (and line), exit 2, nothing written', () => {
    const refuse = async (source: string, pattern: RegExp) => {
      const store = path.join(dir, 'bad', `${Math.random()}.sqlite`);
      const r = await edd(['import', 'mlflow', source, '--store', store], dir);
      assert.strictEqual(r.code, 2, r.stdout + r.stderr);
      assert.match(r.stderr, pattern);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
      assert.ok(!fs.existsSync(store), 'no store written');
    };

    it('a random SQLite file', async () => {
      const SQL = await initSqlJs();
      const other = new SQL.Database();
      other.run('CREATE TABLE notes (id INTEGER, text TEXT)');
      fs.writeFileSync(path.join(dir, 'random.db'), other.export());
      await refuse('random.db', /random\.db is an SQLite database but not MLflow's: it has no experiments, runs, alembic_version table/);
    });

    it('a file that is not SQLite', async () => {
      fs.writeFileSync(path.join(dir, 'notes.txt'), 'hello');
      await refuse('notes.txt', /notes\.txt is not an SQLite database/);
    });

    it('an MLflow database of a schema revision it was not tested with', async () => {
      const SQL = await initSqlJs();
      const copy = new SQL.Database(fs.readFileSync(path.join(dir, 'mlflow.db')));
      copy.run("UPDATE alembic_version SET version_num = '0123456789ab'");
      fs.writeFileSync(path.join(dir, 'future.db'), copy.export());
      await refuse('sqlite:///future.db', /future\.db has MLflow schema revision 0123456789ab, which EDD has not been tested with/);
    });

    it('a truncated meta.yaml', async () => {
      fs.cpSync(path.join(dir, 'mlruns'), path.join(dir, 'cut'), { recursive: true });
      const exp = fs.readdirSync(path.join(dir, 'cut')).find(d => d !== '0' && !d.startsWith('.') && d !== 'models')!;
      const runDir = fs.readdirSync(path.join(dir, 'cut', exp)).find(d => fs.statSync(path.join(dir, 'cut', exp, d)).isDirectory())!;
      const meta = path.join(dir, 'cut', exp, runDir, 'meta.yaml');
      fs.writeFileSync(meta, fs.readFileSync(meta, 'utf8').split('\n').slice(0, 3).join('\n'));
      await refuse('cut', new RegExp(`${runDir}/meta\\.yaml:3: this meta\\.yaml ends without run_id, status; it is probably truncated`));
      fs.writeFileSync(meta, 'artifact_uri: "file:///x\nend_time: 1');
      await refuse('cut', new RegExp(`${runDir}/meta\\.yaml:2:12: this meta\\.yaml is not valid YAML`));
    });

    it('a metric file with a bad line', async () => {
      fs.cpSync(path.join(dir, 'mlruns'), path.join(dir, 'badline'), { recursive: true });
      const exp = fs.readdirSync(path.join(dir, 'badline')).find(d => d !== '0' && !d.startsWith('.') && d !== 'models')!;
      const runDir = files.experiments[0].runs[0].run_id;
      const metric = path.join(dir, 'badline', exp, runDir, 'metrics', 'val', 'acc');
      fs.appendFileSync(metric, '1700000000000 oops 7\n');
      await refuse('badline', new RegExp(`${runDir}/metrics/val/acc:6: expected \`timestamp value step\``));
    });
  });
});
