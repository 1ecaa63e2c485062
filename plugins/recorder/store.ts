// The recorder's tables in the state store: hourly production records (the seed's
// `productionrecords`), PLC counter values and each machine's cursor, all written in one durable
// mutation per tick so counts, counters and partial hours never disagree after a restart.
import type { SqlStatement, StateStore } from '../../core/store/types.ts';
import { HOUR_MS, type HourBucket } from './hourly.ts';

export const OWNER = 'recorder';

const MIGRATIONS = [
  `CREATE TABLE recorder_production (
     plugin TEXT NOT NULL, machine TEXT NOT NULL, hour_start INTEGER NOT NULL,
     units INTEGER NOT NULL, rejects INTEGER NOT NULL,
     running_s REAL NOT NULL, idle_s REAL NOT NULL, stopped_s REAL NOT NULL, gap_s REAL NOT NULL,
     energy_kwh REAL NOT NULL, closed INTEGER NOT NULL, updated_at INTEGER NOT NULL,
     PRIMARY KEY (plugin, machine, hour_start))`,
  `CREATE TABLE recorder_counters (plugin TEXT NOT NULL, sensor TEXT NOT NULL, value INTEGER NOT NULL, updated_at INTEGER NOT NULL, PRIMARY KEY (plugin, sensor))`,
  `CREATE TABLE recorder_cursor (plugin TEXT NOT NULL, machine TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (plugin, machine))`,
];

/** What the recorder needs to resume a machine: the last tick, the last power sample, the last cycle. */
export interface MachineCursor {
  lastTick: number;
  lastPower?: { t: number; kw: number };
  lastCycleAt?: number;
}

interface Row {
  machine: string;
  hour_start: number;
  units: number;
  rejects: number;
  running_s: number;
  idle_s: number;
  stopped_s: number;
  gap_s: number;
  energy_kwh: number;
  closed: number;
}

const toBucket = (r: Row): HourBucket => ({
  machine: r.machine, hourStart: r.hour_start, units: r.units, rejects: r.rejects,
  runningS: r.running_s, idleS: r.idle_s, stoppedS: r.stopped_s, gapS: r.gap_s, energyKWh: r.energy_kwh, closed: r.closed === 1,
});

export class RecorderRepo {
  constructor(readonly store: StateStore, readonly plugin: string) {}

  async init(): Promise<void> {
    await this.store.migrate(OWNER, MIGRATIONS);
  }

  openBuckets(machine: string): HourBucket[] {
    return this.store.query<Row>('SELECT * FROM recorder_production WHERE plugin = :p AND machine = :m AND closed = 0 ORDER BY hour_start', { ':p': this.plugin, ':m': machine }).map(toBucket);
  }

  counters(): Map<string, number> {
    const rows = this.store.query<{ sensor: string; value: number }>('SELECT sensor, value FROM recorder_counters WHERE plugin = :p', { ':p': this.plugin });
    return new Map(rows.map((r) => [r.sensor, r.value]));
  }

  cursor(machine: string): MachineCursor | undefined {
    const row = this.store.query<{ data: string }>('SELECT data FROM recorder_cursor WHERE plugin = :p AND machine = :m', { ':p': this.plugin, ':m': machine })[0];
    return row ? (JSON.parse(row.data) as MachineCursor) : undefined;
  }

  /** Hourly rows of [from, to) (ms), oldest first; `machine` optional. */
  production(options: { machine?: string; from?: number; to?: number }): HourBucket[] {
    const where = ['plugin = :p', 'hour_start >= :from', 'hour_start < :to'];
    const params: Record<string, string | number> = { ':p': this.plugin, ':from': options.from ?? 0, ':to': options.to ?? Number.MAX_SAFE_INTEGER };
    if (options.machine) {
      where.push('machine = :m');
      params[':m'] = options.machine;
    }
    return this.store.query<Row>(`SELECT * FROM recorder_production WHERE ${where.join(' AND ')} ORDER BY hour_start, machine`, params).map(toBucket);
  }

  /** One atomic, durable write of everything a tick changed. */
  async save(changes: { buckets: HourBucket[]; counters: Map<string, number>; cursors: Map<string, MachineCursor>; now: number }): Promise<{ durable: boolean }> {
    const { now } = changes;
    const statements: SqlStatement[] = [];
    for (const b of changes.buckets) {
      statements.push({
        sql: `INSERT OR REPLACE INTO recorder_production VALUES (:p, :m, :h, :u, :r, :run, :idle, :stop, :gap, :e, :c, :now)`,
        params: { ':p': this.plugin, ':m': b.machine, ':h': b.hourStart, ':u': b.units, ':r': b.rejects, ':run': b.runningS, ':idle': b.idleS, ':stop': b.stoppedS, ':gap': b.gapS, ':e': b.energyKWh, ':c': b.closed ? 1 : 0, ':now': now },
      });
    }
    for (const [sensor, value] of changes.counters) {
      statements.push({ sql: 'INSERT OR REPLACE INTO recorder_counters VALUES (:p, :s, :v, :now)', params: { ':p': this.plugin, ':s': sensor, ':v': value, ':now': now } });
    }
    for (const [machine, cursor] of changes.cursors) {
      statements.push({ sql: 'INSERT OR REPLACE INTO recorder_cursor VALUES (:p, :m, :d)', params: { ':p': this.plugin, ':m': machine, ':d': JSON.stringify(cursor) } });
    }
    if (!statements.length) return { durable: true };
    return await this.store.runMany(statements, { durable: true });
  }

  /** Deletes closed hours older than `keepDays`. */
  async prune(now: number, keepDays: number): Promise<void> {
    await this.store.run('DELETE FROM recorder_production WHERE plugin = :p AND closed = 1 AND hour_start < :before', { ':p': this.plugin, ':before': now - keepDays * 24 * HOUR_MS }, { durable: false });
  }
}
