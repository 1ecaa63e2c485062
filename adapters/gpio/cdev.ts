// GPIO through the character device v2 uAPI (/dev/gpiochipN, GPIO_V2_GET_LINE_IOCTL) with libc over FFI
// (koffi on Node, Deno.dlopen on Deno): the chip is found by its label, never by a sysfs base, and input
// edges come from the kernel's interrupt-driven event queue (with its own debounce), not from polling.
import { readdirSync } from 'node:fs';
import { EACCES, EBUSY, errnoError, loadLibc, O_CLOEXEC, O_RDWR, type Libc } from '../ffi/libc.ts';
import { sharedPoller } from '../ffi/poller.ts';
import { GPIO_V2_LINE_CONFIG, GPIO_V2_LINE_CONFIG_ATTRIBUTE as ATTR, GPIO_V2_LINE_EVENT, GPIO_V2_LINE_REQUEST as REQ, GPIO_V2_LINE_VALUES, GPIOCHIP_INFO, ioc } from '../ffi/layout.ts';
import type { BitValue, Edge, GpioAdapterOptions, GpioLine } from './types.ts';

// ioctl numbers from the struct sizes, as <linux/gpio.h> builds them (0xB4 is the GPIO ioctl type).
export const GPIO_IOCTL = {
  GET_CHIPINFO: ioc('read', 0xb4, 0x01, GPIOCHIP_INFO.size),
  V2_GET_LINE: ioc('readwrite', 0xb4, 0x07, REQ.size),
  V2_LINE_SET_CONFIG: ioc('readwrite', 0xb4, 0x0d, GPIO_V2_LINE_CONFIG.size),
  V2_LINE_GET_VALUES: ioc('readwrite', 0xb4, 0x0e, GPIO_V2_LINE_VALUES.size),
  V2_LINE_SET_VALUES: ioc('readwrite', 0xb4, 0x0f, GPIO_V2_LINE_VALUES.size),
} as const;
const FLAG_ACTIVE_LOW = 1 << 1;
const FLAG_INPUT = 1 << 2;
const FLAG_OUTPUT = 1 << 3;
const FLAG_EDGE_RISING = 1 << 4;
const FLAG_EDGE_FALLING = 1 << 5;
const ATTR_OUTPUT_VALUES = 2;
const ATTR_DEBOUNCE = 3;
const EVENT_RISING = 1;
const EVENT_SIZE = GPIO_V2_LINE_EVENT.size;
const EVENTS_PER_READ = 64;
/** The kernel's cap (GPIO_V2_LINES_MAX * 16): edges queued between two polls of the line. */
const EVENT_BUFFER = 1024;

export interface ChipInfo {
  /** `gpiochip0` */
  name: string;
  label: string;
  lines: number;
  path: string;
}

function cString(bytes: Uint8Array): string {
  const end = bytes.indexOf(0);
  return new TextDecoder().decode(end < 0 ? bytes : bytes.subarray(0, end));
}

/** Every /dev/gpiochipN with its label, as the kernel reports it (GPIO_GET_CHIPINFO_IOCTL). */
export function listCdevChips(libc: Libc, dev = '/dev'): ChipInfo[] {
  const names = readdirSync(dev).filter((n) => /^gpiochip\d+$/.test(n)).sort((a, b) => Number(a.slice(8)) - Number(b.slice(8)));
  const chips: ChipInfo[] = [];
  for (const name of names) {
    const path = `${dev}/${name}`;
    const fd = libc.open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) continue;
    const info = new Uint8Array(GPIOCHIP_INFO.size);
    if (libc.ioctl(fd, GPIO_IOCTL.GET_CHIPINFO, info) === 0) {
      const { name, label, lines } = GPIOCHIP_INFO;
      chips.push({ name: cString(info.subarray(name, label)), label: cString(info.subarray(label, lines)), lines: new DataView(info.buffer).getUint32(lines, true), path });
    }
    libc.close(fd);
  }
  return chips;
}

/** The chip named by label (`pinctrl-bcm2711`), `/dev/gpiochipN` or `gpiochipN`. */
export function findCdevChip(libc: Libc, chip: string, dev = '/dev'): ChipInfo {
  const chips = listCdevChips(libc, dev);
  const found = chips.find((c) => c.label === chip) ?? chips.find((c) => c.name === chip.replace(/^\/dev\//, ''));
  if (found) return found;
  const list = chips.map((c) => `${c.name} "${c.label}" (${c.lines} lines)`).join(', ') || 'none readable';
  throw new Error(`gpio: no gpiochip "${chip}" in ${dev}; chips found: ${list}. Set the adapter's "chip" to one of these labels (or add the user to the gpio group if none is readable)`);
}

export async function openCdevLine(options: GpioAdapterOptions & { debounceMs?: number }): Promise<GpioLine & { readonly lostEvents: number }> {
  const libc = await loadLibc();
  const chip = findCdevChip(libc, options.chip);
  if (!Number.isInteger(options.line) || options.line < 0 || options.line >= chip.lines) {
    throw new Error(`gpio: line ${options.line} is out of range for ${chip.name} "${chip.label}" (lines 0..${chip.lines - 1})`);
  }
  const description = `${chip.label} line ${options.line} (${chip.name}, ${libc.backend})`;
  const chipFd = libc.open(chip.path, O_RDWR | O_CLOEXEC);
  if (chipFd < 0) {
    const e = libc.errno();
    throw errnoError(libc, `gpio ${description}: cannot open ${chip.path}${e === EACCES ? '; add the user to the "gpio" group' : ''}`, e);
  }
  const req = new Uint8Array(REQ.size);
  const v = new DataView(req.buffer);
  v.setUint32(REQ.offsets, options.line, true); // offsets[0]
  req.set(new TextEncoder().encode('fieldgate'), REQ.consumer);
  req.set(lineConfig(options, 'both'), REQ.config);
  v.setUint32(REQ.numLines, 1, true);
  v.setUint32(REQ.eventBufferSize, options.direction === 'in' ? EVENT_BUFFER : 0, true);
  const rc = libc.ioctl(chipFd, GPIO_IOCTL.V2_GET_LINE, req);
  const errno = rc < 0 ? libc.errno() : 0;
  libc.close(chipFd);
  if (rc < 0) {
    const hint = errno === EBUSY ? '; another process (or a kernel driver, or the sysfs export) holds the line: gpioinfo shows who' : '';
    throw errnoError(libc, `gpio ${description}: cannot request the line${hint}`, errno);
  }
  return new CdevLine(libc, v.getInt32(REQ.fd, true), description, options);
}

/** struct gpio_v2_line_config for the one line of a request; inputs detect `edges`. */
function lineConfig(options: GpioAdapterOptions & { debounceMs?: number }, edges: Edge | 'none'): Uint8Array {
  const cfg = new Uint8Array(GPIO_V2_LINE_CONFIG.size);
  const v = new DataView(cfg.buffer);
  let flags = options.activeLow ? FLAG_ACTIVE_LOW : 0;
  let attrs = 0;
  const attr = (id: number, value: number) => {
    const at = GPIO_V2_LINE_CONFIG.attrs + attrs * ATTR.size;
    v.setUint32(at + ATTR.id, id, true);
    v.setUint32(at + ATTR.value, value, true);
    v.setUint32(at + ATTR.mask, 1, true); // line 0 of this request
    attrs++;
  };
  if (options.direction === 'out') {
    flags |= FLAG_OUTPUT;
    attr(ATTR_OUTPUT_VALUES, options.initial); // logical value, glitch-free from the start
  } else {
    flags |= FLAG_INPUT;
    if (edges === 'rising' || edges === 'both') flags |= FLAG_EDGE_RISING;
    if (edges === 'falling' || edges === 'both') flags |= FLAG_EDGE_FALLING;
    const debounceUs = Math.round((options.debounceMs ?? 0) * 1000);
    if (debounceUs > 0) attr(ATTR_DEBOUNCE, debounceUs);
  }
  v.setUint32(GPIO_V2_LINE_CONFIG.flags, flags, true);
  v.setUint32(GPIO_V2_LINE_CONFIG.numAttrs, attrs, true);
  return cfg;
}

// With both edges enabled the kernel names each edge by reading the line level in its IRQ thread, so
// a pulse shorter than that thread's latency is reported as two falling edges (gpiolib-cdev). The
// line therefore asks the kernel only for the edges someone watches: a rising-edge counter gets every
// rising edge as such.
class CdevLine implements GpioLine {
  readonly direction;
  readonly #listeners = new Map<(value: BitValue, rising: boolean) => void, Edge>();
  #edges: Edge | 'none' = 'both';
  readonly #values = new Uint8Array(GPIO_V2_LINE_VALUES.size);
  readonly #events = new Uint8Array(EVENT_SIZE * EVENTS_PER_READ);
  readonly #stopPolling: (() => void) | undefined;
  #lastSeqno = 0;
  #lost = 0;
  #closed = false;

  constructor(readonly libc: Libc, readonly fd: number, readonly description: string, readonly options: GpioAdapterOptions) {
    this.direction = options.direction;
    if (options.direction === 'in') this.#stopPolling = sharedPoller(libc).add(fd, () => this.#drain());
  }

  /** Edges the kernel dropped because its queue was full (seen as gaps in line_seqno). */
  get lostEvents(): number {
    return this.#lost;
  }

  async read(): Promise<BitValue> {
    this.#open();
    const v = new DataView(this.#values.buffer);
    v.setUint32(GPIO_V2_LINE_VALUES.bits, 0, true);
    v.setUint32(GPIO_V2_LINE_VALUES.mask, 1, true);
    if (this.libc.ioctl(this.fd, GPIO_IOCTL.V2_LINE_GET_VALUES, this.#values) < 0) throw errnoError(this.libc, `gpio ${this.description}: read failed`);
    return (v.getUint32(GPIO_V2_LINE_VALUES.bits, true) & 1) as BitValue;
  }

  async write(value: BitValue): Promise<void> {
    this.#open();
    if (this.direction !== 'out') throw new Error(`gpio ${this.description}: cannot write an input line`);
    const v = new DataView(this.#values.buffer);
    v.setUint32(GPIO_V2_LINE_VALUES.bits, value ? 1 : 0, true);
    v.setUint32(GPIO_V2_LINE_VALUES.mask, 1, true);
    if (this.libc.ioctl(this.fd, GPIO_IOCTL.V2_LINE_SET_VALUES, this.#values) < 0) throw errnoError(this.libc, `gpio ${this.description}: write ${value} failed`);
    for (const l of this.#listeners.keys()) l(value, value === 1);
  }

  watch(edge: Edge, listener: (value: BitValue) => void): () => void {
    this.#open();
    const wrapped = (value: BitValue, rising: boolean) => {
      if (edge === 'both' || (edge === 'rising') === rising) listener(value);
    };
    this.#listeners.set(wrapped, edge);
    this.#reconfigure();
    return () => {
      this.#listeners.delete(wrapped);
      this.#reconfigure();
    };
  }

  #reconfigure(): void {
    if (this.direction !== 'in' || this.#closed) return;
    const wanted = new Set(this.#listeners.values());
    const edges: Edge = wanted.has('both') || (wanted.has('rising') && wanted.has('falling')) || wanted.size === 0 ? 'both' : [...wanted][0];
    if (edges === this.#edges) return;
    if (this.libc.ioctl(this.fd, GPIO_IOCTL.V2_LINE_SET_CONFIG, lineConfig(this.options, edges)) < 0) {
      throw errnoError(this.libc, `gpio ${this.description}: cannot set edge detection to ${edges}`);
    }
    this.#edges = edges;
  }

  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    this.#stopPolling?.();
    this.#listeners.clear();
    this.libc.close(this.fd);
    return Promise.resolve();
  }

  // Called only when poll() says the fd is readable, so read() returns whole events without blocking.
  #drain(): void {
    if (this.#closed) return;
    const n = this.libc.read(this.fd, this.#events, this.#events.length);
    if (n <= 0) return;
    const v = new DataView(this.#events.buffer);
    for (let at = 0; at + EVENT_SIZE <= n; at += EVENT_SIZE) {
      const rising = v.getUint32(at + GPIO_V2_LINE_EVENT.id, true) === EVENT_RISING; // kernel edges are on the logical value
      const seqno = v.getUint32(at + GPIO_V2_LINE_EVENT.lineSeqno, true);
      if (this.#lastSeqno && seqno > this.#lastSeqno + 1) this.#lost += seqno - this.#lastSeqno - 1;
      this.#lastSeqno = seqno;
      for (const l of this.#listeners.keys()) l(rising ? 1 : 0, rising);
    }
  }

  #open(): void {
    if (this.#closed) throw new Error(`gpio ${this.description}: line is closed`);
  }
}
