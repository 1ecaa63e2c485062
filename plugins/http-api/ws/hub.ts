// The live feed behind /ws: one bus subscription for all clients, each event encoded once and the
// same string sent to every matching client. A client that cannot keep up is conflated (only the
// latest message per topic is kept) and closed with 1013 when it stays stalled or passes the hard
// cap, so a stalled client costs at most `hardBytes` of gateway memory.
import type { WebSocket } from 'ws';
import { topicMatches, type OwnedBus } from '../../../core/bus.ts';
import type { Clock } from '../../../core/clock.ts';
import { errorMessage } from '../../../core/errors.ts';
import type { Logger } from '../../../core/log.ts';
import type { MetricsRegistry } from '../../../core/metrics.ts';
import type { StateStore } from '../../../core/store/types.ts';
import type { HttpApiConfig } from '../config.ts';
import { MAX_PATTERNS, normalisePattern, parseClientMessage, toDelta, type Delta } from './protocol.ts';

const OPEN = 1;
/** Grace for the close frame before a stalled socket is destroyed. */
const TERMINATE_AFTER_MS = 1000;

interface Client {
  socket: WebSocket;
  address: string;
  patterns: Map<string, string[]>;
  alive: boolean;
  /** Monotonic ms when conflation began; null while the client keeps up. */
  conflatingSince: number | null;
  pending: Map<string, string>;
  pendingBytes: number;
  /** Deltas of the current event-loop turn, sent as one frame when the turn ends. */
  outbox: string[];
  closed: boolean;
}

export interface HubDeps {
  bus: OwnedBus;
  store: StateStore;
  /** The plugin scope's clock: timers die with the plugin. */
  clock: Clock;
  limits: HttpApiConfig['ws'];
  metrics: MetricsRegistry;
  log: Logger;
}

export class LiveHub {
  readonly #deps: HubDeps;
  readonly #clients = new Set<Client>();
  /** Open connections per client address, so one address cannot take every slot. */
  readonly #perAddress = new Map<string, number>();
  readonly #matchCache = new Map<string, Client[]>();
  /** Clients with deltas waiting for the end of this event-loop turn. */
  readonly #outboxes = new Set<Client>();
  #unsubscribe: (() => void) | null = null;
  readonly #m;

  constructor(deps: HubDeps) {
    this.#deps = deps;
    const m = deps.metrics;
    this.#m = {
      clients: m.gauge('fieldgate_http_ws_clients', 'Connected WebSocket clients'),
      encoded: m.counter('fieldgate_http_ws_events_encoded_total', 'Bus events encoded for WebSocket clients (once per event)'),
      sent: m.counter('fieldgate_http_ws_messages_sent_total', 'WebSocket messages sent'),
      conflated: m.counter('fieldgate_http_ws_messages_conflated_total', 'Messages replaced by a newer value for a slow client'),
      slowClosed: m.counter('fieldgate_http_ws_slow_clients_closed_total', 'Clients closed with 1013 for not keeping up'),
      refused: m.counter('fieldgate_http_ws_clients_refused_total', 'Connections closed at once with 1013 by a connection limit', ['limit']),
    };
    this.#m.clients.set(0);
  }

  get clientCount(): number {
    return this.#clients.size;
  }

  start(): void {
    const { clock, limits } = this.#deps;
    clock.setInterval(() => this.#heartbeat(), limits.pingIntervalMs);
    clock.setInterval(() => this.#flushConflated(), limits.flushMs);
  }

  /** Takes a freshly upgraded socket; `topics` (from `?topics=`) subscribes straight away. */
  add(socket: WebSocket, address: string, topics: string[]): void {
    const { maxClients, maxClientsPerAddress } = this.#deps.limits;
    if (this.#clients.size >= maxClients) {
      this.#m.refused.inc({ limit: 'global' });
      socket.close(1013, 'too many clients; try again later');
      return;
    }
    const fromAddress = this.#perAddress.get(address) ?? 0;
    if (fromAddress >= maxClientsPerAddress) {
      this.#m.refused.inc({ limit: 'address' });
      // Close reasons are limited to 123 bytes: keep the address out of it (an IPv6 one is long).
      socket.close(1013, `too many connections from your address (limit ${maxClientsPerAddress}); close some`);
      return;
    }
    this.#perAddress.set(address, fromAddress + 1);
    const client: Client = { socket, address, patterns: new Map(), alive: true, conflatingSince: null, pending: new Map(), pendingBytes: 0, outbox: [], closed: false };
    this.#clients.add(client);
    this.#m.clients.set(this.#clients.size);
    this.#ensureBus();
    socket.on('pong', () => (client.alive = true));
    socket.on('message', (data: Buffer, isBinary: boolean) => {
      client.alive = true;
      this.#onMessage(client, isBinary ? '' : data.toString('utf8'));
    });
    socket.on('close', () => this.#remove(client));
    socket.on('error', (err: Error) => {
      this.#deps.log.debug(() => `ws client ${address}: ${errorMessage(err)}`);
      this.#remove(client);
    });
    this.#sendOwn(client, { type: 'hello', server: 'fieldgate', protocol: 1 });
    if (topics.length) this.#subscribe(client, topics);
  }

  /** Closes every client (1001 going away) and leaves the bus. */
  stop(): void {
    for (const c of [...this.#clients]) {
      c.closed = true;
      try {
        c.socket.close(1001, 'server stopping');
        c.socket.terminate();
      } catch {
        // Already gone.
      }
      this.#remove(c);
    }
    this.#unsubscribe?.();
    this.#unsubscribe = null;
  }

  #ensureBus(): void {
    if (this.#unsubscribe) return;
    this.#unsubscribe = this.#deps.bus.subscribe('#', (payload, topic) => this.#onEvent(topic, payload));
  }

  #remove(client: Client): void {
    client.closed = true;
    if (!this.#clients.delete(client)) return;
    const left = (this.#perAddress.get(client.address) ?? 1) - 1;
    if (left > 0) this.#perAddress.set(client.address, left);
    else this.#perAddress.delete(client.address);
    this.#matchCache.clear();
    this.#m.clients.set(this.#clients.size);
    if (this.#clients.size === 0) {
      this.#unsubscribe?.();
      this.#unsubscribe = null;
    }
  }

  #onEvent(topic: string, payload: unknown): void {
    let targets = this.#matchCache.get(topic);
    if (!targets) {
      targets = [];
      for (const c of this.#clients) {
        for (const p of c.patterns.values()) {
          if (topicMatches(p, topic)) {
            targets.push(c);
            break;
          }
        }
      }
      if (this.#matchCache.size > 10_000) this.#matchCache.clear();
      this.#matchCache.set(topic, targets);
    }
    if (targets.length === 0) return;
    let data: string;
    try {
      data = JSON.stringify(toDelta(topic, payload, this.#deps.clock.now() / 1000));
    } catch (err) {
      // A payload JSON cannot encode (BigInt, cycle) must not fail the plugin through the bus.
      this.#deps.log.warn(`ws: cannot encode an event on ${topic}: ${errorMessage(err)}; not sent`);
      return;
    }
    this.#m.encoded.inc();
    for (const c of targets) this.#deliver(c, topic, data);
  }

  #deliver(client: Client, topic: string, data: string): void {
    if (client.closed || client.socket.readyState !== OPEN) return;
    const { softBytes, hardBytes } = this.#deps.limits;
    const buffered = client.socket.bufferedAmount;
    if (client.conflatingSince === null) {
      if (buffered <= softBytes) {
        this.#enqueue(client, data);
        return;
      }
      client.conflatingSince = this.#deps.clock.monotonic();
      this.#deps.log.info(`ws client ${client.address}: ${buffered} bytes buffered; sending only the latest value per topic`);
    }
    const previous = client.pending.get(topic);
    if (previous !== undefined) {
      client.pendingBytes -= previous.length;
      client.pending.delete(topic);
      this.#m.conflated.inc();
    }
    client.pending.set(topic, data);
    client.pendingBytes += data.length;
    if (buffered + client.pendingBytes > hardBytes) this.#closeSlow(client, `${buffered + client.pendingBytes} bytes buffered and pending (cap ${hardBytes})`);
  }

  /**
   * Frames are per event-loop turn, not per event: a `setMany` of 20 keys publishes 20 events in one
   * turn, and each subscribed client gets one frame with its deltas instead of 20 sends (the send,
   * not the encoding, dominates the cost with many clients). Each delta is still encoded once and
   * shared; a turn with a single delta sends it as a plain `delta` message.
   */
  #enqueue(client: Client, data: string): void {
    if (this.#outboxes.size === 0) queueMicrotask(() => this.#flushOutboxes());
    client.outbox.push(data);
    this.#outboxes.add(client);
  }

  #flushOutboxes(): void {
    for (const c of this.#outboxes) {
      const items = c.outbox;
      c.outbox = [];
      if (c.closed || c.socket.readyState !== OPEN || items.length === 0) continue;
      c.socket.send(items.length === 1 ? items[0]! : `{"type":"batch","deltas":[${items.join(',')}]}`);
      this.#m.sent.inc();
    }
    this.#outboxes.clear();
  }

  #flushConflated(): void {
    const { softBytes, stallMs } = this.#deps.limits;
    const now = this.#deps.clock.monotonic();
    for (const c of this.#clients) {
      if (c.conflatingSince === null || c.closed) continue;
      if (c.socket.bufferedAmount <= softBytes) {
        for (const data of c.pending.values()) c.socket.send(data);
        this.#m.sent.inc(c.pending.size);
        c.pending.clear();
        c.pendingBytes = 0;
        c.conflatingSince = null;
        this.#deps.log.info(`ws client ${c.address}: caught up`);
      } else if (now - c.conflatingSince > stallMs) {
        this.#closeSlow(c, `not draining for ${Math.round(now - c.conflatingSince)} ms`);
      }
    }
  }

  #closeSlow(client: Client, why: string): void {
    this.#deps.log.warn(`ws client ${client.address}: too slow (${why}); closing with 1013`);
    this.#m.slowClosed.inc();
    client.pending.clear();
    client.pendingBytes = 0;
    const socket = client.socket;
    this.#remove(client);
    try {
      socket.close(1013, 'client too slow; reconnect');
    } catch {
      // Already closing.
    }
    // The close frame sits behind the stalled buffer; destroy the socket if it is not taken in time.
    this.#deps.clock.setTimeout(() => socket.terminate(), TERMINATE_AFTER_MS);
  }

  #heartbeat(): void {
    for (const c of [...this.#clients]) {
      if (!c.alive) {
        this.#deps.log.info(`ws client ${c.address}: no pong within ${this.#deps.limits.pingIntervalMs} ms; dropping`);
        c.socket.terminate();
        this.#remove(c);
        continue;
      }
      c.alive = false;
      try {
        c.socket.ping();
      } catch {
        this.#remove(c);
      }
    }
  }

  #onMessage(client: Client, text: string): void {
    const msg = parseClientMessage(text);
    if ('error' in msg) return this.#sendOwn(client, { type: 'error', message: msg.error });
    if (msg.type === 'ping') return this.#sendOwn(client, { type: 'pong', ts: this.#deps.clock.now() / 1000 });
    if (msg.type === 'subscribe') return this.#subscribe(client, msg.topics);
    for (const raw of msg.topics) {
      const n = normalisePattern(raw);
      if ('pattern' in n) client.patterns.delete(n.pattern);
    }
    this.#matchCache.clear();
    this.#sendOwn(client, { type: 'unsubscribed', topics: [...client.patterns.keys()] });
  }

  /** Adds patterns and answers with a snapshot of the state keys they cover. */
  #subscribe(client: Client, raw: string[]): void {
    const added: string[] = [];
    for (const r of raw) {
      const n = normalisePattern(r);
      if ('error' in n) return this.#sendOwn(client, { type: 'error', message: n.error });
      if (!client.patterns.has(n.pattern) && client.patterns.size >= MAX_PATTERNS) {
        return this.#sendOwn(client, { type: 'error', message: `at most ${MAX_PATTERNS} patterns per connection` });
      }
      client.patterns.set(n.pattern, n.pattern.split('/'));
      added.push(n.pattern);
    }
    this.#matchCache.clear();
    const values: Delta[] = [];
    for (const [key, entry] of Object.entries(this.#deps.store.getAll())) {
      const topic = `state/${key}`;
      if (added.some((p) => topicMatches(p, topic))) values.push({ type: 'delta', topic, key, value: entry.value, ts: entry.updatedAt });
    }
    this.#sendOwn(client, { type: 'snapshot', topics: added, values });
  }

  /** Control messages (hello, snapshot, errors): encoded per client, still subject to the hard cap. */
  #sendOwn(client: Client, msg: object): void {
    if (client.closed || client.socket.readyState !== OPEN) return;
    const data = JSON.stringify(msg);
    if (client.socket.bufferedAmount + data.length > this.#deps.limits.hardBytes) {
      this.#closeSlow(client, 'control message over the hard cap');
      return;
    }
    client.socket.send(data);
  }
}
