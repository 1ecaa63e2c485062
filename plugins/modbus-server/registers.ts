// The register space of one modbus-server: the four tables of every unit in memory (answers never
// wait for the disk to read), every write persisted through the store's journal, each register's
// last write time, and the traffic clock that says whether a master still talks to us.
import type { OwnedBus } from '../../core/bus.ts';
import type { Clock } from '../../core/clock.ts';
import { errorMessage } from '../../core/errors.ts';
import type { Logger } from '../../core/log.ts';
import type { StateStore } from '../../core/store/types.ts';
import type { RegisterChange, RegisterSpace, RegisterTableName } from '../../adapters/modbus/register-space.ts';
import { checkRange, type ModbusDataModel } from '../../adapters/modbus/server/pdu.ts';
import { type ModbusServerConfig, TABLES } from './config.ts';

type Source = RegisterChange['source'];
type Tables = Record<RegisterTableName, Uint16Array | Uint8Array>;

const MIGRATIONS = [
  `CREATE TABLE IF NOT EXISTS modbus_server_registers(
     server TEXT NOT NULL, unit INTEGER NOT NULL, tbl TEXT NOT NULL, address INTEGER NOT NULL,
     value INTEGER NOT NULL, ts INTEGER NOT NULL,
     PRIMARY KEY(server, unit, tbl, address)) WITHOUT ROWID`,
];

// One journaled mutation per write, whatever its length: the values travel as one JSON array.
const UPSERT = `INSERT OR REPLACE INTO modbus_server_registers(server, unit, tbl, address, value, ts)
  SELECT :server, :unit, :tbl, :address + key, value, :ts FROM json_each(:values)`;

export interface RegistersOptions {
  id: string;
  config: ModbusServerConfig;
  store: StateStore;
  bus: OwnedBus;
  clock: Clock;
  log: Logger;
}

export class PersistentRegisters implements RegisterSpace {
  readonly units: number[];
  readonly #o: RegistersOptions;
  readonly #tables = new Map<number, Tables>();
  readonly #lastWrite = new Map<string, number>();
  readonly #startedAt: number;
  #lastRequestAt: number | null = null;
  /** Where the TCP listener is, once started (not part of RegisterSpace: for logs, tests and tools). */
  tcpAddress: { host: string; port: number } | null = null;

  constructor(options: RegistersOptions) {
    this.#o = options;
    this.units = [...options.config.units];
    this.#startedAt = options.clock.monotonic();
    const sizes = options.config.tables;
    for (const unit of this.units) {
      this.#tables.set(unit, {
        holding: new Uint16Array(sizes.holding),
        input: new Uint16Array(sizes.input),
        coil: new Uint8Array(sizes.coil),
        discrete: new Uint8Array(sizes.discrete),
      });
    }
  }

  /** Creates the table, loads every stored register, then zeroes the command ranges (unless they persist). */
  async load(): Promise<void> {
    const { store, id, config, log } = this.#o;
    await store.migrate('modbus-server', MIGRATIONS);
    const rows = store.query<{ unit: number; tbl: string; address: number; value: number; ts: number }>(
      'SELECT unit, tbl, address, value, ts FROM modbus_server_registers WHERE server = :server',
      { ':server': id },
    );
    let loaded = 0;
    let outside = 0;
    for (const r of rows) {
      const t = this.#tables.get(r.unit)?.[r.tbl as RegisterTableName];
      if (!t || r.address >= t.length) {
        outside++; // a unit or table size removed from the config: kept on disk, not served
        continue;
      }
      t[r.address] = r.value;
      this.#lastWrite.set(key(r.unit, r.tbl as RegisterTableName, r.address), r.ts);
      loaded++;
    }
    log.info(`loaded ${loaded} stored register(s)${outside ? `; ${outside} outside the configured units/tables ignored` : ''}`);
    if (config.persistCommands) return;
    for (const range of config.commandRegisters) {
      for (const t of this.#tables.values()) t[range.table].fill(0, range.from, range.to + 1);
      for (const unit of this.units) for (let a = range.from; a <= range.to; a++) this.#lastWrite.delete(key(unit, range.table, a));
      await this.#persist('DELETE FROM modbus_server_registers WHERE server = :server AND tbl = :tbl AND address BETWEEN :from AND :to', {
        ':server': id,
        ':tbl': range.table,
        ':from': range.from,
        ':to': range.to,
      });
    }
  }

  hasUnit(unit: number): boolean {
    return this.#tables.has(unit);
  }

  read(unit: number, table: RegisterTableName, address: number, count: number): number[] {
    const t = this.#table(unit, table);
    if (!Number.isInteger(count) || count < 1 || !Number.isInteger(address) || address < 0 || address + count > t.length) {
      throw new RangeError(`modbus-server "${this.#o.id}": ${table} ${address}..${address + count - 1} of unit ${unit} is outside the configured range 0..${t.length - 1}`);
    }
    return Array.from(t.subarray(address, address + count));
  }

  write(unit: number, table: RegisterTableName, address: number, values: number[]): Promise<{ durable: boolean }> {
    const t = this.#table(unit, table);
    const where = `modbus-server "${this.#o.id}": ${table} ${address}..${address + values.length - 1} of unit ${unit}`;
    if (values.length < 1 || !Number.isInteger(address) || address < 0 || address + values.length > t.length) {
      throw new RangeError(`${where} is outside the configured range 0..${t.length - 1}`);
    }
    const bits = table === 'coil' || table === 'discrete';
    const normalized = values.map((v) => {
      if (bits ? v !== 0 && v !== 1 : !Number.isInteger(v) || v < -32768 || v > 65535) {
        throw new RangeError(`${where}: value ${v} is not ${bits ? '0 or 1' : 'an integer in -32768..65535'}`);
      }
      return v & 0xffff;
    });
    return this.#apply(unit, table, address, normalized, 'local');
  }

  lastWrite(unit: number, table: RegisterTableName, address: number): number | null {
    return this.#lastWrite.get(key(unit, table, address)) ?? null;
  }

  traffic(): { lastRequestAgeS: number | null; stale: boolean } {
    const now = this.#o.clock.monotonic();
    const { staleAfterS } = this.#o.config;
    if (this.#lastRequestAt === null) {
      // No master yet: stale once a whole staleAfterS has passed since start, so a reboot is not an alarm.
      return { lastRequestAgeS: null, stale: (now - this.#startedAt) / 1000 > staleAfterS };
    }
    const age = (now - this.#lastRequestAt) / 1000;
    return { lastRequestAgeS: Math.round(age * 1000) / 1000, stale: age > staleAfterS };
  }

  /** A request from a master reached us (our unit or broadcast). */
  noteRequest(): void {
    this.#lastRequestAt = this.#o.clock.monotonic();
  }

  /** The data model a request to `unit` runs against; writes answer once persisted (or in memory while the disk fails). */
  model(unit: number, source: Source = 'master'): ModbusDataModel {
    const tables = this.#tables.get(unit);
    if (!tables) throw new Error(`modbus-server "${this.#o.id}": unit ${unit} is not configured`);
    return {
      read: (table, address, count) => {
        const t = tables[table];
        checkRange(t.length, address, count);
        return Array.from(t.subarray(address, address + count));
      },
      write: (table, address, values) => {
        checkRange(tables[table].length, address, values.length);
        return this.#apply(unit, table, address, values, source);
      },
    };
  }

  #table(unit: number, table: RegisterTableName): Uint16Array | Uint8Array {
    const tables = this.#tables.get(unit);
    if (!tables) throw new RangeError(`modbus-server "${this.#o.id}": unit ${unit} is not configured (units: ${this.units.join(', ')})`);
    if (!TABLES.includes(table)) throw new RangeError(`modbus-server "${this.#o.id}": unknown table "${table}" (holding, input, coil, discrete)`);
    return tables[table];
  }

  /** Applies in memory at once, publishes the change, and resolves when the journal has it on disk. */
  #apply(unit: number, table: RegisterTableName, address: number, values: number[], source: Source): Promise<{ durable: boolean }> {
    const t = this.#tables.get(unit)![table];
    const previous = Array.from(t.subarray(address, address + values.length));
    t.set(values, address);
    const ts = this.#o.clock.now();
    for (let i = 0; i < values.length; i++) this.#lastWrite.set(key(unit, table, address + i), ts);
    const { id, bus } = this.#o;
    const persisted = this.#persist(UPSERT, { ':server': id, ':unit': unit, ':tbl': table, ':address': address, ':values': JSON.stringify(values), ':ts': ts });
    const change: RegisterChange = { server: id, unit, table, address, values: [...values], previous, source, ts };
    bus.publish(`modbus/${id}/${unit}/${table}`, change);
    return persisted;
  }

  /** Never rejects: a store that cannot take the write must not fail a Modbus request. */
  async #persist(sql: string, params: Record<string, string | number>): Promise<{ durable: boolean }> {
    try {
      const r = await this.#o.store.run(sql, params, { durable: true });
      return { durable: r.durable };
    } catch (err) {
      this.#o.log.warn(`could not persist a register write (still served from memory): ${errorMessage(err)}`);
      return { durable: false };
    }
  }
}

function key(unit: number, table: RegisterTableName, address: number): string {
  return `${unit}:${table}:${address}`;
}
