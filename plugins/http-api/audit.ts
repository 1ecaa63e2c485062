// The audit log of every write through the API: one row per changed key, in a table this plugin
// owns in the state store (migrated once, journaled like any other write).
import type { SqlParams, StateStore, WriteResult } from '../../core/store/types.ts';

const OWNER = 'http-api';
export const AUDIT_TABLE = 'http_api_audit';
const TABLE = AUDIT_TABLE;

const MIGRATIONS = [
  `CREATE TABLE ${TABLE} (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     ts REAL NOT NULL,
     client TEXT NOT NULL,
     key_id TEXT,
     route TEXT NOT NULL,
     key TEXT NOT NULL,
     old_value TEXT,
     new_value TEXT
   )`,
  `CREATE INDEX ${TABLE}_key_ts ON ${TABLE} (key, ts)`,
];

export interface AuditChange {
  key: string;
  old: unknown;
  new: unknown;
}

export interface AuditEntry {
  /** Epoch seconds. */
  ts: number;
  /** Client address as the server saw it. */
  client: string;
  /** First 8 hex digits of sha256(API key); null when no key is configured. */
  keyId: string | null;
  route: string;
  changes: AuditChange[];
}

export interface AuditRow {
  id: number;
  ts: number;
  client: string;
  keyId: string | null;
  route: string;
  key: string;
  old: unknown;
  new: unknown;
}

export interface AuditQuery {
  limit: number;
  key?: string;
  /** Epoch seconds, inclusive. */
  from?: number;
  to?: number;
}

export class AuditLog {
  constructor(private readonly store: StateStore) {}

  migrate(): Promise<void> {
    return this.store.migrate(OWNER, MIGRATIONS);
  }

  /** Records one write (all its keys in one statement, so one journal record). */
  record(entry: AuditEntry, options: { durable: boolean }): Promise<WriteResult> {
    // sql.js binds named parameters by their full name, prefix included.
    const params: SqlParams = { ':ts': entry.ts, ':client': entry.client, ':key_id': entry.keyId, ':route': entry.route };
    const rows = entry.changes.map((c, i) => {
      params[`:k${i}`] = c.key;
      params[`:o${i}`] = c.old === undefined ? null : JSON.stringify(c.old);
      params[`:n${i}`] = c.new === undefined ? null : JSON.stringify(c.new);
      return `(:ts, :client, :key_id, :route, :k${i}, :o${i}, :n${i})`;
    });
    const sql = `INSERT INTO ${TABLE} (ts, client, key_id, route, key, old_value, new_value) VALUES ${rows.join(', ')}`;
    return this.store.run(sql, params, options);
  }

  /** Newest first. */
  list(q: AuditQuery): AuditRow[] {
    const where: string[] = [];
    const params: SqlParams = { ':limit': q.limit };
    if (q.key !== undefined) {
      where.push('key = :key');
      params[':key'] = q.key;
    }
    if (q.from !== undefined) {
      where.push('ts >= :from');
      params[':from'] = q.from;
    }
    if (q.to !== undefined) {
      where.push('ts <= :to');
      params[':to'] = q.to;
    }
    const sql = `SELECT id, ts, client, key_id, route, key, old_value, new_value FROM ${TABLE}
      ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT :limit`;
    return this.store.query<Record<string, string | number | null>>(sql, params).map((r) => ({
      id: Number(r.id),
      ts: Number(r.ts),
      client: String(r.client),
      keyId: r.key_id === null ? null : String(r.key_id),
      route: String(r.route),
      key: String(r.key),
      old: parseAuditValue(r.old_value),
      new: parseAuditValue(r.new_value),
    }));
  }
}

/** Parses a stored JSON value; text that is not JSON is returned as it is. */
export function parseAuditValue(text: string | number | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(String(text));
  } catch {
    return text;
  }
}
