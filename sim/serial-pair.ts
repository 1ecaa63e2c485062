// Two ends of a simulated serial line (a null-modem cable, or an RS-485 pair with one master and one
// slave) on the injected clock: what one end writes reaches the other after its transmission time at
// the line's baud rate, in order, so RTU silence detection and timeouts see a real line's timing
// without a pty or a kernel. Used by the `modbus` adapter's simulator for `transport: "rtu"`.
import type { Clock, TimerHandle } from '../core/clock.ts';
import { charMs, type RtuLine, type RtuLineOptions } from '../adapters/modbus/rtu-client.ts';

type Listener = (chunk: Uint8Array) => void;

/** One end: `on('data')` and `write` (a SerialLink for the RTU server); `open()` gives a closable RtuLine. */
export class SerialPairEnd {
  readonly #listeners = new Set<Listener>();
  #peer: SerialPairEnd | null = null;
  #busyUntil = 0;
  readonly #inFlight = new Set<TimerHandle>();
  readonly #clock: Clock;
  readonly #charMs: number;

  constructor(readonly name: string, clock: Clock, charMs: number) {
    this.#clock = clock;
    this.#charMs = charMs;
  }

  link(peer: SerialPairEnd): void {
    this.#peer = peer;
  }

  on(event: 'data', listener: Listener): this {
    if (event === 'data') this.#listeners.add(listener);
    return this;
  }

  off(listener: Listener): void {
    this.#listeners.delete(listener);
  }

  /** Sends `data`; it arrives at the peer once the line has carried its last character. */
  write(data: Uint8Array): boolean {
    const peer = this.#peer;
    if (!peer || data.length === 0) return true;
    const copy = Uint8Array.from(data);
    const now = this.#clock.monotonic();
    const done = Math.max(now, this.#busyUntil) + copy.length * this.#charMs;
    this.#busyUntil = done;
    const timer = this.#clock.setTimeout(() => {
      this.#inFlight.delete(timer);
      peer.#deliver(copy);
    }, done - now);
    this.#inFlight.add(timer);
    return true;
  }

  /** An RtuLine view of this end for a client that opens and closes its port (each open gets its own listeners). */
  open(): RtuLine {
    const mine = new Set<Listener>();
    return {
      on: (_event, listener) => {
        mine.add(listener);
        this.#listeners.add(listener);
      },
      write: (data) => this.write(data),
      close: async () => {
        for (const l of mine) this.#listeners.delete(l);
        mine.clear();
      },
    };
  }

  /** Drops whatever is still on the wire from this end. */
  flush(): void {
    for (const t of this.#inFlight) this.#clock.clearTimeout(t);
    this.#inFlight.clear();
    this.#busyUntil = 0;
  }

  #deliver(chunk: Uint8Array): void {
    for (const l of [...this.#listeners]) l(chunk);
  }
}

export function serialPair(clock: Clock, line: RtuLineOptions, names: [string, string] = ['a', 'b']): [SerialPairEnd, SerialPairEnd] {
  const ms = charMs(line);
  const a = new SerialPairEnd(names[0], clock, ms);
  const b = new SerialPairEnd(names[1], clock, ms);
  a.link(b);
  b.link(a);
  return [a, b];
}
