import { inert, inertLines } from '../core/inert';
import { t } from '../core/l10n';
import { UsageError, type Io } from './io';

/** A command: its arguments (after the command name) and the streams; resolves to the exit code. */
export type Command = (args: readonly string[], io: Io) => Promise<number>;

declare const EDD_VERSION: string | undefined;

function help(): string {
  return [
    t('edd — Experiment-Driven Development'),
    '',
    t('Usage:'),
    '  edd validate [paths or globs…] [--json] [--f1-tolerance N]',
    t('      Check experiment configs; prints file:line:col severity code message.'),
    t('      Exit 1 if any error, 0 otherwise, 2 for usage errors.'),
    '  edd run <config.yaml> [--json] [--quiet] [--store FILE] [--on ray --address URL] [--tracking-uri URL]',
    t('      Run the config\'s training command and record the run; exit code = the training\'s.'),
    '  edd run --reproduce RUN_ID [--json]',
    t('      Re-run a recorded run from its config snapshot and show what differs.'),
    '  edd sweep <config.yaml> [--parallel N] [--dry-run] [--resume SWEEP_ID] [--json] [--store FILE] [--on ray --address URL]',
    t('      Run every trial of the config\'s `sweep:` block (each a run tagged with the sweep id); --dry-run lists them.'),
    '  edd runs [--experiment ID] [--limit N] [--json] [--store FILE]',
    t('      List recorded runs, newest first.'),
    '  edd compare <run or experiment ids…> [--baseline ID] [--json | --markdown] [--goal METRIC=min|max] [--no-latency] [--conclude] [--open]',
    t('      Compare runs (or experiments, whose runs are seeds) with significance tests and costs.'),
    '  edd compare --sweep SWEEP_ID [--group-by PARAM] [--metric M --goal min|max] [--json]',
    t('      A sweep\'s best trial, its runs grouped by a parameter (Welch\'s t, Holm-adjusted), and parameter importance.'),
    '  edd gate <policy.yaml> [--onnx FILE | --run ID | --experiment ID | --model NAME@VERSION] [--predictions FILE] [--production FILE] [--json] [--junit FILE] [--no-record]',
    t('      Run a promotion policy\'s checks on the model; exit 0 pass, 1 fail, 2 errors in the policy or inputs.'),
    '  edd models [NAME] [--json]',
    t('      List registered models and their versions: stage, aliases, gate status, metrics.'),
    '  edd register <run-id> | --experiment ID --model NAME [--reason TEXT]',
    t('      Register a finished run\'s ONNX model as a new version (the file is copied into .edd/models).'),
    '  edd promote NAME@VERSION --to staging|production|archived [--alias A] [--reason TEXT] [--force] [--user NAME]',
    t('      Promote a version; refused (exit 1) when its latest gate failed, unless --force with a --reason.'),
    t('      Also exit 1 when the audit log fails verification, or another promotion to production was saved first.'),
    '  edd alias NAME@VERSION ALIAS [--reason TEXT]',
    t('      Point an alias (champion, challenger, …) at a version.'),
    '  edd rollback NAME [--reason TEXT]',
    t('      Restore the previous production version.'),
    '  edd audit [NAME] [--json]',
    t('      The append-only history of registry changes: who, when, what, why.'),
    '  edd audit --verify [--json]',
    t('      Check the audit log\'s hash chain and that every stage and alias agrees with it; exit 1 naming the first bad entry.'),
    '  edd shadow NAME@VERSION [--policy FILE] [--metric accuracy|f1] [--json]',
    t('      Run the version and production on the policy\'s evaluation data: agreement, paired test, disagreeing rows.'),
    '  edd serve <service.yaml> [--port N] [--host 127.0.0.1] [--store FILE] [--stop-with-stdin]',
    t('      Serve the model version a service spec names over HTTP (blue-green, follows the registry); Ctrl+C stops.'),
    '  edd monitor <service.yaml> [--since 24h] [--window 1h] [--json] [--check] [--new-experiment OUT.yaml]',
    t('      Monitor a served model from its prediction log: application, model, bias, business and infrastructure per window; --check exits 1 on an alert.'),
    '  edd monitor <service.yaml> --suggest-thresholds [--metric M] [--sensitive COLUMN] [--apply]',
    t('      Per-group decision thresholds that bring the bias metric under its bound at the least cost in accuracy.'),
    '  edd canary start NAME@VERSION [--percent 10] [--step 10] [--interval 60s] [--mode canary|shadow] [--sticky-key COLUMN]',
    t('      Send a share of the running server\'s requests to another version; guards promote it step by step or roll it back.'),
    '  edd canary status|stop NAME',
    t('      The canary\'s share, its last guard numbers and decisions; or stop it (share 0 at once).'),
    '  edd codegen python|typescript [configs, folders or globs…] [--out FILE] [--check]',
    t('      Write the typed config (edd_config.py / eddConfig.ts) from the schema and the configs\' hyperparameters.'),
    '  edd import mlflow <mlruns | mlflow.db | sqlite:///path> [--copy-artifacts] [--json] [--store FILE]',
    t('      Import MLflow experiments, runs, metric histories and registered models; importing again updates in place.'),
    '  edd import dvc [DIR] [--experiment ID] [--json] [--store FILE]',
    t('      Import a DVC project: params.yaml, the metrics files of dvc.yaml, DVCLive histories; one run per DVC experiment.'),
    '  edd sync mlflow --tracking-uri URL [--push] [--pull] [--json] [--retries N]',
    t('      Share runs through an MLflow tracking server: push this store\'s finished runs, pull the others\' (both by default).'),
    t('      Credentials from MLFLOW_TRACKING_TOKEN or MLFLOW_TRACKING_USERNAME/PASSWORD; resumable: run it again after a failure.'),
    '  edd --help | --version',
  ].join('\n');
}

/**
 * Run the CLI with `argv` (without node and script) and the commands it knows (`--help`, `--version` and the handling
 * of errors are the same for all); resolves to the process exit code. `edd run` has a bundle of its own that knows
 * only `run` (see src/cli/binRun.ts), the rest of the CLI knows every command (`main`).
 */
export async function runCli(argv: readonly string[], io: Io, commands: Readonly<Record<string, Command>>): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command !== undefined && Object.prototype.hasOwnProperty.call(commands, command)) return await commands[command](rest, io);
    switch (command) {
      case '--version':
      case '-v':
        io.out(typeof EDD_VERSION === 'string' ? EDD_VERSION : '0.0.0-dev');
        return 0;
      case undefined:
      case '--help':
      case '-h':
      case 'help':
        io.out(help());
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(t('Unknown command `{0}`.', inert(command)));
    }
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`edd: ${inertLines(e.message)}`);
      io.err(t('Run `edd --help` for usage.'));
      return 2;
    }
    io.err(`edd: ${inertLines(e instanceof Error ? (e.stack ?? e.message) : String(e))}`);
    return 70;
  }
}
