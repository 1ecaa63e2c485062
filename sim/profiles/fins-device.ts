// A generic Omron CPU played from a profile: the points live at their FINS addresses (D100, W3.04)
// in the FINS/UDP server's memory, move with their behaviours on the injected clock and take the
// client's writes. Encoding as for Modbus (type, word order, scale). Faults under `faults` (device.ts).
import type { Clock } from '../../core/clock.ts';
import { type FinsAddress, parseFinsAddress } from '../../adapters/fins/address.ts';
import type { FinsArea } from '../../adapters/fins/types.ts';
import { FinsServer } from '../fins-server.ts';
import { listeningWire, ProfileDevice } from './device.ts';
import { decodePoint, encodePoint, wordCount } from './modbus-codec.ts';
import type { Profile, ProfilePoint } from './types.ts';

export interface FinsProfileDeviceOptions {
  profile: Profile;
  clock: Clock;
  /** 0 = any free port (kept across restarts). */
  port?: number;
  /** The CPU's FINS node (DA1 it answers to). Default 2. */
  node?: number;
}

interface Placed {
  point: ProfilePoint;
  at: FinsAddress;
  words: number;
}

export class FinsProfileDevice extends ProfileDevice {
  readonly server: FinsServer;
  readonly #placed: Placed[];

  constructor(options: FinsProfileDeviceOptions) {
    super(options.profile, options.clock);
    this.#placed = this.profile.points.filter((p) => p.fins !== undefined).map((point) => ({ point, at: parseFinsAddress(point.fins!), words: wordCount(point) }));
    const server = this.server = new FinsServer({ port: options.port ?? 0, node: options.node, clock: options.clock, onWrite: (area, address, count) => this.#written(area, address, count) });
    this.serve(listeningWire(server, () => server.address, {
      hang: () => {
        server.hung = true;
      },
      get hung() {
        return server.hung;
      },
      refuse: (code, target) => server.refuse({ endCode: code, area: target.area, address: target.address }),
      calm: () => server.clearFaults(),
      clearMemory: () => server.clearMemory(),
    }));
  }

  protected publish(): void {
    for (const { point, at } of this.#placed) {
      const words = encodePoint(point, this.engine.value(point.name));
      if (at.bit === undefined) {
        this.server.poke(at.area, at.address, words);
        continue;
      }
      const [w] = this.server.read(at.area, at.address, 1);
      this.server.poke(at.area, at.address, [words[0] ? w | (1 << at.bit) : w & ~(1 << at.bit)]);
    }
  }

  /** A client wrote: the points it touched take the new values (echo points keep them). */
  #written(area: FinsArea, address: number, count: number): void {
    for (const { point, at, words } of this.#placed) {
      if (at.area !== area || at.address + words <= address || at.address >= address + count) continue;
      const raw = this.server.read(area, at.address, words);
      this.engine.write(point.name, at.bit === undefined ? decodePoint(point, raw) : (raw[0] >> at.bit) & 1);
    }
  }
}
