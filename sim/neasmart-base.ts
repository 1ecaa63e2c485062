// A simulated Rehau Neasmart 2.0 base station: the Modbus master that polls the gateway (unit 240)
// over TCP on loopback. Every cycle it reads the states and setpoints the gateway holds, lets its
// zone model follow them, writes zone temperatures and humidity back (DPT 9.001), and writes the
// outside temperature — every `broadcastEvery`-th cycle as a broadcast to unit 0, like the real base.
// A zone whose state or setpoint register holds 0 (never written: a fresh or zeroed register file)
// gets the base's own value written back — its room unit's default (normal, 21 °C unless configured),
// or the last one the gateway held — so no zone shows a 0 °C setpoint.
import { Socket } from 'node:net';
import { SerialModbusClient } from '../adapters/modbus/client.ts';
import type { ModbusClient } from '../adapters/modbus/types.ts';
import type { Clock, TimerHandle } from '../core/clock.ts';
import { errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { decodeDpt9, encodeDpt9 } from '../plugins/neasmart/dpt9001.ts';
import { GLOBAL, MIXED_GROUP, mixedGroupAddress, ZONE, zoneAddress } from '../plugins/neasmart/registers.ts';
import { type ZoneRoom, ZonesModel } from './zones-model.ts';

/** A room unit's setpoint and state when the manifest names none: comfort temperature, normal heating. */
export const DEFAULT_ROOM = { setpoint: 21, state: 1 } as const;

export interface NeasmartBaseOptions {
  host: string;
  port: number;
  unit: number;
  pollMs: number;
  timeScale: number;
  /** Zones the base has rooms for; `setpoint` (°C) and `state` default to DEFAULT_ROOM. */
  zones: ZoneRoom[];
  /** Every n-th cycle the outside temperature goes to unit 0 (broadcast) instead of `unit`; 0 = never. */
  broadcastEvery: number;
  outside: { mean: number; amplitude: number };
  clock: Clock;
  log: Logger;
  timeoutMs?: number;
}

export class NeasmartBaseSimulator {
  readonly model: ZonesModel;
  #o: NeasmartBaseOptions;
  #client: ModbusClient;
  #timer: TimerHandle | undefined;
  #running = false;
  #lastTick = 0;
  #connected = false;
  #broadcastSocket: Socket | null = null;
  #transaction = 0;
  /** Raw words forced on a zone's temperature register (sensor fault injection). */
  readonly #forced = new Map<string, number>();
  readonly #waiters: Array<{ cycle: number; resolve: () => void }> = [];
  /** Completed cycles (each one a full read + write round). */
  cycles = 0;
  broadcasts = 0;
  lastError: string | null = null;

  constructor(options: NeasmartBaseOptions) {
    this.#o = options;
    const zones = options.zones.map((z) => ({ ...z, setpoint: z.setpoint ?? DEFAULT_ROOM.setpoint, state: z.state ?? DEFAULT_ROOM.state }));
    this.model = new ZonesModel({ zones, timeScale: options.timeScale, outside: options.outside });
    this.#client = this.#newClient();
  }

  #newClient(): ModbusClient {
    return new SerialModbusClient({ transport: 'tcp', host: this.#o.host, port: this.#o.port, timeoutMs: this.#o.timeoutMs ?? 1000 }, this.#o.clock);
  }

  /**
   * Points the base at the gateway's actual Modbus TCP address (when the manifest lets the gateway
   * pick an ephemeral port, `port: 0`, the adapter learns it from the modbus-server's announcement).
   */
  async retarget(host: string, port: number): Promise<void> {
    if (host === this.#o.host && port === this.#o.port) return;
    const old = this.#client;
    this.#o = { ...this.#o, host, port };
    this.#client = this.#newClient();
    this.#connected = false;
    await old.close();
  }

  get description(): string {
    return `simulated base polling ${this.#o.host}:${this.#o.port} unit ${this.#o.unit} every ${this.#o.pollMs} ms`;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#lastTick = this.#o.clock.now();
    this.#schedule(0);
  }

  /** Stops polling and drops the link; `start()` polls again on a new link (a base switched off and on). */
  async stop(): Promise<void> {
    this.#running = false;
    this.#o.clock.clearTimeout(this.#timer);
    this.#broadcastSocket?.destroy();
    this.#broadcastSocket = null;
    const old = this.#client;
    this.#client = this.#newClient();
    this.#connected = false;
    await old.close();
  }

  /** Test hook: the zone's sensor reports `raw` (0x7FFF or 0x8116: "invalid") until `repairSensor`. */
  failSensor(base: number, zone: number, raw = 0x7fff): void {
    this.model.zone(base, zone);
    this.#forced.set(`${base}/${zone}`, raw);
  }

  repairSensor(base: number, zone: number): void {
    this.#forced.delete(`${base}/${zone}`);
  }

  /** Resolves once `n` more cycles have completed (rejects after `timeoutMs` with the last error). */
  waitCycles(n = 1, timeoutMs = 10_000): Promise<void> {
    const target = this.cycles + n;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`base simulator: no ${n} cycle(s) within ${timeoutMs} ms (last error: ${this.lastError ?? 'none'})`)), timeoutMs);
      this.#waiters.push({ cycle: target, resolve: () => (clearTimeout(timer), resolve()) });
    });
  }

  /** One poll round; exposed so tests can step the base by hand. */
  async cycle(): Promise<void> {
    const { unit, clock } = this.#o;
    const now = clock.now();
    // Read what the gateway holds first (as the base does), then let the zones follow it.
    for (const z of this.model.zones.values()) {
      const address = zoneAddress(z.base, z.zone) + ZONE.state;
      const [state, setpoint] = await this.#client.readRegisters('holding', unit, address, 2);
      // 0 is "never written" (no state is 0, no setpoint in range is 0 °C): the base fills in its own.
      if (state !== 0) z.state = state;
      if (setpoint !== 0) z.setpoint = decodeDpt9(setpoint);
      if ((state === 0 || setpoint === 0) && z.state !== 0 && z.setpoint !== null) {
        await this.#client.writeRegisters(unit, address, [z.state, encodeDpt9(z.setpoint)]);
      }
    }
    await this.#client.readRegisters('holding', unit, GLOBAL.mode, 2);
    this.model.advance(now - this.#lastTick);
    this.#lastTick = now;

    for (const z of this.model.zones.values()) {
      const address = zoneAddress(z.base, z.zone);
      const forced = this.#forced.get(`${z.base}/${z.zone}`);
      await this.#client.writeRegisters(unit, address + ZONE.temperature, [forced ?? encodeDpt9(round1(z.temperature))]);
      await this.#client.writeRegisters(unit, address + ZONE.humidity, [Math.round(z.humidity)]);
    }
    const demand = this.model.demand();
    const group = mixedGroupAddress(1);
    const flow = 25 + demand / 5;
    await this.#client.writeRegisters(unit, group + MIXED_GROUP.valve, [demand, demand > 0 ? 1 : 0, encodeDpt9(round1(flow)), encodeDpt9(round1(flow - 5))]);

    const outside = [encodeDpt9(round1(this.model.outsideTemperature)), encodeDpt9(round1(this.model.filteredOutsideTemperature))];
    if (this.#o.broadcastEvery > 0 && (this.cycles + 1) % this.#o.broadcastEvery === 0) {
      await this.#broadcast(GLOBAL.outsideTemperature, outside);
    } else {
      await this.#client.writeRegisters(unit, GLOBAL.outsideTemperature, outside);
    }
    this.cycles++;
    for (let i = this.#waiters.length - 1; i >= 0; i--) {
      if (this.#waiters[i].cycle <= this.cycles) this.#waiters.splice(i, 1)[0].resolve();
    }
  }

  #schedule(ms: number): void {
    if (!this.#running) return;
    this.#timer = this.#o.clock.setTimeout(() => void this.#tick(), ms);
  }

  async #tick(): Promise<void> {
    if (this.#o.port === 0) return this.#schedule(this.#o.pollMs); // waiting for the gateway's announced port
    try {
      await this.cycle();
      if (!this.#connected) this.#o.log.info(`base simulator: polling unit ${this.#o.unit} at ${this.#o.host}:${this.#o.port}`);
      this.#connected = true;
      this.lastError = null;
    } catch (err) {
      if (!this.#running) return; // stopped mid-cycle: the closed link is expected
      this.lastError = errorMessage(err);
      // The gateway starts after the adapters open: refused connections at first are expected.
      if (this.#connected) this.#o.log.warn(`base simulator: ${this.lastError}; retrying every ${this.#o.pollMs} ms`);
      else this.#o.log.debug(() => `base simulator: gateway not reachable yet: ${this.lastError}`);
      this.#connected = false;
    }
    this.#schedule(this.#o.pollMs);
  }

  /**
   * FC16 to unit 0 on a socket of its own: a broadcast gets no reply, and a client that waits for
   * one would time out and drop the link.
   */
  async #broadcast(address: number, values: number[]): Promise<void> {
    const socket = await this.#broadcastLink();
    const pdu = Buffer.alloc(6 + values.length * 2);
    pdu.writeUInt8(16, 0);
    pdu.writeUInt16BE(address, 1);
    pdu.writeUInt16BE(values.length, 3);
    pdu.writeUInt8(values.length * 2, 5);
    values.forEach((v, i) => pdu.writeUInt16BE(v, 6 + i * 2));
    const mbap = Buffer.alloc(7);
    this.#transaction = (this.#transaction + 1) & 0xffff;
    mbap.writeUInt16BE(this.#transaction, 0);
    mbap.writeUInt16BE(0, 2);
    mbap.writeUInt16BE(pdu.length + 1, 4);
    mbap.writeUInt8(0, 6);
    await new Promise<void>((resolve, reject) => socket.write(Buffer.concat([mbap, pdu]), (err) => (err ? reject(err) : resolve())));
    this.broadcasts++;
  }

  #broadcastLink(): Promise<Socket> {
    const existing = this.#broadcastSocket;
    if (existing && !existing.destroyed) return Promise.resolve(existing);
    return new Promise((resolve, reject) => {
      const socket = new Socket();
      socket.once('error', reject);
      socket.connect(this.#o.port, this.#o.host, () => {
        socket.off('error', reject);
        socket.on('error', () => socket.destroy());
        socket.on('data', () => {}); // a server that answers a broadcast anyway: ignore it
        this.#broadcastSocket = socket;
        resolve(socket);
      });
    });
  }
}

function round1(v: number): number {
  return Math.round(v * 10) / 10;
}
