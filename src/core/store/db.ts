import type { BindParams, Database, SqlValue, Statement } from 'sql.js';

// A sql.js database with cached prepared statements and the two id caches (run UUID → row number, metric key →
// key id) that the hot paths need. One `StoreDb` lives as long as one in-memory copy of the file; a merge with
// another process's copy replaces it with a new one, so the caches never outlive the rows they describe.

/** What the head needs from the store's segments (segments.ts). */
export interface SealedRuns {
  copyBack(head: StoreDb, id: string): number | undefined;
  locate(head: StoreDb, id: string): unknown;
  findExternal(head: StoreDb, externalId: string): string | undefined;
}

export class StoreDb {
  private readonly statements = new Map<string, Statement>();
  private readonly runSeqs = new Map<string, number>();
  private readonly keyIds = new Map<string, number>();
  private keyNames: Map<number, string> | undefined;
  private depth = 0;
  /** The store's sealed runs (segments.ts), for the head only: writing to a sealed run copies it back first. */
  sealed: SealedRuns | undefined;

  constructor(readonly raw: Database) {
    // The database lives in sql.js's in-memory file system: a rollback journal on that "disk" only costs copies, and
    // there is nothing to sync. Durability comes from the atomic file write in `save()`.
    raw.exec('PRAGMA journal_mode = MEMORY; PRAGMA synchronous = OFF; PRAGMA temp_store = MEMORY; PRAGMA cache_size = -16384');
  }

  prepare(sql: string): Statement {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.raw.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  run(sql: string, params?: BindParams): void {
    this.prepare(sql).run(params ?? undefined);
  }

  all(sql: string, params?: BindParams): SqlValue[][] {
    const s = this.prepare(sql);
    try {
      if (params) s.bind(params);
      const rows: SqlValue[][] = [];
      while (s.step()) rows.push(s.get());
      return rows;
    } finally {
      s.reset();
    }
  }

  one(sql: string, params?: BindParams): SqlValue[] | undefined {
    const s = this.prepare(sql);
    try {
      if (params) s.bind(params);
      return s.step() ? s.get() : undefined;
    } finally {
      s.reset();
    }
  }

  changes(): number {
    return this.raw.getRowsModified();
  }

  /** Runs `fn` atomically (a savepoint, so it nests). On an exception everything it did is undone and the caches dropped. */
  transaction<T>(fn: () => T): T {
    const name = `sp${this.depth++}`;
    this.raw.exec(`SAVEPOINT ${name}`);
    try {
      const result = fn();
      this.raw.exec(`RELEASE ${name}`);
      return result;
    } catch (e) {
      this.raw.exec(`ROLLBACK TO ${name}; RELEASE ${name}`);
      this.runSeqs.clear();
      this.keyIds.clear();
      this.keyNames = undefined;
      throw e;
    } finally {
      this.depth--;
    }
  }

  /** The row number of a run, or `undefined` if the run is not in this copy. */
  runSeq(id: string): number | undefined {
    let seq = this.runSeqs.get(id);
    if (seq === undefined) {
      const row = this.one('SELECT seq FROM runs WHERE id = ?', [id]);
      if (!row) return undefined;
      seq = row[0] as number;
      this.runSeqs.set(id, seq);
    }
    return seq;
  }

  /** The row number of a run about to be written: a sealed run is copied back into this copy first. */
  runSeqForWrite(id: string): number | undefined {
    const seq = this.runSeq(id);
    if (seq !== undefined || !this.sealed) return seq;
    const copied = this.sealed.copyBack(this, id);
    if (copied !== undefined) this.runSeqs.set(id, copied);
    return copied;
  }

  /** Whether a sealed run (not copied back or deleted) has this id or external id. */
  sealedHas(id: string | null, externalId: string | null): boolean {
    if (!this.sealed || !this.one('SELECT 1 FROM segments LIMIT 1')) return false;
    if (id !== null && this.sealed.locate(this, id)) return true;
    return externalId !== null && this.sealed.findExternal(this, externalId) !== undefined;
  }

  /** Whether the database has a table of this name (not cached: migrations and the v4 export create and drop tables). */
  hasTable(name: string): boolean {
    return this.one("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", [name]) !== undefined;
  }

  forgetRun(id: string): void {
    this.runSeqs.delete(id);
  }

  /** The id of a metric key, created if needed. */
  keyId(name: string): number {
    let id = this.keyIds.get(name);
    if (id === undefined) {
      const row = this.one('SELECT id FROM metric_keys WHERE name = ?', [name]);
      if (row) {
        id = row[0] as number;
      } else {
        this.run('INSERT INTO metric_keys (name) VALUES (?)', [name]);
        id = this.one('SELECT last_insert_rowid()')![0] as number;
        this.keyNames?.set(id, name);
      }
      this.keyIds.set(name, id);
    }
    return id;
  }

  /** The id of a metric key, or `undefined` if no point ever used it. */
  existingKeyId(name: string): number | undefined {
    const cached = this.keyIds.get(name);
    if (cached !== undefined) return cached;
    const row = this.one('SELECT id FROM metric_keys WHERE name = ?', [name]);
    return row ? (row[0] as number) : undefined;
  }

  keyName(id: number): string {
    if (!this.keyNames || !this.keyNames.has(id)) {
      this.keyNames = new Map(this.all('SELECT id, name FROM metric_keys').map(r => [r[0] as number, r[1] as string]));
    }
    return this.keyNames.get(id) ?? `#${id}`;
  }

  export(): Uint8Array {
    return this.raw.export();
  }

  close(): void {
    for (const s of this.statements.values()) s.free();
    this.statements.clear();
    this.raw.close();
  }
}
