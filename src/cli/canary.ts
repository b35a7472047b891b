import { inert } from '../core/inert';
import { t } from '../core/l10n';
import { parseModelRef, RegistryError, resolveActor, resolveVersion } from '../core/registry';
import { isFinal, type CanaryStatus } from '../core/serve/canary';
import { CanaryPlanError, canaryStartPlan, canaryStatusLines, readCanaryStatus, requestCanaryStart, requestCanaryStop, waitForCanaryStatus } from '../core/serve/canaryControl';
import { parseCommandArgs } from './args';
import { UsageError, usageErrorFrom, type Io } from './io';
import { existingStorePath, openStore } from './store';

const USAGE = () => t('Usage: edd canary start NAME@VERSION [--percent 10] [--step 10] [--interval 60s] [--mode canary|shadow] [--sticky-key COLUMN] [--min-requests N] [--reason TEXT] [--wait SECONDS]\n       edd canary status NAME [--json]\n       edd canary stop NAME [--reason TEXT] [--wait SECONDS]');

/**
 * `edd canary start|status|stop`: asks the running `edd serve` of a model (through a request file under
 * `.edd/serving/<model>/`, which the server reads on each registry poll) and reads the state it writes back.
 */
export async function canaryCommand(args: readonly string[], io: Io): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'start': return start(rest, io);
    case 'status': return status(rest, io);
    case 'stop': return stop(rest, io);
    default: throw new UsageError(USAGE());
  }
}

function number(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n)) throw new UsageError(t('{0} needs a number, not {1}', name, inert(text)));
  return n;
}

async function start(args: readonly string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandArgs('canary start', args, {
    'percent': { type: 'string' }, 'step': { type: 'string' }, 'interval': { type: 'string' }, 'mode': { type: 'string' },
    'sticky-key': { type: 'string' }, 'min-requests': { type: 'string' }, 'reason': { type: 'string' }, 'user': { type: 'string' },
    'store': { type: 'string' }, 'wait': { type: 'string' }, 'json': { type: 'boolean' },
  });
  if (positionals.length !== 1) throw new UsageError(USAGE());
  let ref: { model: string; ref: string };
  try {
    ref = parseModelRef(positionals[0]);
  } catch (e) {
    throw usageErrorFrom(e as Error);
  }
  const store = await openStore(existingStorePath(io, values.store), { readOnly: true, autoSave: false }, io);
  let version: number;
  try {
    version = resolveVersion(store, ref.model, ref.ref).version;
  } catch (e) {
    if (e instanceof RegistryError) throw usageErrorFrom(e);
    throw e;
  } finally {
    await store.close();
  }
  let plan;
  try {
    plan = canaryStartPlan(version, {
      percent: number('--percent', values.percent), step: number('--step', values.step), min_requests: number('--min-requests', values['min-requests']),
      interval: values.interval, mode: values.mode, sticky_key: values['sticky-key'],
    });
  } catch (e) {
    if (e instanceof CanaryPlanError) throw new UsageError(e.message);
    throw e;
  }
  const request = requestCanaryStart(io.cwd, { model: ref.model, plan, actor: await resolveActor(io.cwd, values.user), reason: values.reason });
  const s = await waitForCanaryStatus(io.cwd, ref.model, waitSeconds(values.wait), x => x.id === request.id);
  if (values.json) {
    io.out(JSON.stringify(s ?? { id: request.id, state: 'requested' }, null, 2));
  } else if (!s) {
    io.out(t('Canary of {0}@{1} requested. No `edd serve` of {0} answered yet: the server starts it on its next registry poll (or when it starts).', inert(ref.model), version));
  } else {
    printStatus(io, s);
  }
  return s?.state === 'refused' ? 1 : 0;
}

async function stop(args: readonly string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandArgs('canary stop', args, {
    'reason': { type: 'string' }, 'user': { type: 'string' }, 'wait': { type: 'string' },
  });
  if (positionals.length !== 1) throw new UsageError(USAGE());
  const model = positionals[0];
  const seconds = waitSeconds(values.wait);
  const before = requestCanaryStop(io.cwd, { model, actor: await resolveActor(io.cwd, values.user), reason: values.reason });
  if (!before) {
    io.out(t('No canary of {0} is running.', inert(model)));
    return 0;
  }
  const s = await waitForCanaryStatus(io.cwd, model, seconds, x => x.id !== before.id || isFinal(x.state));
  if (!s) {
    io.out(t('Stop of the canary of {0} requested; the server has not answered yet (it reads requests on each registry poll).', inert(model)));
    return 0;
  }
  printStatus(io, s);
  return 0;
}

async function status(args: readonly string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandArgs('canary status', args, { 'json': { type: 'boolean' } });
  if (positionals.length !== 1) throw new UsageError(USAGE());
  const s = readCanaryStatus(io.cwd, positionals[0]);
  if (values.json) {
    io.out(JSON.stringify(s ?? null, null, 2));
    return 0;
  }
  if (!s) {
    io.out(t('No canary of {0} has run here (start one with edd canary start {0}@VERSION).', inert(positionals[0])));
    return 0;
  }
  printStatus(io, s);
  return 0;
}

/** `--wait SECONDS`, default 10. */
function waitSeconds(wait: string | undefined): number {
  return number('--wait', wait) ?? 10;
}

function printStatus(io: Io, s: CanaryStatus): void {
  for (const line of canaryStatusLines(s)) io.out(line);
}
