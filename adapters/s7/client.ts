// The S7Client over nodes7: one request in flight per PLC, a deadline on each, batched reads
// (nodes7 merges neighbouring addresses into as few PDUs as the negotiated size allows), a link that
// is torn down on any failure and reopened on the next call (with backoff after failed attempts),
// and a circuit breaker. The PLC refusing an address is not a link failure. While the PLC's port
// refuses connections, a cheap TCP probe cuts the backoff and the circuit's cool-down short the
// moment it accepts again, so counting resumes within a probe period instead of up to 30 s later.
import { connect as tcpConnect } from 'node:net';
import { CircuitBreaker, type CircuitState } from '../../core/circuit-breaker.ts';
import { Backoff } from '../../core/retry.ts';
import { checkS7Value, formatS7Address, parseS7Address } from './address.ts';
import { S7LinkError, S7RefusedError, S7ValueError } from './errors.ts';
import { type Clock, withDeadline } from '../../core/clock.ts';
import { connectCause, createNodeS7, describeReturnCode, disposeNodeS7, type NodeS7, readItemFailure, writeItemCode } from './nodes7.ts';
import type { S7Address, S7Client, S7Value } from './types.ts';

export interface S7ClientOptions {
  host: string;
  /** ISO-on-TCP port. Default 102. */
  port?: number;
  /** Default 0. */
  rack?: number;
  /** S7-300: 2, S7-1200/1500: 1. Default 1. */
  slot?: number;
  /** Deadline of connecting and of each read or write. Default 2000. */
  timeoutMs?: number;
  /** Delays between failed reconnect attempts (the first call after a drop always tries at once). */
  reconnect?: { initialMs?: number; maxMs?: number };
  /** Consecutive link failures that open the circuit, and its cool-down. Defaults 5 and 10000 ms. */
  breaker?: { failureThreshold?: number; openMs?: number };
  /** While the PLC's TCP port refuses connections, calls probe it at most this often. Default 250; 0 = never. */
  probeMs?: number;
  clock: Clock;
  onCircuitChange?: (state: CircuitState) => void;
  /** Called when a PLC negotiates a PDU size outside S7_PDU_RANGE (the peer-limit counter). */
  onReplyLimit?: () => void;
}

/**
 * PDU sizes a real CPU negotiates (S7-200/LOGO 240, S7-300 240/480, S7-1500 960; we ask for 960).
 * nodes7 takes whatever the PLC answers, and splits reads by it: a size near zero or negative
 * (the field is read signed) would make it plan requests without end.
 */
export const S7_PDU_RANGE = { min: 240, max: 960 } as const;

/** Connect failures that mean nothing listens (yet) at the PLC's address, as opposed to a refusal at the ISO or S7 level. */
const TCP_DOWN = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ECONNRESET', 'ETIMEDOUT']);

type Outcome<T> = { ok: T } | { refused: S7RefusedError };

export class Nodes7Client implements S7Client {
  readonly description: string;
  readonly breaker: CircuitBreaker;
  readonly #o: S7ClientOptions;
  readonly #timeoutMs: number;
  readonly #backoff: Backoff;
  #conn: NodeS7 | null = null;
  #items = '';
  #chain: Promise<unknown> = Promise.resolve();
  #nextAttemptAt = 0;
  #lastError: unknown = null;
  #closed = false;
  /** The last connect failed below ISO (refused, unreachable, no answer): the TCP probe may shortcut the wait. */
  #tcpDown = false;
  #lastProbeAt = Number.NEGATIVE_INFINITY;
  /** Rejects the request in flight when the socket closes under it. */
  #onDrop: ((err: Error) => void) | null = null;

  constructor(options: S7ClientOptions) {
    this.#o = options;
    this.#timeoutMs = options.timeoutMs ?? 2000;
    this.description = `s7 ${options.host}:${options.port ?? 102} rack ${options.rack ?? 0} slot ${options.slot ?? 1}`;
    this.#backoff = new Backoff({ initialMs: options.reconnect?.initialMs ?? 500, maxMs: options.reconnect?.maxMs ?? 30_000 });
    this.breaker = new CircuitBreaker({
      name: this.description,
      clock: options.clock,
      failureThreshold: options.breaker?.failureThreshold ?? 5,
      openMs: options.breaker?.openMs ?? 10_000,
      onStateChange: (s) => options.onCircuitChange?.(s),
    });
  }

  get connected(): boolean {
    return this.#conn?.isoConnectionState === 4;
  }

  connect(): Promise<void> {
    return this.#serial(async () => {
      await this.#open();
    });
  }

  read(addresses: readonly string[]): Promise<Record<string, S7Value>> {
    let parsed: S7Address[];
    try {
      parsed = addresses.map((a) => parseS7Address(a));
    } catch (err) {
      return Promise.reject(err);
    }
    if (parsed.length === 0) return Promise.resolve({});
    return this.#call((conn) => this.#read(conn, parsed));
  }

  write(values: Record<string, S7Value>): Promise<void> {
    const items: Array<{ a: S7Address; v: S7Value }> = [];
    try {
      for (const [text, v] of Object.entries(values)) {
        const a = parseS7Address(text);
        const problem = checkS7Value(a, v);
        if (problem) throw new S7ValueError(`${this.description}: cannot write ${text}: ${problem}`);
        items.push({ a, v });
      }
    } catch (err) {
      return Promise.reject(err);
    }
    if (items.length === 0) return Promise.resolve();
    return this.#call((conn) => this.#write(conn, items));
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#drop(new S7LinkError(this.description, 'connection', 'client closed'));
    await this.#chain.catch(() => {});
  }

  /** One request at a time, through the breaker; refusals pass the breaker as successes. */
  #call<T>(fn: (conn: NodeS7) => Promise<Outcome<T>>): Promise<T> {
    return this.#serial(async () => {
      await this.#probeIfWaiting();
      const outcome = await this.breaker.call(async () => fn(await this.#open()));
      if ('refused' in outcome) throw outcome.refused;
      return outcome.ok;
    });
  }

  /**
   * While waiting (backoff or open circuit) after the PLC's port refused us, one TCP connect per
   * `probeMs`: when it is accepted the PLC is back, so the next attempt goes out now. Only a
   * TCP-level failure arms it: a PLC that accepts TCP and refuses ISO (wrong slot) keeps the backoff.
   */
  async #probeIfWaiting(): Promise<void> {
    const o = this.#o;
    const probeMs = o.probeMs ?? 250;
    if (!this.#tcpDown || probeMs <= 0) return;
    const now = o.clock.monotonic();
    const waiting = this.#nextAttemptAt > now || this.breaker.state === 'open';
    if (!waiting || now - this.#lastProbeAt < probeMs) return;
    this.#lastProbeAt = now;
    if (!(await this.#probe(Math.min(this.#timeoutMs, 1000)))) return;
    this.#tcpDown = false;
    this.#backoff.reset();
    this.#nextAttemptAt = 0;
    this.breaker.trialNow();
  }

  #probe(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const socket = tcpConnect({ host: this.#o.host, port: this.#o.port ?? 102 });
      const done = (ok: boolean) => {
        this.#o.clock.clearTimeout(timer);
        socket.destroy();
        resolve(ok);
      };
      const timer = this.#o.clock.setTimeout(() => done(false), ms);
      socket.once('connect', () => done(true));
      socket.once('error', () => done(false));
    });
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#chain.then(fn, fn);
    this.#chain = run.catch(() => {});
    return run;
  }

  async #open(): Promise<NodeS7> {
    if (this.#closed) throw new S7LinkError(this.description, 'connection', 'client is closed; refused the request');
    if (this.#conn && this.#conn.isoConnectionState === 4) return this.#conn;
    this.#drop();
    const wait = this.#nextAttemptAt - this.#o.clock.monotonic();
    if (wait > 0) {
      throw new S7LinkError(this.description, 'connection', `not connected (${connectCause(this.#lastError)}); next reconnect attempt in ${Math.ceil(wait)} ms`, { cause: this.#lastError });
    }
    const conn = await createNodeS7();
    const o = this.#o;
    const opening = new Promise<void>((resolve, reject) => {
      // nodes7's own timers get a margin so ours decide.
      conn.initiateConnection({ host: o.host, port: o.port ?? 102, rack: o.rack ?? 0, slot: o.slot ?? 1, timeout: this.#timeoutMs + 500 }, (err) => (err ? reject(err) : resolve()));
    });
    try {
      await withDeadline(o.clock, opening, this.#timeoutMs, () => new S7LinkError(this.description, 'timeout', `no connection within ${this.#timeoutMs} ms`));
    } catch (err) {
      opening.catch(() => {});
      disposeNodeS7(conn);
      this.#lastError = err;
      this.#nextAttemptAt = o.clock.monotonic() + this.#backoff.next();
      this.#tcpDown = err instanceof S7LinkError || TCP_DOWN.has(connectCause(err));
      if (err instanceof S7LinkError) throw err;
      throw new S7LinkError(this.description, 'connection', `cannot connect (${connectCause(err)}); is the PLC on, and rack/slot right?`, { cause: err });
    }
    if (this.#closed) {
      disposeNodeS7(conn);
      throw new S7LinkError(this.description, 'connection', 'client closed while connecting');
    }
    const pdu = conn.maxPDU;
    if (!(pdu >= S7_PDU_RANGE.min && pdu <= S7_PDU_RANGE.max)) {
      disposeNodeS7(conn);
      this.#o.onReplyLimit?.();
      const err = new S7LinkError(this.description, 'connection', `the PLC negotiated a PDU size of ${pdu} bytes, outside ${S7_PDU_RANGE.min}..${S7_PDU_RANGE.max}; refused the link (is this an S7 CPU?)`);
      this.#lastError = err;
      this.#nextAttemptAt = o.clock.monotonic() + this.#backoff.next();
      throw err;
    }
    this.#backoff.reset();
    this.#nextAttemptAt = 0;
    this.#tcpDown = false;
    this.#conn = conn;
    this.#items = '';
    conn.isoclient?.on('close', () => {
      if (this.#conn === conn) this.#drop(new S7LinkError(this.description, 'connection', 'connection closed by the PLC'));
    });
    return conn;
  }

  /** Forgets the link (the next call reconnects) and fails the request in flight with `err`. */
  #drop(err?: Error): void {
    const conn = this.#conn;
    this.#conn = null;
    if (conn) disposeNodeS7(conn);
    const onDrop = this.#onDrop;
    this.#onDrop = null;
    if (err && onDrop) onDrop(err);
  }

  /** Runs one nodes7 exchange with a deadline; a timeout or drop tears the link down. */
  async #exchange<T>(what: string, start: (done: (v: T) => void) => void): Promise<T> {
    const exchange = new Promise<T>((resolve, reject) => {
      this.#onDrop = (err) => reject(new S7LinkError(this.description, 'connection', `${err.message.replace(`${this.description}: `, '')} while ${what}`, { cause: err }));
      start(resolve);
    });
    try {
      return await withDeadline(this.#o.clock, exchange, this.#timeoutMs, () => new S7LinkError(this.description, 'timeout', `timed out after ${this.#timeoutMs} ms ${what}`));
    } catch (err) {
      exchange.catch(() => {});
      this.#drop();
      throw err;
    } finally {
      this.#onDrop = null;
    }
  }

  async #read(conn: NodeS7, parsed: S7Address[]): Promise<Outcome<Record<string, S7Value>>> {
    const names = [...new Set(parsed.map(nodes7Name))];
    const key = names.join('|');
    if (key !== this.#items) {
      conn.removeItems();
      conn.addItems(names);
      this.#items = key;
    }
    const what = `reading ${describeList(parsed.map((a) => a.text))}`;
    const { bad, values } = await this.#exchange<{ bad: boolean; values: Record<string, unknown> }>(what, (done) =>
      conn.readAllItems((anythingBad, v) => done({ bad: anythingBad, values: v })));
    const refused: Record<string, string> = {};
    if (bad) {
      for (const name of names) {
        if (isGood(values[name])) continue;
        const failure = readItemFailure(conn, name);
        if (failure.kind === 'link') {
          this.#drop();
          throw new S7LinkError(this.description, 'connection', `link failed (${failure.detail}) ${what}`);
        }
        refused[name] = failure.detail;
      }
    }
    const out: Record<string, S7Value> = {};
    const refusedGiven: Record<string, string> = {};
    for (const a of parsed) {
      const name = nodes7Name(a);
      if (refused[name]) refusedGiven[a.text] = refused[name];
      else out[a.text] = toValue(values[name]);
    }
    if (Object.keys(refusedGiven).length) return { refused: new S7RefusedError(this.description, refusedGiven, 'reading') };
    return { ok: out };
  }

  async #write(conn: NodeS7, items: Array<{ a: S7Address; v: S7Value }>): Promise<Outcome<void>> {
    const names = items.map((i) => nodes7Name(i.a));
    const what = `writing ${describeList(items.map((i) => i.a.text))}`;
    const bad = await this.#exchange<boolean>(what, (done) => {
      if (conn.writeItems(names, items.map((i) => i.v), (anythingBad) => done(anythingBad)) !== 0) {
        throw new S7LinkError(this.description, 'connection', `nodes7 refused to queue a write (one already pending) ${what}`);
      }
    });
    if (!bad) return { ok: undefined };
    const refused: Record<string, string> = {};
    for (const { a } of items) {
      const code = writeItemCode(conn, nodes7Name(a));
      if (code === undefined) {
        this.#drop();
        throw new S7LinkError(this.description, 'connection', `no answer for ${a.text} ${what}`);
      }
      if (code !== 0xff) refused[a.text] = describeReturnCode(code);
    }
    return { refused: new S7RefusedError(this.description, refused, 'writing') };
  }
}

/** nodes7's spelling of an address; CHAR is read as BYTE so values stay numbers. */
export function nodes7Name(a: S7Address): string {
  return formatS7Address(a.type === 'CHAR' ? { ...a, type: 'BYTE' } : a);
}

function isGood(v: unknown): boolean {
  return typeof v === 'number' || typeof v === 'boolean';
}

function toValue(v: unknown): S7Value {
  return typeof v === 'boolean' ? v : Number(v);
}

function describeList(texts: string[]): string {
  return texts.length <= 4 ? texts.join(', ') : `${texts.slice(0, 4).join(', ')} and ${texts.length - 4} more`;
}
