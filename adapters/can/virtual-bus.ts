// A software CAN bus (like the kernel's vcan) that simulators and tests attach channels to: a frame
// sent on one channel reaches every other channel, stamped with the bus clock. Fault hooks inject
// error frames and bus-off, as a real controller would report them.
import type { Clock } from '../../core/clock.ts';
import { CanChannelClosedError, type CanChannel, type CanChannelStats, type CanFrame, type FrameListener, FrameFanout } from './types.ts';

/** CAN_ERR_* classes of linux/can/error.h that the simulator injects. */
export const CAN_ERR = { CRTL: 0x4, PROT: 0x8, BUSOFF: 0x40, BUSERROR: 0x80 } as const;

export class VirtualCanBus {
  readonly #channels = new Set<VirtualCanChannel>();
  #busOff = false;

  constructor(readonly name: string, readonly clock: Clock) {}

  /** A new channel on this bus (a node, or the gateway's interface). */
  attach(label = 'node'): VirtualCanChannel {
    const ch = new VirtualCanChannel(this, label);
    this.#channels.add(ch);
    return ch;
  }

  get busOff(): boolean {
    return this.#busOff;
  }

  /**
   * Puts every controller on the bus into bus-off (true) or back to error-active (false). While
   * bus-off nothing is delivered and `send` rejects; listeners get one BUSOFF error frame.
   */
  setBusOff(on: boolean): void {
    if (on === this.#busOff) return;
    if (on) this.injectErrorFrame(CAN_ERR.BUSOFF);
    this.#busOff = on;
  }

  /** Delivers an error frame (class bits as `id`, 8 detail bytes) to every channel. */
  injectErrorFrame(errClass: number = CAN_ERR.PROT, data: Uint8Array = new Uint8Array(8)): void {
    const frame: CanFrame = { id: errClass, ext: false, err: true, data, ts: this.clock.now() };
    for (const ch of this.#channels) ch._receive(frame);
  }

  /** @internal */
  _transmit(from: VirtualCanChannel, frame: CanFrame): void {
    for (const ch of this.#channels) if (ch !== from) ch._receive(frame);
  }

  /** @internal */
  _detach(ch: VirtualCanChannel): void {
    this.#channels.delete(ch);
  }
}

export class VirtualCanChannel implements CanChannel {
  readonly #fanout = new FrameFanout();
  readonly #stats: CanChannelStats = { received: 0, sent: 0, errorFrames: 0, dropped: 0, state: 'active' };

  constructor(readonly bus: VirtualCanBus, readonly label: string) {}

  get description(): string {
    return `sim ${this.bus.name} (${this.label})`;
  }

  onFrame(listener: FrameListener): () => void {
    return this.#fanout.add(listener);
  }

  send(frame: Omit<CanFrame, 'ts'> & { ts?: number }): Promise<void> {
    const state = this.#stats.state === 'closed' ? 'closed' : this.bus.busOff ? 'bus-off' : 'active';
    if (state !== 'active') {
      this.#stats.dropped++;
      return Promise.reject(new CanChannelClosedError(this.description, state));
    }
    if (frame.data.length > (frame.fd ? 64 : 8)) return Promise.reject(new RangeError(`${this.description}: ${frame.data.length} data bytes; ${frame.fd ? 'CAN FD carries at most 64' : 'classic CAN carries at most 8'}`));
    const max = frame.ext ? 0x1fffffff : 0x7ff;
    if (!Number.isInteger(frame.id) || frame.id < 0 || frame.id > max) {
      return Promise.reject(new RangeError(`${this.description}: id ${frame.id} out of range for a ${frame.ext ? '29' : '11'}-bit identifier`));
    }
    this.#stats.sent++;
    this.bus._transmit(this, { id: frame.id, ext: frame.ext, rtr: frame.rtr, fd: frame.fd, data: frame.data, ts: frame.ts ?? this.bus.clock.now() });
    return Promise.resolve();
  }

  /** @internal */
  _receive(frame: CanFrame): void {
    if (this.#stats.state === 'closed') return;
    if (this.bus.busOff) {
      this.#stats.dropped++;
      return;
    }
    if (frame.err) this.#stats.errorFrames++;
    this.#stats.received++;
    this.#fanout.emit(frame);
  }

  stats(): CanChannelStats {
    const s = { ...this.#stats };
    if (s.state === 'active' && this.bus.busOff) s.state = 'bus-off';
    return s;
  }

  close(): Promise<void> {
    this.#stats.state = 'closed';
    this.#fanout.clear();
    this.bus._detach(this);
    return Promise.resolve();
  }
}
