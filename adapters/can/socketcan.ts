// The real CAN interface through the `socketcan` native addon (Node only, loaded lazily). It is an
// optional install: its native build has broken on new Node versions and on ARM64 before
// (sebi2k1/node-can #104, #182), so a missing or unbuildable addon is a clear error, not a crash.
import { requireNodeFor } from '../../core/runtime-info.ts';
import { CanChannelClosedError, type CanChannel, type CanChannelStats, type CanFrame, type FrameListener, FrameFanout } from './types.ts';

// The slice of socketcan's API we use (it ships no type declarations).
interface RawMessage {
  id: number;
  ext?: boolean;
  rtr?: boolean;
  err?: boolean;
  data: Uint8Array;
  ts_sec?: number;
  ts_usec?: number;
}
interface RawChannel {
  addListener(event: 'onMessage', cb: (msg: RawMessage) => void): void;
  addListener(event: 'onStopped', cb: () => void): void;
  send(msg: { id: number; ext: boolean; rtr: boolean; data: Uint8Array }): void;
  start(): void;
  stop(): void;
}
interface SocketCanModule {
  createRawChannel(iface: string, timestamps?: boolean): RawChannel;
}

const INSTALL_HINT =
  'install it on the gateway with "npm install socketcan" (a native addon: needs python3, make and a C++ compiler, ' +
  'e.g. apt install build-essential python3), or use driver "sim" or a candump log (source "replay")';
const SETUP_HINT = 'bring the interface up first: sudo ip link set can0 up type can bitrate 250000 (check with "ip -details link show can0")';

async function loadSocketCan(): Promise<SocketCanModule> {
  // A variable specifier keeps type checkers and bundlers from resolving the optional addon.
  const specifier = 'socketcan';
  try {
    const mod = (await import(specifier)) as { default?: SocketCanModule } & Partial<SocketCanModule>;
    const api = (mod.default ?? mod) as SocketCanModule;
    if (typeof api.createRawChannel !== 'function') throw new Error('the module has no createRawChannel()');
    return api;
  } catch (err) {
    throw new Error(`can: the native module "socketcan" could not be loaded (${(err as Error).message}); ${INSTALL_HINT}`, { cause: err });
  }
}

export class SocketCanChannel implements CanChannel {
  readonly #fanout = new FrameFanout();
  readonly #stats: CanChannelStats = { received: 0, sent: 0, errorFrames: 0, dropped: 0, state: 'active' };

  private constructor(readonly iface: string, readonly raw: RawChannel) {
    raw.addListener('onMessage', (msg) => {
      const frame: CanFrame = {
        id: msg.id,
        ext: Boolean(msg.ext),
        data: msg.data,
        ts: msg.ts_sec !== undefined ? msg.ts_sec * 1000 + (msg.ts_usec ?? 0) / 1000 : Date.now(),
      };
      if (msg.rtr) frame.rtr = true;
      if (msg.err) {
        frame.err = true;
        this.#stats.errorFrames++;
      }
      this.#stats.received++;
      this.#fanout.emit(frame);
    });
    raw.addListener('onStopped', () => {
      if (this.#stats.state === 'active') this.#stats.state = 'closed';
    });
  }

  /** Opens `iface` (e.g. `can0`). Rejects on Deno, without the addon, or when the interface is missing. */
  static async open(iface: string): Promise<SocketCanChannel> {
    requireNodeFor(`can adapter (socketcan ${iface})`, 'socketcan');
    const mod = await loadSocketCan();
    let raw: RawChannel;
    try {
      raw = mod.createRawChannel(iface, true);
    } catch (err) {
      throw new Error(`can ${iface}: cannot open the interface (${(err as Error).message}); ${SETUP_HINT}`, { cause: err });
    }
    const ch = new SocketCanChannel(iface, raw);
    raw.start();
    return ch;
  }

  get description(): string {
    return `socketcan ${this.iface}`;
  }

  onFrame(listener: FrameListener): () => void {
    return this.#fanout.add(listener);
  }

  send(frame: Omit<CanFrame, 'ts'> & { ts?: number }): Promise<void> {
    if (this.#stats.state !== 'active') {
      this.#stats.dropped++;
      return Promise.reject(new CanChannelClosedError(this.description, this.#stats.state));
    }
    try {
      this.raw.send({ id: frame.id, ext: frame.ext, rtr: Boolean(frame.rtr), data: frame.data });
    } catch (err) {
      this.#stats.dropped++;
      return Promise.reject(new Error(`can ${this.iface}: send failed (${(err as Error).message}); is the interface up and not bus-off?`, { cause: err }));
    }
    this.#stats.sent++;
    return Promise.resolve();
  }

  stats(): CanChannelStats {
    return { ...this.#stats };
  }

  close(): Promise<void> {
    if (this.#stats.state !== 'closed') {
      this.#stats.state = 'closed';
      this.#fanout.clear();
      this.raw.stop();
    }
    return Promise.resolve();
  }
}
