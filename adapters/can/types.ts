// The CAN boundary the decoder uses: a channel that delivers received frames and sends frames. The
// real one is SocketCAN (Node only); the simulated bus, the candump replay and tests implement the same.

/** One classic CAN frame as received or sent. */
export interface CanFrame {
  /** 11-bit (standard) or 29-bit (extended) identifier, without flag bits. */
  id: number;
  /** True for a 29-bit identifier. */
  ext: boolean;
  /** Remote transmission request (no data). */
  rtr?: boolean;
  /** An error frame: `id` carries the kernel's CAN_ERR_* class bits, `data` the details. */
  err?: boolean;
  /** A CAN FD frame (candump `##`): up to 64 data bytes. */
  fd?: boolean;
  /** 0..8 data bytes (up to 64 for CAN FD); the DLC is `data.length`. */
  data: Uint8Array;
  /** Reception time, ms since the epoch (fractional for µs resolution). */
  ts: number;
}

export type FrameListener = (frame: CanFrame) => void;

export interface CanChannelStats {
  received: number;
  sent: number;
  errorFrames: number;
  /** Frames the channel could not deliver or send (bus-off, closed, malformed log lines). */
  dropped: number;
  /** `down`: the kernel interface is down (ip link set down, cable/driver gone); it recovers by itself. */
  state: 'active' | 'bus-off' | 'down' | 'closed' | 'ended';
}

/**
 * A CAN interface. Listeners are called synchronously for each frame, in bus order, and must not
 * throw (a throwing listener is the caller's bug; the channel counts the frame as delivered).
 * `send` rejects when the channel is closed or bus-off. `close` is idempotent.
 */
export interface CanChannel {
  /** What the channel is (`socketcan can0`, `replay test.log`, `sim greenhouse`), for log lines. */
  readonly description: string;
  /** Adds a frame listener; returns a function that removes it. */
  onFrame(listener: FrameListener): () => void;
  /** Queues a frame on the bus. */
  send(frame: Omit<CanFrame, 'ts'> & { ts?: number }): Promise<void>;
  stats(): CanChannelStats;
  close(): Promise<void>;
}

/** A channel whose frames come from a finite source (a log): `done` resolves after the last frame. */
export interface FiniteCanChannel extends CanChannel {
  readonly done: Promise<void>;
}

export class CanChannelClosedError extends Error {
  constructor(what: string, state: string) {
    super(`${what}: cannot send, the channel is ${state}${state === 'bus-off' ? ' (the controller left the bus after too many errors; it recovers with restart-ms or ip link set down/up)' : ''}`);
    this.name = 'CanChannelClosedError';
  }
}

/** A listener set shared by the implementations. */
export class FrameFanout {
  readonly #listeners = new Set<FrameListener>();
  add(listener: FrameListener): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }
  emit(frame: CanFrame): void {
    for (const l of this.#listeners) l(frame);
  }
  clear(): void {
    this.#listeners.clear();
  }
  get size(): number {
    return this.#listeners.size;
  }
}

export function hexId(frame: Pick<CanFrame, 'id' | 'ext'>): string {
  return '0x' + frame.id.toString(16).toUpperCase().padStart(frame.ext ? 8 : 3, '0');
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).toUpperCase().padStart(2, '0'));

/** `AA FF 04 10`, the seed's raw-data notation. */
export function hexBytes(data: Uint8Array, sep = ' '): string {
  let s = '';
  for (let i = 0; i < data.length; i++) s += (i ? sep : '') + HEX[data[i]];
  return s;
}
