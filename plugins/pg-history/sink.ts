// The PostgreSQL side of pg-history: the seed's `can_messages` table (a TimescaleDB hypertable when
// the extension can be had, a plain table otherwise), and idempotent multi-row inserts: one
// INSERT ... SELECT FROM unnest(...) per batch (7 array parameters, whatever the batch size), with
// ON CONFLICT DO NOTHING on a unique (timestamp, can_id, raw_data) key so replays never duplicate.
// `pg` is imported only when the plugin starts. Errors never carry the connection string's password.
import type { Pool } from 'pg';
import { guardedClient, type PgGuardOptions } from '../../adapters/postgres/guard.ts';
import type { PgByteLimits } from '../../adapters/postgres/message-scanner.ts';
import { errorMessage } from '../../core/errors.ts';
import type { HistoryRecord } from '../../core/history/types.ts';

export type TableMode = 'hypertable' | 'plain table';

export interface PgCanSinkOptions {
  /** `postgres://user:password@host:5432/db`. */
  url: string;
  /** Plain lower-case SQL identifier; default `can_messages`. */
  table?: string;
  connectTimeoutMs?: number;
  /** Idle-connection errors (the server restarting): reported, never thrown. */
  onError?: (message: string) => void;
  /** Byte limits on what the server sends (adapters/postgres/guard.ts); defaults 1 MiB a message, 64 MiB a result. */
  limits?: Partial<PgByteLimits>;
  /** A limit was passed: the connection was closed and the query failed with `err`. */
  onLimit?: PgGuardOptions['onLimit'];
}

/** Where a connection string points, without user or password. */
export function describeDatabase(url: string): string {
  try {
    const u = new URL(url);
    return `postgresql ${u.hostname}:${u.port || 5432}${u.pathname}`;
  } catch {
    return 'postgresql (unparsable connection string)';
  }
}

/** One history record as the table's columns; missing fields become '' / null, never a crash. */
export interface PgRow {
  ms: number;
  can_id: string;
  node_id: string | null;
  message_type: string | null;
  dlc: number | null;
  raw_data: string;
  decoded_data: string | null;
}

const str = (v: unknown): string | null => (v === undefined || v === null ? null : String(v));

export function toPgRow(r: HistoryRecord): PgRow {
  const d = r.data;
  const ms = typeof d.timestamp === 'number' && Number.isFinite(d.timestamp) ? d.timestamp : r.ts;
  let decoded: string | null = null;
  if (typeof d.decoded_data === 'string') {
    try {
      JSON.parse(d.decoded_data);
      decoded = d.decoded_data;
    } catch {
      decoded = JSON.stringify({ _raw: d.decoded_data });
    }
  } else if (d.decoded_data !== undefined && d.decoded_data !== null) {
    decoded = JSON.stringify(d.decoded_data);
  }
  const dlc = typeof d.dlc === 'number' && Number.isInteger(d.dlc) ? d.dlc : null;
  return { ms, can_id: str(d.can_id) ?? '', node_id: str(d.node_id), message_type: str(d.message_type), dlc, raw_data: str(d.raw_data) ?? '', decoded_data: decoded };
}

export class PgCanSink {
  readonly description: string;
  readonly table: string;
  mode: TableMode | null = null;
  readonly #o: PgCanSinkOptions;
  readonly #secret: string | null;
  #pool: Pool | null = null;

  constructor(options: PgCanSinkOptions) {
    this.#o = options;
    this.table = options.table ?? 'can_messages';
    if (!/^[a-z_][a-z0-9_]*$/.test(this.table)) throw new RangeError(`pg-history: table name "${this.table}" must be a plain lower-case SQL identifier`);
    this.description = `${this.table} in ${describeDatabase(options.url)}`;
    let secret: string | null = null;
    try {
      secret = decodeURIComponent(new URL(options.url).password) || null;
    } catch { /* unparsable: pg reports it */ }
    this.#secret = secret;
  }

  /** An error message safe to log: no password, even if a driver echoed the connection string. */
  #safe(err: unknown): string {
    let m = errorMessage(err);
    if (this.#secret) m = m.split(this.#secret).join('***');
    return m.replace(/(postgres(?:ql)?:\/\/[^:/@\s]*:)[^@\s]*@/g, '$1***@');
  }

  async #getPool(): Promise<Pool> {
    if (this.#pool) return this.#pool;
    const pg = (await import('pg')).default;
    const pool = new pg.Pool({
      // Byte limits on every reply, from each connection's first byte (adapters/postgres/guard.ts).
      Client: guardedClient(pg.Client, { peer: describeDatabase(this.#o.url), limits: this.#o.limits, onLimit: this.#o.onLimit }),
      connectionString: this.#o.url,
      max: 1,
      connectionTimeoutMillis: this.#o.connectTimeoutMs ?? 5000,
      idleTimeoutMillis: 30_000,
      // The cursor moves once INSERT returns, so the commit must be durable even on a server whose
      // default is synchronous_commit=off (a crash there loses acknowledged commits).
      options: '-c synchronous_commit=on',
    });
    // Without a listener an idle client's error (server restart) would crash the process.
    pool.on('error', (err) => this.#o.onError?.(`${this.description}: idle connection failed: ${this.#safe(err)}`));
    this.#pool = pool;
    return pool;
  }

  async #query<T = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<{ rows: T[]; rowCount: number }> {
    const pool = await this.#getPool();
    try {
      const r = await pool.query(sql, params);
      return { rows: r.rows as T[], rowCount: r.rowCount ?? 0 };
    } catch (err) {
      throw new Error(`${this.description}: ${this.#safe(err)}`);
    }
  }

  /** Creates the table if missing: a hypertable when TimescaleDB is installed or installable, else plain. */
  async init(): Promise<TableMode> {
    const t = this.table;
    const pool = await this.#getPool();
    let client;
    try {
      client = await pool.connect();
    } catch (err) {
      throw new Error(`${this.description}: ${this.#safe(err)}`);
    }
    try {
      await client.query('BEGIN');
      // Two gateways starting against one database must not race on CREATE TABLE.
      await client.query(`SELECT pg_advisory_xact_lock(hashtext('fieldgate:${t}'))`);
      await client.query(`CREATE TABLE IF NOT EXISTS ${t} (
  "timestamp" timestamptz NOT NULL,
  can_id text NOT NULL,
  node_id text,
  message_type text,
  dlc integer,
  raw_data text NOT NULL,
  decoded_data jsonb
)`);
      // The idempotency key; its leading column also makes it the table's time index.
      await client.query(`CREATE UNIQUE INDEX IF NOT EXISTS ${t}_frame_key ON ${t} ("timestamp", can_id, raw_data)`);
      let timescale = (await client.query(`SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'`)).rowCount === 1;
      if (!timescale && (await client.query(`SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'`)).rowCount === 1) {
        await client.query('SAVEPOINT ts');
        try {
          await client.query('CREATE EXTENSION IF NOT EXISTS timescaledb');
          timescale = true;
        } catch {
          // Not in shared_preload_libraries, or not allowed: a plain table then.
          await client.query('ROLLBACK TO SAVEPOINT ts');
        }
      }
      if (timescale) {
        await client.query(`SELECT create_hypertable('${t}', 'timestamp', if_not_exists => TRUE, migrate_data => TRUE)`);
      }
      await client.query('COMMIT');
      this.mode = timescale ? 'hypertable' : 'plain table';
      return this.mode;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw new Error(`${this.description}: creating the table failed: ${this.#safe(err)}`);
    } finally {
      client.release();
    }
  }

  /** Inserts the rows in one statement; returns how many were new (the rest were already there). */
  async insert(rows: PgRow[]): Promise<number> {
    if (rows.length === 0) return 0;
    const t = this.table;
    const r = await this.#query(
      `INSERT INTO ${t} ("timestamp", can_id, node_id, message_type, dlc, raw_data, decoded_data)
SELECT to_timestamp(0) + u.ms * interval '1 millisecond', u.can_id, u.node_id, u.message_type, u.dlc, u.raw_data, u.decoded_data
FROM unnest($1::float8[], $2::text[], $3::text[], $4::text[], $5::int[], $6::text[], $7::jsonb[]) AS u(ms, can_id, node_id, message_type, dlc, raw_data, decoded_data)
ON CONFLICT DO NOTHING`,
      [
        rows.map((x) => x.ms),
        rows.map((x) => x.can_id),
        rows.map((x) => x.node_id),
        rows.map((x) => x.message_type),
        rows.map((x) => x.dlc),
        rows.map((x) => x.raw_data),
        rows.map((x) => x.decoded_data),
      ],
    );
    return r.rowCount;
  }

  async close(): Promise<void> {
    const pool = this.#pool;
    this.#pool = null;
    await pool?.end().catch(() => {});
  }
}
