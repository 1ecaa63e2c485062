// A DBC (CAN message database) reader for what CANdb++, cantools, canmatrix and Kvaser write:
// messages, signals (byte order, sign, factor/offset, float types), simple and extended multiplexing
// (SG_MUL_VAL_), value tables, comments and attributes (GenMsgCycleTime). Errors name the line.
import { describeToken, DbcSyntaxError, Tok, type Token, tokenize } from './tokens.ts';
import { attributeValue, parseAttributeDef } from './attributes.ts';
import { checkSignal, type Dbc, type DbcMessage, DbcParseError, type DbcSignal, resolveMultiplexing } from './model.ts';

const EXT_FLAG = 0x80000000;
/** CANdb++ keeps signals that belong to no message in this pseudo message (id 0xC0000000). */
const INDEPENDENT = 'VECTOR__INDEPENDENT_SIG_MSG';
const FD_LENGTHS = new Set([0, 1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 20, 24, 32, 48, 64]);
const SG_USAGE = 'expected SG_ <name> [M|mN|mNM] : <start>|<len>@<1|0><+|-> (<factor>,<offset>) [<min>|<max>] "<unit>" <receivers>';
/** Statements read to their `;` without being interpreted. */
const SKIPPED = /^(EV_|ENVVAR_DATA_|BO_TX_BU_|SIG_GROUP_|SGTYPE_|SGTYPE_VAL_|SIG_TYPE_REF_|SIGTYPE_VALTYPE_|BA_DEF_SGTYPE_|BA_SGTYPE_|BA_DEF_REL_|BA_REL_|BA_DEF_DEF_REL_|BU_SG_REL_|BU_EV_REL_|BU_BO_REL_|CAT_DEF_|CAT_|FILTER|NS_DESC_)$/;
/** Keywords that start a statement at a line start; meeting one while looking for `;` means the `;` is missing. */
const STATEMENT = /^(VERSION|NS_|BS_|BU_|BO_|CM_|BA_DEF_|BA_DEF_DEF_|BA_|VAL_|VAL_TABLE_|SIG_VALTYPE_|SG_MUL_VAL_|EV_|BO_TX_BU_|SIG_GROUP_)$/;

interface Pending {
  valueTypes: Array<{ line: number; id: number; signal: string; type: number }>;
  muxVals: Array<{ line: number; id: number; signal: string; switch: string; ranges: Array<[number, number]> }>;
  vals: Array<{ line: number; id: number; signal: string; labels: Map<number, string> }>;
  comments: Array<{ line: number; id: number; signal: string | null; text: string }>;
  attrs: Array<{ line: number; name: string; id: number; signal: string | null; value: string | number }>;
  defaults: Map<string, string | number>;
}

/** Parses DBC text. `source` names the file in errors. Throws DbcParseError on the first error. */
export function parseDbc(text: string, source = 'dbc'): Dbc {
  let tokens: Token[];
  try {
    tokens = tokenize(text);
  } catch (err) {
    if (err instanceof DbcSyntaxError) throw new DbcParseError(source, err.line, err.message);
    throw err;
  }
  if (tokens.length === 1) throw new DbcParseError(source, 1, 'the file is empty: no DBC statements (VERSION, BU_, BO_ ...)');
  return new Parser(tokens, source).run();
}

class Parser {
  #i = 0;
  readonly dbc: Dbc = { version: '', nodes: [], messages: [], valueTables: new Map(), attributeDefs: new Map(), comment: '' };
  readonly #byKey = new Map<string, DbcMessage>();
  /** The BO_ line of each message, for errors found after the whole file is read. */
  readonly #lineOf = new Map<DbcMessage, number>();
  readonly #p: Pending = { valueTypes: [], muxVals: [], vals: [], comments: [], attrs: [], defaults: new Map() };

  constructor(readonly tokens: Token[], readonly source: string) {}

  fail(line: number, message: string): never {
    throw new DbcParseError(this.source, line, message);
  }
  peek(): Token {
    return this.tokens[this.#i];
  }
  next(): Token {
    const t = this.tokens[this.#i];
    if (t.kind !== Tok.End) this.#i++;
    return t;
  }
  expect(v: string, context: string): Token {
    const t = this.next();
    if (t.v !== v || t.kind === Tok.Str) this.fail(t.line, `${context}: expected "${v}", found ${describeToken(t)}`);
    return t;
  }
  ident(context: string): string {
    const t = this.next();
    if (t.kind !== Tok.Id) this.fail(t.line, `${context}: expected a name, found ${describeToken(t)}`);
    return t.v;
  }
  str(context: string): string {
    const t = this.next();
    if (t.kind !== Tok.Str) this.fail(t.line, `${context}: expected a "quoted string", found ${describeToken(t)}`);
    return t.v;
  }
  number(what: string): number {
    let t = this.next();
    let sign = 1;
    if (t.kind === Tok.Punct && (t.v === '-' || t.v === '+')) {
      sign = t.v === '-' ? -1 : 1;
      t = this.next();
    }
    if (t.kind !== Tok.Num) this.fail(t.line, `${what}: expected a number, found ${describeToken(t)}`);
    return sign * Number(t.v);
  }
  uint(what: string): number {
    const t = this.peek();
    const n = this.number(what);
    if (!Number.isInteger(n) || n < 0) this.fail(t.line, `${what}: ${n} is not a non-negative integer`);
    return n;
  }
  /** Consumes the `;` ending a statement that began on `line`. */
  end(keyword: string, line: number): void {
    const t = this.next();
    if (t.v !== ';' || t.kind !== Tok.Punct) this.fail(t.line, `${keyword} statement of line ${line}: expected ";", found ${describeToken(t)}`);
  }
  /** Skips a statement we do not interpret, up to and including its `;`. */
  skip(keyword: string, line: number): void {
    for (;;) {
      const t = this.next();
      if (t.kind === Tok.End) this.fail(line, `${keyword} statement is not terminated by ";"`);
      if (t.kind === Tok.Punct && t.v === ';') return;
      if (t.bol && !t.indented && t.kind === Tok.Id && STATEMENT.test(t.v)) this.fail(line, `${keyword} statement is not terminated by ";" (the next statement, ${t.v}, starts at line ${t.line})`);
    }
  }

  run(): Dbc {
    let current: DbcMessage | null = null;
    for (;;) {
      const t = this.next();
      if (t.kind === Tok.End) break;
      if (t.kind !== Tok.Id) this.fail(t.line, `expected a DBC keyword (BO_, SG_, CM_ ...), found ${describeToken(t)}`);
      if (t.v !== 'SG_') current = null;
      switch (t.v) {
        case 'VERSION':
          this.dbc.version = this.str('VERSION');
          break;
        case 'NS_':
          // The list of new symbols: indented keywords, one per line, up to the next statement.
          if (this.peek().v === ':') this.next();
          while (this.peek().kind === Tok.Id && (!this.peek().bol || this.peek().indented)) this.next();
          break;
        case 'BS_':
          this.expect(':', 'BS_');
          while (!this.peek().bol) this.next();
          break;
        case 'BU_':
          this.expect(':', 'BU_');
          while (!this.peek().bol && this.peek().kind === Tok.Id) this.dbc.nodes.push(this.next().v);
          if (!this.peek().bol) this.fail(this.peek().line, `BU_: expected node names, found ${describeToken(this.peek())}`);
          break;
        case 'BO_':
          current = this.message(t.line);
          break;
        case 'SG_': {
          if (!current) this.fail(t.line, 'signal outside a message (SG_ lines follow their BO_ line)');
          const sig = this.signal(t.line);
          if (current.name !== INDEPENDENT) {
            checkSignal(current, sig, this.source, t.line);
            current.signals.push(sig);
          }
          break;
        }
        case 'CM_':
          this.comment(t.line);
          break;
        case 'BA_DEF_': {
          const def = parseAttributeDef(this, t.line);
          this.dbc.attributeDefs.set(def.name, def);
          this.end('BA_DEF_', t.line);
          break;
        }
        case 'BA_DEF_DEF_': {
          const name = this.str('BA_DEF_DEF_');
          const v = this.peek().kind === Tok.Str ? this.next().v : this.number(`BA_DEF_DEF_ "${name}"`);
          this.#p.defaults.set(name, v);
          this.end('BA_DEF_DEF_', t.line);
          break;
        }
        case 'BA_':
          this.attribute(t.line);
          break;
        case 'VAL_':
          this.values(t.line);
          break;
        case 'VAL_TABLE_': {
          const name = this.ident('VAL_TABLE_');
          this.dbc.valueTables.set(name, this.labels(`VAL_TABLE_ ${name}`));
          this.end('VAL_TABLE_', t.line);
          break;
        }
        case 'SIG_VALTYPE_': {
          const id = this.uint('SIG_VALTYPE_ message id');
          const signal = this.ident('SIG_VALTYPE_');
          if (this.peek().v === ':') this.next();
          const type = this.uint(`SIG_VALTYPE_ ${id} ${signal}`);
          if (type > 3) this.fail(t.line, `malformed SIG_VALTYPE_ line: value type ${type} is not 0, 1 (float32) or 2 (float64)`);
          this.end('SIG_VALTYPE_', t.line);
          this.#p.valueTypes.push({ line: t.line, id, signal, type });
          break;
        }
        case 'SG_MUL_VAL_':
          this.muxValues(t.line);
          break;
        default:
          if (SKIPPED.test(t.v)) this.skip(t.v, t.line);
          else this.fail(t.line, `unknown statement "${t.v}" (expected a DBC keyword such as BO_, SG_, CM_, BA_, VAL_)`);
      }
    }
    return this.finish();
  }

  message(line: number): DbcMessage {
    const rawId = this.uint('BO_ message id');
    const name = this.ident('BO_');
    this.expect(':', `BO_ ${name}`);
    const dlc = this.uint(`BO_ ${name} DLC`);
    const transmitter = this.peek().bol ? '' : this.ident(`BO_ ${name} transmitter`);
    const msg: DbcMessage = { id: rawId, ext: false, name, dlc, transmitter, signals: [], cycleTimeMs: null, comment: '', attributes: {} };
    if (name === INDEPENDENT) return msg;
    const ext = rawId >= EXT_FLAG;
    const id = ext ? rawId - EXT_FLAG : rawId;
    if (ext ? id > 0x1fffffff : id > 0x7ff) {
      this.fail(line, `message id ${rawId} is out of range (standard ids <= 2047; extended ids carry bit 31: 2147483648 + id)`);
    }
    if (!FD_LENGTHS.has(dlc)) this.fail(line, `message ${name}: DLC ${dlc} is not a frame length (0..8, or 12, 16, 20, 24, 32, 48, 64 for CAN FD)`);
    const key = `${ext ? 'x' : 's'}${id}`;
    if (this.#byKey.has(key)) this.fail(line, `message ${name}: id ${rawId} already used by ${this.#byKey.get(key)!.name}`);
    Object.assign(msg, { id, ext });
    this.#byKey.set(key, msg);
    this.#lineOf.set(msg, line);
    this.dbc.messages.push(msg);
    return msg;
  }

  signal(line: number): DbcSignal {
    const ctx = `malformed signal line (${SG_USAGE})`;
    const name = this.ident(ctx);
    let mux: DbcSignal['mux'] = null;
    let multiplexor = false;
    if (this.peek().kind === Tok.Id) {
      const m = /^(?:(M)|m(\d+)(M?))$/.exec(this.next().v);
      if (!m) this.fail(line, `signal ${name}: multiplexer indicator "${this.tokens[this.#i - 1].v}" is not M, mN or mNM`);
      mux = m[1] ? 'multiplexor' : Number(m[2]);
      multiplexor = m[1] !== undefined || m[3] === 'M';
    }
    this.expect(':', ctx);
    const startBit = this.uint(`signal ${name} start bit`);
    this.expect('|', ctx);
    const length = this.uint(`signal ${name} length`);
    this.expect('@', ctx);
    const order = this.next();
    if (order.v !== '0' && order.v !== '1') this.fail(order.line, `${ctx}: byte order must be @0 (Motorola) or @1 (Intel), found ${describeToken(order)}`);
    const sign = this.next();
    if (sign.v !== '+' && sign.v !== '-') this.fail(sign.line, `${ctx}: expected + (unsigned) or - (signed) after @${order.v}, found ${describeToken(sign)}`);
    this.expect('(', ctx);
    const factor = this.number(`signal ${name} factor`);
    this.expect(',', ctx);
    const offset = this.number(`signal ${name} offset`);
    this.expect(')', ctx);
    this.expect('[', ctx);
    const min = this.number(`signal ${name} minimum`);
    this.expect('|', ctx);
    const max = this.number(`signal ${name} maximum`);
    this.expect(']', ctx);
    const unit = this.str(ctx);
    const receivers: string[] = [];
    while (!this.peek().bol) {
      const r = this.next();
      if (r.kind === Tok.Id) receivers.push(r.v);
      else if (r.v !== ',') this.fail(r.line, `signal ${name}: expected receiver node names, found ${describeToken(r)}`);
    }
    return {
      name, mux, multiplexor, muxedBy: null, startBit, length, byteOrder: order.v === '1' ? 'intel' : 'motorola', signed: sign.v === '-',
      valueType: 'integer', factor, offset, min, max, unit, receivers, labels: null, comment: '', attributes: {},
    };
  }

  /** `CM_ [BU_ node | BO_ id | SG_ id signal | EV_ var] "text";` */
  comment(line: number): void {
    const t = this.peek();
    if (t.kind === Tok.Str) {
      this.dbc.comment = this.next().v;
    } else {
      const kind = this.ident('CM_');
      if (kind === 'BO_' || kind === 'SG_') {
        const id = this.uint(`CM_ ${kind} message id`);
        const signal = kind === 'SG_' ? this.ident('CM_ SG_') : null;
        this.#p.comments.push({ line, id, signal, text: this.str(`CM_ ${kind} ${id}`) });
      } else if (kind === 'BU_' || kind === 'EV_') {
        this.ident(`CM_ ${kind}`);
        this.str(`CM_ ${kind}`);
      } else this.fail(line, `CM_: expected a string or BU_, BO_, SG_, EV_, found "${kind}"`);
    }
    this.end('CM_', line);
  }

  /** `BA_ "name" [BU_ node | BO_ id | SG_ id signal | EV_ var] value;` */
  attribute(line: number): void {
    const name = this.str('BA_');
    let id = -1;
    let signal: string | null = null;
    if (this.peek().kind === Tok.Id) {
      const kind = this.next().v;
      if (kind === 'BO_' || kind === 'SG_') {
        id = this.uint(`BA_ "${name}" ${kind} message id`);
        if (kind === 'SG_') signal = this.ident(`BA_ "${name}" SG_`);
      } else if (kind === 'BU_' || kind === 'EV_') this.ident(`BA_ "${name}" ${kind}`);
      else this.fail(line, `BA_ "${name}": expected BU_, BO_, SG_ or EV_, found "${kind}"`);
    }
    const value = this.peek().kind === Tok.Str ? this.next().v : this.number(`BA_ "${name}" value`);
    this.end('BA_', line);
    if (id >= 0) this.#p.attrs.push({ line, name, id, signal, value });
  }

  /** `VAL_ id signal (n "label")* ;` or `VAL_ envvar (n "label")* ;` (environment variables: ignored). */
  values(line: number): void {
    if (this.peek().kind === Tok.Id) {
      const env = this.next().v;
      this.labels(`VAL_ ${env}`);
    } else {
      const id = this.uint('VAL_ message id');
      const signal = this.ident(`VAL_ ${id}`);
      this.#p.vals.push({ line, id, signal, labels: this.labels(`VAL_ ${id} ${signal}`) });
    }
    this.end('VAL_', line);
  }

  labels(ctx: string): Map<number, string> {
    const out = new Map<number, string>();
    while (this.peek().kind === Tok.Num || (this.peek().kind === Tok.Punct && this.peek().v === '-')) {
      const n = this.number(ctx);
      out.set(n, this.str(`${ctx} value ${n}`));
    }
    return out;
  }

  /** `SG_MUL_VAL_ id signal switch lo-hi[, lo-hi]* ;` */
  muxValues(line: number): void {
    const id = this.uint('SG_MUL_VAL_ message id');
    const signal = this.ident('SG_MUL_VAL_');
    const sw = this.ident(`SG_MUL_VAL_ ${id} ${signal}`);
    const ranges: Array<[number, number]> = [];
    for (;;) {
      const lo = this.uint(`SG_MUL_VAL_ ${id} ${signal} range`);
      this.expect('-', `SG_MUL_VAL_ ${id} ${signal} range`);
      const hi = this.uint(`SG_MUL_VAL_ ${id} ${signal} range`);
      if (hi < lo) this.fail(line, `SG_MUL_VAL_ ${id} ${signal}: range ${lo}-${hi} is empty`);
      ranges.push([lo, hi]);
      if (this.peek().v !== ',') break;
      this.next();
    }
    this.end('SG_MUL_VAL_', line);
    this.#p.muxVals.push({ line, id, signal, switch: sw, ranges });
  }

  lookup(line: number, id: number, signal: string | null, what: string): { msg: DbcMessage; sig: DbcSignal | null } | null {
    if (id === 0xc0000000) return null; // VECTOR__INDEPENDENT_SIG_MSG
    const ext = id >= EXT_FLAG;
    const msg = this.#byKey.get(`${ext ? 'x' : 's'}${ext ? id - EXT_FLAG : id}`);
    if (!msg) this.fail(line, `${what} names message ${id}, which is not defined`);
    if (signal === null) return { msg, sig: null };
    const sig = msg.signals.find((s) => s.name === signal);
    if (!sig) this.fail(line, `${what} names ${msg.name}.${signal}, which is not defined`);
    return { msg, sig };
  }

  finish(): Dbc {
    const p = this.#p;
    for (const vt of p.valueTypes) {
      const { msg, sig } = this.lookup(vt.line, vt.id, vt.signal, 'SIG_VALTYPE_') ?? {};
      if (!msg || !sig) continue;
      if (vt.type === 1 || vt.type === 2) {
        const bits = vt.type === 1 ? 32 : 64;
        if (sig.length !== bits) this.fail(vt.line, `${msg.name}.${sig.name}: a ${vt.type === 1 ? 'float32' : 'float64'} signal must be ${bits} bits long, not ${sig.length}`);
        sig.valueType = vt.type === 1 ? 'float32' : 'float64';
      }
    }
    for (const v of p.vals) {
      const sig = this.lookup(v.line, v.id, v.signal, 'VAL_')?.sig;
      if (sig) sig.labels = v.labels;
    }
    for (const c of p.comments) {
      const r = this.lookup(c.line, c.id, c.signal, 'CM_');
      if (r) (r.sig ?? r.msg).comment = c.text;
    }
    for (const a of p.attrs) {
      const r = this.lookup(a.line, a.id, a.signal, `BA_ "${a.name}"`);
      if (r) (r.sig ?? r.msg).attributes[a.name] = attributeValue(this.dbc.attributeDefs.get(a.name), a.value);
    }
    for (const [name, value] of p.defaults) {
      const def = this.dbc.attributeDefs.get(name);
      if (def) def.default = attributeValue(def, value);
    }
    const cycleDefault = this.dbc.attributeDefs.get('GenMsgCycleTime')?.default;
    for (const msg of this.dbc.messages) {
      const cycle = Number(msg.attributes.GenMsgCycleTime ?? cycleDefault ?? 0);
      msg.cycleTimeMs = Number.isFinite(cycle) && cycle > 0 ? cycle : null;
    }
    for (const mv of p.muxVals) {
      const r = this.lookup(mv.line, mv.id, mv.signal, 'SG_MUL_VAL_');
      if (!r) continue;
      const sw = r.msg.signals.find((s) => s.name === mv.switch);
      if (!sw || !sw.multiplexor) this.fail(mv.line, `SG_MUL_VAL_: ${r.msg.name}.${mv.switch} is not a multiplexor signal (M or mNM) of that message`);
      r.sig!.muxedBy = { signal: mv.switch, ranges: mv.ranges };
    }
    for (const msg of this.dbc.messages) resolveMultiplexing(msg, this.source, this.#lineOf.get(msg) ?? 0);
    if (this.dbc.messages.length === 0) this.fail(1, 'no messages (BO_) defined: nothing to decode');
    return this.dbc;
  }
}

export type { AttributeDef, AttributeValue } from './attributes.ts';
export { type Dbc, type DbcMessage, type DbcMuxCondition, DbcParseError, type DbcSignal, signalBits } from './model.ts';
