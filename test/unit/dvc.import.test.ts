import * as assert from 'assert';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { RunStore } from '../../src/core/store';
import { edd } from './registryFixtures';

// DVCLive is not installed here: the files are written as DVCLive 3 documents them (Live.log_metric writes
// dvclive/plots/metrics/<name>.tsv with a `timestamp step <name>` header, the summary dvclive/metrics.json holds the
// latest value per metric nested by `/` plus `step`, Live.log_param writes dvclive/params.yaml, make_dvcyaml lists them).

const TSV = (name: string, rows: Array<[number, number, string]>) => `timestamp\tstep\t${name}\n${rows.map(([ts, s, v]) => `${ts}\t${s}\t${v}`).join('\n')}\n`;

function write(dir: string, files: Record<string, string>): void {
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text);
  }
}

/** A DVC project as DVC and DVCLive leave it after `dvc exp run`: a stage with params and a metrics file. */
function project(dir: string, lr: number, losses: string[]): void {
  write(dir, {
    'params.yaml': `train:\n  lr: ${lr}\n  epochs: ${losses.length}\nseed: 7\n`,
    'dvc.yaml': 'stages:\n  train:\n    cmd: python train.py\n    params:\n      - train.lr\n      - extra.yaml:\n          - batch\n    metrics:\n      - eval/scores.json:\n          cache: false\nparams:\n  - dvclive/params.yaml\nmetrics:\n  - dvclive/metrics.json\nplots:\n  - dvclive/plots/metrics\n',
    'extra.yaml': 'batch: 64\nunused: 1\n',
    'eval/scores.json': JSON.stringify({ test: { auc: 0.91 }, note: 'text is not a metric' }),
    'dvclive/params.yaml': 'optimizer: adam\n',
    'dvclive/metrics.json': JSON.stringify({ step: losses.length - 1, train: { loss: Number(losses[losses.length - 1]) }, acc: 0.5 }, null, 4),
    'dvclive/plots/metrics/train/loss.tsv': TSV('loss', losses.map((v, i) => [1_700_000_000_000 + i * 1000, i, v])),
    'dvclive/plots/metrics/acc.tsv': `step\tacc\n${losses.map((_, i) => `${i}\t${i / 10}`).join('\n')}\n`,
  });
}

const git = (dir: string, ...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd: dir, encoding: 'utf8' }).trim();

describe('edd import dvc: params.yaml, dvc.yaml metrics and DVCLive output; one run per DVC experiment', function () {
  this.timeout(120_000);
  let dir: string;
  let repo: string;
  let head: string;
  let expCommit: string;
  const store = () => path.join(dir, 'store', 'edd.sqlite');

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edd-dvc-'));
    repo = path.join(dir, 'proj');
    fs.mkdirSync(repo);
    git(repo, 'init', '-q');
    project(repo, 0.1, ['0.9', '0.5', 'nan']);
    git(repo, 'add', '-A');
    git(repo, 'commit', '-qm', 'baseline');
    head = git(repo, 'rev-parse', 'HEAD');
    // an experiment as `dvc exp run` keeps it: a commit on top of the baseline under refs/exps/<sha 2>/<sha 38>/<name>
    project(repo, 0.01, ['0.8', '0.3', '0.2', '0.1']);
    git(repo, 'add', '-A');
    git(repo, 'commit', '-qm', 'exp');
    expCommit = git(repo, 'rev-parse', 'HEAD');
    git(repo, 'update-ref', `refs/exps/${head.slice(0, 2)}/${head.slice(2)}/sunny-lark`, expCommit);
    git(repo, 'reset', '-q', '--hard', head);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('imports the workspace and the experiment with params, every history point and the commit; importing again changes nothing', async () => {
    const r = await edd(['import', 'dvc', repo, '--json', '--store', store()], dir);
    assert.strictEqual(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { experiment: string; runsCreated: number; points: number; runs: Array<{ name: string; id: string; gitCommit: string }> };
    assert.strictEqual(out.experiment, 'proj');
    assert.strictEqual(out.runsCreated, 2);
    const s = await RunStore.open(store(), { readOnly: true });
    try {
      const ws = s.findRunByExternalId(`dvc:${fs.realpathSync(repo)}`) ?? s.findRunByExternalId(`dvc:${repo}`);
      assert.ok(ws, 'the workspace run');
      assert.strictEqual(ws.gitCommit, head);
      assert.deepStrictEqual(ws.params, { train: { lr: 0.1, epochs: 3 }, seed: 7, batch: 64, optimizer: 'adam' }, 'params.yaml whole, only the named key of extra.yaml, DVCLive params');
      const loss = s.getMetrics(ws.id, 'train/loss');
      assert.deepStrictEqual(loss.map(p => [p.step, p.time]), [[0, 1_700_000_000_000], [1, 1_700_000_001_000], [2, 1_700_000_002_000]]);
      assert.deepStrictEqual(loss.slice(0, 2).map(p => p.value), [0.9, 0.5]);
      assert.ok(Number.isNaN(loss[2].value), 'Python\'s nan is kept');
      assert.deepStrictEqual(s.getMetrics(ws.id, 'acc').map(p => [p.step, p.value]), [[0, 0], [1, 0.1], [2, 0.2]], 'the history, not the summary value');
      assert.deepStrictEqual(s.getMetrics(ws.id, 'test/auc').map(p => [p.step, p.value]), [[2, 0.91]], 'a stage metrics file: one point at the summary step');
      assert.deepStrictEqual(s.getMetrics(ws.id, 'note'), []);
      const exp = s.findRunByExternalId('dvc:sunny-lark')!;
      assert.strictEqual(exp.gitCommit, expCommit);
      assert.strictEqual(exp.tags['dvc.baseline'], head);
      assert.strictEqual((exp.params.train as { lr: number }).lr, 0.01);
      assert.deepStrictEqual(s.getMetrics(exp.id, 'train/loss').map(p => p.value), [0.8, 0.3, 0.2, 0.1], 'read from the experiment\'s commit');
    } finally {
      await s.close();
    }
    const again = await edd(['import', 'dvc', repo, '--json', '--store', store()], dir);
    assert.strictEqual(again.code, 0, again.stderr);
    const o = JSON.parse(again.stdout) as { runsCreated: number; runsUpdated: number; points: number };
    assert.deepStrictEqual([o.runsCreated, o.runsUpdated, o.points], [0, 2, 0]);
  });

  it('a DVCLive folder outside git is one run without a commit', async () => {
    const plain = path.join(dir, 'plain');
    write(plain, { 'dvclive/metrics.json': '{"step": 1, "acc": 0.7}', 'dvclive/plots/metrics/acc.tsv': 'step\tacc\n0\t0.6\n1\t0.7\n' });
    const r = await edd(['import', 'dvc', '--json', '--store', store(), '--experiment', 'plain-live'], plain);
    assert.strictEqual(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { runs: Array<{ id: string; gitCommit: string | null }> };
    assert.strictEqual(out.runs.length, 1);
    assert.strictEqual(out.runs[0].gitCommit, null);
  });

  it('bad input: a history row, a params file and a metrics file that do not parse give file:line and exit 2', async () => {
    const bad = path.join(dir, 'bad');
    write(bad, { 'dvclive/metrics.json': '{"acc": 0.7}', 'dvclive/plots/metrics/acc.tsv': 'step\tacc\n0\t0.6\n1\toops\n' });
    let r = await edd(['import', 'dvc', bad, '--store', store()], dir);
    assert.strictEqual(r.code, 2, r.stderr);
    assert.match(r.stderr, /acc\.tsv:3: .*"1\\toops"/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    write(bad, { 'dvclive/plots/metrics/acc.tsv': 'step\tacc\n0\t0.6\n', 'params.yaml': 'a: 1\nb: [\n' });
    r = await edd(['import', 'dvc', bad, '--store', store()], dir);
    assert.strictEqual(r.code, 2);
    assert.match(r.stderr, /params\.yaml:\d+:\d+: .*YAML/);
    write(bad, { 'params.yaml': 'a: 1\n', 'dvclive/metrics.json': '{\n  "acc": 0.7,\n}' });
    r = await edd(['import', 'dvc', bad, '--store', store()], dir);
    assert.strictEqual(r.code, 2);
    assert.match(r.stderr, /metrics\.json:3:\d+: .*JSON/);
    r = await edd(['import', 'dvc', path.join(dir, 'store'), '--store', store()], dir);
    assert.strictEqual(r.code, 2);
    assert.match(r.stderr, /no dvc\.yaml, params\.yaml or dvclive\/metrics\.json/);
  });
});
