// A generic Modbus TCP device played from a profile: the profile's points live in a register bank
// served by the production server core, move with their behaviours on the injected clock, take
// writes from the master, and refuse the profile's exception addresses. Faults under `faults` (device.ts).
import type { Clock } from '../../core/clock.ts';
import { ModbusTcpServer } from '../modbus-server.ts';
import type { ModbusRtuServer, SerialLink } from '../../adapters/modbus/server/rtu.ts';
import { serveUnitOnRtu } from './modbus-rtu-line.ts';
import { ModbusServerException, RegisterBank } from '../register-bank.ts';
import type { RegisterTableName } from '../../adapters/modbus/register-space.ts';
import { listeningWire, ProfileDevice } from './device.ts';
import { decodePoint, encodePoint, wordCount } from './modbus-codec.ts';
import type { ModbusExceptionRule, Profile, ProfilePoint } from './types.ts';

export interface ModbusProfileDeviceOptions {
  profile: Profile;
  clock: Clock;
  host?: string;
  /** 0 = any free port (kept across restarts). */
  port?: number;
  unit?: number;
}

/** A bank that answers the profile's standing exception rules before touching memory. */
class ProfileBank extends RegisterBank {
  constructor(sizes: Profile['modbus']['sizes'], readonly rules: ModbusExceptionRule[]) {
    super(sizes);
  }

  override read(table: RegisterTableName, address: number, count: number): number[] {
    this.#refuse(table, address, count);
    return super.read(table, address, count);
  }

  override write(table: 'holding' | 'coil', address: number, values: number[]): void {
    this.#refuse(table, address, values.length);
    super.write(table, address, values);
  }

  #refuse(table: RegisterTableName, address: number, count: number): void {
    const rule = this.rules.find((r) => (r.table === undefined || r.table === table) && r.address < address + count && address < r.address + (r.count ?? 1));
    if (rule) throw new ModbusServerException(rule.code, `${table} ${rule.address} refused by the profile`);
  }
}

export class ModbusProfileDevice extends ProfileDevice {
  readonly bank: ProfileBank;
  readonly server: ModbusTcpServer;
  readonly unit: number;
  readonly #mapped: ProfilePoint[];

  constructor(options: ModbusProfileDeviceOptions) {
    super(options.profile, options.clock);
    this.unit = options.unit ?? 1;
    this.bank = new ProfileBank(this.profile.modbus.sizes, this.profile.modbus.exceptions);
    this.#mapped = this.profile.points.filter((p) => p.table !== undefined && p.address !== undefined);
    const server = this.server = new ModbusTcpServer({
      host: options.host ?? '127.0.0.1',
      port: options.port ?? 0,
      units: new Map([[this.unit, this.bank]]),
      clock: options.clock,
      onWrite: (_unit, table, address, count) => this.#written(table, address, count),
    });
    this.serve(listeningWire(server, () => `${server.host}:${server.port}`, {
      hang: () => {
        server.hung = true;
      },
      get hung() {
        return server.hung;
      },
      refuse: (code, target) => server.fault({ kind: 'exception', code, address: target.address, fc: target.fc }),
      calm: () => {
        server.hung = false;
        server.responseDelayMs = 0;
        server.clearFaults();
      },
      clearMemory: () => this.bank.clear(),
    }));
  }

  /**
   * Also serves the device on an RTU line (a serial port, one end of a pty pair, an in-memory link):
   * same memory, same faults; while offline or powered off the line gets no answers.
   */
  serveRtu(link: SerialLink, options: { baudRate?: number } = {}): ModbusRtuServer {
    return serveUnitOnRtu(this.server, this.unit, link, options.baudRate ?? 9600, this.clock);
  }

  protected publish(): void {
    for (const p of this.#mapped) {
      const words = encodePoint(p, this.engine.value(p.name));
      if (p.table === 'coil' || p.table === 'discrete') this.bank[p.table][p.address!] = words[0];
      else this.bank[p.table!].set(words, p.address!);
    }
  }

  /** A master wrote: the points it touched take the new values (echo points keep them). */
  #written(table: 'holding' | 'coil', address: number, count: number): void {
    for (const p of this.#mapped) {
      const n = wordCount(p);
      if (p.table !== table || p.address! + n <= address || p.address! >= address + count) continue;
      const words = Array.from(this.bank[table].subarray(p.address!, p.address! + n));
      this.engine.write(p.name, decodePoint(p, words));
    }
  }
}
