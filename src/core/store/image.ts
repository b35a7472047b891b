import type { Database, SqlJsStatic } from 'sql.js';
import { StoreDb } from './db';
import { StoreCorruptError, StoreError, StoreVersionError } from './errors';
import { headerProblem, keepCorruptCopy, type Layout } from './fileio';
import { migrate, requiredTables, SCHEMA_VERSION, userVersion } from './schema';

// The file engine's loading side: an index file's bytes → a checked, migrated in-memory copy, or the reason it is
// unusable. The saving side (lock, merge, atomic write) is in engine.ts.

export function readMeta(db: StoreDb): { generation: number; saveId: string | null } {
  const rows = new Map(db.all("SELECT key, value FROM meta WHERE key IN ('generation', 'save_id')").map(r => [r[0] as string, r[1] as string]));
  return { generation: Number(rows.get('generation') ?? 0) || 0, saveId: rows.get('save_id') ?? null };
}

export function layoutOf(db: StoreDb): Layout {
  const pageSize = db.one('PRAGMA page_size')![0] as number;
  const metaPage = db.one("SELECT rootpage FROM sqlite_master WHERE type = 'table' AND name = 'meta'")![0] as number;
  return { pageSize, metaPage };
}

export function isCorruption(e: unknown): boolean {
  const code = (e as { code?: unknown })?.code;
  if (typeof code === 'string' && /^SQLITE_(CORRUPT|NOTADB)/.test(code)) return true;
  return /malformed|not a database|database corrupt/i.test(String((e as Error)?.message));
}

export async function loadImage(SQL: SqlJsStatic, file: string, bytes: Uint8Array, verify: 'quick' | 'header'): Promise<{ db: StoreDb; migrated: boolean }> {
  const loaded = tryLoadImage(SQL, file, bytes, verify);
  if ('corrupt' in loaded) throw new StoreCorruptError(file, loaded.corrupt, await keepCorruptCopy(file, bytes));
  return loaded;
}

/** Opens a file image and brings it to the current schema; `corrupt` with the reason if it is damaged. */
export function tryLoadImage(SQL: SqlJsStatic, file: string, bytes: Uint8Array, verify: 'quick' | 'header'): { db: StoreDb; migrated: boolean } | { corrupt: string } {
  const problem = headerProblem(bytes);
  if (problem) return { corrupt: problem };
  let raw: Database | undefined;
  let db: StoreDb | undefined;
  const fail = (reason: string) => {
    closeQuietly(db, raw);
    return { corrupt: reason };
  };
  try {
    raw = new SQL.Database(bytes);
    db = new StoreDb(raw);
    if (verify === 'quick') {
      const messages = (raw.exec('PRAGMA quick_check')[0]?.values ?? []).map(v => String(v[0]));
      if (messages.length !== 1 || messages[0] !== 'ok') return fail(`SQLite's integrity check failed: ${messages.slice(0, 3).join('; ')}`);
    }
    const version = userVersion(raw);
    if (version > SCHEMA_VERSION) {
      closeQuietly(db, raw);
      throw new StoreVersionError(file, version, SCHEMA_VERSION);
    }
    const tables = new Set(db.all("SELECT name FROM sqlite_master WHERE type = 'table'").map(r => r[0] as string));
    if (version === 0 && tables.size > 0) {
      closeQuietly(db, raw);
      throw new StoreError(
        `${file} is an SQLite database but not an EDD run store (it has tables ${[...tables].slice(0, 5).join(', ')} and no EDD schema version). ` +
          'Move it elsewhere or point EDD at another file; it was not modified.',
        file,
      );
    }
    const missing = version === 0 ? [] : requiredTables(version).filter(t => !tables.has(t));
    if (missing.length) return fail(`tables missing for schema version ${version}: ${missing.join(', ')}`);
    return { db, migrated: migrate(raw) > 0 };
  } catch (e) {
    if (e instanceof StoreError) throw e;
    if (isCorruption(e)) return fail(`SQLite: ${(e as Error).message}`);
    closeQuietly(db, raw);
    throw e;
  }
}

function closeQuietly(db: StoreDb | undefined, raw: Database | undefined): void {
  try {
    if (db) db.close();
    else raw?.close();
  } catch {
    // the image was unusable anyway
  }
}
