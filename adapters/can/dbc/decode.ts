// Decodes CAN frames with a parsed DBC. Each signal is compiled once into byte segments (byte,
// shift, mask, weight), so a frame costs a few shifts per signal whatever the byte order; switches
// (multiplexors) are ordered before the signals they select, so extended multiplexing is one pass.
import { type Dbc, type DbcMessage, type DbcSignal, signalBits } from './parse.ts';

interface Segment {
  byte: number;
  shift: number;
  mask: number;
  weight: number;
}

interface CompiledSignal {
  sig: DbcSignal;
  /** Value bits 0..31 (and 32..63 in `high` for float64); integers up to 53 bits use one list. */
  segments: Segment[];
  high: Segment[] | null;
  signMin: number;
  span: number;
  checkRange: boolean;
  /** Index (in the message's compiled order) of the switch selecting this signal; -1 = always present. */
  switchIndex: number;
  /** Flat [low, high, low, high ...] raw switch values selecting this signal. */
  ranges: number[];
  labels: Map<number, string> | null;
}

interface CompiledMessage {
  message: DbcMessage;
  signals: CompiledSignal[];
  /** Per-decode scratch: each signal's raw value and whether it was present. */
  raws: Float64Array;
  present: Uint8Array;
}

export type DecodeFailure = 'unknown-id' | 'dlc' | 'error-frame' | 'remote';

export interface DecodedFrame {
  ok: true;
  message: DbcMessage;
  /** Physical values (raw * factor + offset) by signal name; multiplexed signals only for the active mux value. */
  values: Record<string, number>;
  /** VAL_ labels of enum signals whose raw value has one (the number stays in `values`); null when none. */
  labels: Record<string, string> | null;
  /** Signals outside the DBC's [min, max] (ignored when both are 0, DBC's "unspecified"); null when none. */
  outOfRange: string[] | null;
}

export type DecodeResult = DecodedFrame | { ok: false; reason: DecodeFailure; message?: DbcMessage };

export interface FrameLike {
  id: number;
  ext: boolean;
  data: Uint8Array;
  err?: boolean;
  rtr?: boolean;
}

const scratch = new DataView(new ArrayBuffer(8));

/** Segments for value bits [from, to) of a signal, given each value bit's absolute frame bit. */
function segmentsFor(abs: number[], from: number, to: number): Segment[] {
  const out: Segment[] = [];
  let v = from;
  while (v < to) {
    const p = abs[v];
    let width = 1;
    while (v + width < to && abs[v + width] === p + width && (p + width) >> 3 === p >> 3) width++;
    out.push({ byte: p >> 3, shift: p & 7, mask: (1 << width) - 1, weight: 2 ** (v - from) });
    v += width;
  }
  return out;
}

/** Signals with every switch before the signals it selects. */
function switchOrder(signals: DbcSignal[]): DbcSignal[] {
  const out: DbcSignal[] = [];
  const placed = new Set<string>();
  const place = (s: DbcSignal): void => {
    if (placed.has(s.name)) return;
    placed.add(s.name);
    const sw = s.muxedBy && signals.find((x) => x.name === s.muxedBy!.signal);
    if (sw) place(sw);
    out.push(s);
  };
  for (const s of signals) place(s);
  return out;
}

function compileMessage(message: DbcMessage): CompiledMessage {
  const ordered = switchOrder(message.signals);
  const signals = ordered.map((sig) => {
    const c = compileSignal(sig);
    if (sig.muxedBy) {
      c.switchIndex = ordered.findIndex((s) => s.name === sig.muxedBy!.signal);
      c.ranges = sig.muxedBy.ranges.flat();
    }
    return c;
  });
  return { message, signals, raws: new Float64Array(signals.length), present: new Uint8Array(signals.length) };
}

function compileSignal(sig: DbcSignal): CompiledSignal {
  const bits = signalBits(sig);
  // abs[v] = frame bit holding value bit v (v = 0 is the least significant).
  const abs = sig.byteOrder === 'intel' ? bits : bits.slice().reverse();
  const split = sig.valueType === 'float64';
  return {
    sig,
    segments: segmentsFor(abs, 0, split ? 32 : sig.length),
    high: split ? segmentsFor(abs, 32, 64) : null,
    signMin: 2 ** (sig.length - 1),
    span: 2 ** sig.length,
    checkRange: !(sig.min === 0 && sig.max === 0) && sig.min <= sig.max,
    switchIndex: -1,
    ranges: [],
    labels: sig.labels && sig.labels.size ? sig.labels : null,
  };
}

function extract(segments: Segment[], data: Uint8Array): number {
  let raw = 0;
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i];
    raw += ((data[s.byte] >> s.shift) & s.mask) * s.weight;
  }
  return raw;
}

/** The raw value as the DBC defines it (integer with sign, or IEEE float), before factor/offset. */
function rawValue(c: CompiledSignal, data: Uint8Array): number {
  const low = extract(c.segments, data);
  switch (c.sig.valueType) {
    case 'float32':
      scratch.setUint32(0, low);
      return scratch.getFloat32(0);
    case 'float64':
      scratch.setUint32(0, extract(c.high!, data));
      scratch.setUint32(4, low);
      return scratch.getFloat64(0);
    default:
      return c.sig.signed && low >= c.signMin ? low - c.span : low;
  }
}

function inRanges(v: number, ranges: number[]): boolean {
  for (let i = 0; i < ranges.length; i += 2) if (v >= ranges[i] && v <= ranges[i + 1]) return true;
  return false;
}

export interface DecoderCounts {
  decoded: number;
  unknownId: number;
  wrongDlc: number;
  errorFrames: number;
  remote: number;
}

export class DbcDecoder {
  readonly #std = new Map<number, CompiledMessage>();
  readonly #ext = new Map<number, CompiledMessage>();
  readonly counts: DecoderCounts = { decoded: 0, unknownId: 0, wrongDlc: 0, errorFrames: 0, remote: 0 };

  constructor(readonly dbc: Dbc) {
    for (const message of dbc.messages) (message.ext ? this.#ext : this.#std).set(message.id, compileMessage(message));
  }

  /** The message definition for an id, or undefined. */
  message(id: number, ext: boolean): DbcMessage | undefined {
    return (ext ? this.#ext : this.#std).get(id)?.message;
  }

  /** Decodes one frame; never throws. Unknown ids, wrong DLCs, error and remote frames are counted and reported. */
  decode(frame: FrameLike): DecodeResult {
    if (frame.err) {
      this.counts.errorFrames++;
      return { ok: false, reason: 'error-frame' };
    }
    const c = (frame.ext ? this.#ext : this.#std).get(frame.id);
    if (frame.rtr) {
      this.counts.remote++;
      return { ok: false, reason: 'remote', message: c?.message };
    }
    if (!c) {
      this.counts.unknownId++;
      return { ok: false, reason: 'unknown-id' };
    }
    const data = frame.data;
    if (data.length !== c.message.dlc) {
      this.counts.wrongDlc++;
      return { ok: false, reason: 'dlc', message: c.message };
    }
    const values: Record<string, number> = {};
    let labels: Record<string, string> | null = null;
    let outOfRange: string[] | null = null;
    const { raws, present } = c;
    for (let i = 0; i < c.signals.length; i++) {
      const s = c.signals[i];
      const sig = s.sig;
      present[i] = 0;
      if (s.switchIndex >= 0 && !(present[s.switchIndex] && inRanges(raws[s.switchIndex], s.ranges))) continue;
      const raw = rawValue(s, data);
      raws[i] = raw;
      present[i] = 1;
      const value = raw * sig.factor + sig.offset;
      values[sig.name] = value;
      if (s.labels !== null) {
        const label = s.labels.get(raw);
        if (label !== undefined) (labels ??= {})[sig.name] = label;
      }
      if (s.checkRange && !(value >= sig.min && value <= sig.max)) (outOfRange ??= []).push(sig.name);
    }
    this.counts.decoded++;
    return { ok: true, message: c.message, values, labels, outOfRange };
  }
}

/** Encodes physical values into a frame's data (the simulator and tests use it); inverse of decode. */
export function encodeMessage(message: DbcMessage, values: Record<string, number>): Uint8Array {
  const data = new Uint8Array(message.dlc);
  // Raw values of the switches written so far: a signal is written only when its switch selects it.
  const switches = new Map<string, number>();
  for (const sig of switchOrder(message.signals)) {
    if (sig.muxedBy) {
      const sw = switches.get(sig.muxedBy.signal);
      if (sw === undefined || !sig.muxedBy.ranges.some(([lo, hi]) => sw >= lo && sw <= hi)) continue;
    }
    const phys = sig.multiplexor ? values[sig.name] ?? sig.offset : values[sig.name];
    if (phys === undefined) continue;
    if (sig.multiplexor) switches.set(sig.name, Math.round((phys - sig.offset) / sig.factor));
    const bits = signalBits(sig);
    const abs = sig.byteOrder === 'intel' ? bits : bits.slice().reverse();
    let lo: number;
    let hi = 0;
    const scaled = (phys - sig.offset) / sig.factor;
    if (sig.valueType === 'float32') {
      scratch.setFloat32(0, scaled);
      lo = scratch.getUint32(0);
    } else if (sig.valueType === 'float64') {
      scratch.setFloat64(0, scaled);
      hi = scratch.getUint32(0);
      lo = scratch.getUint32(4);
    } else {
      let raw = Math.round(scaled);
      const span = 2 ** sig.length;
      const [min, max] = sig.signed ? [-(span / 2), span / 2 - 1] : [0, span - 1];
      raw = Math.min(max, Math.max(min, raw));
      if (raw < 0) raw += span;
      lo = raw;
    }
    for (let v = 0; v < sig.length; v++) {
      const bit = v < 32 || sig.valueType !== 'float64' ? Math.floor(lo / 2 ** v) % 2 : Math.floor(hi / 2 ** (v - 32)) % 2;
      const p = abs[v];
      if (bit) data[p >> 3] |= 1 << (p & 7);
      else data[p >> 3] &= ~(1 << (p & 7));
    }
  }
  return data;
}
