import * as path from 'path';
import { t } from '../core/l10n';
import { PolicyError } from '../core/checks/policy';
import { GateInputError } from '../core/checks/gate';
import {
  describeAuditProblem, describeThresholdsEntry, findPolicyFiles, gateRequired, gateStatus, parseModelRef, policiesForModel, promote, promotionOutcome, registerRun, RegistryError, resolveActor, rollback, rollbackOutcome, setAlias, shadowEvaluate, versionFile,
} from '../core/registry';
import { STAGES, type RunStore, type AuditEntry, type AuditVerification, type Stage } from '../core/store';
import { inert } from '../core/inert';
import { parseCommandArgs } from './args';
import { UsageError, usageErrorFrom, type Io } from './io';
import { existingStorePath, openStore } from './store';

// `edd models`, `edd register`, `edd promote`, `edd alias`, `edd rollback`, `edd audit`, `edd shadow`: thin over
// src/core/registry. Exit 0 on success, 1 when a promotion is refused (the reason is printed), 2 for usage errors
// and bad references.

/** Runs `f` with the store, saving after it when writable; a RegistryError becomes exit 1 (refused) or 2. */
async function withStore(io: Io, storeFile: string | undefined, readOnly: boolean, f: (store: RunStore) => Promise<number> | number): Promise<number> {
  const store = await openStore(existingStorePath(io, storeFile), readOnly ? { readOnly: true } : { autoSave: false }, io);
  try {
    return await f(store);
  } catch (e) {
    if (e instanceof RegistryError) {
      io.err(`edd: ${inert(e.message)}`);
      return e.kind === 'refused' ? 1 : 2;
    }
    throw e;
  } finally {
    await store.close();
  }
}

/** JSON output uses snake_case keys, like `edd runs --json` (record fields only; metric names stay as they are). */
function snake(v: unknown, depth = 0): unknown {
  if (Array.isArray(v)) return v.map(x => snake(x, depth));
  if (typeof v !== 'object' || v === null || depth > 1) return v;
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [
    k.replace(/[A-Z]/g, c => `_${c.toLowerCase()}`),
    k === 'metrics' || k === 'details' || k === 'measured' || k === 'evidence' ? x : snake(x, depth + 1),
  ]));
}

const json = (io: Io, v: unknown) => io.out(JSON.stringify(snake(v), null, 2));

function stageBadge(stage: Stage): string {
  return stage === 'production' ? '● production' : stage === 'staging' ? '◐ staging' : stage === 'archived' ? '○ archived' : '· none';
}

/** `edd models [NAME] [--json]`: models and their versions with stage, aliases, gate status and metrics. */
export async function modelsCommand(args: readonly string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandArgs('models', args, {
    json: { type: 'boolean' },
    store: { type: 'string' },
  });
  return withStore(io, values.store, true, store => {
    const models = store.listModels().filter(m => !positionals.length || positionals.includes(m.name));
    const data = models.map(m => ({
      ...m,
      versions: store.listModelVersions(m.name).map(v => ({ ...v, file: versionFile(store, v), gate: gateStatus(store, v).state })),
    }));
    if (values.json) {
      json(io, data);
      return 0;
    }
    if (!data.length) {
      io.out(t('No models registered. Register a run\'s model with `edd register <run-id> --model NAME`.'));
      return 0;
    }
    for (const m of data) {
      io.out(t('{0}: {1} version(s), production: {2}', inert(m.name), m.versionCount, m.productionVersion === null ? '—' : `v${m.productionVersion}`));
      for (const v of m.versions) {
        const metrics = Object.entries(v.metrics).slice(0, 3).map(([k, x]) => `${inert(k)}=${Number.isFinite(x) ? x.toFixed(4) : x}`).join(' ');
        const aliases = v.aliases.length ? ` [${v.aliases.map(inert).join(', ')}]` : '';
        io.out(`  v${v.version}  ${stageBadge(v.stage).padEnd(12)} gate:${v.gate.padEnd(6)}${aliases}  ${metrics}  run ${v.runId ? inert(v.runId.slice(0, 8)) : '—'}`);
      }
    }
    return 0;
  });
}

/** `edd register <run-id> | --experiment ID --model NAME [--reason TEXT] [--user NAME] [--json]`. */
export async function registerCommand(args: readonly string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandArgs('register', args, {
    json: { type: 'boolean' },
    model: { type: 'string' },
    experiment: { type: 'string' },
    user: { type: 'string' },
    store: { type: 'string' },
    reason: { type: 'string' },
  });
  if (positionals.length + (values.experiment !== undefined ? 1 : 0) !== 1 || values.model === undefined) {
    throw new UsageError(t('Usage: edd register <run-id> | --experiment ID --model NAME [--reason TEXT]'));
  }
  return withStore(io, values.store, false, async store => {
    const actor = await resolveActor(io.cwd, values.user);
    let runId = positionals[0];
    if (values.experiment !== undefined) {
      const latest = store.listRuns({ experimentId: values.experiment, status: 'finished', limit: 1 })[0];
      if (!latest) throw new UsageError(t('Experiment {0} has no finished run to register.', inert(values.experiment)));
      runId = latest.id;
    }
    const v = await registerRun(store, { root: io.cwd, runId, model: values.model!, actor, reason: values.reason });
    await store.save();
    if (values.json) json(io, v);
    else if (v.alreadyRegistered) io.out(t('This model file is already registered as {0}@{1}; nothing changed.', inert(v.model), v.version));
    else io.out(t('Registered {0}@{1} from run {2} ({3}).', inert(v.model), v.version, v.runId ? inert(v.runId.slice(0, 8)) : '—', inert(v.file)));
    return 0;
  });
}

/** `edd promote NAME@VERSION --to STAGE [--alias A] [--reason TEXT] [--force] [--user NAME] [--json]`. */
export async function promoteCommand(args: readonly string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandArgs('promote', args, {
    force: { type: 'boolean' },
    json: { type: 'boolean' },
    to: { type: 'string' },
    alias: { type: 'string' },
    user: { type: 'string' },
    store: { type: 'string' },
    reason: { type: 'string' },
  });
  if (positionals.length !== 1 || values.to === undefined) throw new UsageError(t('Usage: edd promote NAME@VERSION --to staging|production|archived [--alias A] [--reason TEXT] [--force]'));
  const to = values.to as Stage;
  if (!STAGES.includes(to) || to === 'none') throw new UsageError(t('--to must be staging, production or archived, not {0}.', JSON.stringify(to)));
  const ref = parseRef(positionals[0]);
  return withStore(io, values.store, false, async store => {
    const actor = await resolveActor(io.cwd, values.user);
    const r = promote(store, {
      ...ref, to, actor, reason: values.reason, force: values.force === true, alias: values.alias, requireGate: gateRequired(io.cwd, ref.model),
    });
    await store.save();
    // the save merged any concurrent save: read what actually happened rather than what this process intended
    const outcome = promotionOutcome(store, r);
    if (values.json) {
      json(io, {
        version: outcome.version, applied: outcome.applied, replaced: outcome.applied ? (r.plan.replaces ?? null) : null, gate: r.plan.gate.state, overridden: r.plan.refusals,
        production: outcome.applied ? null : (outcome.production?.version ?? null),
      });
    } else if (!outcome.applied) {
      const winner = outcome.productionEntry;
      io.out(outcome.production
        ? t('{0}@{1} was NOT promoted to {2}: another promotion was saved at the same time and came first. {0}@{3} is in production (promoted by {4} at {5}); {0}@{1} stays in {6}. Promote again if it should replace {0}@{3}.',
          inert(outcome.version.model), outcome.version.version, to, outcome.production.version, inert(winner?.actor ?? '?'), winner ? new Date(winner.at).toISOString() : '?', outcome.version.stage)
        : t('{0}@{1} was NOT promoted to {2}: the registry changed at the same time (another process saved first). {0}@{1} stays in {3}; nothing is in production. Check `edd audit {0}` and promote again.',
          inert(outcome.version.model), outcome.version.version, to, outcome.version.stage));
    } else {
      io.out(t('{0}@{1} is now in {2} (gate: {3}; by {4}).', inert(r.version.model), r.version.version, r.version.stage, r.plan.gate.state, inert(actor)));
      if (r.plan.replaces !== undefined) io.out(t('{0}@{1} was archived.', inert(r.version.model), r.plan.replaces));
      if (r.plan.refusals.length) io.out(t('Overridden (recorded in the audit log): {0}', inert(r.plan.refusals.join('; '))));
    }
    return outcome.applied ? 0 : 1;
  });
}

/** `edd alias NAME@VERSION ALIAS [--reason TEXT]`. */
export async function aliasCommand(args: readonly string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandArgs('alias', args, {
    json: { type: 'boolean' },
    user: { type: 'string' },
    store: { type: 'string' },
    reason: { type: 'string' },
  });
  if (positionals.length !== 2) throw new UsageError(t('Usage: edd alias NAME@VERSION ALIAS [--reason TEXT]'));
  const ref = parseRef(positionals[0]);
  return withStore(io, values.store, false, async store => {
    const v = setAlias(store, { ...ref, alias: positionals[1], actor: await resolveActor(io.cwd, values.user), reason: values.reason });
    await store.save();
    if (values.json) json(io, v);
    else io.out(t('{0}@{1} is now {0}@{2}.', inert(v.model), inert(positionals[1]), v.version));
    return 0;
  });
}

/** `edd rollback NAME [--reason TEXT]`: restores the previous production version. */
export async function rollbackCommand(args: readonly string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandArgs('rollback', args, {
    json: { type: 'boolean' },
    user: { type: 'string' },
    store: { type: 'string' },
    reason: { type: 'string' },
  });
  if (positionals.length !== 1) throw new UsageError(t('Usage: edd rollback NAME [--reason TEXT]'));
  return withStore(io, values.store, false, async store => {
    const actor = await resolveActor(io.cwd, values.user);
    const r = rollback(store, { model: positionals[0], actor, reason: values.reason });
    await store.save();
    const outcome = rollbackOutcome(store, r);
    if (values.json) json(io, { applied: outcome.applied, restored: r.restored, replaced: r.replaced, production: outcome.production?.version ?? null });
    else if (outcome.applied) io.out(t('Rolled back {0}: v{1} is in production again, v{2} was archived.', inert(r.restored.model), r.restored.version, r.replaced));
    else {
      io.out(t('Rollback of {0} was NOT applied: another change to production was saved at the same time and came first. In production now: {1} (by {2}). Run `edd rollback {0}` again if it should still go back.',
        inert(r.restored.model), outcome.production ? `v${outcome.production.version}` : '—', inert(outcome.productionEntry?.actor ?? '?')));
    }
    return outcome.applied ? 0 : 1;
  });
}

function describeEntry(e: AuditEntry): string {
  const when = new Date(e.at).toISOString().replace('T', ' ').slice(0, 19);
  const stages = e.fromStage || e.toStage ? ` ${e.fromStage ?? '-'} → ${e.toStage ?? '-'}` : '';
  let what = e.action === 'alias' ? `alias ${inert(e.alias ?? '')} → v${e.version}` : `${e.action} v${e.version ?? '?'}${stages}`;
  if (e.action === 'promote-refused') {
    const refusals = Array.isArray(e.details.refusals) ? (e.details.refusals as unknown[]).map(String).join('; ') : '';
    const concurrent = (e.details.concurrent as { production?: number | null } | undefined);
    what = concurrent
      ? t('REFUSED promotion v{0}{1}: another promotion to production came first (v{2} was in production)', e.version ?? '?', stages, concurrent.production ?? '—')
      : t('REFUSED promotion v{0}{1}: {2}', e.version ?? '?', stages, inert(refusals));
  }
  if (e.action === 'thresholds') what = inert(describeThresholdsEntry(e));
  const forced = e.forced ? ` ${t('[FORCED over a failed or missing gate]')}` : '';
  return `#${e.seq} ${when}  ${inert(e.model)}  ${what}${forced}  ${t('by {0}', inert(e.actor))}${e.reason ? ` — ${inert(e.reason)}` : ''}`;
}

/** The verification in words: OK with the counts, or the first problem. */
function describeVerification(v: AuditVerification): string[] {
  const lines: string[] = [];
  if (v.ok) lines.push(t('Audit log OK: {0} entries, hash chain intact; the stages of {1} version(s) and all aliases agree with the log.', v.entries, v.versions));
  else lines.push(t('Audit log verification FAILED: {0}.', inert(describeAuditProblem(v.problem!))));
  if (v.migrated) lines.push(t('Entries #1 to #{0} were written before the log was chained; they were chained when the store was upgraded on {1}, so the chain vouches for them only from then on.', v.migrated.through, new Date(v.migrated.at).toISOString()));
  if (v.ok && v.head) lines.push(t('Head: {0} (keep it elsewhere to detect a log rewritten from scratch).', v.head));
  return lines;
}

/** `edd audit [NAME] [--verify] [--json]`: the append-only history of registry changes, oldest first. */
export async function auditCommand(args: readonly string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandArgs('audit', args, {
    json: { type: 'boolean' },
    verify: { type: 'boolean' },
    store: { type: 'string' },
  });
  if (positionals.length > 1 || (values.verify && positionals.length)) throw new UsageError(t('Usage: edd audit [NAME] [--json] | edd audit --verify [--json]'));
  return withStore(io, values.store, true, store => {
    const verification = store.verifyAuditLog();
    if (values.verify) {
      if (values.json) json(io, { ...verification, problem: verification.problem && { ...verification.problem, message: describeAuditProblem(verification.problem) } });
      else for (const line of describeVerification(verification)) io.out(line);
      return verification.ok ? 0 : 1;
    }
    const log = store.auditLog(positionals[0]);
    if (values.json) json(io, log);
    else if (!log.length) io.out(t('The audit log is empty.'));
    else for (const e of log) io.out(describeEntry(e));
    // what is printed may be forged: say so where it is read
    if (!verification.ok) io.err(t('edd: warning: the audit log fails verification ({0}); run `edd audit --verify`.', inert(describeAuditProblem(verification.problem!))));
    return 0;
  });
}

/**
 * `edd shadow NAME@VERSION [--policy FILE] [--json]`: the candidate and production on the policy's evaluation data:
 * agreement, metric difference with McNemar's test, the rows where they disagree. Exit 1 when the candidate is
 * significantly worse.
 */
export async function shadowCommand(args: readonly string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandArgs('shadow', args, {
    json: { type: 'boolean' },
    policy: { type: 'string' },
    store: { type: 'string' },
    metric: { type: 'string' },
  });
  if (positionals.length !== 1) throw new UsageError(t('Usage: edd shadow NAME@VERSION [--policy FILE] [--metric accuracy|f1] [--json]'));
  const ref = parseRef(positionals[0]);
  const metric = (values.metric ?? 'accuracy') as 'accuracy' | 'f1';
  if (metric !== 'accuracy' && metric !== 'f1') throw new UsageError(t('--metric must be accuracy or f1.'));
  let policyFile = values.policy && path.resolve(io.cwd, values.policy);
  if (!policyFile) {
    const found = policiesForModel(io.cwd, ref.model);
    if (found.length !== 1) {
      throw new UsageError(found.length
        ? t('Several policies guard {0} ({1}): choose one with --policy.', inert(ref.model), inert(found.map(f => path.relative(io.cwd, f.file)).join(', ')))
        : t('No policy with `model: {0}` found below {1} (looked at {2} policy file(s)); give one with --policy: its evaluation data is used.', inert(ref.model), inert(io.cwd), findPolicyFiles(io.cwd).length));
    }
    policyFile = found[0].file;
  }
  return withStore(io, values.store, true, async store => {
    let r;
    try {
      r = await shadowEvaluate(policyFile!, { root: io.cwd, store, target: { model: ref }, metric });
    } catch (e) {
      if (e instanceof PolicyError || e instanceof GateInputError) throw usageErrorFrom(e);
      throw e;
    }
    const c = r.report.checks[0];
    if (values.json) json(io, { candidate: r.report.candidate.model, production: r.production ?? null, status: c.status, measured: c.measured, evidence: c.evidence, message: c.message });
    else {
      const m = c.measured as Record<string, number>;
      const ev = (c.evidence ?? {}) as { rows?: number; disagreement_count?: number; disagreements?: Array<{ row: number; y_true: string; candidate: string; production: string }> };
      io.out(t('Shadow evaluation of {0} against {1} on {2} rows:', inert(r.report.candidate.model ?? '?'), r.production ? `${inert(r.production.model)}@${r.production.version}` : '—', ev.rows ?? '?'));
      if (m.agreement_rate !== undefined) io.out(t('  agreement {0}%, {1} row(s) disagree', (m.agreement_rate * 100).toFixed(1), ev.disagreement_count ?? 0));
      io.out(`  ${inert(c.message)}`);
      for (const d of (ev.disagreements ?? []).slice(0, 10)) io.out(t('  row {0}: true {1}, candidate {2}, production {3}', d.row, inert(String(d.y_true)), inert(String(d.candidate)), inert(String(d.production))));
    }
    return c.status === 'fail' ? 1 : c.status === 'error' ? 2 : 0;
  });
}

function parseRef(text: string): { model: string; ref: string } {
  try {
    return parseModelRef(text);
  } catch (e) {
    throw usageErrorFrom(e as Error);
  }
}
