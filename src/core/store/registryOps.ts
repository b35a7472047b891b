import type { SqlValue } from 'sql.js';
import type { StoreDb } from './db';
import { appendAudit, AUDIT_COLUMNS } from './auditChain';
import { StoreNotFoundError } from './errors';
import {
  STAGES, type AliasChange, type AuditAction, type AuditEntry, type GateReportQuery, type ModelRecord, type ModelVersionRecord, type NewGateReport,
  type NewModelVersion, type RefusedPromotion, type CanaryDecision, type RollbackPlan, type RollbackRequest, type Stage, type StageChange, type StoredGateReport,
  type ThresholdsChange,
} from './registryTypes';

// Registry and gate-report mutations, as journal ops (see ops.ts). Versions are referred to by their UUID, never by
// number: when two processes register versions of the same model at once, the second save replays its registration
// onto the first one's copy and the number is assigned there (MAX + 1), so numbers stay dense and unique, and later
// ops of the same journal (promote v…) still find the right version. Every registry op appends to the audit log,
// which triggers keep append-only.

export type RegistryOp =
  | { kind: 'gateReport'; row: SqlValue[] }
  | {
    kind: 'registerVersion'; id: string; auditId: string; model: string; runId: string | null; sourcePath: string | null; file: string;
    sha256: string; size: number; metrics: string; actor: string; reason: string | null; now: number;
  }
  | {
    kind: 'promote'; auditId: string; versionId: string; to: Stage; actor: string; reason: string | null; forced: boolean; details: string; now: number;
    /** To production: the id of the version that was in production when the promotion was decided (null: none). */
    expectProduction?: string | null;
  }
  | { kind: 'promoteRefused'; auditId: string; versionId: string; to: Stage; actor: string; reason: string | null; details: string; now: number }
  | { kind: 'canary'; auditId: string; versionId: string; actor: string; reason: string | null; details: string; now: number }
  | {
    kind: 'alias'; auditId: string; versionId: string; alias: string; actor: string; reason: string | null; now: number;
    /** The audit id of the promotion this alias came with (`promote --alias`): not set if that promotion was overtaken. */
    withPromotion?: string;
  }
  | {
    kind: 'rollback'; auditId: string; model: string; actor: string; reason: string | null; now: number;
    /** The id of the version in production when the rollback was decided: not applied over a different one. */
    expectCurrent?: string;
  }
  | { kind: 'thresholds'; auditId: string; model: string; version: number | null; actor: string; reason: string | null; details: string; now: number };

export const REGISTRY_OP_KINDS: ReadonlySet<string> = new Set(['gateReport', 'registerVersion', 'promote', 'promoteRefused', 'alias', 'rollback', 'canary', 'thresholds']);

const GATE_COLUMNS = 'id, created_at, policy, passed, run_id, model, version, model_sha256, report';

function nonEmpty(v: unknown, field: string): string {
  if (typeof v !== 'string' || v.trim().length === 0) throw new TypeError(`${field} must be a non-empty string`);
  return v;
}

function optText(v: unknown, field: string): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string') throw new TypeError(`${field} must be a string or null`);
  return v;
}

/** Model names and aliases: what a user types after `@` in `NAME@VERSION` must be unambiguous. */
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

export function gateReportOp(r: NewGateReport, id: string, now: number): Extract<RegistryOp, { kind: 'gateReport' }> {
  if (typeof r !== 'object' || r === null) throw new TypeError('addGateReport takes a report object');
  if (typeof r.passed !== 'boolean') throw new TypeError('passed must be true or false');
  const version = r.version ?? null;
  if (version !== null && !Number.isSafeInteger(version)) throw new TypeError('version must be an integer or null');
  return {
    kind: 'gateReport',
    row: [id, r.createdAt ?? now, nonEmpty(r.policy, 'policy'), r.passed ? 1 : 0, optText(r.runId, 'runId'), optText(r.model, 'model'), version,
      optText(r.modelSha256, 'modelSha256'), JSON.stringify(r.report ?? null)],
  };
}

/** The ids a registry op is recorded under (new UUIDs from the caller, so that a replay keeps them). */
interface OpIds {
  auditId: string;
}

export function registerOp(v: NewModelVersion & OpIds & { id: string }, now: number): Extract<RegistryOp, { kind: 'registerVersion' }> {
  if (!NAME_PATTERN.test(v.model)) throw new TypeError(`model name ${JSON.stringify(v.model)} must be letters, digits, '.', '_' or '-' (up to 100, starting with a letter or digit)`);
  if (!/^[0-9a-f]{64}$/.test(v.sha256)) throw new TypeError('sha256 must be 64 hex digits');
  if (!Number.isSafeInteger(v.size) || v.size < 0) throw new TypeError('size must be a non-negative integer');
  const metrics: Record<string, number | null> = {};
  for (const [k, x] of Object.entries(v.metrics ?? {})) metrics[k] = Number.isFinite(x) ? x : null;
  return {
    kind: 'registerVersion', id: v.id, auditId: v.auditId, model: v.model, runId: optText(v.runId, 'runId'), sourcePath: optText(v.sourcePath, 'sourcePath'),
    file: nonEmpty(v.file, 'file'), sha256: v.sha256, size: v.size, metrics: JSON.stringify(metrics), actor: nonEmpty(v.actor, 'actor'),
    reason: optText(v.reason, 'reason'), now,
  };
}

export function promoteOp(p: StageChange & OpIds & { expectProduction?: string | null }, now: number): RegistryOp {
  if (!STAGES.includes(p.to) || p.to === 'none') throw new TypeError(`a version can be moved to staging, production or archived, not ${JSON.stringify(p.to)}`);
  const op: RegistryOp = {
    kind: 'promote', auditId: p.auditId, versionId: nonEmpty(p.versionId, 'versionId'), to: p.to, actor: nonEmpty(p.actor, 'actor'),
    reason: optText(p.reason, 'reason'), forced: p.forced === true, details: JSON.stringify(p.details ?? {}), now,
  };
  if (p.to === 'production' && p.expectProduction !== undefined) op.expectProduction = optText(p.expectProduction, 'expectProduction');
  return op;
}

/** A promotion the rules refused: changes nothing, but the attempt (who, what, why refused) goes into the audit log. */
export function promoteRefusedOp(p: RefusedPromotion & OpIds, now: number): RegistryOp {
  if (!STAGES.includes(p.to)) throw new TypeError(`unknown stage ${JSON.stringify(p.to)}`);
  return {
    kind: 'promoteRefused', auditId: p.auditId, versionId: nonEmpty(p.versionId, 'versionId'), to: p.to, actor: nonEmpty(p.actor, 'actor'),
    reason: optText(p.reason, 'reason'), details: JSON.stringify(p.details), now,
  };
}

/** A canary decision: changes nothing in the registry, recorded with its numbers. */
export function canaryOp(d: CanaryDecision & OpIds, now: number): RegistryOp {
  return { kind: 'canary', auditId: d.auditId, versionId: nonEmpty(d.versionId, 'versionId'), actor: nonEmpty(d.actor, 'actor'), reason: optText(d.reason, 'reason'), details: JSON.stringify(d.details), now };
}

export function aliasOp(a: AliasChange & OpIds, now: number): RegistryOp {
  if (!NAME_PATTERN.test(a.alias) || /^\d+$/.test(a.alias)) throw new TypeError(`alias ${JSON.stringify(a.alias)} must be a name (letters, digits, '.', '_' or '-', not only digits)`);
  const op: RegistryOp = { kind: 'alias', auditId: a.auditId, versionId: nonEmpty(a.versionId, 'versionId'), alias: a.alias, actor: nonEmpty(a.actor, 'actor'), reason: optText(a.reason, 'reason'), now };
  if (a.withPromotion !== undefined) op.withPromotion = nonEmpty(a.withPromotion, 'withPromotion');
  return op;
}

export function rollbackOp(r: RollbackRequest & OpIds & { expectCurrent?: string }, now: number): RegistryOp {
  const op: RegistryOp = { kind: 'rollback', auditId: r.auditId, model: nonEmpty(r.model, 'model'), actor: nonEmpty(r.actor, 'actor'), reason: optText(r.reason, 'reason'), now };
  if (r.expectCurrent !== undefined) op.expectCurrent = nonEmpty(r.expectCurrent, 'expectCurrent');
  return op;
}

export function thresholdsOp(c: ThresholdsChange & OpIds, now: number): RegistryOp {
  if (!NAME_PATTERN.test(c.model)) throw new TypeError(`model name ${JSON.stringify(c.model)} must be letters, digits, '.', '_' or '-'`);
  if (c.version !== null && !Number.isSafeInteger(c.version)) throw new TypeError('version must be an integer or null');
  if (typeof c.details !== 'object' || c.details === null) throw new TypeError('details must be an object');
  return { kind: 'thresholds', auditId: c.auditId, model: c.model, version: c.version, actor: nonEmpty(c.actor, 'actor'), reason: optText(c.reason, 'reason'), details: JSON.stringify(c.details), now };
}

// ---------------------------------------------------------------------------------------------------------------
// Applying. `strict`: the live call (throw when the version is missing or nothing can be rolled back); otherwise a
// replay onto another process's copy, where the same condition skips the op.

function audit(db: StoreDb, e: { id: string; at: number; actor: string; action: AuditAction; model: string; version: number | null; from?: Stage | null; to?: Stage | null; alias?: string | null; reason?: string | null; forced?: boolean; details?: string }): void {
  // an op applied twice (a replay of something already in this copy) must not add a second entry
  if (db.one('SELECT 1 FROM audit_log WHERE id = ?', [e.id])) return;
  appendAudit(db, [e.id, e.at, e.actor, e.action, e.model, e.version, e.from ?? null, e.to ?? null, e.alias ?? null, e.reason ?? null, e.forced ? 1 : 0, e.details ?? '{}']);
}

function versionById(db: StoreDb, id: string): { model: string; version: number; stage: Stage } | undefined {
  const row = db.one('SELECT model, version, stage FROM model_versions WHERE id = ?', [id]);
  return row && { model: row[0] as string, version: row[1] as number, stage: row[2] as Stage };
}

function setStage(db: StoreDb, model: string, version: number, stage: Stage, now: number): void {
  db.run('UPDATE model_versions SET stage = ?, stage_changed_at = ? WHERE model = ? AND version = ?', [stage, now, model, version]);
}

/**
 * The production history of a model, oldest first, as the audit log tells it: each promotion to production pushes
 * its version, each rollback pops the version it replaced. The last entry is the current production version; the one
 * before it is what a rollback restores.
 */
export function productionHistory(db: StoreDb, model: string): number[] {
  const stack: number[] = [];
  for (const [action, version] of db.all("SELECT action, version FROM audit_log WHERE model = ? AND to_stage = 'production' AND action IN ('promote', 'rollback') ORDER BY seq", [model])) {
    if (action === 'rollback') {
      stack.pop();
      if (stack[stack.length - 1] !== version) stack.push(version as number);
    } else {
      stack.push(version as number);
    }
  }
  return stack;
}

/** The version a rollback of `model` would restore, or undefined (nothing in production, or no earlier production version). */
export function rollbackTarget(db: StoreDb, model: string): RollbackPlan | undefined {
  const current = db.one("SELECT version FROM model_versions WHERE model = ? AND stage = 'production' ORDER BY version DESC LIMIT 1", [model]);
  if (!current) return undefined;
  const history = productionHistory(db, model);
  // the history's top is the current production version unless it was archived by hand and another promoted since
  while (history.length && history[history.length - 1] !== current[0]) history.pop();
  history.pop();
  const target = history.reverse().find(v => v !== current[0]);
  return target === undefined ? undefined : { current: current[0] as number, target };
}

export function applyRegistryOp(db: StoreDb, op: RegistryOp, strict: boolean): void {
  switch (op.kind) {
    case 'gateReport':
      db.run(`INSERT OR IGNORE INTO gate_reports (${GATE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, op.row);
      return;
    case 'registerVersion': {
      if (db.one('SELECT 1 FROM model_versions WHERE id = ?', [op.id])) return;
      db.run('INSERT OR IGNORE INTO models (name, created_at) VALUES (?, ?)', [op.model, op.now]);
      const version = ((db.one('SELECT MAX(version) FROM model_versions WHERE model = ?', [op.model])?.[0] as number | null) ?? 0) + 1;
      db.run(
        'INSERT INTO model_versions (model, version, id, stage, run_id, source_path, file, sha256, size, metrics, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
        [op.model, version, op.id, 'none', op.runId, op.sourcePath, op.file, op.sha256, op.size, op.metrics, op.now, op.actor],
      );
      audit(db, { id: op.auditId, at: op.now, actor: op.actor, action: 'register', model: op.model, version, to: 'none', reason: op.reason, details: JSON.stringify({ run: op.runId, sha256: op.sha256, source: op.sourcePath }) });
      return;
    }
    case 'promote': {
      const v = versionById(db, op.versionId);
      if (!v) {
        if (strict) throw new StoreNotFoundError(`no model version with id ${op.versionId}`);
        return;
      }
      if (op.to === 'production' && op.expectProduction !== undefined) {
        // Another process promoted a version to production since this promotion was decided (its save came first and
        // this op is being replayed onto it): the first one stands, this one is recorded as refused, and the process
        // that made it reads its outcome after the save and tells its user.
        const current = db.one("SELECT id, version FROM model_versions WHERE model = ? AND stage = 'production' ORDER BY version DESC LIMIT 1", [v.model]);
        if ((current?.[0] ?? null) !== op.expectProduction) {
          const details = { ...(JSON.parse(op.details) as Record<string, unknown>), concurrent: { production: current?.[1] ?? null } };
          audit(db, { id: op.auditId, at: op.now, actor: op.actor, action: 'promote-refused', model: v.model, version: v.version, from: v.stage, to: op.to, reason: op.reason, forced: op.forced, details: JSON.stringify(details) });
          return;
        }
      }
      if (op.to === 'production') {
        for (const [other] of db.all("SELECT version FROM model_versions WHERE model = ? AND stage = 'production' AND version != ?", [v.model, v.version])) {
          setStage(db, v.model, other as number, 'archived', op.now);
          audit(db, { id: `${op.auditId}:archive:${other as number}`, at: op.now, actor: op.actor, action: 'archive', model: v.model, version: other as number, from: 'production', to: 'archived', reason: op.reason, details: JSON.stringify({ replacedBy: v.version }) });
        }
      }
      setStage(db, v.model, v.version, op.to, op.now);
      audit(db, { id: op.auditId, at: op.now, actor: op.actor, action: 'promote', model: v.model, version: v.version, from: v.stage, to: op.to, reason: op.reason, forced: op.forced, details: op.details });
      return;
    }
    case 'promoteRefused': {
      const v = versionById(db, op.versionId);
      if (!v) {
        if (strict) throw new StoreNotFoundError(`no model version with id ${op.versionId}`);
        return;
      }
      audit(db, { id: op.auditId, at: op.now, actor: op.actor, action: 'promote-refused', model: v.model, version: v.version, from: v.stage, to: op.to, reason: op.reason, details: op.details });
      return;
    }
    case 'canary': {
      const v = versionById(db, op.versionId);
      if (!v) {
        if (strict) throw new StoreNotFoundError(`no model version with id ${op.versionId}`);
        return;
      }
      audit(db, { id: op.auditId, at: op.now, actor: op.actor, action: 'canary', model: v.model, version: v.version, reason: op.reason, details: op.details });
      return;
    }
    case 'alias': {
      const v = versionById(db, op.versionId);
      if (!v) {
        if (strict) throw new StoreNotFoundError(`no model version with id ${op.versionId}`);
        return;
      }
      if (op.withPromotion !== undefined && db.one('SELECT action FROM audit_log WHERE id = ?', [op.withPromotion])?.[0] !== 'promote') return;
      const previous = db.one('SELECT version FROM model_aliases WHERE model = ? AND alias = ?', [v.model, op.alias])?.[0] ?? null;
      db.run('INSERT OR REPLACE INTO model_aliases (model, alias, version, updated_at) VALUES (?, ?, ?, ?)', [v.model, op.alias, v.version, op.now]);
      audit(db, { id: op.auditId, at: op.now, actor: op.actor, action: 'alias', model: v.model, version: v.version, alias: op.alias, reason: op.reason, details: JSON.stringify({ previous }) });
      return;
    }
    case 'rollback': {
      const plan = rollbackTarget(db, op.model);
      if (!plan) {
        if (strict) throw new StoreNotFoundError(`model ${op.model} has no earlier production version to roll back to`);
        return;
      }
      // Two rollbacks saved at once would otherwise go two versions back while each reports one: the later one is
      // dropped when production is no longer what it was decided on (its process reads that after the save).
      if (op.expectCurrent !== undefined && db.one('SELECT id FROM model_versions WHERE model = ? AND version = ?', [op.model, plan.current])?.[0] !== op.expectCurrent) return;
      const targetStage = db.one('SELECT stage FROM model_versions WHERE model = ? AND version = ?', [op.model, plan.target])![0] as Stage;
      setStage(db, op.model, plan.current, 'archived', op.now);
      audit(db, { id: `${op.auditId}:archive`, at: op.now, actor: op.actor, action: 'archive', model: op.model, version: plan.current, from: 'production', to: 'archived', reason: op.reason, details: JSON.stringify({ rollback: true, restored: plan.target }) });
      setStage(db, op.model, plan.target, 'production', op.now);
      audit(db, { id: op.auditId, at: op.now, actor: op.actor, action: 'rollback', model: op.model, version: plan.target, from: targetStage, to: 'production', reason: op.reason, details: JSON.stringify({ replaced: plan.current }) });
      return;
    }
    case 'thresholds':
      // No stage or alias changes, so a replay has nothing to re-check: the entry is the whole op.
      audit(db, { id: op.auditId, at: op.now, actor: op.actor, action: 'thresholds', model: op.model, version: op.version, reason: op.reason, details: op.details });
      return;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Reads

const VERSION_COLUMNS = 'model, version, id, stage, run_id, source_path, file, sha256, size, metrics, created_at, created_by, stage_changed_at';

function decodeVersion(db: StoreDb, r: SqlValue[]): ModelVersionRecord {
  const metrics: Record<string, number> = {};
  for (const [k, x] of Object.entries(JSON.parse(String(r[9] ?? '{}')) as Record<string, number | null>)) metrics[k] = x === null ? NaN : x;
  return {
    model: r[0] as string, version: r[1] as number, id: r[2] as string, stage: r[3] as Stage,
    aliases: db.all('SELECT alias FROM model_aliases WHERE model = ? AND version = ? ORDER BY alias', [r[0], r[1]]).map(a => a[0] as string),
    runId: r[4] as string | null, sourcePath: r[5] as string | null, file: r[6] as string, sha256: r[7] as string, size: r[8] as number,
    metrics, createdAt: r[10] as number, createdBy: r[11] as string | null, stageChangedAt: r[12] as number | null,
  };
}

export function listModels(db: StoreDb): ModelRecord[] {
  return db.all(
    `SELECT m.name, m.created_at,
       (SELECT COUNT(*) FROM model_versions v WHERE v.model = m.name),
       (SELECT MAX(version) FROM model_versions v WHERE v.model = m.name AND v.stage = 'production'),
       (SELECT MAX(version) FROM model_versions v WHERE v.model = m.name)
     FROM models m ORDER BY m.name COLLATE NOCASE`,
  ).map(r => ({ name: r[0] as string, createdAt: r[1] as number, versionCount: r[2] as number, productionVersion: r[3] as number | null, latestVersion: r[4] as number | null }));
}

/** A model's versions, newest first. */
export function listVersions(db: StoreDb, model: string): ModelVersionRecord[] {
  return db.all(`SELECT ${VERSION_COLUMNS} FROM model_versions WHERE model = ? ORDER BY version DESC`, [model]).map(r => decodeVersion(db, r));
}

/** A version by number, by alias, by stage name (`production`, `staging`: the newest in that stage), or by id. */
export function findVersion(db: StoreDb, model: string, ref: string | number): ModelVersionRecord | undefined {
  let row: SqlValue[] | undefined;
  if (typeof ref === 'number' || /^\d+$/.test(ref)) {
    row = db.one(`SELECT ${VERSION_COLUMNS} FROM model_versions WHERE model = ? AND version = ?`, [model, Number(ref)]);
  } else {
    row = db.one(`SELECT ${VERSION_COLUMNS} FROM model_versions v WHERE model = ? AND version = (SELECT version FROM model_aliases a WHERE a.model = v.model AND a.alias = ?)`, [model, ref])
      ?? (ref === 'production' || ref === 'staging' || ref === 'latest'
        ? db.one(`SELECT ${VERSION_COLUMNS} FROM model_versions WHERE model = ? ${ref === 'latest' ? '' : 'AND stage = ?'} ORDER BY version DESC LIMIT 1`, ref === 'latest' ? [model] : [model, ref])
        : db.one(`SELECT ${VERSION_COLUMNS} FROM model_versions WHERE model = ? AND id = ?`, [model, ref]));
  }
  return row && decodeVersion(db, row);
}

export function versionByIdFull(db: StoreDb, id: string): ModelVersionRecord | undefined {
  const row = db.one(`SELECT ${VERSION_COLUMNS} FROM model_versions WHERE id = ?`, [id]);
  return row && decodeVersion(db, row);
}

function decodeAudit(r: SqlValue[]): AuditEntry {
  return {
    seq: r[0] as number, id: r[1] as string, at: r[2] as number, actor: r[3] as string, action: r[4] as AuditAction, model: r[5] as string,
    version: r[6] as number | null, fromStage: r[7] as Stage | null, toStage: r[8] as Stage | null, alias: r[9] as string | null,
    reason: r[10] as string | null, forced: r[11] === 1, details: JSON.parse(String(r[12] ?? '{}')) as Record<string, unknown>,
    prevHash: r[13] as string | null, hash: r[14] as string | null,
  };
}

/** The audit log (of one model, or all), oldest first. */
export function auditLog(db: StoreDb, model?: string): AuditEntry[] {
  const rows = model === undefined
    ? db.all(`SELECT ${AUDIT_COLUMNS}, prev_hash, hash FROM audit_log ORDER BY seq`)
    : db.all(`SELECT ${AUDIT_COLUMNS}, prev_hash, hash FROM audit_log WHERE model = ? ORDER BY seq`, [model]);
  return rows.map(decodeAudit);
}

export function auditEntryById(db: StoreDb, id: string): AuditEntry | undefined {
  const row = db.one(`SELECT ${AUDIT_COLUMNS}, prev_hash, hash FROM audit_log WHERE id = ?`, [id]);
  return row && decodeAudit(row);
}

function decodeGate(r: SqlValue[]): StoredGateReport {
  return {
    id: r[0] as string, createdAt: r[1] as number, policy: r[2] as string, passed: r[3] === 1, runId: r[4] as string | null,
    model: r[5] as string | null, version: r[6] as number | null, modelSha256: r[7] as string | null,
    report: JSON.parse(String(r[8])),
  };
}

/** Gate reports, newest first, matching any of the given links (run, file hash, model version). */
export function listGateReports(db: StoreDb, q: GateReportQuery): StoredGateReport[] {
  const or: string[] = [];
  const params: SqlValue[] = [];
  if (q.runId !== undefined) { or.push('run_id = ?'); params.push(q.runId); }
  if (q.modelSha256 !== undefined) { or.push('model_sha256 = ?'); params.push(q.modelSha256); }
  if (q.model !== undefined && q.version !== undefined) { or.push('(model = ? AND version = ?)'); params.push(q.model, q.version); }
  else if (q.model !== undefined) { or.push('model = ?'); params.push(q.model); }
  const where = or.length ? `WHERE ${or.join(' OR ')}` : '';
  params.push(q.limit ?? -1);
  return db.all(`SELECT ${GATE_COLUMNS} FROM gate_reports ${where} ORDER BY created_at DESC, rowid DESC LIMIT ?`, params).map(decodeGate);
}

export function getGateReport(db: StoreDb, id: string): StoredGateReport | undefined {
  const row = db.one(`SELECT ${GATE_COLUMNS} FROM gate_reports WHERE id = ?`, [id]);
  return row && decodeGate(row);
}
