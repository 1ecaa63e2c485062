// A generic Siemens S7 CPU played from a profile: the points live at their S7 addresses in the
// simulator's memory (DBs sized to hold them), move with their behaviours on the injected clock and
// take the client's writes, served by the wire-level S7 simulator. Faults under `faults` (device.ts).
import type { Clock } from '../../core/clock.ts';
import { parseS7Address } from '../../adapters/s7/address.ts';
import type { S7Address, S7Value } from '../../adapters/s7/types.ts';
import { S7Server } from '../s7-server.ts';
import { listeningWire, ProfileDevice } from './device.ts';
import type { Profile, ProfilePoint } from './types.ts';

export interface S7ProfileDeviceOptions {
  profile: Profile;
  clock: Clock;
  port?: number;
  rack?: number;
  slot?: number;
}

interface Placed {
  point: ProfilePoint;
  address: S7Address;
  /** What the device last put there, to tell a client's write from its own. */
  last: S7Value;
}

const BYTES: Record<string, number> = { REAL: 4, DINT: 4, DWORD: 4, INT: 2, WORD: 2 };

export class S7ProfileDevice extends ProfileDevice {
  readonly server: S7Server;
  readonly #placed: Placed[];
  readonly #dbs: Record<number, number>;

  constructor(options: S7ProfileDeviceOptions) {
    super(options.profile, options.clock);
    this.#placed = this.profile.points.filter((p) => p.s7 !== undefined).map((point) => ({ point, address: parseS7Address(point.s7!), last: 0 }));
    const dbs: Record<number, number> = Object.fromEntries(Object.entries(this.profile.s7.dbs).map(([k, v]) => [Number(k), v]));
    for (const { address: a } of this.#placed) {
      if (a.area === 'DB') dbs[a.db!] = Math.max(dbs[a.db!] ?? 0, a.byte + (BYTES[a.type] ?? 1));
    }
    if (Object.keys(dbs).length === 0) dbs[1] = 256;
    this.#dbs = dbs;
    const server = this.server = new S7Server({ port: options.port ?? 0, rack: options.rack, slot: options.slot, clock: options.clock, dbs, onWrite: () => this.#written() });
    let hung = false;
    this.serve(listeningWire(server, () => server.address, {
      hang: () => {
        hung = true;
        server.fault({ kind: 'timeout' });
      },
      get hung() {
        return hung;
      },
      // S7 has no exception per request: every item of the next jobs answers this return code
      // (0x05 invalid address, 0x0a object does not exist, 0x03 access denied).
      refuse: (code) => server.fault({ kind: 'refuse', code }),
      calm: () => {
        hung = false;
        server.responseDelayMs = 0;
        server.clearFaults();
      },
      clearMemory: () => this.#zeroMemory(),
    }));
  }

  protected publish(): void {
    for (const p of this.#placed) {
      const v = this.engine.value(p.point.name);
      p.last = p.address.type === 'X' ? v !== 0 : p.address.type === 'REAL' ? v : Math.round(v);
      this.server.memory.set(p.address, p.last);
    }
  }

  /** A client wrote: points whose memory no longer holds what the device put there take the new value. */
  #written(): void {
    for (const p of this.#placed) {
      const now = this.server.memory.get(p.address);
      if (now === p.last) continue;
      p.last = now;
      this.engine.write(p.point.name, typeof now === 'boolean' ? Number(now) : now);
    }
  }

  #zeroMemory(): void {
    for (const [db, size] of Object.entries(this.#dbs)) {
      const bytes = this.server.memory.region(0x84, Number(db), 0, size, true);
      if (typeof bytes !== 'number') bytes.fill(0);
    }
    for (const area of [0x81, 0x82, 0x83]) {
      const bytes = this.server.memory.region(area, 0, 0, 256, true);
      if (typeof bytes !== 'number') bytes.fill(0);
    }
  }
}
