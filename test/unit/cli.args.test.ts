import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseCommandArgs } from '../../src/cli/args';
import { UsageError } from '../../src/cli/io';
import { RunStore } from '../../src/core/store';

const options = {
  'json': { type: 'boolean' },
  'store': { type: 'string' },
  'reason': { type: 'string' },
  'goal': { type: 'string', multiple: true },
  'no-latency': { type: 'boolean' },
} as const;

const parse = (args: string[]) => parseCommandArgs('demo', args, options);

/** The usage error `args` gets, as its message. */
function refused(args: string[]): string {
  try {
    parse(args);
  } catch (e) {
    assert.ok(e instanceof UsageError, `${args.join(' ')}: ${String(e)}`);
    return e.message;
  }
  assert.fail(`${args.join(' ')} was accepted`);
}

describe('parseCommandArgs: the rules every command shares', () => {
  it('takes --opt value and --opt=value alike, booleans, and positionals anywhere', () => {
    const a = parse(['one', '--store', 's.sqlite', '--json', 'two', '--reason=a = b']);
    assert.deepStrictEqual([a.values.store, a.values.json, a.values.reason, a.positionals], ['s.sqlite', true, 'a = b', ['one', 'two']]);
    const b = parse(['--store=s.sqlite', '--no-latency']);
    assert.deepStrictEqual([b.values.store, b.values['no-latency'], b.values.json], ['s.sqlite', true, undefined]);
  });

  it('ends the options at --: what follows is positional, even if it looks like an option', () => {
    const a = parse(['--json', '--', '--store', '-x', '--json']);
    assert.deepStrictEqual([a.values.json, a.values.store, a.positionals], [true, undefined, ['--store', '-x', '--json']]);
  });

  it('refuses an option given twice, unless it is declared multiple', () => {
    assert.strictEqual(refused(['--json', '--json']), '--json is given more than once for `edd demo`; give it once.');
    assert.strictEqual(refused(['--store', 'a', '--store=b']), '--store is given more than once for `edd demo`; give it once.');
    assert.deepStrictEqual(parse(['--goal', 'a=min', '--goal=b=max']).values.goal, ['a=min', 'b=max']);
  });

  it('refuses an unknown option, suggesting the closest known one', () => {
    assert.strictEqual(refused(['--jsn']), 'Unknown option --jsn for `edd demo`; did you mean --json?');
    assert.strictEqual(refused(['--no-latncy']), 'Unknown option --no-latncy for `edd demo`; did you mean --no-latency?');
    assert.strictEqual(refused(['--frobnicate']), 'Unknown option --frobnicate for `edd demo`');
    assert.strictEqual(refused(['-j']), 'Unknown option -j for `edd demo`');
    assert.strictEqual(refused(['--bogus=1']), 'Unknown option --bogus for `edd demo`');
  });

  it('refuses a missing value, a value on a flag, and a value that looks like an option unless attached with =', () => {
    assert.strictEqual(refused(['--store']), '--store needs a value');
    assert.strictEqual(refused(['--json=yes']), '--json takes no value');
    assert.strictEqual(refused(['--reason', '--json']), '--reason needs a value; to give one that starts with "-", write --reason=VALUE');
    assert.strictEqual(refused(['--reason', '-1']), '--reason needs a value; to give one that starts with "-", write --reason=VALUE');
    assert.deepStrictEqual({ ...parse(['--reason=--json is wrong', '--json']).values }, { reason: '--json is wrong', json: true });
  });

  it('shows a hostile option name inert in its message', () => {
    assert.strictEqual(refused(['--a\x1b[2J\nb']), 'Unknown option --a\\x1b[2J\\nb for `edd demo`');
  });
});

describe('every command parses its arguments with the same rules (node dist/cli.js)', function () {
  this.timeout(120_000);
  const root = path.resolve(__dirname, '../../..');
  const cli = path.join(root, 'dist', 'cli.js');
  let dir: string;

  function edd(args: string[]): { code: number | null; stdout: string; stderr: string } {
    const r = spawnSync(process.execPath, [cli, ...args], { cwd: dir, encoding: 'utf8', env: { ...process.env, EDD_LOCALE: 'en', EDD_USER: 'Tester' }, timeout: 60_000 });
    assert.ifError(r.error);
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edd-args-'));
    fs.mkdirSync(path.join(dir, 'other'));
    const store = await RunStore.open(path.join(dir, 'other', 'runs.sqlite'));
    for (const exp of ['exp_a', 'exp_b']) {
      for (const v of [0.8, 0.81]) {
        const r = store.createRun({ experimentId: exp, status: 'finished' });
        store.addMetrics([{ runId: r.id, key: 'val_accuracy', step: 1, value: exp === 'exp_a' ? v : v + 0.1 }]);
      }
    }
    await store.close();
    fs.writeFileSync(path.join(dir, '--odd.yaml'), 'experiment:\n  id: "x"\n');
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const commands = ['validate', 'run', 'runs', 'compare', 'gate', 'models', 'register', 'promote', 'alias', 'rollback', 'audit', 'shadow'];

  for (const command of commands) {
    it(`edd ${command}: a repeated --json and an unknown option exit 2 with the usage hint`, () => {
      for (const [args, message] of [
        [[command, '--json', '--json'], `edd: --json is given more than once for \`edd ${command}\`; give it once.`],
        [[command, '--jsno'], `edd: Unknown option --jsno for \`edd ${command}\`; did you mean --json?`],
      ] as const) {
        const r = edd([...args]);
        assert.strictEqual(r.code, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
        assert.strictEqual(r.stdout, '');
        assert.strictEqual(r.stderr, `${message}\nRun \`edd --help\` for usage.\n`);
      }
    });
  }

  it('--store=FILE and --store FILE read the same store; -- passes a file named like an option', () => {
    const a = edd(['runs', '--json', '--store=other/runs.sqlite']);
    const b = edd(['runs', '--store', 'other/runs.sqlite', '--json']);
    assert.strictEqual(a.code, 0, a.stderr);
    assert.strictEqual(JSON.parse(a.stdout).length, 4);
    assert.deepStrictEqual(JSON.parse(a.stdout), JSON.parse(b.stdout));
    const limited = edd(['runs', '--json', '--store=other/runs.sqlite', '--limit=1']);
    assert.strictEqual(JSON.parse(limited.stdout).length, 1);
    const compared = edd(['compare', '--store=other/runs.sqlite', 'exp_a', 'exp_b', '--json', '--no-latency', '--goal=val_accuracy=min', '--goal', 'other=max']);
    assert.strictEqual(compared.code, 0, compared.stderr);
    assert.strictEqual(JSON.parse(compared.stdout).significance[0].outcome, 'worse', '--goal, repeatable, was applied');
    const odd = edd(['validate', '--json', '--', '--odd.yaml']);
    assert.strictEqual(odd.code, 1, odd.stderr);
    assert.ok((JSON.parse(odd.stdout) as Array<{ file: string }>).every(p => p.file === '--odd.yaml'));
  });

  it('a value that starts with "-" must be attached with =', () => {
    const r = edd(['validate', '--f1-tolerance', '-1']);
    assert.strictEqual(r.code, 2);
    assert.match(r.stderr, /^edd: --f1-tolerance needs a value; to give one that starts with "-", write --f1-tolerance=VALUE\n/);
    const attached = edd(['validate', '--f1-tolerance=-1']);
    assert.match(attached.stderr, /^edd: --f1-tolerance needs a number ≥ 0\n/);
  });
});
