/**
 * The model registry's rules, over the store's records (src/core/store/registryOps.ts):
 *
 * - a version is registered from a finished run's ONNX model artifact; the file is copied into the store's folder
 *   (`.edd/models/<model>/<sha256>.onnx`), so the version keeps working after the run's folder is cleaned;
 * - stages `none → staging → production → archived`; promoting to production archives the previous production version;
 * - a version whose latest gate report failed cannot go to staging or production, nor one without any gate report
 *   when a policy of the model says `require_gate: true`, unless forced with a reason (recorded);
 * - promotions to production and forced promotions need a reason: the approval records who, when and why;
 * - rollback restores the production version before the current one.
 *
 * Every change appends to the audit log, a hash chain (src/core/store/auditChain.ts); refused promotions are recorded
 * too. Promotion and rollback verify the chain and the stages first and refuse when the log was tampered with: a
 * rollback's target comes from the log. Errors a user can act on are RegistryError (the CLI exits 1 for a refusal,
 * 2 for bad input).
 */
import { execFile } from 'child_process';
import { randomUUID } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { t } from '../l10n';
import { hashFile } from '../runner/hash';
import { findRun as findStoredRun, onnxProblem, RunNotFoundError } from '../runs';
import { isInside } from '../runner/paths';
import { NAME_PATTERN, type AuditEntry, type AuditEntryRef, type AuditProblem, type AuditVerification, type ModelVersionRecord, type RunRecord, type RunStore, type Stage, type StoredGateReport } from '../store';

/** `refused`: the rules forbid it (exit 1); `invalid`: bad input or nothing to act on (exit 2). */
export class RegistryError extends Error {
  constructor(message: string, readonly kind: 'refused' | 'invalid') {
    super(message);
    this.name = 'RegistryError';
  }
}

/** `penguins@3`, `penguins@champion`, `penguins@production`, or `penguins` (= latest). */
export function parseModelRef(text: string): { model: string; ref: string } {
  const at = text.lastIndexOf('@');
  const model = at < 0 ? text : text.slice(0, at);
  const ref = at < 0 ? 'latest' : text.slice(at + 1);
  if (!NAME_PATTERN.test(model) || ref.length === 0) {
    throw new RegistryError(t('{0} is not a model reference: write NAME@VERSION (e.g. penguins@2, penguins@champion, penguins@production).', JSON.stringify(text)), 'invalid');
  }
  return { model, ref };
}

/** The version `model@ref` names. @throws RegistryError when there is none */
export function resolveVersion(store: RunStore, model: string, ref: string | number): ModelVersionRecord {
  const v = store.findModelVersion(model, ref);
  if (v) return v;
  const known = store.listModels().find(m => m.name === model);
  if (!known) {
    const names = store.listModels().map(m => m.name);
    throw new RegistryError(t('There is no model {0} in the registry{1}. Register one with `edd register <run-id> --model {0}`.', model, names.length ? t(' (models: {0})', names.join(', ')) : ''), 'invalid');
  }
  throw new RegistryError(t('Model {0} has no version {1} (versions: {2}).', model, String(ref), store.listModelVersions(model).map(x => x.version).join(', ') || '—'), 'invalid');
}

/** Absolute path of a version's model file (the registry's copy). */
export function versionFile(store: RunStore, v: ModelVersionRecord): string {
  return path.join(path.dirname(store.file), v.file);
}

function runGit(root: string, args: string[]): Promise<string> {
  return new Promise(resolve => {
    execFile('git', args, { cwd: root, timeout: 5000 }, (err, stdout) => resolve(err ? '' : stdout.trim()));
  });
}

/**
 * Who is making a change: an explicit value (the `edd.registry.user` setting, `--user`), else `EDD_USER`, else git's
 * `user.name <user.email>` in `root`, else the OS user name.
 */
export async function resolveActor(root: string, explicit?: string): Promise<string> {
  if (explicit?.trim()) return explicit.trim();
  if (process.env.EDD_USER?.trim()) return process.env.EDD_USER.trim();
  const [name, email] = await Promise.all([runGit(root, ['config', 'user.name']), runGit(root, ['config', 'user.email'])]);
  if (name || email) return email ? `${name || email} <${email}>` : name;
  try {
    return os.userInfo().username;
  } catch {
    return 'unknown';
  }
}

/** A run's ONNX model artifact: the one of kind `model`, else its only `.onnx`. Paths stay inside the workspace. */
export function modelArtifactOf(store: RunStore, root: string, runId: string): { file: string; sourcePath: string } {
  const artifacts = store.getArtifacts(runId);
  const onnx = artifacts.filter(a => a.path.toLowerCase().endsWith('.onnx'));
  const model = onnx.find(a => a.kind === 'model') ?? (onnx.length === 1 ? onnx[0] : undefined);
  if (!model) {
    throw new RegistryError(onnx.length > 1
      ? t('Run {0} has several ONNX artifacts and none of kind `model`: report the model with `{"artifact": …, "kind": "model"}`.', runId)
      : t('Run {0} has no ONNX model artifact to gate.', runId), 'invalid');
  }
  const file = path.resolve(root, model.path);
  if (!isInside(root, file)) throw new RegistryError(t('The model artifact {0} of run {1} is outside the workspace; EDD only reads artifacts inside it.', model.path, runId), 'invalid');
  return { file, sourcePath: model.path };
}

/** A run by id or unique id prefix (as `edd run --reproduce` finds it); a RegistryError when there is none. */
export function findRun(store: RunStore, id: string): RunRecord {
  try {
    return findStoredRun(store, id);
  } catch (e) {
    if (e instanceof RunNotFoundError) throw new RegistryError(e.message, 'invalid');
    throw e;
  }
}

/** Copies `src` to `dest` through a temp file and a rename (a reader never sees half a model). */
async function copyAtomic(src: string, dest: string): Promise<void> {
  await fs.promises.mkdir(path.dirname(dest), { recursive: true });
  const tmp = `${dest}.${process.pid}.${Date.now()}.tmp`;
  try {
    await fs.promises.copyFile(src, tmp);
    await fs.promises.rename(tmp, dest);
  } catch (e) {
    await fs.promises.rm(tmp, { force: true });
    throw e;
  }
}

/**
 * Registers a finished run's model as a new version of `model` (stage `none`). The file is copied into the store's
 * folder under its sha256. The same file registered again under the same model returns the version it already is
 * (`alreadyRegistered`), with no new version and no audit entry.
 */
export async function registerRun(store: RunStore, o: { root: string; runId: string; model: string; actor: string; reason?: string }): Promise<ModelVersionRecord & { alreadyRegistered?: boolean }> {
  if (!NAME_PATTERN.test(o.model)) throw new RegistryError(t('{0} is not a model name: use letters, digits, `.`, `_` or `-` (up to 100), starting with a letter or digit.', JSON.stringify(o.model)), 'invalid');
  const run = findRun(store, o.runId);
  if (run.status !== 'finished') throw new RegistryError(t('Run {0} is {1}: only a finished run can be registered.', run.id, run.status), 'invalid');
  const { file, sourcePath } = modelArtifactOf(store, o.root, run.id);
  // A store written before artifacts were checked at the end of a run may name a CSV as the model: check again here.
  const problem = await onnxProblem(file);
  if (problem !== undefined) {
    throw new RegistryError(t('The model artifact {0} of run {1} is not an ONNX model ({2}); only an ONNX model can be registered.', sourcePath, run.id, problem), 'invalid');
  }
  let hash;
  try {
    hash = await hashFile(file);
  } catch (e) {
    throw new RegistryError(t('Cannot read the model file {0} of run {1}: {2}', sourcePath, run.id, (e as Error).message), 'invalid');
  }
  // Registering the same file again (a CI job re-run, a seed that reproduces the bytes) names the existing version.
  const same = store.listModelVersions(o.model).find(v => v.sha256 === hash.sha256);
  if (same) return { ...same, alreadyRegistered: true };
  const relative = path.posix.join('models', o.model, `${hash.sha256}.onnx`);
  const dest = path.join(path.dirname(store.file), relative);
  if (!fs.existsSync(dest)) await copyAtomic(file, dest);
  return store.registerModelVersion({
    model: o.model, runId: run.id, sourcePath, file: relative, sha256: hash.sha256, size: hash.sizeBytes,
    metrics: store.finalMetrics(run.id), actor: o.actor, reason: o.reason ?? null,
  });
}

export type GateState = 'passed' | 'failed' | 'none';

/** The latest gate report of a version: reports of its file (by sha256) or naming the version. */
export function gateStatus(store: RunStore, v: ModelVersionRecord): { state: GateState; report?: StoredGateReport } {
  const report = store.listGateReports({ modelSha256: v.sha256, model: v.model, version: v.version, limit: 1 })[0];
  return report ? { state: report.passed ? 'passed' : 'failed', report } : { state: 'none' };
}

/** What a promotion would do, and why it is refused if it is. */
export interface PromotionPlan {
  version: ModelVersionRecord;
  to: Stage;
  gate: { state: GateState; report?: StoredGateReport };
  /** Why the rules refuse it (empty: allowed). A forced promotion with a reason goes ahead anyway. */
  refusals: string[];
  /** The version that will be archived (promotion to production). */
  replaces?: number;
}

const TARGETS: readonly Stage[] = ['staging', 'production', 'archived'];

export function planPromotion(store: RunStore, o: { model: string; ref: string | number; to: Stage; requireGate?: boolean }): PromotionPlan {
  if (!TARGETS.includes(o.to)) throw new RegistryError(t('A version can be promoted to staging, production or archived, not {0}.', JSON.stringify(o.to)), 'invalid');
  const version = resolveVersion(store, o.model, o.ref);
  const gate = gateStatus(store, version);
  const refusals: string[] = [];
  if (o.to !== 'archived') {
    if (gate.state === 'failed') {
      const failed = ((gate.report?.report as { checks?: Array<{ id: string; status: string; title: string }> })?.checks ?? []).filter(c => c.status === 'fail' || c.status === 'error');
      refusals.push(t('its latest gate ({0}, {1}) failed: {2}', gate.report!.policy, new Date(gate.report!.createdAt).toISOString(), failed.map(c => `${c.id} ${c.title}`).join('; ') || '—'));
    } else if (gate.state === 'none' && o.requireGate) {
      refusals.push(t('it has no gate report, and a policy of {0} says `require_gate: true`: run `edd gate <policy> --model {0}@{1}` first', version.model, version.version));
    }
  }
  const prod = store.findModelVersion(o.model, 'production');
  return { version, to: o.to, gate, refusals, replaces: o.to === 'production' && prod && prod.version !== version.version ? prod.version : undefined };
}

const when = (at: number) => new Date(at).toISOString().replace('T', ' ').slice(0, 19);
const entryText = (e: AuditEntryRef) => `#${e.seq} (${when(e.at)}, ${e.action} ${e.model}${e.version === null ? '' : `@${e.version}`})`;

/** What a verification found wrong, in words (the entry, when, what disagrees). */
export function describeAuditProblem(p: AuditProblem): string {
  switch (p.kind) {
    case 'gap':
      return t('entry #{0} is missing: the log jumps from #{1} to {2}', p.expectedSeq, p.expectedSeq - 1, entryText(p.entry));
    case 'unchained':
      return t('entry {0} has no hash: it was written outside EDD', entryText(p.entry));
    case 'link':
      return t('entry {0} does not follow the entry before it (its previous-entry hash differs): an entry before it was deleted, inserted or changed', entryText(p.entry));
    case 'content':
      return t('entry {0} does not match its hash: it was changed after it was written', entryText(p.entry));
    case 'tail':
      if (p.recordedSeq === null) return t('the store has no record of the log\'s last entry (#{0}): it was removed', p.lastSeq);
      if (p.recordedSeq === p.lastSeq) return t('the last entry #{0} is not the one the store recorded: it was replaced (with its hash recomputed)', p.lastSeq);
      return p.recordedSeq > p.lastSeq
        ? t('the log ends at #{0}, but the store recorded #{1} as its last entry: entries were deleted from the end', p.lastSeq, p.recordedSeq)
        : t('the log goes on to #{0}, but the store recorded #{1} as its last entry: entries were added outside EDD', p.lastSeq, p.recordedSeq);
    case 'stage':
      return t('{0}@{1} is in {2}, but the audit log leaves it in {3} (last entry about it: {4}): its stage was changed without a record', p.model, p.version, p.stage, p.logged, entryText(p.entry));
    case 'unrecorded':
      return t('{0}@{1} ({2}) has no registration in the audit log', p.model, p.version, p.stage);
    case 'missing-version':
      return t('the audit log registers {0}@{1}, which is no longer in the registry', p.model, p.version);
    case 'alias':
      return t('alias {0}@{1} names {2}, but the audit log says {3}{4}', p.model, p.alias, p.version === null ? '—' : `v${p.version}`, p.logged === null ? '—' : `v${p.logged}`, p.entry ? ` (${entryText(p.entry)})` : '');
  }
}

/** The audit log's verification; a RegistryError (`refused`) naming the problem when it fails. */
function requireIntactLog(store: RunStore, refused: string): AuditVerification {
  const v = store.verifyAuditLog();
  if (!v.ok) {
    throw new RegistryError(t('{0} refused: the audit log fails verification: {1}. Run `edd audit --verify`; restore the store from a backup or have the change reviewed before promoting again.', refused, describeAuditProblem(v.problem!)), 'refused');
  }
  return v;
}

/**
 * Moves a version to a stage, under the rules above; optionally sets an alias on it too. A promotion the gate blocks
 * is recorded (`promote-refused`) before it is refused; save the store to keep that record.
 * @throws RegistryError `refused` when the gate blocks it and it is not forced, or the audit log fails verification;
 *   `invalid` for bad input
 */
export function promote(store: RunStore, o: {
  model: string; ref: string | number; to: Stage; actor: string; reason?: string; force?: boolean; alias?: string; requireGate?: boolean;
}): { version: ModelVersionRecord; plan: PromotionPlan; auditId: string } {
  const plan = planPromotion(store, o);
  const reason = o.reason?.trim() || undefined;
  if (plan.version.stage === o.to) throw new RegistryError(t('{0}@{1} is already in {2}.', plan.version.model, plan.version.version, o.to), 'invalid');
  requireIntactLog(store, t('Promotion of {0}@{1} to {2}', plan.version.model, plan.version.version, o.to));
  const details = gateDetails(plan);
  if (plan.refusals.length && !o.force) {
    recordRefusal(store, plan, o.actor, reason);
    throw new RegistryError(t('Promotion of {0}@{1} to {2} refused: {3}. Fix the model, or override with --force and a --reason (the override is recorded).', plan.version.model, plan.version.version, o.to, plan.refusals.join('; ')), 'refused');
  }
  if (o.force && plan.refusals.length && !reason) throw new RegistryError(t('Overriding the gate needs a reason (it is recorded in the audit log): give --reason "…".'), 'invalid');
  if (o.to === 'production' && !reason) throw new RegistryError(t('A promotion to production needs a reason (it is recorded with who and when): give --reason "…".'), 'invalid');
  if (plan.refusals.length) details.overridden = plan.refusals;
  const auditId = randomUUID();
  const version = store.setModelStage({ versionId: plan.version.id, to: o.to, actor: o.actor, reason, forced: plan.refusals.length > 0, details, auditId });
  if (o.alias) return { version: setAlias(store, { model: o.model, ref: version.version, alias: o.alias, actor: o.actor, reason, withPromotion: auditId }), plan, auditId };
  return { version, plan, auditId };
}

function gateDetails(plan: PromotionPlan): Record<string, unknown> {
  return { gate: plan.gate.state, gateReport: plan.gate.report?.id ?? null, policy: plan.gate.report?.policy ?? null };
}

/**
 * Records that the rules refused a promotion (`promote-refused`, with the refusals): `promote` does it when it
 * refuses, the editor when its user sees the refusal and does not override. Nothing else changes.
 */
export function recordRefusal(store: RunStore, plan: PromotionPlan, actor: string, reason?: string): void {
  store.recordRefusedPromotion({ versionId: plan.version.id, to: plan.to, actor, reason: reason ?? null, details: { ...gateDetails(plan), refusals: plan.refusals } });
}

/** What became of a promotion once saved: another process may have promoted another version to production first. */
export interface PromotionOutcome {
  /** The promotion is in effect: recorded as a promotion and the version is in the stage it was promoted to. */
  applied: boolean;
  /** The version as it is now. */
  version: ModelVersionRecord;
  /** When not applied: the version in production now, and the audit entry that put it there. */
  production?: ModelVersionRecord;
  productionEntry?: AuditEntry;
}

/**
 * Reads the outcome of `promote` from the store as it is after the save (which merges other processes' saves): a
 * promotion to production overtaken by a concurrent one was recorded as refused, and this says which version won.
 */
export function promotionOutcome(store: RunStore, r: { version: ModelVersionRecord; plan: PromotionPlan; auditId: string }): PromotionOutcome {
  const version = store.modelVersionById(r.version.id) ?? r.version;
  const entry = store.auditEntry(r.auditId);
  if (entry?.action === 'promote' && version.stage === r.plan.to) return { applied: true, version };
  const production = store.findModelVersion(version.model, 'production');
  const productionEntry = production && productionEntryOf(store, production);
  return { applied: false, version, production, productionEntry };
}

/** Points `alias` at a version (one version per alias: it leaves the version it named before). */
export function setAlias(store: RunStore, o: { model: string; ref: string | number; alias: string; actor: string; reason?: string; withPromotion?: string }): ModelVersionRecord {
  if (!NAME_PATTERN.test(o.alias) || /^\d+$/.test(o.alias) || ['production', 'staging', 'latest', 'none', 'archived'].includes(o.alias)) {
    throw new RegistryError(t('{0} cannot be an alias: use a name of letters, digits, `.`, `_` or `-` that is not a number or a stage name.', JSON.stringify(o.alias)), 'invalid');
  }
  const version = resolveVersion(store, o.model, o.ref);
  return store.setModelAlias({ versionId: version.id, alias: o.alias, actor: o.actor, reason: o.reason ?? null, withPromotion: o.withPromotion });
}

/** Restores the previous production version of `model`. @throws RegistryError when there is nothing to roll back to */
export function rollback(store: RunStore, o: { model: string; actor: string; reason?: string }): { restored: ModelVersionRecord; replaced: number; auditId: string } {
  resolveVersion(store, o.model, 'latest');
  // the target comes from the log: a forged log would choose what goes back into production
  requireIntactLog(store, t('Rollback of {0}', o.model));
  const plan = store.rollbackPlan(o.model);
  if (!plan) {
    const prod = store.findModelVersion(o.model, 'production');
    throw new RegistryError(prod
      ? t('{0}@{1} is the first production version of {0}: there is nothing to roll back to.', o.model, prod.version)
      : t('{0} has no version in production: there is nothing to roll back.', o.model), 'invalid');
  }
  const auditId = randomUUID();
  const restored = store.rollbackModel({ model: o.model, actor: o.actor, reason: o.reason?.trim() || null, auditId });
  return { restored, replaced: plan.current, auditId };
}

/**
 * Whether a rollback is in effect once saved (another process may have changed production first: then it was not
 * applied), and the version in production now with the entry that put it there.
 */
export function rollbackOutcome(store: RunStore, r: { auditId: string; restored: ModelVersionRecord }): { applied: boolean; production?: ModelVersionRecord; productionEntry?: AuditEntry } {
  const production = store.findModelVersion(r.restored.model, 'production');
  const applied = store.auditEntry(r.auditId)?.action === 'rollback' && production?.id === r.restored.id;
  return { applied, production, productionEntry: production && productionEntryOf(store, production) };
}

function productionEntryOf(store: RunStore, v: ModelVersionRecord): AuditEntry | undefined {
  return store.auditLog(v.model).filter(e => e.version === v.version && e.toStage === 'production' && (e.action === 'promote' || e.action === 'rollback')).at(-1);
}

/** What `recordThresholdChange` records: thresholds fitted by `edd monitor --suggest-thresholds` and written into a spec. */
export interface ThresholdRecord {
  model: string;
  /** What the spec serves (`production`, an alias): the audit entry names the version it resolves to now. */
  served: string;
  /** The spec, workspace-relative. */
  spec: string;
  column: string;
  metric: string;
  bound: number;
  positiveClass: string;
  rows: number;
  thresholds: Record<string, number>;
  /** The column's thresholds the spec had before (null: none). */
  previous: Record<string, number> | null;
  before: { metric: number; accuracy: number };
  after: { metric: number; accuracy: number };
  /** Written by `auto_correct: true` rather than `--apply`. */
  auto: boolean;
  actor: string;
  reason?: string | null;
}

/** Records thresholds written into a service spec as a `thresholds` audit entry (save the store to keep it). */
export function recordThresholdChange(store: RunStore, r: ThresholdRecord): AuditEntry {
  const version = store.findModelVersion(r.model, r.served)?.version ?? null;
  // NaN (no labelled rows for accuracy) would become null in JSON anyway; say so explicitly
  const num = (x: number) => (Number.isFinite(x) ? x : null);
  return store.recordThresholds({
    model: r.model, version, actor: r.actor, reason: r.reason ?? null,
    details: {
      spec: r.spec, served: r.served, column: r.column, metric: r.metric, bound: r.bound, positive_class: r.positiveClass, rows: r.rows,
      thresholds: r.thresholds, previous: r.previous, before: { metric: num(r.before.metric), accuracy: num(r.before.accuracy) },
      after: { metric: num(r.after.metric), accuracy: num(r.after.accuracy) }, auto: r.auto,
    },
  });
}

/** A `thresholds` audit entry in words: where they were written, the values, and the metric before → after. */
export function describeThresholdsEntry(e: AuditEntry): string {
  const d = e.details as { spec?: string; column?: string; metric?: string; thresholds?: Record<string, number>; before?: { metric?: number | null; accuracy?: number | null }; after?: { metric?: number | null; accuracy?: number | null }; auto?: boolean };
  const n = (x: number | null | undefined) => (typeof x === 'number' ? Number(x.toPrecision(4)).toString() : '—');
  const values = Object.entries(d.thresholds ?? {}).map(([g, v]) => `${g} ${v}`).join(', ');
  return t('{0}thresholds for v{1} written to {2} ({3}: {4}); {5} {6} → {7}, accuracy {8} → {9}',
    d.auto ? 'auto_correct: ' : '', e.version ?? '—', d.spec ?? '?', d.column ?? '?', values, d.metric ?? '?', n(d.before?.metric), n(d.after?.metric), n(d.before?.accuracy), n(d.after?.accuracy));
}
