// `fieldgate migrate sqlite-to-postgres`: the seed's SQLite `can_messages` rows into the PostgreSQL
// table pg-history writes (same DDL: PgCanSink.init()). sql.js reads the file (no native module).
// Rows go in rowid order, one multi-row INSERT ... ON CONFLICT DO NOTHING per batch, committed in the
// same transaction as a progress marker (fieldgate_migrations: the last migrated rowid per source file
// and table), so an interrupted run resumes where it stopped and a repeated run copies nothing.
// At the end an integrity check compares both sides: the SQLite rows (the first of any duplicates on
// the table's key (timestamp, can_id, raw_data), as ON CONFLICT keeps the first) against the
// PostgreSQL rows in the same time range, by count and by a checksum over a canonical form of each
// row (timestamp in integer microseconds, text columns, dlc, decoded_data as sorted-key JSON whose
// numbers keep their exact digits: exact-json.ts) computed the same way for both sides; decoded_data
// is read from PostgreSQL as text, never through JavaScript numbers. A mismatch names the rows and columns that differ; exit 1.
// The connection string's user and password are never printed.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Client } from 'pg';
import { guardPgClient } from '../../adapters/postgres/guard.ts';
import { errorMessage } from '../../core/errors.ts';
import { loadSqlJs } from '../../core/store/sqlite.ts';
import type { MigrateArgs } from '../../core/cli/args.ts';
import type { MigrateIo } from '../../core/cli/migrate.ts';
import { PgCanSink, describeDatabase, toPgRow } from './sink.ts';
import { canonicalJsonText } from './exact-json.ts';

/** One row in the canonical form both sides are compared in. */
export interface CanonicalRow {
  /** Microseconds since the epoch, as a decimal string (exact, beyond 2^53 too). */
  us: string;
  can_id: string;
  node_id: string | null;
  message_type: string | null;
  dlc: number | null;
  raw_data: string;
  /** Sorted-key JSON text with numbers exactly as written (scale kept, like jsonb), or null. */
  decoded: string | null;
}

const SQLITE_HEADER = 'SQLite format 3\0';
const PROGRESS_TABLE = 'fieldgate_migrations';

/**
 * The seed's `timestamp` as integer microseconds: a number (seconds, or ms above 1e11, or µs above
 * 1e14), a numeric string, or ISO-8601 / `YYYY-MM-DD HH:MM:SS[.ffffff]` text (UTC when no zone is
 * given, as SQLite's own datetime functions write it). Null when unparsable.
 */
export function timestampMicros(v: unknown): bigint | null {
  if (typeof v === 'bigint') v = Number(v);
  if (typeof v === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(v)) v = Number(v);
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return null;
    const a = Math.abs(v);
    const us = a >= 1e14 ? v : a >= 1e11 ? v * 1e3 : v * 1e6;
    return BigInt(Math.round(us));
  }
  if (typeof v !== 'string') return null;
  const m = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2})?)(?:\.(\d{1,9}))?\s*(Z|[+-]\d{2}:?\d{2})?$/i.exec(v.trim());
  if (!m) return null;
  const [, date, time, frac = '', zone = 'Z'] = m;
  const z = zone.toUpperCase() === 'Z' ? 'Z' : zone.includes(':') ? zone : `${zone.slice(0, 3)}:${zone.slice(3)}`;
  const ms = Date.parse(`${date}T${time.length === 5 ? `${time}:00` : time}${z}`);
  if (!Number.isFinite(ms)) return null;
  return BigInt(ms) * 1000n + BigInt((frac + '000000').slice(0, 6));
}

/** The line hashed per row; the same function for both sides. */
export function canonicalLine(r: CanonicalRow): string {
  const f = (v: string | number | null) => (v === null ? '\\N' : String(v).replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n'));
  return [r.us, f(r.can_id), f(r.node_id), f(r.message_type), f(r.dlc), f(r.raw_data), f(r.decoded)].join('\t');
}

/** An order-independent checksum: the sum of the rows' md5 digests mod 2^128 (duplicate-safe, streamable). */
export class RowChecksum {
  rows = 0;
  #sum = 0n;
  add(line: string): void {
    this.rows++;
    this.#sum = (this.#sum + BigInt(`0x${createHash('md5').update(line).digest('hex')}`)) & ((1n << 128n) - 1n);
  }
  get hex(): string {
    return this.#sum.toString(16).padStart(32, '0');
  }
}

/** A SQLite row as it goes into PostgreSQL (pg-history's own column rules), or why it cannot. */
export function fromSqlite(row: Record<string, unknown>): CanonicalRow | string {
  const us = timestampMicros(row.timestamp);
  if (us === null) return `unparsable timestamp ${JSON.stringify(row.timestamp)}`;
  const p = toPgRow({ ts: 0, data: { ...row, timestamp: 0 } });
  return { us: us.toString(), can_id: p.can_id, node_id: p.node_id, message_type: p.message_type, dlc: p.dlc, raw_data: p.raw_data, decoded: p.decoded_data === null ? null : canonicalJsonText(p.decoded_data) };
}

function fromPostgres(row: Record<string, unknown>): CanonicalRow {
  const s = (v: unknown) => (v === null || v === undefined ? null : String(v));
  return { us: String(row.us), can_id: String(row.can_id), node_id: s(row.node_id), message_type: s(row.message_type), dlc: row.dlc === null ? null : Number(row.dlc), raw_data: String(row.raw_data), decoded: row.decoded_data === null || row.decoded_data === undefined ? null : canonicalJsonText(String(row.decoded_data)) };
}

const keyOf = (r: CanonicalRow) => `${r.us}\t${r.can_id}\t${r.raw_data}`;

/** Removes anything credential-like from a message before it is printed. */
export function maskSecrets(message: string, url: string): string {
  let m = message;
  try {
    const u = new URL(url);
    const pw = decodeURIComponent(u.password);
    if (pw) m = m.split(pw).join('***');
    if (u.password) m = m.split(u.password).join('***');
  } catch { /* unparsable: the generic pattern below still applies */ }
  return m.replace(/(postgres(?:ql)?:\/\/[^:/@\s]*:)[^@\s]*@/g, '$1***@');
}

export async function migrateSqliteToPostgres(args: MigrateArgs, io: MigrateIo): Promise<number> {
  const where = `${args.table} in ${describeDatabase(args.url)}`;
  const safe = (e: unknown) => maskSecrets(errorMessage(e), args.url);
  const file = resolve(args.sqliteFile);

  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(file));
  } catch (e) {
    io.err(`fieldgate: cannot read ${args.sqliteFile}: ${errorMessage(e)}`);
    return 2;
  }
  if (bytes.length < 100 || new TextDecoder().decode(bytes.subarray(0, 16)) !== SQLITE_HEADER) {
    io.err(`fieldgate: ${args.sqliteFile} is not an SQLite database`);
    return 2;
  }
  const SQL = await loadSqlJs();
  const db = new SQL.Database(bytes);
  const pg = (await import('pg')).default;
  const client: Client = new pg.Client({ connectionString: args.url, connectionTimeoutMillis: 10_000, options: '-c synchronous_commit=on' });
  client.on('error', () => {}); // a dropped connection surfaces as the failing query's error
  // Default byte limits (1 MiB a message, 64 MiB a result: one FETCH page); a reply past them fails the run.
  guardPgClient(client, { peer: describeDatabase(args.url) });
  let connected = false;
  try {
    const src = args.sourceTable;
    try {
      db.exec(`SELECT rowid, "timestamp", can_id, node_id, message_type, dlc, raw_data, decoded_data FROM ${src} LIMIT 0`);
    } catch (e) {
      io.err(`fieldgate: ${args.sqliteFile}: no usable table ${src} with rowid and the seed's columns (timestamp, can_id, node_id, message_type, dlc, raw_data, decoded_data): ${errorMessage(e)}`);
      return 2;
    }
    const sqliteTotal = Number(db.exec(`SELECT count(*) FROM ${src}`)[0].values[0][0]);

    // Same DDL as the pg-history plugin (hypertable when TimescaleDB is there).
    const sink = new PgCanSink({ url: args.url, table: args.table, connectTimeoutMs: 10_000 });
    let mode;
    try {
      mode = await sink.init();
    } finally {
      await sink.close();
    }
    await client.connect();
    connected = true;
    await client.query(`CREATE TABLE IF NOT EXISTS ${PROGRESS_TABLE} (
  source text NOT NULL,
  target text NOT NULL,
  last_rowid bigint NOT NULL,
  rows_copied bigint NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (source, target)
)`);
    const sourceKey = `sqlite:${file}:${src}`;
    const marker = await client.query<{ last_rowid: string; rows_copied: string }>(`SELECT last_rowid, rows_copied FROM ${PROGRESS_TABLE} WHERE source = $1 AND target = $2`, [sourceKey, args.table]);
    let lastRowid = marker.rows.length ? Number(marker.rows[0].last_rowid) : 0;
    const remaining = Number(db.exec(`SELECT count(*) FROM ${src} WHERE rowid > ${lastRowid}`)[0].values[0][0]);
    io.out(`migrate: ${sqliteTotal} row(s) in ${args.sqliteFile} (${src}) → ${where} (${mode})`);
    if (lastRowid > 0) {
      io.out(remaining === 0
        ? `migrate: resuming: nothing to copy, all rows up to rowid ${lastRowid} were already migrated`
        : `migrate: resuming after rowid ${lastRowid} (${marker.rows[0].rows_copied} row(s) already migrated), ${remaining} to go`);
    }

    const stmt = db.prepare(`SELECT rowid AS rid, "timestamp", can_id, node_id, message_type, dlc, raw_data, decoded_data FROM ${src} WHERE rowid > ? ORDER BY rowid LIMIT ?`);
    const startedAt = Date.now();
    let done = 0;
    let inserted = 0;
    const rejected: string[] = [];
    try {
      for (;;) {
        stmt.bind([lastRowid, args.batch]);
        const batch: CanonicalRow[] = [];
        let maxRid = lastRowid;
        let n = 0;
        while (stmt.step()) {
          const row = stmt.getAsObject() as Record<string, unknown>;
          n++;
          maxRid = Number(row.rid);
          const c = fromSqlite(row);
          if (typeof c === 'string') rejected.push(`rowid ${row.rid}: ${c}`);
          else batch.push(c);
        }
        stmt.reset();
        if (n === 0) break;
        try {
          await client.query('BEGIN');
          if (batch.length) {
            const r = await client.query(
              `INSERT INTO ${args.table} ("timestamp", can_id, node_id, message_type, dlc, raw_data, decoded_data)
SELECT to_timestamp(0) + u.us * interval '1 microsecond', u.can_id, u.node_id, u.message_type, u.dlc, u.raw_data, u.decoded_data
FROM unnest($1::int8[], $2::text[], $3::text[], $4::text[], $5::int[], $6::text[], $7::jsonb[]) AS u(us, can_id, node_id, message_type, dlc, raw_data, decoded_data)
ON CONFLICT DO NOTHING`,
              [batch.map((x) => x.us), batch.map((x) => x.can_id), batch.map((x) => x.node_id), batch.map((x) => x.message_type), batch.map((x) => x.dlc), batch.map((x) => x.raw_data), batch.map((x) => x.decoded)],
            );
            inserted += r.rowCount ?? 0;
          }
          await client.query(
            `INSERT INTO ${PROGRESS_TABLE} (source, target, last_rowid, rows_copied) VALUES ($1, $2, $3, $4)
ON CONFLICT (source, target) DO UPDATE SET last_rowid = EXCLUDED.last_rowid, rows_copied = ${PROGRESS_TABLE}.rows_copied + $4, updated_at = now()`,
            [sourceKey, args.table, maxRid, n],
          );
          await client.query('COMMIT');
        } catch (e) {
          await client.query('ROLLBACK').catch(() => {});
          throw e;
        }
        lastRowid = maxRid;
        done += n;
        io.progress({ done, total: remaining, startedAt });
      }
    } finally {
      stmt.free();
    }
    if (done > 0) {
      io.progress({ done, total: remaining, startedAt }, true);
      io.out(`migrate: copied ${done} row(s): ${inserted} inserted, ${done - inserted - rejected.length} already in PostgreSQL${rejected.length ? `, ${rejected.length} unreadable` : ''}`);
    }

    return await integrityCheck(db, client, args, io, rejected);
  } catch (e) {
    io.err(`fieldgate: migrate sqlite-to-postgres failed (${where}): ${safe(e)}`);
    return 1;
  } finally {
    db.close();
    if (connected) await client.end().catch(() => {});
  }
}

async function integrityCheck(db: import('sql.js').Database, client: Client, args: MigrateArgs, io: MigrateIo, rejected: string[]): Promise<number> {
  const src = args.sourceTable;
  // The SQLite side: the first row (by rowid) of each (timestamp, can_id, raw_data), as ON CONFLICT keeps it.
  const sqlite = new RowChecksum();
  let minUs: bigint | null = null;
  let maxUs: bigint | null = null;
  let duplicates = 0;
  const unreadable: string[] = [];
  const seen = new Set<string>();
  const stmt = db.prepare(`SELECT rowid AS rid, "timestamp", can_id, node_id, message_type, dlc, raw_data, decoded_data FROM ${src} ORDER BY rowid`);
  // Walked twice when the check fails; an unreadable row is counted on the first walk only.
  let walks = 0;
  const sqliteRows = (fn: (rid: unknown, r: CanonicalRow) => void) => {
    const first = walks++ === 0;
    try {
      while (stmt.step()) {
        const row = stmt.getAsObject() as Record<string, unknown>;
        const c = fromSqlite(row);
        if (typeof c === 'string') {
          if (first) unreadable.push(`rowid ${row.rid}: ${c}`);
        } else fn(row.rid, c);
      }
    } finally {
      stmt.reset();
    }
  };
  sqliteRows((_rid, c) => {
    const k = keyOf(c);
    if (seen.has(k)) {
      duplicates++;
      return;
    }
    seen.add(k);
    sqlite.add(canonicalLine(c));
    const us = BigInt(c.us);
    if (minUs === null || us < minUs) minUs = us;
    if (maxUs === null || us > maxUs) maxUs = us;
  });

  // The PostgreSQL side: every row in the same time range, streamed through a cursor.
  const postgres = new RowChecksum();
  const select = `SELECT (extract(epoch FROM "timestamp") * 1000000)::int8::text AS us, can_id, node_id, message_type, dlc, raw_data, decoded_data::text AS decoded_data
FROM ${args.table} WHERE "timestamp" BETWEEN to_timestamp(0) + $1::int8 * interval '1 microsecond' AND to_timestamp(0) + $2::int8 * interval '1 microsecond'`;
  const pgRows = async (fn: (r: CanonicalRow) => void) => {
    if (minUs === null || maxUs === null) return;
    await client.query('BEGIN READ ONLY');
    try {
      await client.query(`DECLARE fieldgate_check NO SCROLL CURSOR FOR ${select}`, [minUs.toString(), maxUs.toString()]);
      for (;;) {
        const r = await client.query('FETCH 5000 FROM fieldgate_check');
        for (const row of r.rows as Record<string, unknown>[]) fn(fromPostgres(row));
        if (r.rows.length < 5000) break;
      }
    } finally {
      await client.query('COMMIT').catch(() => {});
    }
  };
  await pgRows((r) => postgres.add(canonicalLine(r)));

  const dupNote = duplicates ? ` (${duplicates} duplicate frame(s) on (timestamp, can_id, raw_data) in SQLite not counted: the table keeps the first)` : '';
  io.out(`integrity: SQLite     ${sqlite.rows} row(s), checksum ${sqlite.hex}${dupNote}`);
  io.out(`integrity: PostgreSQL ${postgres.rows} row(s), checksum ${postgres.hex} (rows of ${args.table} in the same time range)`);
  if (sqlite.rows === postgres.rows && sqlite.hex === postgres.hex && unreadable.length === 0) {
    io.out(`integrity: OK, ${sqlite.rows} row(s) match`);
    return 0;
  }

  // Name what differs: index PostgreSQL rows by the table's key, then walk SQLite.
  const lines: string[] = [];
  const pgByKey = new Map<string, CanonicalRow>();
  await pgRows((r) => pgByKey.set(keyOf(r), r));
  let missing = 0;
  let changed = 0;
  const shown = 10;
  const show = (l: string) => {
    if (lines.length < shown) lines.push(l);
  };
  seen.clear();
  sqliteRows((rid, c) => {
    const k = keyOf(c);
    if (seen.has(k)) return;
    seen.add(k);
    const p = pgByKey.get(k);
    pgByKey.delete(k);
    if (!p) {
      missing++;
      show(`  missing in PostgreSQL: SQLite rowid ${rid} (${describeRow(c)})`);
      return;
    }
    const cols = (['node_id', 'message_type', 'dlc', 'decoded'] as const).filter((col) => c[col] !== p[col]);
    if (cols.length) {
      changed++;
      show(`  differs: SQLite rowid ${rid} (${describeRow(c)}): ${cols.map((col) => `${col === 'decoded' ? 'decoded_data' : col} SQLite=${clip(c[col])} PostgreSQL=${clip(p[col])}`).join('; ')}`);
    }
  });
  for (const p of pgByKey.values()) show(`  only in PostgreSQL: ${describeRow(p)}`);
  const bar = '!'.repeat(72);
  io.err(bar);
  io.err(`INTEGRITY CHECK FAILED: ${args.sqliteFile} and ${args.table} in ${describeDatabase(args.url)} differ`);
  if (sqlite.rows !== postgres.rows) io.err(`  row counts differ: SQLite ${sqlite.rows}, PostgreSQL ${postgres.rows}`);
  if (sqlite.hex !== postgres.hex) io.err(`  checksums differ: SQLite ${sqlite.hex}, PostgreSQL ${postgres.hex}`);
  io.err(`  ${missing} row(s) missing in PostgreSQL, ${changed} row(s) with different content, ${pgByKey.size} row(s) only in PostgreSQL, ${unreadable.length} unreadable SQLite row(s)`);
  for (const l of lines) io.err(l);
  for (const u of unreadable.slice(0, shown)) io.err(`  unreadable: ${u}`);
  const hidden = missing + changed + pgByKey.size - lines.length + Math.max(0, unreadable.length - shown);
  if (hidden > 0) io.err(`  ... and ${hidden} more`);
  if (rejected.length && !unreadable.length) io.err(`  ${rejected.length} row(s) could not be read during the copy`);
  io.err(bar);
  return 1;
}

function describeRow(r: CanonicalRow): string {
  const iso = new Date(Number(BigInt(r.us) / 1000n)).toISOString();
  return `timestamp ${iso} (${r.us} µs), can_id ${r.can_id}, raw_data ${r.raw_data}`;
}

function clip(v: unknown): string {
  const s = v === null ? 'NULL' : String(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}
