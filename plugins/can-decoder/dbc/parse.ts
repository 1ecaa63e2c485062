// A DBC (CAN message database) parser for what a gateway decodes: messages (standard and extended
// ids), signals with byte order, sign, factor/offset, min/max, unit and simple multiplexing, float
// signals (SIG_VALTYPE_), and value tables' neighbours (CM_, VAL_, BA_ ...) skipped. Errors name the line.

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
  /** `multiplexor` for the `M` signal; a number for `mN` signals (decoded only when the multiplexor equals N). */
  mux: 'multiplexor' | number | null;
}

export interface DbcMessage {
  /** The identifier without the extended flag bit. */
  id: number;
  ext: boolean;
  name: string;
  dlc: number;
  transmitter: string;
  signals: DbcSignal[];
}

export interface Dbc {
  version: string;
  nodes: string[];
  messages: DbcMessage[];
}

export class DbcParseError extends Error {
  constructor(readonly source: string, readonly line: number, message: string) {
    super(`${source}:${line}: ${message}`);
    this.name = 'DbcParseError';
  }
}

const EXT_FLAG = 0x80000000;
const BO = /^BO_\s+(\d+)\s+([A-Za-z_][\w]*)\s*:\s*(\d+)\s+([A-Za-z_][\w]*)\s*$/;
const SG = /^SG_\s+([A-Za-z_]\w*)\s*(M|m\d+)?\s*:\s*(\d+)\s*\|\s*(\d+)\s*@\s*([01])\s*([+-])\s*\(\s*([^,\s]+)\s*,\s*([^)\s]+)\s*\)\s*\[\s*([^|\s]+)\s*\|\s*([^\]\s]+)\s*\]\s*"([^"]*)"\s*(.*)$/;
const VALTYPE = /^SIG_VALTYPE_\s+(\d+)\s+([A-Za-z_]\w*)\s*:\s*([0-3])\s*;\s*$/;

function num(text: string, what: string, source: string, line: number): number {
  const n = Number(text);
  if (!Number.isFinite(n)) throw new DbcParseError(source, line, `${what} "${text}" is not a number`);
  return n;
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

/** Parses DBC text. `source` names the file in errors. Throws DbcParseError on the first malformed line. */
export function parseDbc(text: string, source = 'dbc'): Dbc {
  const dbc: Dbc = { version: '', nodes: [], messages: [] };
  const byKey = new Map<string, DbcMessage>();
  let current: DbcMessage | null = null;
  const lines = text.split(/\r?\n/);
  const valueTypes: Array<{ line: number; id: number; signal: string; type: number }> = [];
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const line = lines[i].trim();
    if (line === '') {
      current = null;
      continue;
    }
    if (line.startsWith('VERSION')) {
      dbc.version = /"([^"]*)"/.exec(line)?.[1] ?? '';
    } else if (line.startsWith('BU_')) {
      dbc.nodes = line.replace(/^BU_\s*:?/, '').trim().split(/\s+/).filter(Boolean);
    } else if (line.startsWith('BO_ ')) {
      const m = BO.exec(line);
      if (!m) throw new DbcParseError(source, lineNo, `malformed message line; expected BO_ <id> <Name>: <dlc> <Transmitter>`);
      const rawId = num(m[1], 'message id', source, lineNo);
      const ext = rawId >= EXT_FLAG;
      const id = ext ? rawId - EXT_FLAG : rawId;
      if (ext ? id > 0x1fffffff : id > 0x7ff) {
        throw new DbcParseError(source, lineNo, `message id ${m[1]} is out of range (standard ids <= 2047; extended ids carry bit 31: 2147483648 + id)`);
      }
      const dlc = num(m[3], 'DLC', source, lineNo);
      if (!Number.isInteger(dlc) || dlc > 8) throw new DbcParseError(source, lineNo, `message ${m[2]}: DLC ${m[3]} is not 0..8 (classic CAN)`);
      const key = `${ext ? 'x' : 's'}${id}`;
      if (byKey.has(key)) throw new DbcParseError(source, lineNo, `message ${m[2]}: id ${m[1]} already used by ${byKey.get(key)!.name}`);
      current = { id, ext, name: m[2], dlc, transmitter: m[4], signals: [] };
      byKey.set(key, current);
      dbc.messages.push(current);
    } else if (line.startsWith('SG_ ')) {
      if (!current) throw new DbcParseError(source, lineNo, 'signal outside a message (SG_ lines follow their BO_ line, without a blank line between)');
      const m = SG.exec(line);
      if (!m) throw new DbcParseError(source, lineNo, 'malformed signal line; expected SG_ <name> [M|mN] : <start>|<len>@<1|0><+|-> (<factor>,<offset>) [<min>|<max>] "<unit>" <receivers>');
      const sig: DbcSignal = {
        name: m[1],
        mux: m[2] === undefined ? null : m[2] === 'M' ? 'multiplexor' : Number(m[2].slice(1)),
        startBit: num(m[3], 'start bit', source, lineNo),
        length: num(m[4], 'length', source, lineNo),
        byteOrder: m[5] === '1' ? 'intel' : 'motorola',
        signed: m[6] === '-',
        valueType: 'integer',
        factor: num(m[7], 'factor', source, lineNo),
        offset: num(m[8], 'offset', source, lineNo),
        min: num(m[9], 'min', source, lineNo),
        max: num(m[10], 'max', source, lineNo),
        unit: m[11],
        receivers: m[12].split(/[\s,]+/).filter(Boolean),
      };
      checkSignal(current, sig, source, lineNo);
      current.signals.push(sig);
    } else if (line.startsWith('SIG_VALTYPE_')) {
      const m = VALTYPE.exec(line);
      if (!m) throw new DbcParseError(source, lineNo, 'malformed SIG_VALTYPE_ line; expected SIG_VALTYPE_ <id> <signal> : <0|1|2> ;');
      valueTypes.push({ line: lineNo, id: Number(m[1]), signal: m[2], type: Number(m[3]) });
    }
    // Everything else (NS_, BS_, CM_, BA_DEF_, BA_, VAL_, VAL_TABLE_, indented NS_ entries) is not needed to decode.
  }
  for (const vt of valueTypes) {
    const ext = vt.id >= EXT_FLAG;
    const msg = byKey.get(`${ext ? 'x' : 's'}${ext ? vt.id - EXT_FLAG : vt.id}`);
    const sig = msg?.signals.find((s) => s.name === vt.signal);
    if (!msg || !sig) throw new DbcParseError(source, vt.line, `SIG_VALTYPE_ names ${vt.id} ${vt.signal}, which is not defined`);
    if (vt.type === 1 || vt.type === 2) {
      const bits = vt.type === 1 ? 32 : 64;
      if (sig.length !== bits) throw new DbcParseError(source, vt.line, `${msg.name}.${sig.name}: a ${vt.type === 1 ? 'float32' : 'float64'} signal must be ${bits} bits long, not ${sig.length}`);
      sig.valueType = vt.type === 1 ? 'float32' : 'float64';
    }
  }
  for (const msg of dbc.messages) {
    const muxes = msg.signals.filter((s) => s.mux === 'multiplexor');
    if (muxes.length > 1) throw new DbcParseError(source, 0, `message ${msg.name}: ${muxes.length} multiplexor signals; only simple multiplexing (one M) is supported`);
    if (muxes.length === 0 && msg.signals.some((s) => typeof s.mux === 'number')) {
      throw new DbcParseError(source, 0, `message ${msg.name}: multiplexed signals (mN) without a multiplexor (M)`);
    }
  }
  return dbc;
}

function checkSignal(msg: DbcMessage, sig: DbcSignal, source: string, line: number): void {
  const where = `${msg.name}.${sig.name}`;
  if (msg.signals.some((s) => s.name === sig.name)) throw new DbcParseError(source, line, `${where}: defined twice`);
  if (sig.length < 1 || sig.length > 64) throw new DbcParseError(source, line, `${where}: length ${sig.length} is not 1..64`);
  if (sig.startBit > 63) throw new DbcParseError(source, line, `${where}: start bit ${sig.startBit} is past the 8-byte frame`);
  if (sig.factor === 0) throw new DbcParseError(source, line, `${where}: factor 0 makes every value equal the offset`);
  const bits = signalBits(sig);
  const last = Math.max(...bits);
  if (Math.min(...bits) < 0 || last >= msg.dlc * 8) {
    throw new DbcParseError(source, line, `${where}: bits ${sig.startBit}|${sig.length}@${sig.byteOrder === 'intel' ? 1 : 0} do not fit the message's ${msg.dlc} bytes`);
  }
}
