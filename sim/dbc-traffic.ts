// A CAN bus simulated from a DBC alone: every message is sent at its cycle time (GenMsgCycleTime,
// else a default) with plausible values — a slow wave inside the signal's [min|max] with a little
// noise, enum signals stepping through their labels, multiplexors stepping through every page their
// signals use — so a user's own bus runs on a laptop. Fault hooks: a silent message, error frames, bus-off.
import type { Clock, TimerHandle } from '../core/clock.ts';
import type { VirtualCanBus, VirtualCanChannel } from '../adapters/can/virtual-bus.ts';
import { CAN_ERR } from '../adapters/can/virtual-bus.ts';
import { encodeMessage } from '../adapters/can/dbc/decode.ts';
import type { Dbc, DbcMessage, DbcSignal } from '../adapters/can/dbc/parse.ts';
import { mulberry32 } from './seeded-random.ts';

export interface DbcTrafficOptions {
  /** Period of messages without a cycle time in the DBC; 0 = such messages are not sent. */
  defaultCycleMs: number;
  /** PRNG seed for the noise, so runs are reproducible. */
  seed: number;
}

interface Sender {
  message: DbcMessage;
  periodMs: number;
  timer: TimerHandle | null;
  count: number;
  /** Raw switch values each multiplexor steps through. */
  pages: Map<string, number[]>;
}

/** The physical range a signal can carry: its DBC [min|max] when given, else what its bits hold (capped). */
export function physicalRange(sig: DbcSignal): [number, number] {
  if (sig.min < sig.max) return [sig.min, sig.max];
  if (sig.valueType !== 'integer') return [0, 100];
  const span = 2 ** Math.min(sig.length, 16);
  const [rawLo, rawHi] = sig.signed ? [-span / 2, span / 2 - 1] : [0, span - 1];
  const a = rawLo * sig.factor + sig.offset;
  const b = rawHi * sig.factor + sig.offset;
  return a < b ? [a, b] : [b, a];
}

export class DbcTrafficSim {
  readonly channel: VirtualCanChannel;
  readonly silent = new Set<string>();
  readonly #senders: Sender[] = [];
  readonly #random: () => number;
  readonly #start: number;
  framesSent = 0;

  constructor(readonly bus: VirtualCanBus, readonly clock: Clock, readonly dbc: Dbc, readonly options: DbcTrafficOptions) {
    this.channel = bus.attach('dbc traffic');
    this.#random = mulberry32(options.seed);
    this.#start = clock.now();
    for (const message of dbc.messages) {
      const periodMs = message.cycleTimeMs ?? options.defaultCycleMs;
      if (periodMs <= 0) continue;
      const pages = new Map<string, number[]>();
      for (const sig of message.signals) {
        if (!sig.muxedBy) continue;
        const list = pages.get(sig.muxedBy.signal) ?? [];
        for (const [lo, hi] of sig.muxedBy.ranges) for (const v of [lo, hi]) if (!list.includes(v)) list.push(v);
        pages.set(sig.muxedBy.signal, list.sort((a, b) => a - b));
      }
      this.#senders.push({ message, periodMs, timer: null, count: 0, pages });
    }
  }

  /** Messages sent and their periods (for logs). */
  get schedule(): Array<{ name: string; periodMs: number }> {
    return this.#senders.map((s) => ({ name: s.message.name, periodMs: s.periodMs }));
  }

  start(): void {
    for (const s of this.#senders) if (!s.timer) s.timer = this.clock.setInterval(() => this.send(s.message.name), s.periodMs);
  }

  stop(): void {
    for (const s of this.#senders) {
      this.clock.clearInterval(s.timer ?? undefined);
      s.timer = null;
    }
  }

  /** Sends one frame of a message now (tests, benchmarks). */
  send(name: string): void {
    const s = this.#senders.find((x) => x.message.name === name);
    if (!s || this.silent.has(name)) return;
    const data = encodeMessage(s.message, this.values(s));
    s.count++;
    this.channel.send({ id: s.message.id, ext: s.message.ext, data, fd: data.length > 8 || undefined }).then(() => this.framesSent++, () => {});
  }

  /** A message stops being sent (a node unplugged) or resumes. */
  silence(name: string, on = true): void {
    if (on) this.silent.add(name);
    else this.silent.delete(name);
  }

  injectErrorFrames(count = 1, errClass: number = CAN_ERR.PROT): void {
    for (let i = 0; i < count; i++) this.bus.injectErrorFrame(errClass);
  }

  busOff(on: boolean): void {
    this.bus.setBusOff(on);
  }

  /** Physical values for the next frame of a sender. */
  values(s: Sender): Record<string, number> {
    const out: Record<string, number> = {};
    const t = (this.clock.now() - this.#start) / 1000;
    s.message.signals.forEach((sig, i) => {
      const pages = s.pages.get(sig.name);
      if (pages && pages.length) {
        out[sig.name] = pages[s.count % pages.length] * sig.factor + sig.offset;
      } else if (sig.labels && sig.labels.size) {
        const raws = [...sig.labels.keys()];
        out[sig.name] = raws[Math.floor(s.count / 10) % raws.length] * sig.factor + sig.offset;
      } else {
        const [lo, hi] = physicalRange(sig);
        // A wave over the middle of the range (period 60..180 s per signal), plus 1 % noise.
        const mid = (lo + hi) / 2;
        const amp = (hi - lo) * 0.3;
        const v = mid + amp * Math.sin((2 * Math.PI * t) / (60 + 20 * (i % 7)) + i) + (this.#random() * 2 - 1) * (hi - lo) * 0.01;
        out[sig.name] = Math.min(hi, Math.max(lo, v));
      }
    });
    return out;
  }
}
