// SocketCAN through a raw AF_CAN socket bound with libc over FFI (Deno.dlopen or koffi): no native
// addon to build on the gateway. Frames are struct can_frame (16 bytes, little-endian targets).
import { readFileSync } from 'node:fs';
import { EAGAIN, EINTR, ENETDOWN, ENODEV, errnoError, loadLibc, type Libc } from '../ffi/libc.ts';
import { sharedPoller } from '../ffi/poller.ts';
import { CAN_FRAME, IFREQ, SOCKADDR_CAN } from '../ffi/layout.ts';
import { CanChannelClosedError, type CanChannel, type CanChannelStats, type CanFrame, type FrameListener, FrameFanout } from './types.ts';

const PF_CAN = 29;
const SOCK_RAW = 3;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const CAN_RAW = 1;
const SOL_CAN_RAW = 101;
const CAN_RAW_ERR_FILTER = 2;
const SIOCGIFINDEX = 0x8933;
const CAN_EFF_FLAG = 0x80000000;
const CAN_RTR_FLAG = 0x40000000;
const CAN_ERR_FLAG = 0x20000000;
const CAN_EFF_MASK = 0x1fffffff;
const CAN_SFF_MASK = 0x7ff;
const CAN_ERR_MASK = 0x1fffffff;
const FRAME_SIZE = CAN_FRAME.size;
/** Frames drained per readiness, so a flooded bus cannot starve the event loop. */
const MAX_READS_PER_TICK = 512;
/** While the interface is down, how often its operstate is looked at. */
const DOWN_CHECK_MS = 200;

const SETUP_HINT = (iface: string) => `bring it up: sudo ip link set ${iface} up type can bitrate 250000 (check with "ip -details link show ${iface}")`;

export class RawCanChannel implements CanChannel {
  readonly #fanout = new FrameFanout();
  readonly #stats: CanChannelStats = { received: 0, sent: 0, errorFrames: 0, dropped: 0, state: 'active' };
  readonly #rx = new Uint8Array(FRAME_SIZE);
  readonly #tx = new Uint8Array(FRAME_SIZE);
  readonly #stopPolling: () => void;
  readonly #stateListeners = new Set<(state: CanChannelStats['state'], reason: string) => void>();
  #downSince = 0;
  #downTimer: ReturnType<typeof setInterval> | undefined;

  private constructor(readonly iface: string, readonly libc: Libc, readonly fd: number) {
    this.#stopPolling = sharedPoller(libc).add(fd, () => this.#drain());
  }

  /** Opens a raw CAN socket on `iface` (e.g. `can0`, `vcan0`), receiving every frame and error frame. */
  static async open(iface: string): Promise<RawCanChannel> {
    if (!/^[A-Za-z0-9_.-]{1,15}$/.test(iface)) throw new Error(`can: "${iface}" is not an interface name (1..15 of A-Z a-z 0-9 _ . -)`);
    const libc = await loadLibc();
    const fd = libc.socket(PF_CAN, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, CAN_RAW);
    if (fd < 0) throw errnoError(libc, `can ${iface}: socket(PF_CAN) failed; is the can-raw module loaded (modprobe can-raw)?`);
    try {
      const ifr = new Uint8Array(IFREQ.size);
      ifr.set(new TextEncoder().encode(iface));
      if (libc.ioctl(fd, SIOCGIFINDEX, ifr) < 0) {
        const e = libc.errno();
        throw errnoError(libc, `can ${iface}: ${e === ENODEV ? 'no such interface' : 'cannot look the interface up'}; ${SETUP_HINT(iface)}`, e);
      }
      const ifindex = new DataView(ifr.buffer).getInt32(IFREQ.ifindex, true);
      const addr = new Uint8Array(SOCKADDR_CAN.size);
      const av = new DataView(addr.buffer);
      av.setUint16(SOCKADDR_CAN.family, PF_CAN, true);
      av.setInt32(SOCKADDR_CAN.ifindex, ifindex, true);
      if (libc.bind(fd, addr, addr.length) < 0) throw errnoError(libc, `can ${iface}: bind failed`);
      const mask = new Uint8Array(4);
      new DataView(mask.buffer).setUint32(0, CAN_ERR_MASK, true);
      if (libc.setsockopt(fd, SOL_CAN_RAW, CAN_RAW_ERR_FILTER, mask, 4) < 0) throw errnoError(libc, `can ${iface}: enabling error frames failed`);
    } catch (err) {
      libc.close(fd);
      throw err;
    }
    const ch = new RawCanChannel(iface, libc, fd);
    if (operstate(iface) === 'down') ch.#setState('down', `${iface} is down`);
    return ch;
  }

  get description(): string {
    return `socketcan ${this.iface} (${this.libc.backend})`;
  }

  onFrame(listener: FrameListener): () => void {
    return this.#fanout.add(listener);
  }

  /** Calls `listener` when the channel goes down (interface down, bus-off) or back to active. */
  onStateChange(listener: (state: CanChannelStats['state'], reason: string) => void): () => void {
    this.#stateListeners.add(listener);
    return () => {
      this.#stateListeners.delete(listener);
    };
  }

  send(frame: Omit<CanFrame, 'ts'> & { ts?: number }): Promise<void> {
    if (this.#stats.state === 'closed') {
      this.#stats.dropped++;
      return Promise.reject(new CanChannelClosedError(this.description, 'closed'));
    }
    const max = frame.ext ? CAN_EFF_MASK : CAN_SFF_MASK;
    if (!Number.isInteger(frame.id) || frame.id < 0 || frame.id > max) {
      return Promise.reject(new Error(`can ${this.iface}: id ${frame.id} does not fit a${frame.ext ? 'n extended (29-bit)' : ' standard (11-bit)'} identifier (max 0x${max.toString(16)})`));
    }
    if (frame.data.length > 8) return Promise.reject(new Error(`can ${this.iface}: ${frame.data.length} data bytes; a classic CAN frame carries at most 8`));
    const v = new DataView(this.#tx.buffer);
    this.#tx.fill(0);
    const id = (frame.id | (frame.ext ? CAN_EFF_FLAG : 0) | (frame.rtr ? CAN_RTR_FLAG : 0) | (frame.err ? CAN_ERR_FLAG : 0)) >>> 0;
    v.setUint32(CAN_FRAME.canId, id, true);
    this.#tx[CAN_FRAME.len] = frame.data.length;
    this.#tx.set(frame.data, CAN_FRAME.data);
    const n = this.libc.write(this.fd, this.#tx, FRAME_SIZE);
    if (n !== FRAME_SIZE) {
      const e = this.libc.errno();
      this.#stats.dropped++;
      if (e === ENETDOWN || e === ENODEV) this.#setState('down', `${this.iface} is down`);
      const hint = e === EAGAIN || e === 105 ? '; the transmit queue is full (no other node acknowledges, or bus-off?)' : e === ENETDOWN ? `; ${SETUP_HINT(this.iface)}` : '';
      return Promise.reject(errnoError(this.libc, `can ${this.iface}: send failed${hint}`, e));
    }
    this.#stats.sent++;
    if (this.#stats.state === 'down') this.#setState('active', `${this.iface} is up again`);
    return Promise.resolve();
  }

  stats(): CanChannelStats {
    return { ...this.#stats };
  }

  close(): Promise<void> {
    if (this.#stats.state !== 'closed') {
      this.#stats.state = 'closed';
      clearInterval(this.#downTimer);
      this.#stopPolling();
      this.#fanout.clear();
      this.#stateListeners.clear();
      this.libc.close(this.fd);
    }
    return Promise.resolve();
  }

  #drain(): void {
    for (let i = 0; i < MAX_READS_PER_TICK && this.#stats.state !== 'closed'; i++) {
      const n = this.libc.read(this.fd, this.#rx, FRAME_SIZE);
      if (n < 0) {
        const e = this.libc.errno();
        if (e === EAGAIN || e === EINTR) break;
        // The kernel reports a downed interface once per socket (sk_err), then delivers again when up.
        if (e === ENETDOWN || e === ENODEV) {
          this.#setState('down', `${this.iface} went down`);
          break;
        }
        this.#stats.dropped++;
        break;
      }
      if (n !== FRAME_SIZE) {
        this.#stats.dropped++;
        continue;
      }
      this.#deliver();
    }
  }

  #deliver(): void {
    const v = new DataView(this.#rx.buffer);
    const raw = v.getUint32(CAN_FRAME.canId, true);
    const len = Math.min(this.#rx[CAN_FRAME.len], 8);
    const ext = (raw & CAN_EFF_FLAG) !== 0;
    const frame: CanFrame = { id: ext ? raw & CAN_EFF_MASK : raw & (raw & CAN_ERR_FLAG ? CAN_ERR_MASK : CAN_SFF_MASK), ext, data: this.#rx.slice(CAN_FRAME.data, CAN_FRAME.data + len), ts: Date.now() };
    if (raw & CAN_RTR_FLAG) frame.rtr = true;
    if (raw & CAN_ERR_FLAG) {
      frame.err = true;
      this.#stats.errorFrames++;
    }
    this.#stats.received++;
    if (this.#stats.state === 'down') this.#setState('active', `${this.iface} is up again`);
    this.#fanout.emit(frame);
  }

  // A socket on a downed interface stays bound; it delivers again once the link is up, so "up" is
  // judged from operstate, not from traffic (a quiet bus would otherwise look down forever).
  #checkUp(): void {
    const state = operstate(this.iface);
    if (state !== 'down' && state !== null) this.#setState('active', `${this.iface} is up again after ${Math.round((Date.now() - this.#downSince) / 1000)} s`);
  }

  #setState(state: 'active' | 'down', reason: string): void {
    if (this.#stats.state === state || this.#stats.state === 'closed') return;
    this.#stats.state = state;
    clearInterval(this.#downTimer);
    this.#downTimer = undefined;
    if (state === 'down') {
      this.#downSince = Date.now();
      this.#downTimer = setInterval(() => this.#checkUp(), DOWN_CHECK_MS);
      (this.#downTimer as { unref?: () => void }).unref?.();
    }
    for (const l of this.#stateListeners) l(state, reason);
  }
}

/** `up`, `down`, `unknown` (vcan reports unknown when up) or null when the interface is gone. */
function operstate(iface: string): string | null {
  try {
    return readFileSync(`/sys/class/net/${iface}/operstate`, 'utf8').trim();
  } catch {
    return null;
  }
}
