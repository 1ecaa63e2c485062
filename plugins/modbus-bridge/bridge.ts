// The bridge between the state store and one Modbus unit: coalesced polls, change-only writes
// ahead of polls (one request per contiguous block), gateway-owned values re-asserted after a
// reconnect or a PLC restart, backoff and a circuit breaker while the unit fails, connection status
// and a heartbeat in the store, and one log line per outage instead of one per poll.
import type { OwnedBus, StateChange } from '../../core/bus.ts';
import { CircuitBreaker, circuitStateValue } from '../../core/circuit-breaker.ts';
import type { Clock } from '../../core/clock.ts';
import { CircuitOpenError } from '../../core/errors.ts';
import type { HealthModel } from '../../core/health.ts';
import type { PluginScope } from '../../core/host/scope.ts';
import type { Logger } from '../../core/log.ts';
import type { MetricsRegistry } from '../../core/metrics.ts';
import { Backoff } from '../../core/retry.ts';
import type { StateStore } from '../../core/store/types.ts';
import { describeRange, type ModbusClient, ModbusExceptionError, ModbusLinkError } from '../../adapters/modbus/types.ts';
import { decode, encode, EncodeError, movedBeyond, type Raw, sameRaw } from './codec.ts';
import { type BridgeConfig, type TagConfig, tagDirection, tagOwner, tagWidth } from './config.ts';
import { ACK_KEY, Handshake, SEQ_KEY } from './handshake.ts';
import { LinkStatus } from './link-status.ts';
import { type Desired, GatewayValues } from './owned.ts';
import { gapFillers, planReads, planWrites, type ReadBlock } from './plan.ts';

export interface BridgeDeps {
  id: string;
  config: BridgeConfig;
  client: ModbusClient;
  store: StateStore;
  bus: OwnedBus;
  health: HealthModel;
  metrics: MetricsRegistry;
  scope: PluginScope;
  clock: Clock;
  log: Logger;
}

interface Cached {
  value: number | boolean;
  raw: Raw;
  /** Epoch ms of the last read or write that confirmed it. */
  at: number;
}

interface PendingWrite {
  tag: TagConfig;
  table: 'holding' | 'coil';
  address: number;
  raw: Raw;
  value: number | boolean;
}

// Exceptions that mean "this request is wrong" rather than "the device is in trouble": the device
// answered, so they neither open the circuit nor mark it disconnected.
const REQUEST_EXCEPTIONS = new Set([1, 2, 3]);

export class ModbusBridge {
  readonly #d: BridgeDeps;
  readonly #prefix: string;
  #blocks: ReadBlock<TagConfig>[];
  readonly #writable: Map<string, TagConfig>;
  readonly #owned: GatewayValues;
  readonly #handshake: Handshake | null;
  readonly #breaker: CircuitBreaker;
  readonly #backoff: Backoff;
  readonly #cache = new Map<string, Cached>();
  readonly #published = new Map<string, unknown>();
  readonly #pending = new Map<string, PendingWrite>();
  readonly #inflight = new Set<string>();
  readonly #requests;
  readonly #errors;
  readonly #status: LinkStatus;
  #flushing: Promise<void> | null = null;
  #kickQueued = false;
  /** The client's connection count last seen: a change means a new session with the PLC. */
  #session: number | undefined;
  readonly #reassertCounter;
  /** Re-asserts caused by a read-back that differs (not a new session) back off while it keeps differing. */
  readonly #mismatchBackoff: Backoff;
  #mismatchAt = 0;
  /** A read-back differed in the current poll cycle; a cycle without one ends the backoff. */
  #mismatched = false;
  /** Gateway-owned values the PLC refused with an exception, by key: not re-sent until the value changes. */
  readonly #refusedWrites = new Map<string, Raw>();

  constructor(deps: BridgeDeps) {
    this.#d = deps;
    const { config, client, clock, metrics, id } = deps;
    this.#prefix = `modbus ${client.description} unit ${config.unit}`;
    this.#status = new LinkStatus({ log: deps.log, prefix: this.#prefix, keys: config });
    this.#handshake = config.handshake
      ? new Handshake({ config: config.handshake, map: config.map, log: deps.log, prefix: this.#prefix, isGatewayWriteOnly: (t) => tagOwner(t) === 'gateway' && tagDirection(t) === 'write' })
      : null;
    const all = this.#handshake ? [...config.map, this.#handshake.seqTag, this.#handshake.ackTag] : config.map;
    const readable = all.filter((t) => tagDirection(t) !== 'write');
    this.#blocks = planReads(readable, config);
    this.#writable = new Map(all.filter((t) => tagDirection(t) !== 'read').map((t) => [t.key, t]));
    this.#owned = new GatewayValues(all.filter((t) => tagOwner(t) === 'gateway'), tagWidth);
    this.#backoff = new Backoff({ ...config.backoff, maxMs: Math.max(config.backoff.maxMs, config.backoff.initialMs) });
    const firstMs = Math.max(config.pollMs * 5, config.backoff.initialMs);
    this.#mismatchBackoff = new Backoff({ initialMs: firstMs, maxMs: Math.max(firstMs, 60_000), jitter: 0 });
    const circuit = metrics.gauge('modbus_circuit_state', 'Circuit breaker per bridge: 0 closed, 1 half-open, 2 open', ['plugin']);
    circuit.set({ plugin: id }, 0);
    this.#breaker = new CircuitBreaker({
      name: this.#prefix,
      clock,
      failureThreshold: config.circuit.failureThreshold,
      openMs: config.circuit.openMs,
      onStateChange: (state) => {
        circuit.set({ plugin: id }, circuitStateValue(state));
        if (state === 'open') this.#status.circuitOpened(this.#breaker.failures, config.circuit.openMs);
      },
    });
    this.#requests = metrics.counter('modbus_requests_total', 'Modbus requests sent', ['plugin', 'op']);
    this.#reassertCounter = metrics.counter('modbus_reasserts_total', 'Times the gateway wrote all its values again (reconnect, PLC restart or a PLC copy that differed)', ['plugin']);
    this.#errors = metrics.counter('modbus_errors_total', 'Failed Modbus requests by kind (timeout, connection, exception, encode)', ['plugin', 'kind']);
  }

  /** Read blocks per poll cycle (what coalescing achieved). */
  get plan(): readonly ReadBlock<TagConfig>[] {
    return this.#blocks;
  }

  /** Last values seen at the device, with their age in seconds (they stay while it is offline). */
  cached(): Record<string, { value: number | boolean; ageS: number }> {
    const now = this.#d.clock.now();
    return Object.fromEntries([...this.#cache].map(([k, c]) => [k, { value: c.value, ageS: (now - c.at) / 1000 }]));
  }

  start(): void {
    const { config, health, scope, bus, store, log } = this.#d;
    health.watch({ key: config.lastOkKey, maxAgeS: config.staleAfterS, owner: scope.owner });
    health.setCheck(`modbus:${this.#d.id}`, () => this.#check(), scope.owner);
    bus.subscribe<StateChange>('state/+', (change) => this.#onState(change));
    // The gateway's commands saved in the store go out first; the PLC's copies never replace them.
    // Shared and PLC-owned values are taken from the PLC. The stored PV is not sent: it is an old
    // measurement, and only a fresh sample (with a new sequence) may reach the PLC.
    for (const tag of this.#writable.values()) {
      if (tagOwner(tag) !== 'gateway' || this.#sampled(tag.key)) continue;
      const value = store.get(tag.key);
      if (value !== undefined) this.#queueWrite(tag, value);
    }
    log.info(`${this.#prefix}: ${this.#blocks.length} read request(s) per ${config.pollMs} ms cycle for ${config.map.length} map entries`);
    scope.loop(() => this.#cycle());
  }

  /** One poll cycle; returns the delay before the next. Never throws for device trouble. */
  async #cycle(): Promise<number> {
    const { config, scope } = this.#d;
    if (this.#breaker.state === 'open') return Math.max(config.pollMs, this.#breaker.retryInMs);
    try {
      await this.#flushWrites(true);
      const changes: Record<string, unknown> = {};
      this.#mismatched = false;
      for (const block of [...this.#blocks]) await this.#readBlock(block, changes);
      if (scope.disposed) return config.pollMs;
      await this.#succeeded(changes);
      return config.pollMs;
    } catch (err) {
      if (scope.disposed) return config.pollMs;
      if (err instanceof CircuitOpenError) return Math.max(config.pollMs, this.#breaker.retryInMs || config.pollMs);
      await this.#failed(err);
      const open = this.#breaker.retryInMs > 0; // re-read: the failure may just have opened it
      return open ? Math.max(config.pollMs, this.#breaker.retryInMs) : Math.max(config.pollMs, this.#backoff.next());
    }
  }

  async #readBlock(block: ReadBlock<TagConfig>, changes: Record<string, unknown>): Promise<void> {
    const { client, config, clock } = this.#d;
    const request = `reading ${describeRange(block.table, block.address, block.count)}`;
    const result = await this.#call<Raw>('read', request, () =>
      block.table === 'holding' || block.table === 'input'
        ? client.readRegisters(block.table, config.unit, block.address, block.count)
        : client.readBits(block.table, config.unit, block.address, block.count));
    if (result instanceof ModbusExceptionError) {
      if (result.code === 2 && this.#splitBlock(block)) {
        for (const part of planReads(block.tags.map((t) => t.tag), { ...config, maxGap: 0 })) await this.#readBlock(part, changes);
        return;
      }
      this.#status.refusedOnce(request, result, block.tags.map((t) => t.tag.key));
      return;
    }
    const now = clock.now();
    for (const { tag, offset, width } of block.tags) {
      const raw = result.slice(offset, offset + width) as Raw;
      const value = decode(tag, raw);
      this.#cache.set(tag.key, { value, raw, at: now });
      if (tag.key === ACK_KEY) {
        this.#handshake?.onAck(value as number, now);
        continue;
      }
      // A value being written must not be overwritten in the store by the read that raced it.
      if (this.#pending.has(tag.key) || this.#inflight.has(tag.key)) continue;
      if (tagOwner(tag) === 'gateway') {
        // Read back only to check: the PLC's copy never goes to the store.
        this.#checkReadBack(tag, raw, value);
        continue;
      }
      if (!movedBeyond(tag.deadband, this.#published.get(tag.key), value)) continue;
      this.#published.set(tag.key, value);
      changes[tag.key] = value;
    }
  }

  /**
   * A device with holes in its map refuses a read spanning one (exception 2): from now on, read
   * that block's entries without gaps. False when the block has no gap (the entries themselves are wrong).
   */
  #splitBlock(block: ReadBlock<TagConfig>): boolean {
    const used = block.tags.reduce((n, t) => n + t.width, 0);
    if (used >= block.count) return false;
    const parts = planReads(block.tags.map((t) => t.tag), { ...this.#d.config, maxGap: 0 });
    this.#blocks = this.#blocks.flatMap((b) => (b === block ? parts : [b]));
    this.#d.log.info(`${this.#prefix}: ${describeRange(block.table, block.address, block.count)} refused across unmapped addresses (exception 2); ` +
      `reading its ${block.tags.length} entries in ${parts.length} requests without gaps from now on (set maxGap 0 to start that way)`);
    return true;
  }

  /** Sends pending writes, adjacent registers merged into one request. `rethrow`: link failures propagate. */
  async #flushWrites(rethrow: boolean): Promise<void> {
    while (this.#flushing) await this.#flushing;
    if (this.#pending.size === 0) return;
    const run = this.#writeAll();
    this.#flushing = run.then(() => {}, () => {});
    try {
      await run;
    } catch (err) {
      if (rethrow) throw err;
      if (!(err instanceof CircuitOpenError) && !this.#d.scope.disposed) await this.#failed(err);
    } finally {
      this.#flushing = null;
    }
  }

  async #writeAll(): Promise<void> {
    const { client, config, clock } = this.#d;
    this.#joinGaps();
    const writes = [...this.#pending.values()];
    for (const run of planWrites(writes)) {
      // A newer value arrived while an earlier request was on the wire: this plan is out of date,
      // and the kick that came with the new value plans again.
      if (run.some((w) => this.#pending.get(w.tag.key) !== w)) continue;
      const first = run[0];
      const raw: Raw = first.table === 'coil' ? run.flatMap((w) => w.raw as boolean[]) : run.flatMap((w) => w.raw as number[]);
      const request = `writing ${describeRange(first.table, first.address, raw.length)}`;
      for (const w of run) {
        this.#pending.delete(w.tag.key);
        this.#inflight.add(w.tag.key);
      }
      let result: unknown;
      try {
        result = await this.#call('write', request, () =>
          first.table === 'coil' ? client.writeCoils(config.unit, first.address, raw as boolean[]) : client.writeRegisters(config.unit, first.address, raw as number[]));
      } catch (err) {
        // Keep them for the next attempt, unless a newer value arrived meanwhile.
        for (const w of run) if (!this.#pending.has(w.tag.key)) this.#pending.set(w.tag.key, w);
        throw err;
      } finally {
        for (const w of run) this.#inflight.delete(w.tag.key);
      }
      if (result instanceof ModbusExceptionError) {
        this.#status.refusedOnce(request, result, run.map((w) => w.tag.key));
        for (const w of run) this.#refuse(w);
        continue;
      }
      const now = clock.now();
      for (const w of run) {
        this.#cache.set(w.tag.key, { value: w.value, raw: w.raw, at: now });
        if (tagOwner(w.tag) === 'gateway') this.#owned.confirm(w.tag.key, w.raw);
        // The store holds what was written, so a read of anything else (the PLC clearing a pulse) is news.
        else this.#published.set(w.tag.key, w.value);
        if (w.tag.key === SEQ_KEY) this.#handshake?.written(w.value as number, now);
      }
      this.#settled();
      this.#d.log.debug(() => `${this.#prefix}: wrote ${run.map((w) => `${w.tag.key}=${w.value}`).join(', ')}`);
    }
  }

  /** A request through the circuit breaker; request-level exceptions come back as values. */
  async #call<T>(op: 'read' | 'write', request: string, fn: () => Promise<T>): Promise<T | ModbusExceptionError> {
    return await this.#breaker.call(async () => {
      this.#requests.inc({ plugin: this.#d.id, op });
      try {
        const value = await fn();
        this.#status.answered(request);
        return value;
      } catch (err) {
        if (err instanceof ModbusExceptionError) {
          this.#errors.inc({ plugin: this.#d.id, kind: 'exception' });
          if (REQUEST_EXCEPTIONS.has(err.code)) return err;
        }
        throw err;
      }
    });
  }

  #onState(change: StateChange): void {
    const tag = this.#writable.get(change.key);
    if (!tag || change.value === undefined) return;
    // Our own publication of a value just read is not a request to write it back.
    if (tagOwner(tag) !== 'gateway' && this.#published.has(tag.key) && change.value === this.#published.get(tag.key)) return;
    let send = this.#queueWrite(tag, change.value);
    // Every PV sample advances the sequence, moved beyond its deadband or not: the PLC sees a live gateway.
    if (this.#handshake?.carries([tag.key]) && !this.#pending.has(SEQ_KEY)) {
      this.#queueSeq();
      send = true;
    }
    if (send) this.#kick();
  }

  /** A gateway-owned value read back: equal confirms it; different means the PLC lost or replaced it. */
  #checkReadBack(tag: TagConfig, raw: Raw, value: number | boolean): void {
    const desired = this.#owned.get(tag.key);
    if (!desired) return; // nothing to assert yet (no value in the store)
    if (sameRaw(desired.raw, raw)) {
      this.#owned.confirm(tag.key, raw);
      this.#settled();
      return;
    }
    // The PV and the sequence go out with the next sample only; a value the PLC refused waits for a new one.
    if (this.#sampled(tag.key) || this.#isRefused(desired)) return;
    const now = this.#d.clock.now();
    this.#mismatched = true;
    // The PLC refuses or overwrites the value on every scan: re-assert less and less often, not every poll.
    if (now < this.#mismatchAt) return;
    this.#mismatchAt = now + this.#mismatchBackoff.next();
    const where = describeRange(tag.table, tag.address, tagWidth(tag));
    this.#reassert(`${where} ("${tag.key}") reads ${value}, the gateway holds ${desired.value}`, false);
  }

  /** Keys written only with a fresh sample (the PV the handshake carries, and its sequence). */
  #sampled(key: string): boolean {
    return key === SEQ_KEY || (this.#handshake?.carries([key]) ?? false);
  }

  #isRefused(d: Desired): boolean {
    const refused = this.#refusedWrites.get(d.tag.key);
    return refused !== undefined && sameRaw(refused, d.raw);
  }

  /** A write the PLC answered with an exception: not re-asserted until the operator sets another value. */
  #refuse(w: PendingWrite): void {
    const desired = this.#owned.get(w.tag.key);
    if (tagOwner(w.tag) !== 'gateway' || !desired || !sameRaw(desired.raw, w.raw)) return;
    if (this.#isRefused({ tag: w.tag, raw: w.raw, value: w.value })) return;
    this.#refusedWrites.set(w.tag.key, w.raw);
    this.#d.log.warn(`${this.#prefix}: the PLC refused "${w.tag.key}" = ${w.value}; not writing it again until it changes`);
  }

  /**
   * Writes every gateway-owned value again: the PLC restarted, had a program downloaded, or the
   * connection is new. Forgetting what it held also resets the "equal to the last written" shortcut.
   */
  #reassert(reason: string, newSession: boolean): void {
    // Only a new session restarts the acknowledgement clock: a PLC whose program is stopped must
    // still be reported while the gateway keeps correcting a value it refuses.
    if (newSession) {
      this.#handshake?.reset();
      this.#mismatchBackoff.reset();
      this.#mismatchAt = 0;
    }
    const { all, first } = this.#owned.reassert(reason);
    for (const d of all) {
      if (this.#sampled(d.tag.key) || this.#isRefused(d)) continue;
      if (!this.#pending.has(d.tag.key) && !this.#inflight.has(d.tag.key)) this.#pending.set(d.tag.key, this.#toWrite(d));
    }
    if (all.length === 0) return;
    this.#reassertCounter.inc({ plugin: this.#d.id });
    if (first) this.#d.log.warn(`${this.#prefix}: ${reason}; writing all ${all.length} gateway-owned value(s) again (PLC restarted or program downloaded?)`);
    else this.#d.log.debug(() => `${this.#prefix}: re-asserting again: ${reason}`);
    this.#kick();
  }

  #settled(): void {
    if (this.#owned.settled()) this.#d.log.info(`${this.#prefix}: the PLC holds every gateway-owned value again`);
  }

  #toWrite(d: Desired): PendingWrite {
    return { tag: d.tag, table: d.tag.table === 'coil' ? 'coil' : 'holding', address: d.tag.address, raw: d.raw, value: d.value };
  }

  #queueSeq(): void {
    const hs = this.#handshake;
    if (!hs) return;
    const seq = hs.next();
    const tag = hs.seqTag;
    const d: Desired = { tag, raw: [seq], value: seq };
    this.#owned.set(d);
    this.#pending.set(tag.key, this.#toWrite(d));
  }

  /** Gateway-owned values between two pending runs, written with them so one command is one request. */
  #joinGaps(): void {
    const fill = gapFillers([...this.#pending.values()], this.#d.config.maxGap, (address) => {
      const d = this.#owned.atRegister(address);
      return d && !this.#inflight.has(d.tag.key) && !this.#sampled(d.tag.key) && !this.#isRefused(d) ? d : undefined;
    });
    for (const d of fill) this.#pending.set(d.tag.key, this.#toWrite(d));
  }

  #queueWrite(tag: TagConfig, value: unknown): boolean {
    let raw: Raw;
    try {
      raw = encode(tag, value);
    } catch (err) {
      if (!(err instanceof EncodeError)) throw err;
      this.#errors.inc({ plugin: this.#d.id, kind: 'encode' });
      this.#d.log.warn(`${this.#prefix}: not writing "${tag.key}" to ${describeRange(tag.table, tag.address, tagWidth(tag))}: ${err.message}`);
      return false;
    }
    const numeric = typeof value === 'number' ? value : typeof value === 'boolean' ? value : Number(value);
    // Gateway-owned: compared with what the PLC is known to hold on this connection (nothing after a
    // reconnect or restart); others: with the last value seen at the device.
    const gateway = tagOwner(tag) === 'gateway';
    const held = gateway ? this.#owned.confirmed(tag.key) : undefined;
    const known = gateway ? held : this.#cache.get(tag.key);
    // While another value for the key is on the wire, what the device held before says nothing.
    if (known && !this.#inflight.has(tag.key) && (sameRaw(known.raw, raw) || !movedBeyond(tag.deadband, known.value, numeric))) {
      this.#pending.delete(tag.key); // the device already holds it
      if (held) this.#owned.set(held);
      return false;
    }
    const write: PendingWrite = { tag, table: tag.table === 'coil' ? 'coil' : 'holding', address: tag.address, raw, value: numeric };
    if (gateway) this.#owned.set({ tag, raw, value: numeric });
    this.#pending.set(tag.key, write);
    return true;
  }

  /** Writes go out at once rather than at the next poll (unless the circuit is open). */
  #kick(): void {
    if (this.#breaker.state === 'open' || this.#kickQueued) return;
    // Deferred to the end of the current task, so every key of one command (one store.setMany,
    // published key by key) is pending before the first request goes out: one FC16, not several.
    this.#kickQueued = true;
    queueMicrotask(() => {
      this.#kickQueued = false;
      if (this.#d.scope.disposed || this.#breaker.state === 'open') return;
      this.#d.scope.run(() => this.#flushWrites(false));
    });
  }

  async #succeeded(changes: Record<string, unknown>): Promise<void> {
    const { store, clock } = this.#d;
    this.#backoff.reset();
    if (!this.#mismatched) {
      this.#mismatchBackoff.reset();
      this.#mismatchAt = 0;
    }
    const { changes: status, wasDown } = this.#status.succeeded(clock.now());
    // A new session (reconnected, perhaps transparently by the client) may be a restarted PLC:
    // whatever it held before is not evidence of what it holds now.
    const session = this.#d.client.connections;
    const newSession = session !== undefined && this.#session !== undefined && session !== this.#session;
    this.#session = session;
    if (wasDown || newSession) this.#reassert(wasDown ? 'link back' : 'new connection', true);
    Object.assign(changes, status);
    if (Object.keys(changes).length) await store.setMany(changes, { durable: false });
  }

  async #failed(err: unknown): Promise<void> {
    const { config, store, clock, id } = this.#d;
    const kind = err instanceof ModbusLinkError ? err.kind : err instanceof ModbusExceptionError ? 'exception' : 'other';
    if (kind !== 'exception') this.#errors.inc({ plugin: id, kind });
    if (this.#status.failed(err, clock.now())) await store.set(config.connectedKey, false, { durable: false });
  }

  #check(): { ok: boolean; detail: string } {
    const { clock } = this.#d;
    const state = this.#breaker.state;
    const age = this.#status.lastOk(clock.now());
    const refused = this.#status.refused();
    const ack = this.#handshake?.problem(clock.now()) ?? null;
    const owned = this.#owned.size - (this.#handshake ? 1 : 0);
    const parts = [
      `${this.#prefix}: ${this.#status.connected ? 'connected' : 'not connected'}`,
      `circuit ${state}${state === 'open' ? ` (next trial in ${Math.ceil(this.#breaker.retryInMs / 1000)} s)` : ''}`,
      `last ok ${age}`,
      ...(this.#breaker.lastError ? [`last error: ${this.#breaker.lastError}`] : []),
      ...refused,
      ...(owned > 0 ? [`gateway-owned values: ${this.#owned.unconfirmed === 0 ? 'all held by the PLC' : `${this.#owned.unconfirmed} not confirmed yet`}, re-asserted ${this.#owned.reasserts} time(s)`] : []),
      ...(this.#handshake ? [ack ?? `handshake ok (${this.#handshake.summary()})`] : []),
    ];
    return { ok: this.#status.connected === true && state === 'closed' && refused.length === 0 && ack === null, detail: parts.join('; ') };
  }
}

