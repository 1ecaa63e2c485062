// A serial line (RS-485 adapter, UART) through libc over FFI: open, termios raw mode with the line's
// speed and framing, non-blocking reads on the shared poller. No native addon: this is how Modbus RTU
// runs on Deno, where the serialport addon does not load.
import { EAGAIN, EINTR, errnoError, loadLibc, O_CLOEXEC, O_NONBLOCK, O_RDWR, type Libc } from '../ffi/libc.ts';
import { sharedPoller } from '../ffi/poller.ts';
import { TERMIOS } from '../ffi/layout.ts';

const O_NOCTTY = 0o400;
const TCSANOW = 0;
// c_cflag bits (asm-generic, the same on x86_64, arm64 and armv7).
const CSIZE = 0o60;
const CS7 = 0o40;
const CS8 = 0o60;
const CSTOPB = 0o100;
const CREAD = 0o200;
const PARENB = 0o400;
const PARODD = 0o1000;
const CLOCAL = 0o4000;
const CFLAG_OFFSET = TERMIOS.cflag;
/** Baud rate to its Bxxx constant (asm-generic; CBAUD and CBAUDEX bits of c_cflag). */
export const SPEEDS: Readonly<Record<number, number>> = {
  1200: 0o11, 2400: 0o13, 4800: 0o14, 9600: 0o15, 19200: 0o16, 38400: 0o17,
  57600: 0o10001, 115200: 0o10002, 230400: 0o10003, 460800: 0o10004, 921600: 0o10007,
};
const CHUNK = 4096;

export interface SerialOptions {
  baudRate: number;
  parity: 'none' | 'even' | 'odd';
  dataBits: 7 | 8;
  stopBits: 1 | 2;
}

export class FfiSerialPort {
  readonly #listeners = new Set<(chunk: Uint8Array) => void>();
  readonly #rx = new Uint8Array(CHUNK);
  readonly #stopPolling: () => void;
  #closed = false;

  private constructor(readonly path: string, readonly libc: Libc, readonly fd: number, readonly onLost?: (err: Error) => void) {
    this.#stopPolling = sharedPoller(libc).add(fd, () => this.#drain());
  }

  /** `onLost` hears a read error (EIO: the USB adapter was unplugged), once. */
  static async open(path: string, options: SerialOptions, onLost?: (err: Error) => void): Promise<FfiSerialPort> {
    const speed = SPEEDS[options.baudRate];
    if (speed === undefined) throw new Error(`serial ${path}: ${options.baudRate} baud is not a standard speed (${Object.keys(SPEEDS).join(', ')})`);
    const libc = await loadLibc();
    const fd = libc.open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) throw errnoError(libc, `serial ${path}: cannot open the port; check the device path and that this user may use it (group dialout)`);
    const attrs = new Uint8Array(TERMIOS.buffer);
    const fail = (what: string) => {
      const err = errnoError(libc, `serial ${path}: ${what}`);
      libc.close(fd);
      return err;
    };
    if (libc.tcgetattr(fd, attrs) < 0) throw fail('not a terminal (tcgetattr)');
    libc.cfmakeraw(attrs);
    if (libc.cfsetspeed(attrs, speed) < 0) throw fail(`cannot set ${options.baudRate} baud`);
    const v = new DataView(attrs.buffer);
    let cflag = v.getUint32(CFLAG_OFFSET, true);
    cflag = (cflag & ~(CSIZE | CSTOPB | PARENB | PARODD)) | (options.dataBits === 7 ? CS7 : CS8) | CREAD | CLOCAL;
    if (options.stopBits === 2) cflag |= CSTOPB;
    if (options.parity !== 'none') cflag |= PARENB | (options.parity === 'odd' ? PARODD : 0);
    v.setUint32(CFLAG_OFFSET, cflag, true);
    if (libc.tcsetattr(fd, TCSANOW, attrs) < 0) throw fail('cannot configure the line (tcsetattr)');
    return new FfiSerialPort(path, libc, fd, onLost);
  }

  on(_event: 'data', listener: (chunk: Uint8Array) => void): this {
    this.#listeners.add(listener);
    return this;
  }

  /** Queues `data` in the kernel's tty buffer (4 KiB+): an RTU frame is at most 256 bytes. */
  write(data: Uint8Array): boolean {
    if (this.#closed) throw new Error(`serial ${this.path}: the port is closed`);
    let at = 0;
    while (at < data.length) {
      const chunk = at === 0 ? data : data.subarray(at);
      const n = this.libc.write(this.fd, chunk, chunk.length);
      if (n < 0) {
        const e = this.libc.errno();
        if (e === EINTR) continue;
        throw errnoError(this.libc, `serial ${this.path}: write failed${e === EAGAIN ? ' (transmit buffer full)' : ''}`, e);
      }
      at += n;
    }
    return true;
  }

  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#stopPolling();
      this.#listeners.clear();
      this.libc.close(this.fd);
    }
    return Promise.resolve();
  }

  #drain(): void {
    for (;;) {
      if (this.#closed) return;
      const n = this.libc.read(this.fd, this.#rx, CHUNK);
      if (n < 0) {
        const e = this.libc.errno();
        if (e === EAGAIN || e === EINTR) return;
        const err = errnoError(this.libc, `serial ${this.path}: read failed (adapter unplugged?)`, e);
        void this.close();
        this.onLost?.(err);
        return;
      }
      if (n === 0) return;
      const chunk = this.#rx.slice(0, n);
      for (const l of this.#listeners) l(chunk);
      if (n < CHUNK) return;
    }
  }
}
