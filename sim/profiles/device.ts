// What every wire-level profile device shares (Modbus TCP, S7, FINS): the point engine on the
// injected clock, start/close of its server, and the common fault hooks (faults.ts) wired to it.
// A device supplies its server through `DeviceWire` and puts the points into memory in `publish`.
import type { Clock } from '../../core/clock.ts';
import { PointEngine } from './engine.ts';
import type { DeviceFaults, ExceptionTarget, FaultState } from './faults.ts';
import type { Profile } from './types.ts';

/** The protocol server under a profile device, as the fault hooks drive it. */
export interface DeviceWire {
  readonly host: string;
  readonly port: number;
  /** For logs: `127.0.0.1:1502`, `udp 127.0.0.1:9600`. */
  readonly address: string;
  readonly listening: boolean;
  start(): Promise<void>;
  /** Off the network: stop listening, drop open connections. */
  stop(): Promise<void>;
  /** Read requests and never answer them. */
  hang(): void;
  readonly hung: boolean;
  /** Delay every answer by `ms` of the clock (0 = prompt). */
  slow(ms: number): void;
  readonly slowMs: number;
  /** Answer matching requests with `code` (the protocol's exception, return or end code). */
  refuse(code: number, target: ExceptionTarget): void;
  /** Back to prompt answers: no hang, no delay, no injected refusals. */
  calm(): void;
  /** Power loss: all device memory to zero, before the points are put back. */
  clearMemory(): void;
}

type ListeningPart = 'host' | 'port' | 'address' | 'listening' | 'start' | 'stop' | 'slow' | 'slowMs';

/** What a protocol server offers for the common part of a wire: listen, stop, an answer delay. */
export interface ListeningServer {
  readonly host: string;
  readonly port: number;
  readonly listening: boolean;
  responseDelayMs: number;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The part of a DeviceWire every protocol server provides the same way (address, listening,
 * start/stop, slow through `responseDelayMs`) joined to the device's own `rest` (hang, refuse, calm,
 * clearMemory).
 */
export function listeningWire(server: ListeningServer, address: () => string, rest: Omit<DeviceWire, ListeningPart>): DeviceWire {
  // Getters stay getters (a spread would copy today's port and listening state).
  const common: Pick<DeviceWire, ListeningPart> = {
    get host() {
      return server.host;
    },
    get port() {
      return server.port;
    },
    get address() {
      return address();
    },
    get listening() {
      return server.listening;
    },
    start: () => server.start(),
    stop: () => server.stop(),
    slow: (ms) => {
      server.responseDelayMs = ms;
    },
    get slowMs() {
      return server.responseDelayMs;
    },
  };
  return Object.defineProperties(rest, Object.getOwnPropertyDescriptors(common)) as DeviceWire;
}

export abstract class ProfileDevice {
  readonly profile: Profile;
  readonly engine: PointEngine;
  /** Power cycles so far. */
  restarts = 0;
  protected readonly clock: Clock;
  #wire: DeviceWire | undefined;
  #faults: DeviceFaults | undefined;
  #injected = 0;

  constructor(profile: Profile, clock: Clock) {
    this.profile = profile;
    this.clock = clock;
    this.engine = new PointEngine(profile, clock);
  }

  /** Subclasses call this at the end of their constructor, once their server exists. */
  protected serve(wire: DeviceWire): void {
    this.#wire = wire;
    this.engine.onTick = () => this.publish();
    this.publish();
    this.#faults = this.#faultHooks(wire);
  }

  /** Puts the engine's values into device memory (after every tick and reset). */
  protected abstract publish(): void;

  get faults(): DeviceFaults {
    return this.#faults!;
  }

  get host(): string {
    return this.#wire!.host;
  }

  get port(): number {
    return this.#wire!.port;
  }

  get address(): string {
    return this.#wire!.address;
  }

  async start(): Promise<void> {
    await this.#wire!.start();
    this.engine.start();
  }

  async close(): Promise<void> {
    this.engine.stop();
    await this.#wire!.stop();
  }

  /** The engineering value of a point as the device holds it now. */
  value(name: string): number {
    return this.engine.value(name);
  }

  #faultHooks(wire: DeviceWire): DeviceFaults {
    const calm = () => {
      wire.calm();
      this.#injected = 0;
    };
    return {
      offline: async () => {
        this.engine.stop();
        await wire.stop();
      },
      hang: () => wire.hang(),
      slow: (ms) => wire.slow(Math.max(0, ms)),
      exception: (code, target = {}) => {
        wire.refuse(code, target);
        this.#injected++;
      },
      powerCycle: async (options = {}) => {
        // Off-time counts from the moment power drops, not from when the sockets finished closing.
        const off = (options.offMs ?? 0) > 0 ? this.clock.sleep(options.offMs ?? 0) : Promise.resolve();
        this.engine.stop();
        await wire.stop();
        await off;
        calm();
        wire.clearMemory();
        this.engine.reset(options.memory ?? this.profile.powerCycle.memory);
        this.restarts++;
        await this.start();
      },
      recover: async () => {
        calm();
        await this.start();
      },
      state: (): FaultState => ({ offline: !wire.listening, hung: wire.hung, slowMs: wire.slowMs, exceptions: this.#injected }),
    };
  }
}
