// One MQTT session to the broker: options from the config (credentials, TLS files), a will, and
// reconnection with exponential backoff (the mqtt client's fixed period is raised on each failed
// attempt and reset once connected). Incoming payloads above the size limit never reach a handler.
import { readFileSync } from 'node:fs';
import type { IClientOptions, IClientPublishOptions, MqttClient, Packet } from 'mqtt';
import type { Logger } from '../../core/log.ts';
import { type MqttConfig, redactUrl } from './config.ts';
import { PacketSizeGuard } from './packet-guard.ts';

/** Room for the topic and MQTT 5 properties around the largest accepted payload. */
const PACKET_OVERHEAD = 65_536;

export interface Will {
  topic: string;
  payload: Uint8Array | string;
  qos: 0 | 1 | 2;
  retain: boolean;
}

export interface LinkEvents {
  /** Each (re)connection, after CONNACK; `again` is false the first time. */
  connect?(again: boolean): void | Promise<void>;
  close?(): void;
  message?(topic: string, payload: Uint8Array, packet: Packet): void;
  /** A payload over the size limit (not handed to `message`). */
  oversize?(topic: string, bytes: number): void;
  /** Called before every connection attempt: return the will for that session (Sparkplug's bdSeq). */
  will?(): Will | undefined;
}

export class MqttLink {
  #client: MqttClient | null = null;
  #attempt = 0;
  #connectedOnce = false;
  /** A clean close: no warning, no next will. */
  #closing = false;
  lastError = '';
  connectedSince: number | null = null;

  constructor(
    readonly name: string,
    private readonly config: MqttConfig,
    private readonly clientId: string,
    private readonly log: Logger,
    private readonly events: LinkEvents,
  ) {}

  get where(): string {
    return redactUrl(this.config.url);
  }

  get connected(): boolean {
    return this.#client?.connected === true;
  }

  get client(): MqttClient | null {
    return this.#client;
  }

  async open(): Promise<void> {
    const { connect } = await import('mqtt');
    const c = this.config;
    const options: IClientOptions = {
      clientId: this.clientId,
      clean: true,
      keepalive: c.keepaliveS,
      protocolVersion: c.protocolVersion,
      ...(c.protocolVersion === 5 ? { properties: { maximumPacketSize: c.maxPayloadBytes + PACKET_OVERHEAD } } : {}),
      reconnectPeriod: c.reconnect.minMs,
      connectTimeout: Math.max(2000, Math.min(c.reconnect.maxMs, 10000)),
      // Offline messages are ours to queue (durably, in order): the client must not hold them.
      queueQoSZero: false,
      resubscribe: true,
      ...(c.username ? { username: c.username } : {}),
      ...(c.password ? { password: c.password } : {}),
      ...tlsOptions(c),
    };
    const will = this.events.will?.();
    if (will) options.will = { ...will, payload: toBuffer(will.payload) };
    const client = connect(c.url, options);
    this.#client = client;
    client.on('connect', () => {
      // CONNACK was the stream's first packet and nothing else is sent before our SUBSCRIBE, so
      // the guard starts on a packet boundary.
      const guard = new PacketSizeGuard(c.maxPayloadBytes + PACKET_OVERHEAD);
      const stream = client.stream;
      stream.prependListener('data', (chunk: Buffer) => {
        const size = guard.feed(chunk);
        if (size) {
          this.lastError = `the broker sent a packet of ${size} bytes, above the limit of ${c.maxPayloadBytes + PACKET_OVERHEAD} (maxPayloadBytes + ${PACKET_OVERHEAD}); connection closed`;
          this.log.warn(`${this.name}: ${this.lastError}`);
          stream.destroy();
        }
      });
      this.#attempt = 0;
      client.options.reconnectPeriod = c.reconnect.minMs;
      this.connectedSince = Date.now();
      const again = this.#connectedOnce;
      this.#connectedOnce = true;
      this.log.info(`${this.name}: connected to ${this.where} as ${this.clientId}${again ? ' again' : ''}`);
      const r = this.events.connect?.(again);
      if (r) r.catch((err: unknown) => this.log.warn(`${this.name}: after connect: ${(err as Error).message}`));
    });
    client.on('close', () => {
      if (this.#closing) {
        this.events.close?.();
        return;
      }
      if (this.connectedSince !== null) this.log.warn(`${this.name}: connection to ${this.where} lost${this.lastError ? ` (${this.lastError})` : ''}; reconnecting with backoff`);
      this.connectedSince = null;
      // Exponential backoff with 10 % jitter, capped; the client reads the period when it schedules.
      this.#attempt++;
      const ms = Math.min(c.reconnect.minMs * 2 ** Math.min(this.#attempt - 1, 20), c.reconnect.maxMs);
      client.options.reconnectPeriod = Math.round(ms * (1 + Math.random() * 0.1));
      this.events.close?.();
      const next = this.events.will?.();
      if (next) client.options.will = { ...next, payload: toBuffer(next.payload) };
    });
    client.on('error', (err) => {
      this.lastError = err.message;
    });
    client.on('message', (topic, payload, packet) => {
      if (payload.length > c.maxPayloadBytes) {
        this.events.oversize?.(topic, payload.length);
        return;
      }
      this.events.message?.(topic, payload, packet);
    });
  }

  /** Resolves when the broker took the message (QoS 0: written to the socket; QoS 1/2: acknowledged). */
  publish(topic: string, payload: Uint8Array | string, options: IClientPublishOptions): Promise<void> {
    const client = this.#client;
    if (!client) return Promise.reject(new Error(`${this.name}: not open`));
    if (!options.qos) {
      // QoS 0 is at most once: done once handed to the socket. (mqtt's per-message callback waits
      // on a 'drain' listener per message, which collapses to ~2,000 msg/s under a burst.)
      if (!client.connected) return Promise.reject(new Error(`${this.name}: not connected`));
      client.publish(topic, toBuffer(payload), options);
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      client.publish(topic, toBuffer(payload), options, (err) => (err ? reject(err) : resolve()));
    });
  }

  subscribe(topics: string[], qos: 0 | 1 | 2 = 1): void {
    if (!topics.length) return;
    this.#client?.subscribe(topics, { qos }, (err) => {
      if (err) this.log.warn(`${this.name}: subscribe ${topics.join(', ')} failed: ${err.message}`);
    });
  }

  /** Clean disconnect: the will is NOT sent; publish what a clean stop should say first. */
  async close(force = false): Promise<void> {
    const client = this.#client;
    this.#client = null;
    if (!client) return;
    this.#closing = true;
    this.connectedSince = null;
    await new Promise<void>((resolve) => client.end(force, {}, () => resolve()));
  }
}

function toBuffer(payload: Uint8Array | string): Buffer {
  if (typeof payload === 'string') return Buffer.from(payload, 'utf8');
  return Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
}

function tlsOptions(c: MqttConfig): Partial<IClientOptions> {
  if (!c.url.startsWith('mqtts:')) return {};
  const read = (what: string, path: string): Buffer => {
    try {
      return readFileSync(path);
    } catch (err) {
      throw new Error(`mqtt: cannot read the TLS ${what} file ${path}: ${(err as Error).message}; check the path and the service user's permissions`, { cause: err });
    }
  };
  return {
    rejectUnauthorized: c.tls.rejectUnauthorized,
    ...(c.tls.ca ? { ca: read('CA', c.tls.ca) } : {}),
    ...(c.tls.cert ? { cert: read('certificate', c.tls.cert) } : {}),
    ...(c.tls.key ? { key: read('key', c.tls.key) } : {}),
  };
}
