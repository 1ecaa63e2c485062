// The DBC model the reader produces and the decoder, bridge and simulator use, with the checks that
// need a whole message: signal placement, and which switch each multiplexed signal belongs to.
import type { AttributeDef, AttributeValue } from './attributes.ts';

export interface DbcMuxCondition {
  /** The multiplexor (switch) signal in the same message. */
  signal: string;
  /** Raw switch values for which this signal is present, as inclusive [low, high] ranges. */
  ranges: Array<[number, number]>;
}

export interface DbcSignal {
  name: string;
  startBit: number;
  length: number;
  /** `intel` = little-endian (`@1`), `motorola` = big-endian (`@0`, start bit = MSB in DBC numbering). */
  byteOrder: 'intel' | 'motorola';
  signed: boolean;
  /** IEEE float per SIG_VALTYPE_ (1 = float32, 2 = float64); `integer` otherwise. */
  valueType: 'integer' | 'float32' | 'float64';
  factor: number;
  offset: number;
  min: number;
  max: number;
  unit: string;
  receivers: string[];
  /** `multiplexor` for an `M` signal; N for `mN` and `mNM` signals; null otherwise. */
  mux: 'multiplexor' | number | null;
  /** A switch for other signals (`M`, or `mNM` in extended multiplexing). */
  multiplexor: boolean;
  /** When the signal is present: its switch and the switch's raw values; null = always. */
  muxedBy: DbcMuxCondition | null;
  /** VAL_ labels by raw value; null when the signal has none. */
  labels: Map<number, string> | null;
  comment: string;
  attributes: Record<string, AttributeValue>;
}

export interface DbcMessage {
  /** The identifier without the extended flag bit. */
  id: number;
  ext: boolean;
  name: string;
  /** Data length in bytes (0..8, or a CAN FD length up to 64). */
  dlc: number;
  transmitter: string;
  signals: DbcSignal[];
  /** GenMsgCycleTime (or its BA_DEF_DEF_ default) in ms; null when not cyclic (0 or absent). */
  cycleTimeMs: number | null;
  comment: string;
  attributes: Record<string, AttributeValue>;
}

export interface Dbc {
  version: string;
  nodes: string[];
  messages: DbcMessage[];
  /** VAL_TABLE_ definitions by name (labels by raw value). */
  valueTables: Map<string, Map<number, string>>;
  attributeDefs: Map<string, AttributeDef>;
  comment: string;
}

export class DbcParseError extends Error {
  constructor(readonly source: string, readonly line: number, message: string) {
    super(`${source}:${line}: ${message}`);
    this.name = 'DbcParseError';
  }
}

/** Gives every mN signal its switch (SG_MUL_VAL_ when present, else the message's only multiplexor) and rejects cycles. */
export function resolveMultiplexing(msg: DbcMessage, source: string, line: number): void {
  const switches = msg.signals.filter((s) => s.multiplexor);
  for (const sig of msg.signals) {
    if (sig.muxedBy || typeof sig.mux !== 'number') continue;
    const candidates = switches.filter((s) => s !== sig);
    if (candidates.length === 1) sig.muxedBy = { signal: candidates[0].name, ranges: [[sig.mux, sig.mux]] };
    else if (candidates.length === 0) throw new DbcParseError(source, line, `message ${msg.name}: multiplexed signals (mN) without a multiplexor (M)`);
    else throw new DbcParseError(source, line, `message ${msg.name}: signal ${sig.name} (m${sig.mux}) could belong to ${candidates.map((s) => s.name).join(' or ')}; extended multiplexing needs an SG_MUL_VAL_ line naming its multiplexor`);
  }
  // A switch chain must end at an unconditional signal.
  for (const sig of msg.signals) {
    const seen = new Set<string>([sig.name]);
    let cond = sig.muxedBy;
    while (cond) {
      if (seen.has(cond.signal)) throw new DbcParseError(source, line, `message ${msg.name}: the multiplexors of ${sig.name} form a cycle (${[...seen].join(' → ')} → ${cond.signal})`);
      seen.add(cond.signal);
      cond = msg.signals.find((s) => s.name === cond!.signal)?.muxedBy ?? null;
    }
  }
}

/** The bits a signal occupies, as absolute bit indexes (byte*8 + bit-in-byte), MSB first for Motorola. */
export function signalBits(sig: Pick<DbcSignal, 'startBit' | 'length' | 'byteOrder'>): number[] {
  const bits: number[] = [];
  if (sig.byteOrder === 'intel') {
    for (let i = 0; i < sig.length; i++) bits.push(sig.startBit + i);
  } else {
    let pos = sig.startBit;
    for (let i = 0; i < sig.length; i++) {
      bits.push(pos);
      pos = pos % 8 === 0 ? pos + 15 : pos - 1;
    }
  }
  return bits;
}

export function checkSignal(msg: DbcMessage, sig: DbcSignal, source: string, line: number): void {
  const where = `${msg.name}.${sig.name}`;
  if (msg.signals.some((s) => s.name === sig.name)) throw new DbcParseError(source, line, `${where}: defined twice`);
  if (sig.length < 1 || sig.length > 64) throw new DbcParseError(source, line, `${where}: length ${sig.length} is not 1..64`);
  if (sig.factor === 0) throw new DbcParseError(source, line, `${where}: factor 0 makes every value equal the offset`);
  const bits = signalBits(sig);
  const last = Math.max(...bits);
  if (Math.min(...bits) < 0 || last >= msg.dlc * 8) {
    throw new DbcParseError(source, line, `${where}: bits ${sig.startBit}|${sig.length}@${sig.byteOrder === 'intel' ? 1 : 0} do not fit the message's ${msg.dlc} bytes`);
  }
}
