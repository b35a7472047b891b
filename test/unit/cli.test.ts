import * as assert from 'assert';
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { Io } from '../../src/cli/io';
import { cliLanguage } from '../../src/cli/locale';
import { main } from '../../src/cli/main';
import { placeProblems, validateExperiment } from '../../src/core/config';

const root = path.resolve(__dirname, '../../..');
const cli = path.join(root, 'dist', 'cli.js');
const fixtures = path.join(root, 'test', 'fixtures', 'configs');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string };

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout split into lines, without the final empty one. */
  lines: string[];
}

/** A temporary workspace: `configs/` (a copy of the fixtures) and `experiments/` (one clean and one warning-only config). */
let work: string;

/** Run the real bundled CLI, `node dist/cli.js …args`, in the temporary workspace. */
function edd(args: string[], env: NodeJS.ProcessEnv = {}, cwd = work): Run {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd, encoding: 'utf8', env: { ...process.env, EDD_LOCALE: 'en', ...env }, timeout: 60_000 });
  assert.ifError(r.error);
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, lines: r.stdout.split('\n').filter(l => l !== '') };
}

/** The text lines the CLI should print for one file, computed in-process from the core. */
function expectedLines(rel: string): string[] {
  const text = fs.readFileSync(path.join(work, rel), 'utf8');
  return placeProblems(text, validateExperiment(text).problems).map(p => `${rel}:${p.line}:${p.column} ${p.severity} ${p.code} ${p.message}`);
}

/** Fill `{0}`, `{1}`… like `t()`. */
const fill = (template: string, ...args: Array<string | number>) => template.replace(/\{(\d+)\}/g, (_, i: string) => String(args[Number(i)]));

const textLine = /^(.+):(\d+):(\d+) (error|warning|info) ([a-z0-9-]+) (.+)$/;

describe('edd CLI (node dist/cli.js)', function () {
  this.timeout(60_000);

  before(() => {
    assert.ok(fs.existsSync(cli), `${cli} is missing: build it with \`node esbuild.mjs\``);
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'edd-cli-'));
    fs.cpSync(fixtures, path.join(work, 'configs'), { recursive: true });
    fs.mkdirSync(path.join(work, 'experiments'));
    fs.copyFileSync(path.join(fixtures, 'valid-mlops-example.yaml'), path.join(work, 'experiments', 'baseline.yaml'));
    fs.copyFileSync(path.join(fixtures, 'learning-rate-large.yaml'), path.join(work, 'experiments', 'high-lr.yml'));
  });

  after(() => {
    fs.rmSync(work, { recursive: true, force: true });
  });

  describe('text output', () => {
    it('prints `file:line:col severity code message` lines and a summary on stderr', () => {
      const r = edd(['validate', 'configs/f1-inconsistent.yaml']);
      assert.deepStrictEqual(r.lines, [
        'configs/f1-inconsistent.yaml:13:15 error f1-inconsistent `f1_score` 0.9 does not agree with precision 0.8 and recall 0.6: 2·P·R/(P+R) = 0.6857 (difference 0.2143, more than 0.005).',
      ]);
      assert.strictEqual(r.stderr, '1 file(s) checked: 1 error(s), 0 warning(s).\n');
    });

    it('prints exactly the problems the core finds, for every fixture', () => {
      for (const name of fs.readdirSync(fixtures).sort()) {
        const rel = `configs/${name}`;
        const r = edd(['validate', rel]);
        assert.deepStrictEqual(r.lines, expectedLines(rel), rel);
        for (const line of r.lines) assert.match(line, textLine);
      }
    });

    it('puts several problems of one file in offset order', () => {
      const r = edd(['validate', 'configs/unknown-key-typo.yaml']);
      assert.deepStrictEqual(r.lines.map(l => textLine.exec(l)!.slice(2, 6)), [
        ['1', '1', 'error', 'missing-key'],
        ['4', '3', 'error', 'unknown-key'],
      ]);
    });
  });

  describe('--json', () => {
    it('prints an array of {file, line, column, endLine, endColumn, severity, code, message} with 1-based positions', () => {
      const r = edd(['validate', '--json', 'configs/wrong-type-number-version.yaml', 'configs/likely-typo.yaml']);
      assert.strictEqual(r.code, 1);
      assert.strictEqual(r.stderr, '', 'no summary in JSON mode');
      const problems = JSON.parse(r.stdout) as Array<Record<string, unknown>>;
      assert.ok(Array.isArray(problems));
      for (const p of problems) assert.deepStrictEqual(Object.keys(p).sort(), ['code', 'column', 'endColumn', 'endLine', 'file', 'line', 'message', 'severity']);
      assert.deepStrictEqual(problems, [
        {
          file: 'configs/likely-typo.yaml', line: 7, column: 5, endLine: 7, endColumn: 17, severity: 'warning', code: 'likely-typo',
          message: 'Parameter `learnig_rate` is not a known parameter; did you mean `learning_rate`?',
        },
        {
          file: 'configs/wrong-type-number-version.yaml', line: 11, column: 21, endLine: 11, endColumn: 25, severity: 'error', code: 'wrong-type',
          message: '`experiment.environment.python_version` must be a string, but it is a number.',
        },
      ]);
      const text = fs.readFileSync(path.join(work, 'configs/wrong-type-number-version.yaml'), 'utf8').split('\n');
      assert.strictEqual(text[10].slice(20, 24), '3.10', 'columns are 1-based, the end is exclusive');
    });

    it('prints [] for a clean file', () => {
      const r = edd(['validate', 'configs/valid-mlops-example.yaml', '--json']);
      assert.strictEqual(r.code, 0);
      assert.deepStrictEqual(JSON.parse(r.stdout), []);
    });

    it('places a multi-line problem with its end line', () => {
      const r = edd(['validate', '--json', 'configs/alias-bomb.yaml']);
      const [p] = JSON.parse(r.stdout) as Array<{ line: number; column: number; endLine: number; endColumn: number; code: string }>;
      assert.deepStrictEqual([p.code, p.line, p.column, p.endLine, p.endColumn], ['alias-limit', 1, 1, 1, 12]);
    });
  });

  describe('exit codes', () => {
    it('exits 1 when a file has an error', () => {
      assert.strictEqual(edd(['validate', 'configs/missing-key.yaml']).code, 1);
      assert.strictEqual(edd(['validate', 'configs/empty.yaml']).code, 1);
    });

    it('exits 0 for a clean file, printing nothing on stdout', () => {
      const r = edd(['validate', 'configs/valid-mlops-example.yaml']);
      assert.strictEqual(r.code, 0);
      assert.strictEqual(r.stdout, '');
      assert.strictEqual(r.stderr, '1 file(s) checked: 0 error(s), 0 warning(s).\n');
    });

    it('exits 0 when there are only warnings', () => {
      const r = edd(['validate', 'configs/learning-rate-large.yaml', 'configs/likely-typo.yaml']);
      assert.strictEqual(r.code, 0);
      assert.deepStrictEqual(r.lines.map(l => textLine.exec(l)![5]), ['learning-rate-large', 'likely-typo']);
      assert.strictEqual(r.stderr, '2 file(s) checked: 0 error(s), 2 warning(s).\n');
    });

    it('applies --f1-tolerance', () => {
      assert.strictEqual(edd(['validate', '--f1-tolerance', '0.25', 'configs/f1-inconsistent.yaml']).code, 0);
      assert.strictEqual(edd(['validate', '--f1-tolerance', '0', 'configs/valid-mlops-example.yaml']).code, 1);
    });

    const usage: Array<[string, string[], RegExp]> = [
      ['an unknown option', ['validate', '--bogus'], /^edd: Unknown option --bogus for `edd validate`$/],
      ['an unknown command', ['frobnicate'], /^edd: Unknown command `frobnicate`\.$/],
      ['a nonexistent path', ['validate', 'configs/nope.yaml'], /^edd: No such file or folder: configs\/nope\.yaml$/],
      ['a glob matching nothing', ['validate', 'nothing/**/*.yaml'], /^edd: No file matches nothing\/\*\*\/\*\.yaml$/],
      ['a bad --f1-tolerance', ['validate', '--f1-tolerance', 'much'], /^edd: --f1-tolerance needs a number ≥ 0$/],
      ['a missing --f1-tolerance value', ['validate', '--f1-tolerance'], /^edd: --f1-tolerance needs a value$/],
    ];
    for (const [what, args, message] of usage) {
      it(`exits 2 on ${what}`, () => {
        const r = edd(args);
        assert.strictEqual(r.code, 2);
        assert.strictEqual(r.stdout, '');
        const [first, second] = r.stderr.trimEnd().split('\n');
        assert.match(first, message);
        assert.strictEqual(second, 'Run `edd --help` for usage.');
      });
    }

    it('exits 2 and prints the usage without a command; 0 for --help', () => {
      const bare = edd([]);
      assert.strictEqual(bare.code, 2);
      assert.match(bare.stdout, /Usage:\n {2}edd validate \[paths or globs…\] \[--json\] \[--f1-tolerance N\]/);
      const help = edd(['--help']);
      assert.strictEqual(help.code, 0);
      assert.strictEqual(help.stdout, bare.stdout);
    });

    it('prints the package version', () => {
      const r = edd(['--version']);
      assert.strictEqual(r.code, 0);
      assert.strictEqual(r.stdout, `${pkg.version}\n`);
    });
  });

  describe('inputs', () => {
    const filesOf = (r: Run) => [...new Set(r.lines.map(l => textLine.exec(l)![1]))].sort();

    it('expands a folder into the experiment configs in it, skipping other YAML', () => {
      const r = edd(['validate', '--json', 'configs']);
      const checked = fs.readdirSync(fixtures).filter(f => !['empty.yaml', 'top-level-list.yaml'].includes(f));
      const reported = new Set((JSON.parse(r.stdout) as Array<{ file: string }>).map(p => p.file));
      // valid-mlops-example.yaml is reported too: duplicate-experiment-id.yaml shares its id.
      assert.deepStrictEqual([...reported].sort(), checked.map(f => `configs/${f}`).sort());
      const text = edd(['validate', 'configs']);
      assert.strictEqual(text.code, 1);
      assert.match(text.stderr, new RegExp(`^${checked.length} file\\(s\\) checked: `));
    });

    it('expands a glob', () => {
      const r = edd(['validate', 'configs/wrong-type-*.yaml']);
      assert.deepStrictEqual(filesOf(r), ['configs/wrong-type-number-version.yaml', 'configs/wrong-type-quoted-number.yaml', 'configs/wrong-type-shell-command.yaml']);
      assert.strictEqual(r.stderr, '3 file(s) checked: 3 error(s), 0 warning(s).\n');
    });

    it('validates **/experiments/**/*.{yaml,yml} without arguments', () => {
      const r = edd(['validate']);
      assert.strictEqual(r.code, 0);
      assert.deepStrictEqual(filesOf(r), ['experiments/high-lr.yml']);
      assert.strictEqual(r.stderr, '2 file(s) checked: 0 error(s), 1 warning(s).\n');
    });

    it('exits 0 with a hint when there is nothing to validate and no arguments', () => {
      const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'edd-empty-'));
      try {
        const r = edd(['validate'], {}, empty);
        assert.strictEqual(r.code, 0);
        assert.match(r.stderr, /^No experiment configs found \(looked for \*\*\/experiments\/\*\*\/\*\.\{yaml,yml\}\)/);
      } finally {
        fs.rmSync(empty, { recursive: true, force: true });
      }
    });

    it('validates a file given twice (as a path and through a glob) once', () => {
      const r = edd(['validate', 'configs/f1-inconsistent.yaml', 'configs/f1-*.yaml', './configs/f1-inconsistent.yaml']);
      assert.strictEqual(r.lines.length, 1);
      assert.match(r.stderr, /^1 file\(s\) checked/);
    });

    it('reports an experiment id used by two files given on the command line, in both', () => {
      const r = edd(['validate', 'configs/valid-mlops-example.yaml', 'configs/duplicate-experiment-id.yaml']);
      assert.strictEqual(r.code, 1);
      assert.deepStrictEqual(r.lines, [
        'configs/duplicate-experiment-id.yaml:2:7 error duplicate-experiment-id Experiment id `exp_20250101_001` is also used in configs/valid-mlops-example.yaml:2. Each experiment needs its own id.',
        'configs/valid-mlops-example.yaml:2:7 error duplicate-experiment-id Experiment id `exp_20250101_001` is also used in configs/duplicate-experiment-id.yaml:2. Each experiment needs its own id.',
      ]);
    });
  });

  describe('locale', () => {
    const summary = '{0} file(s) checked: {1} error(s), {2} warning(s).';
    const f1 = '`f1_score` {0} does not agree with precision {1} and recall {2}: 2·P·R/(P+R) = {3} (difference {4}, more than {5}).';

    it('falls back to English for a language without a bundle', () => {
      const r = edd(['validate', 'configs/f1-inconsistent.yaml'], { EDD_LOCALE: 'xx' });
      assert.strictEqual(r.code, 1);
      assert.deepStrictEqual(r.lines, expectedLines('configs/f1-inconsistent.yaml'));
      assert.strictEqual(r.stderr, fill(summary, 1, 1, 0) + '\n');
    });

    it('speaks Korean with EDD_LOCALE=ko, from l10n/bundle.l10n.ko.json when it exists', () => {
      const file = path.join(root, 'l10n', 'bundle.l10n.ko.json');
      const bundle = fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, string>) : {};
      const r = edd(['validate', 'configs/f1-inconsistent.yaml'], { EDD_LOCALE: 'ko' });
      assert.strictEqual(r.code, 1);
      assert.strictEqual(r.stderr, fill(bundle[summary] ?? summary, 1, 1, 0) + '\n');
      assert.deepStrictEqual(r.lines, [`configs/f1-inconsistent.yaml:13:15 error f1-inconsistent ${fill(bundle[f1] ?? f1, 0.9, 0.8, 0.6, 0.6857, '0.2143', 0.005)}`]);
    });

    it('reads the language from EDD_LOCALE, then LC_ALL, LC_MESSAGES and LANG', () => {
      assert.strictEqual(cliLanguage({}), 'en');
      assert.strictEqual(cliLanguage({ LANG: 'ko_KR.UTF-8' }), 'ko');
      assert.strictEqual(cliLanguage({ LANG: 'ko_KR.UTF-8', LC_MESSAGES: 'fr_FR' }), 'fr');
      assert.strictEqual(cliLanguage({ LANG: 'ko', LC_MESSAGES: 'fr', LC_ALL: 'de_DE@euro' }), 'de');
      assert.strictEqual(cliLanguage({ LANG: 'ko', LC_ALL: 'de', EDD_LOCALE: 'pt-BR' }), 'pt');
      assert.strictEqual(cliLanguage({ LANG: 'C.UTF-8' }), 'en');
      assert.strictEqual(cliLanguage({ LC_ALL: 'POSIX' }), 'en');
      assert.strictEqual(cliLanguage({ EDD_LOCALE: '', LANG: 'KO_kr' }), 'ko');
    });
  });
});

describe('main() in-process', () => {
  let work: string;

  /** An Io that records what the command prints. */
  function capture(cwd = work): Io & { outLines: string[]; errLines: string[] } {
    const outLines: string[] = [];
    const errLines: string[] = [];
    return { cwd, outLines, errLines, out: l => outLines.push(l), err: l => errLines.push(l) };
  }

  before(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'edd-main-'));
    fs.cpSync(fixtures, path.join(work, 'configs'), { recursive: true });
  });

  after(() => {
    fs.rmSync(work, { recursive: true, force: true });
  });

  it('prints the usage on stdout and returns 2 without a command', async () => {
    const io = capture();
    assert.strictEqual(await main([], io), 2);
    assert.match(io.outLines.join('\n'), /^edd — Experiment-Driven Development\n\nUsage:\n/);
    assert.deepStrictEqual(io.errLines, []);
  });

  it('returns 0 for --help, -h and help', async () => {
    for (const arg of ['--help', '-h', 'help']) {
      const io = capture();
      assert.strictEqual(await main([arg], io), 0, arg);
      assert.match(io.outLines[0], /^edd — /);
    }
  });

  it('reports an unknown command as a usage error (2) on stderr', async () => {
    const io = capture();
    assert.strictEqual(await main(['frobnicate'], io), 2);
    assert.deepStrictEqual(io.errLines, ['edd: Unknown command `frobnicate`.', 'Run `edd --help` for usage.']);
    assert.deepStrictEqual(io.outLines, []);
  });

  const usage: Array<[string[], string]> = [
    [['validate', '--nope'], 'edd: Unknown option --nope for `edd validate`'],
    [['validate', '-j'], 'edd: Unknown option -j for `edd validate`'],
    [['validate', '--f1-tolerance=-1'], 'edd: --f1-tolerance needs a number ≥ 0'],
    [['validate', '--f1-tolerance', '-1'], 'edd: --f1-tolerance needs a value; to give one that starts with "-", write --f1-tolerance=VALUE'],
    [['validate', '--f1-tolerance'], 'edd: --f1-tolerance needs a value'],
    [['validate', 'missing.yaml'], 'edd: No such file or folder: missing.yaml'],
    [['validate', 'configs/*.toml'], 'edd: No file matches configs/*.toml'],
  ];
  for (const [argv, message] of usage) {
    it(`returns 2 for \`edd ${argv.join(' ')}\``, async () => {
      const io = capture();
      assert.strictEqual(await main(argv, io), 2);
      assert.deepStrictEqual(io.errLines, [message, 'Run `edd --help` for usage.']);
      assert.deepStrictEqual(io.outLines, []);
    });
  }

  it('prints a development version when not bundled', async () => {
    const io = capture();
    assert.strictEqual(await main(['--version'], io), 0);
    assert.deepStrictEqual(io.outLines, ['0.0.0-dev']);
  });

  it('validates relative to io.cwd, like the bundled CLI', async () => {
    const io = capture();
    assert.strictEqual(await main(['validate', 'configs/not-positive.yaml'], io), 1);
    assert.deepStrictEqual(io.outLines, [
      'configs/not-positive.yaml:8:13 error not-positive `epochs` must be a positive number (it is 0).',
      'configs/not-positive.yaml:10:17 error not-positive `data.train_size` must be a positive number of examples (it is -100).',
    ]);
    assert.deepStrictEqual(io.errLines, ['1 file(s) checked: 2 error(s), 0 warning(s).']);
  });
});

describe('edd CLI: a reader that goes away (edd runs | head)', function () {
  this.timeout(60_000);

  /** Runs the CLI with its stdout closed before it writes anything; resolves with the exit code and stderr. */
  function withClosedStdout(args: string[], cwd: string): Promise<{ code: number | null; stderr: string }> {
    return new Promise(resolve => {
      const child = spawn(process.execPath, [cli, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, EDD_LOCALE: 'en' } });
      child.stdout.destroy();
      let stderr = '';
      child.stderr.on('data', d => { stderr += d; });
      child.on('exit', code => resolve({ code, stderr }));
    });
  }

  it('--help into a closed pipe: exit 0, no EPIPE stack', async () => {
    const r = await withClosedStdout(['--help'], os.tmpdir());
    assert.strictEqual(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /EPIPE|at .*\(node:/);
  });

  it('edd run into a closed pipe still waits for its training and records the run finished', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edd-epipe-'));
    try {
      fs.writeFileSync(path.join(dir, 'chatty.yaml'), [
        'experiment:',
        '  id: "exp_20250101_001"',
        '  name: chatty',
        '  hypothesis: output into a closed pipe loses nothing',
        '  parameters:',
        '    model_type: none',
        '  run:',
        `    command: [${JSON.stringify(process.execPath)}, "-e", "for (let i = 0; i < 2000; i++) console.log('line ' + i); console.log('EDD ' + JSON.stringify({ metric: 'acc', value: 0.5, step: 1 }))"]`,
        '',
      ].join('\n'));
      const r = await withClosedStdout(['run', 'chatty.yaml'], dir);
      assert.strictEqual(r.code, 0, r.stderr);
      assert.doesNotMatch(r.stderr, /EPIPE|at .*\(node:/);
      const runs = JSON.parse(spawnSync(process.execPath, [cli, 'runs', '--json'], { cwd: dir, encoding: 'utf8' }).stdout) as Array<{ status: string; final_metrics: Record<string, number> }>;
      assert.deepStrictEqual(runs.map(x => [x.status, x.final_metrics]), [['finished', { acc: 0.5 }]]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('edd run of a config whose run.cwd does not exist: exit 2 naming the config and the folder, no stack, the run recorded failed', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edd-cwd-'));
    try {
      fs.mkdirSync(path.join(dir, 'experiments'));
      fs.writeFileSync(path.join(dir, 'experiments', 'nowhere.yaml'), [
        'experiment:', '  id: "exp_20250101_001"', '  name: nowhere', '  hypothesis: h', '  parameters:', '    model_type: none',
        '  run:', `    command: [${JSON.stringify(process.execPath)}, "-e", "0"]`, '    cwd: no-such-folder', '',
      ].join('\n'));
      const r = edd(['run', 'experiments/nowhere.yaml'], {}, dir);
      assert.strictEqual(r.code, 2, r.stderr);
      assert.match(r.stderr, /^edd: experiments\/nowhere\.yaml cannot be run: working directory "no-such-folder" does not exist$/m);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
      const runs = JSON.parse(edd(['runs', '--json'], {}, dir).stdout) as Array<{ status: string }>;
      assert.deepStrictEqual(runs.map(x => x.status), ['failed']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
