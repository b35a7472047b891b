import { createHash } from 'crypto';
import type { Database, SqlValue } from 'sql.js';
import type { StoreDb } from './db';
import type { AuditProblem, AuditVerification, Stage } from './registryTypes';

// The audit log is a hash chain: each entry stores the SHA-256 of the previous entry (`prev_hash`) and of its own
// content together with that previous hash (`hash`). SQLite triggers keep the table append-only, but anyone can drop
// them; the chain is what makes a rewritten, reordered or deleted entry visible afterwards. The hash is computed when
// the row is inserted (also when a journal is replayed onto another process's copy), because only then is the
// previous entry known. There is no secret key: someone who recomputes the whole chain is not detected, which is why
// `verify` also checks the registry's state against what the log says and reports the head hash (to be kept
// elsewhere if that matters).
//
// Entries written before the chain existed were chained by the schema migration; `meta.audit_chain_migrated` says up to
// which entry and when, so a verification can say that their history before that moment is not covered.

/** The audit_log columns that a hash covers, in canonical order. */
export const AUDIT_COLUMNS = 'seq, id, at, actor, action, model, version, from_stage, to_stage, alias, reason, forced, details';

const FORMAT = 'edd-audit-v1';

/** SHA-256 (hex) of an entry: a JSON array of the format tag, the previous hash and the columns of AUDIT_COLUMNS. */
export function auditHash(prevHash: string | null, row: readonly SqlValue[]): string {
  // JSON of strings, integers and nulls is one fixed text per value: a canonical encoding without a library.
  return createHash('sha256').update(JSON.stringify([FORMAT, prevHash, ...row])).digest('hex');
}

/** `seq:hash` of the last entry, kept in `meta` so that deleting entries from the end of the log is visible. */
function headValue(seq: number, hash: string): string {
  return `${seq}:${hash}`;
}

/** Appends one entry (its values in AUDIT_COLUMNS order, without `seq`), chained to the current last entry. */
export function appendAudit(db: StoreDb, values: readonly SqlValue[]): void {
  const last = db.one('SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1');
  const seq = ((last?.[0] as number | undefined) ?? 0) + 1;
  const prev = (last?.[1] as string | null | undefined) ?? null;
  const row = [seq, ...values];
  const hash = auditHash(prev, row);
  db.run(`INSERT INTO audit_log (${AUDIT_COLUMNS}, prev_hash, hash) VALUES (${row.map(() => '?').join(', ')}, ?, ?)`, [...row, prev, hash]);
  db.run("INSERT OR REPLACE INTO meta (key, value) VALUES ('audit_head', ?)", [headValue(seq, hash)]);
}

/**
 * Chains the entries of a store that had none (the schema migration that adds the chain). The update trigger is
 * dropped for the rewrite and re-created: this is the one time entries are updated.
 */
export function chainExistingEntries(raw: Database, now: number): void {
  const rows = raw.exec(`SELECT ${AUDIT_COLUMNS} FROM audit_log ORDER BY seq`)[0]?.values ?? [];
  raw.exec('DROP TRIGGER IF EXISTS audit_log_append_only_update');
  const update = raw.prepare('UPDATE audit_log SET prev_hash = ?, hash = ? WHERE seq = ?');
  try {
    let prev: string | null = null;
    for (const row of rows) {
      const hash = auditHash(prev, row);
      update.run([prev, hash, row[0]]);
      prev = hash;
    }
    if (rows.length) {
      const lastSeq = rows[rows.length - 1][0] as number;
      raw.run("INSERT OR REPLACE INTO meta (key, value) VALUES ('audit_head', ?)", [headValue(lastSeq, prev!)]);
      raw.run("INSERT OR REPLACE INTO meta (key, value) VALUES ('audit_chain_migrated', ?)", [JSON.stringify({ through: lastSeq, at: now })]);
    }
  } finally {
    update.free();
  }
  raw.exec("CREATE TRIGGER audit_log_append_only_update BEFORE UPDATE ON audit_log BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END");
}

interface LoggedState {
  stages: Map<number, { stage: Stage; seq: number }>;
  aliases: Map<string, { version: number; seq: number }>;
}

/**
 * Checks the chain entry by entry, then that every version's stage and every alias is what replaying the log gives.
 * Stops at the first problem (later entries hang off a broken one, so they prove nothing).
 */
export function verifyAuditLog(db: StoreDb): AuditVerification {
  const meta = new Map(db.all("SELECT key, value FROM meta WHERE key IN ('audit_head', 'audit_chain_migrated')").map(r => [r[0] as string, r[1] as string]));
  const migratedText = meta.get('audit_chain_migrated');
  const migrated = migratedText ? (JSON.parse(migratedText) as { through: number; at: number }) : null;
  const versions = db.one('SELECT COUNT(*) FROM model_versions')![0] as number;
  const result = (entries: number, head: string | null, problem: AuditProblem | null): AuditVerification => ({ ok: problem === null, entries, versions, head, migrated, problem });

  const models = new Map<string, LoggedState>();
  let prev: string | null = null;
  let expectedSeq = 1;
  let count = 0;
  for (const r of db.all(`SELECT ${AUDIT_COLUMNS}, prev_hash, hash FROM audit_log ORDER BY seq`)) {
    const row = r.slice(0, 13);
    const [seq, id, at, , action, model, version, , toStage, alias] = row as [number, string, number, string, string, string, number | null, Stage | null, Stage | null, string | null];
    const entry = { seq, id, at, action, model, version };
    const prevHash = r[13] as string | null;
    const hash = r[14] as string | null;
    if (seq !== expectedSeq) return result(count, prev, { kind: 'gap', entry, expectedSeq });
    if (hash === null) return result(count, prev, { kind: 'unchained', entry });
    if (prevHash !== prev) return result(count, prev, { kind: 'link', entry });
    if (auditHash(prev, row) !== hash) return result(count, prev, { kind: 'content', entry });
    prev = hash;
    expectedSeq++;
    count++;
    let state = models.get(model);
    if (!state) models.set(model, (state = { stages: new Map(), aliases: new Map() }));
    if (version === null) continue;
    if (action === 'alias' && alias !== null) state.aliases.set(alias, { version, seq });
    else if ((action === 'register' || action === 'promote' || action === 'archive' || action === 'rollback') && toStage !== null) state.stages.set(version, { stage: toStage, seq });
  }
  const head = meta.get('audit_head');
  if (count > 0 ? head !== headValue(count, prev!) : head !== undefined) {
    const claimed = head ? Number(head.split(':')[0]) : null;
    return result(count, prev, { kind: 'tail', lastSeq: count, recordedSeq: Number.isFinite(claimed) ? claimed : null });
  }

  const entryAt = (seq: number) => {
    const r = db.one('SELECT seq, id, at, action, model, version FROM audit_log WHERE seq = ?', [seq])!;
    return { seq: r[0] as number, id: r[1] as string, at: r[2] as number, action: r[3] as string, model: r[4] as string, version: r[5] as number | null };
  };
  for (const [model, version, stage] of db.all('SELECT model, version, stage FROM model_versions ORDER BY model, version')) {
    const logged = models.get(model as string)?.stages.get(version as number);
    if (!logged) return result(count, prev, { kind: 'unrecorded', model: model as string, version: version as number, stage: stage as Stage });
    if (logged.stage !== stage) return result(count, prev, { kind: 'stage', model: model as string, version: version as number, stage: stage as Stage, logged: logged.stage, entry: entryAt(logged.seq) });
  }
  for (const [model, state] of models) {
    for (const [version] of state.stages) {
      if (!db.one('SELECT 1 FROM model_versions WHERE model = ? AND version = ?', [model, version])) {
        return result(count, prev, { kind: 'missing-version', model, version });
      }
    }
  }
  const actualAliases = db.all('SELECT model, alias, version FROM model_aliases ORDER BY model, alias');
  for (const [model, alias, version] of actualAliases) {
    const logged = models.get(model as string)?.aliases.get(alias as string);
    if (!logged || logged.version !== version) {
      return result(count, prev, { kind: 'alias', model: model as string, alias: alias as string, version: version as number, logged: logged?.version ?? null, entry: logged ? entryAt(logged.seq) : undefined });
    }
  }
  for (const [model, state] of models) {
    for (const [alias, logged] of state.aliases) {
      if (!actualAliases.some(a => a[0] === model && a[1] === alias)) {
        return result(count, prev, { kind: 'alias', model, alias, version: null, logged: logged.version, entry: entryAt(logged.seq) });
      }
    }
  }
  return result(count, prev, null);
}
