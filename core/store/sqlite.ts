// sql.js (SQLite compiled to WebAssembly) behind the few operations the store needs: the wasm is
// loaded once per process, the seed schema is created, and hot statements stay prepared.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import initSqlJs from 'sql.js';
import type { BindParams, Database, SqlJsStatic, SqlValue, Statement } from 'sql.js';

let sqlJs: Promise<SqlJsStatic> | null = null;

/** Loads the sql.js wasm once per process; both Node and Deno resolve it through node_modules. */
export function loadSqlJs(): Promise<SqlJsStatic> {
  sqlJs ??= (async () => {
    const wasmPath = createRequire(import.meta.url).resolve('sql.js/dist/sql-wasm.wasm');
    const wasmBinary = new Uint8Array(await readFile(wasmPath));
    return initSqlJs({ wasmBinary: wasmBinary.buffer as ArrayBuffer });
  })();
  // A failed load (missing package) must not poison every later attempt.
  sqlJs.catch(() => {
    sqlJs = null;
  });
  return sqlJs;
}

const PRAGMAS = 'PRAGMA journal_mode=MEMORY; PRAGMA locking_mode=EXCLUSIVE;';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS state(key TEXT PRIMARY KEY, value TEXT /* JSON */, updated_at REAL /* epoch seconds */);
CREATE TABLE IF NOT EXISTS trend(ts REAL, pv REAL, sp REAL, mv REAL);
CREATE INDEX IF NOT EXISTS trend_ts ON trend(ts);
CREATE TABLE IF NOT EXISTS fieldgate_meta(key TEXT PRIMARY KEY, value);
CREATE TABLE IF NOT EXISTS fieldgate_migrations(owner TEXT NOT NULL, version INTEGER NOT NULL, applied_at REAL, PRIMARY KEY(owner, version));
`;

const SQLITE_HEADER = 'SQLite format 3\0';

export type Row = Record<string, SqlValue>;

/** One open database with the store's schema. Every method is synchronous, like sql.js itself. */
export class StoreSql {
  readonly #db: Database;
  readonly #get: Statement;
  readonly #upsert: Statement;
  readonly #delete: Statement;
  readonly #trend: Statement;

  private constructor(db: Database) {
    this.#db = db;
    db.exec(PRAGMAS + SCHEMA);
    this.#get = db.prepare('SELECT value, updated_at FROM state WHERE key = ?');
    this.#upsert = db.prepare(
      'INSERT INTO state(key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at',
    );
    this.#delete = db.prepare('DELETE FROM state WHERE key = ?');
    this.#trend = db.prepare('INSERT INTO trend(ts, pv, sp, mv) VALUES (?, ?, ?, ?)');
  }

  static async create(): Promise<StoreSql> {
    const SQL = await loadSqlJs();
    return new StoreSql(new SQL.Database());
  }

  /**
   * Opens a snapshot. Throws when the bytes are not an intact SQLite database, so the caller can
   * move the file aside instead of serving from a damaged copy.
   */
  static async fromSnapshot(bytes: Uint8Array): Promise<StoreSql> {
    const SQL = await loadSqlJs();
    if (bytes.length < 100 || new TextDecoder().decode(bytes.subarray(0, 16)) !== SQLITE_HEADER) {
      throw new Error(`not an SQLite database (${bytes.length} bytes, bad header)`);
    }
    const db = new SQL.Database(bytes);
    try {
      const check = db.exec('PRAGMA quick_check');
      const verdict = check[0]?.values.map((r) => String(r[0])).join('; ');
      if (verdict !== 'ok') throw new Error(`integrity check failed: ${verdict ?? 'no answer'}`);
      return new StoreSql(db);
    } catch (err) {
      db.close();
      throw err;
    }
  }

  getValue(key: string): { json: string; updatedAt: number } | undefined {
    const s = this.#get;
    try {
      s.bind([key]);
      if (!s.step()) return undefined;
      const [json, updatedAt] = s.get();
      return { json: json as string, updatedAt: updatedAt as number };
    } finally {
      s.reset();
    }
  }

  upsert(key: string, json: string, updatedAt: number): void {
    this.#upsert.run([key, json, updatedAt]);
  }

  remove(key: string): void {
    this.#delete.run([key]);
  }

  insertTrend(ts: number, pv: number | null, sp: number | null, mv: number | null): void {
    this.#trend.run([ts, pv, sp, mv]);
  }

  /** Runs one statement (or, without params, a script) and returns the number of rows changed. */
  run(sql: string, params?: BindParams): number {
    this.#db.run(sql, params ?? undefined);
    return this.#db.getRowsModified();
  }

  all(sql: string, params?: BindParams): Row[] {
    const s = this.#db.prepare(sql);
    try {
      if (params) s.bind(params);
      const rows: Row[] = [];
      while (s.step()) rows.push(s.getAsObject());
      return rows;
    } finally {
      s.free();
    }
  }

  /** Runs `fn` atomically: either every change it makes is applied or none is. */
  transaction<T>(fn: () => T): T {
    this.#db.exec('BEGIN');
    try {
      const out = fn();
      this.#db.exec('COMMIT');
      return out;
    } catch (err) {
      try {
        this.#db.exec('ROLLBACK');
      } catch {
        // SQLite already rolled back (some errors end the transaction themselves).
      }
      throw err;
    }
  }

  getMeta(key: string): SqlValue | undefined {
    return this.all('SELECT value FROM fieldgate_meta WHERE key = ?', [key])[0]?.value;
  }

  setMeta(key: string, value: SqlValue): void {
    this.#db.run('INSERT INTO fieldgate_meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value', [key, value]);
  }

  migrationApplied(owner: string, version: number): boolean {
    return this.all('SELECT 1 AS x FROM fieldgate_migrations WHERE owner = ? AND version = ?', [owner, version]).length > 0;
  }

  /** Allocated and used bytes from the page counts (no export, no scan). */
  size(): { allocatedBytes: number; usedBytes: number } {
    const n = (pragma: string) => Number(this.#db.exec(`PRAGMA ${pragma}`)[0]?.values[0]?.[0] ?? 0);
    const pageSize = n('page_size');
    const pages = n('page_count');
    return { allocatedBytes: pages * pageSize, usedBytes: (pages - n('freelist_count')) * pageSize };
  }

  /** The whole database as an SQLite file image (blocks the event loop for its duration). */
  export(): Uint8Array {
    return this.#db.export();
  }

  close(): void {
    this.#db.close();
  }
}
