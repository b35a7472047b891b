import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { RunStore } from '../../src/core/store';

// Every command of the real CLI, fed hostile strings through the store, the command line, a config file, a policy
// and a training script: what it prints must hold no raw control character (a terminal would obey it) and one
// record must stay one line.

const root = path.resolve(__dirname, '../../..');
const cli = path.join(root, 'dist', 'cli.js');
const FIXTURE_MODEL = path.join(root, 'test/fixtures/workspace/models/penguins.onnx');

const CLEAR = '\x1b[2J';
const TITLE = '\x1b]0;pwned\x07';
const FORGED = '\n2026-01-01 00:00:00  penguins  promote v9 none → production  by admin — forged audit line';
const HTML = '<img src=x onerror=alert(1)>';
/** Clear the screen, set the window title, forge a line, carriage return, bidi override, C1 CSI, HTML and a pipe. */
const HOSTILE = `x${CLEAR}${TITLE}${FORGED}\r\u202e\u009b31m${HTML}|y`;

/** A control character a terminal or a Markdown reader would act on; the line feed is allowed between records. */
// eslint-disable-next-line no-control-regex -- finding these characters is the point
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

interface Result { code: number | null; stdout: string; stderr: string; out: string[]; err: string[] }

function edd(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Result {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd, encoding: 'utf8', env: { ...process.env, EDD_LOCALE: 'en', EDD_USER: 'Tester', ...env }, timeout: 60_000 });
  assert.ifError(r.error);
  const lines = (s: string) => s.split('\n').filter(l => l !== '');
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, out: lines(r.stdout), err: lines(r.stderr) };
}

/** No raw control character in either stream, and no line that starts with the forged audit text. */
function assertInert(r: Result, what: string): void {
  for (const [name, text] of [['stdout', r.stdout], ['stderr', r.stderr]] as const) {
    const m = RAW_CONTROL.exec(text);
    assert.ok(!m, `${what}: raw U+${m?.[0].charCodeAt(0).toString(16).padStart(4, '0')} on ${name}:\n${JSON.stringify(text)}`);
    assert.ok(!/^2026-01-01/m.test(text), `${what}: the forged line starts a line on ${name}:\n${text}`);
  }
}

/** The shown form of HOSTILE: every control character escaped, everything else as it was. */
const SHOWN = 'x\\x1b[2J\\x1b]0;pwned\\x07\\n2026-01-01 00:00:00  penguins  promote v9 none → production  by admin — forged audit line\\r\\u202e\\x9b31m<img src=x onerror=alert(1)>|y';

describe('hostile strings are printed inert by every command (node dist/cli.js)', function () {
  this.timeout(120_000);
  let dir: string;
  const hostileExp = `exp${HOSTILE}`;
  const hostileMetric = `acc${HOSTILE}`;
  let goodRun = '';

  before(async () => {
    assert.ok(fs.existsSync(cli), `${cli} is missing: build it with \`node esbuild.mjs\``);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edd-inert-'));
    fs.cpSync(path.join(root, 'examples/penguins/data'), path.join(dir, 'data'), { recursive: true });
    const store = await RunStore.open(RunStore.defaultPath(dir));
    for (const [exp, values] of [[hostileExp, [0.8, 0.82, 0.81]], ['clean', [0.9, 0.91, 0.92]]] as const) {
      values.forEach((v, i) => {
        const r = store.createRun({
          experimentId: exp, status: 'finished', id: exp === hostileExp && i === 0 ? `${TITLE}|${HTML}` : undefined,
          params: { [`lr${HOSTILE}`]: `${i}${HOSTILE}`, seed: i }, error: exp === hostileExp ? HOSTILE : null,
        });
        store.addMetrics([{ runId: r.id, key: hostileMetric, step: 1, value: v }, { runId: r.id, key: 'val_accuracy', step: 1, value: v }]);
        if (exp === 'clean' && i === 0) {
          fs.mkdirSync(path.join(dir, 'runs', r.id), { recursive: true });
          fs.copyFileSync(FIXTURE_MODEL, path.join(dir, 'runs', r.id, 'model.onnx'));
          store.addArtifact({ runId: r.id, path: `runs/${r.id}/model.onnx`, kind: 'model', sha256: null, size: null });
          goodRun = r.id;
        }
      });
    }
    await store.close();
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('edd runs: one line per run, ids and metric names escaped', () => {
    const r = edd(['runs'], dir);
    assert.strictEqual(r.code, 0, r.stderr);
    assertInert(r, 'runs');
    assert.strictEqual(r.out.length, 6, r.stdout);
    assert.ok(r.stdout.includes(`acc${SHOWN}=`), r.stdout);
    const json = JSON.parse(edd(['runs', '--json'], dir).stdout) as Array<{ experiment_id: string; final_metrics: Record<string, number> }>;
    assert.ok(json.some(x => x.experiment_id === hostileExp && hostileMetric in x.final_metrics), '--json keeps the strings exactly');
  });

  it('edd compare (text, --markdown, --conclude): one table row per run, metric and param; HTML and pipes escaped', () => {
    for (const args of [[], ['--markdown'], ['--conclude']]) {
      const r = edd(['compare', hostileExp, 'clean', '--no-latency', ...args], dir);
      assert.strictEqual(r.code, 0, r.stderr);
      assertInert(r, `compare ${args.join(' ')}`);
      assert.ok(!r.stdout.includes('<img'), 'HTML is escaped');
      assert.ok(r.stdout.includes('&lt;img src=x onerror=alert(1)&gt;'), r.stdout);
      const tables = r.stdout.split(/\n## /).map(section => section.split('\n').filter(l => l.startsWith('|')));
      for (const rows of tables) {
        if (!rows.length) continue;
        // Every row has as many unescaped pipes as the header: a user's `|` did not split a cell.
        const pipes = (l: string) => (l.match(/(?<!\\)\|/g) ?? []).length;
        for (const row of rows) assert.strictEqual(pipes(row), pipes(rows[0]), `${row}\nin\n${rows.join('\n')}`);
      }
      const runsTable = tables[0];
      assert.strictEqual(runsTable.length, 2 + 6, runsTable.join('\n'));
    }
    const json = JSON.parse(edd(['compare', hostileExp, 'clean', '--no-latency', '--json'], dir).stdout) as { metrics: Array<{ key: string }> };
    assert.ok(json.metrics.some(m => m.key === hostileMetric), '--json keeps the metric name exactly');
  });

  it('register, promote, alias, models, audit: a hostile --reason and --user cannot forge an audit line', () => {
    const reg = edd(['register', goodRun, '--model', 'penguins', `--reason=${HOSTILE}`, '--user', HOSTILE], dir);
    assert.strictEqual(reg.code, 0, reg.stderr);
    assertInert(reg, 'register');
    const promote = edd(['promote', 'penguins@1', '--to', 'staging', '--reason', HOSTILE, '--user', HOSTILE], dir);
    assert.strictEqual(promote.code, 0, promote.stderr);
    assertInert(promote, 'promote');
    assert.ok(promote.stdout.includes(`by ${SHOWN})`), promote.stdout);
    const alias = edd(['alias', 'penguins@1', 'champion', '--reason', HOSTILE, '--user', HOSTILE], dir);
    assert.strictEqual(alias.code, 0, alias.stderr);
    assertInert(alias, 'alias');

    const audit = edd(['audit'], dir);
    assert.strictEqual(audit.code, 0, audit.stderr);
    assertInert(audit, 'audit');
    assert.strictEqual(audit.out.length, 3, audit.stdout);
    for (const line of audit.out) {
      assert.match(line, /^#\d+ \d{4}-\d\d-\d\d /);
      assert.ok(line.endsWith(`by ${SHOWN} — ${SHOWN}`), line);
    }
    const log = JSON.parse(edd(['audit', '--json'], dir).stdout) as Array<{ actor: string; reason: string }>;
    assert.deepStrictEqual(log.map(e => [e.actor, e.reason]), [[HOSTILE, HOSTILE], [HOSTILE, HOSTILE], [HOSTILE, HOSTILE]], '--json keeps them exactly');

    const models = edd(['models'], dir);
    assert.strictEqual(models.code, 0, models.stderr);
    assertInert(models, 'models');
    assert.strictEqual(models.out.length, 2, models.stdout);

    const rollback = edd(['rollback', 'penguins', '--reason', HOSTILE], dir);
    assert.strictEqual(rollback.code, 2);
    assertInert(rollback, 'rollback');
  });

  it('error messages that quote the user\'s arguments are inert too', () => {
    for (const args of [
      ['promote', `penguins@${HOSTILE}`, '--to', 'staging'],
      ['promote', 'penguins@1', '--to', HOSTILE],
      ['runs', `--${HOSTILE}`],
      ['runs', HOSTILE],
      ['compare', HOSTILE, 'clean'],
      ['validate', HOSTILE],
      [HOSTILE],
    ]) {
      const r = edd(args, dir);
      assert.strictEqual(r.code, 2, `${JSON.stringify(args)}: ${r.stderr}`);
      assertInert(r, JSON.stringify(args));
      // One message line (a refused registry change has no usage hint after it).
      assert.match(r.err[0], /^edd: /);
      assert.deepStrictEqual(r.err.slice(1), r.err.length > 1 ? ['Run `edd --help` for usage.'] : [], r.stderr);
    }
  });

  it('edd validate: one line per problem, quoted values and the file name escaped', () => {
    const name = `evil${CLEAR}\n<b>.yaml`;
    fs.mkdirSync(path.join(dir, 'experiments'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'experiments', name), `experiment:
  id: "exp_20250101_001"
  name: "n"
  hypothesis: "h"
  "nmae\\e]0;t\\a\\nforged": 1
  parameters:
    learnig_rate: 0.1
`);
    const json = JSON.parse(edd(['validate', '--json', 'experiments'], dir).stdout) as Array<{ file: string; message: string }>;
    assert.ok(json.length >= 2 && json.every(p => p.file === `experiments/${name}`), JSON.stringify(json));
    const r = edd(['validate', 'experiments'], dir);
    assertInert(r, 'validate');
    assert.strictEqual(r.out.length, json.length, r.stdout);
    for (const line of r.out) assert.ok(line.startsWith('experiments/evil\\x1b[2J\\n<b>.yaml:'), line);
    assert.ok(r.stdout.includes('nmae\\x1b]0;t\\x07\\nforged'), r.stdout);
  });

  it('edd gate: the text report and the JUnit XML show a hostile rule inert; the XML stays well-formed', () => {
    fs.copyFileSync(FIXTURE_MODEL, path.join(dir, 'model.onnx'));
    fs.writeFileSync(path.join(dir, 'evil.policy.yaml'), `data:
  eval: data/eval.csv
  label: species
  features: [bill_length_mm, bill_depth_mm, flipper_length_mm, body_mass_g]
checks:
  - rule: { when: "island == 'Torgersen'", expect: "pred == 'x\\e[2J\\e]0;t\\a\\n<b>&|\\u202e\\x9b'" }
  - metric: { name: accuracy, min: 0.5 }
`);
    const r = edd(['gate', 'evil.policy.yaml', '--onnx', 'model.onnx', '--junit', 'evil.xml', '--no-record'], dir);
    assert.strictEqual(r.code, 1, r.stdout + r.stderr);
    assertInert(r, 'gate');
    assert.strictEqual(r.out.length, 3, 'two checks and the verdict');
    const xml = fs.readFileSync(path.join(dir, 'evil.xml'), 'utf8');
    // XML 1.0 Char: tab, LF, CR, U+0020–U+D7FF, U+E000–U+FFFD and astral characters; nothing else, not even as &#…;.
    const bad = /[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]|&#x?0*(?:[0-8bcef]|1[0-9a-f]|[12][0-9]|3[01]);/iu.exec(xml);
    assert.ok(!bad, `not an XML 1.0 character: ${JSON.stringify(bad?.[0])}`);
    assert.ok(xml.includes('x\\x1b[2J\\x1b]0;t\\x07\\n&lt;b&gt;&amp;|\\u202e\\x9b'), 'the control characters are shown, not dropped');
    assert.strictEqual((xml.match(/<testcase /g) ?? []).length, 2);
    if (spawnSync('python3', ['--version']).status === 0) {
      const parsed = spawnSync('python3', ['-c', 'import sys, xml.dom.minidom as m; m.parse(sys.argv[1])', path.join(dir, 'evil.xml')], { encoding: 'utf8' });
      assert.strictEqual(parsed.status, 0, parsed.stderr);
    }
  });

  it('edd run: EDD\'s own lines (run id, metric names) are inert; the training\'s log passes through raw', () => {
    fs.mkdirSync(path.join(dir, 'scripts'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'scripts', 'evil.js'), `process.stdout.write('log line with a raw \\x1b[1m escape\\n');
process.stdout.write('EDD ' + JSON.stringify({ metric: ${JSON.stringify(hostileMetric)}, value: 0.5 }) + '\\n');
`);
    fs.writeFileSync(path.join(dir, 'evil-run.yaml'), `experiment:
  id: "exp_20250101_009"
  name: "evil"
  hypothesis: "h"
  parameters:
    model_type: "mlp"
    epochs: 1
  run:
    command: [node, scripts/evil.js]
    timeout: 60
`);
    const r = edd(['run', 'evil-run.yaml'], dir);
    assert.strictEqual(r.code, 0, r.stderr);
    assert.ok(!RAW_CONTROL.test(r.stdout), JSON.stringify(r.stdout));
    assert.deepStrictEqual(r.out.slice(1), [`  acc${SHOWN} = 0.5000`]);
    assert.ok(r.stderr.includes('raw \x1b[1m escape'), 'the training\'s own log is passed through as it is');

    // A config with errors is refused with one line per problem, the quoted key inert inside its line.
    fs.writeFileSync(path.join(dir, 'evil-bad.yaml'), fs.readFileSync(path.join(dir, 'evil-run.yaml'), 'utf8').replace('  parameters:', '  "nmae\\e]0;t\\a\\nforged": 1\n  parameters:'));
    const bad = edd(['run', 'evil-bad.yaml'], dir);
    assert.strictEqual(bad.code, 2, bad.stderr);
    assertInert(bad, 'run (refused)');
    assert.match(bad.err[0], /^edd: evil-bad\.yaml has 1 error\(s\)/);
    assert.deepStrictEqual(bad.err.slice(2), ['Run `edd --help` for usage.'], bad.stderr);
    assert.ok(bad.err[1].startsWith('  ') && bad.err[1].includes('nmae\\x1b]0;t\\x07\\nforged'), bad.stderr);
  });
});
