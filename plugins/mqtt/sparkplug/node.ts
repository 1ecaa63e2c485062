// A Sparkplug B 3.0 edge node on its own MQTT session: NDEATH with bdSeq as the will, NBIRTH on each
// connection (bdSeq persisted in the store, so it keeps counting across gateway restarts), one
// device per configured group of state keys (DBIRTH with names, aliases, datatypes; DDATA by
// alias), seq 0..255 across every message after NBIRTH, `Node Control/Rebirth`, and NCMD/DCMD
// writes through the same CommandService as POST /api/command.
import type { StateChange } from '../../../core/bus.ts';
import type { Clock } from '../../../core/clock.ts';
import type { Logger } from '../../../core/log.ts';
import type { JsonSchema } from '../../../core/schema.ts';
import type { StateStore } from '../../../core/store/types.ts';
import type { CommandService } from '../../http-api/command-service.ts';
import type { MqttConfig } from '../config.ts';
import { MqttLink } from '../link.ts';
import { changed, keyMatcher, type KeySelection } from '../select.ts';
import { DataType, decodePayload, encodePayload, type Metric } from './payload.ts';

const NAMESPACE = 'spBv1.0';
const REBIRTH = 'Node Control/Rebirth';

export interface SparkplugOptions {
  config: MqttConfig;
  store: StateStore;
  service: CommandService;
  selection: KeySelection;
  schemas: Record<string, JsonSchema>;
  log: Logger;
  clock: Clock;
  pluginId: string;
  broker: string;
  onCommand?(status: number): void;
}

interface Device {
  id: string;
  matchers: Array<(key: string) => boolean>;
  /** Metrics announced in the last DBIRTH, with the datatype announced. */
  born: Map<string, number> | null;
  last: Map<string, unknown>;
  rebirthQueued: boolean;
  /** Metrics of the current write, sent as one DDATA at the end of it. */
  pending: Metric[];
}

export class SparkplugNode {
  readonly link: MqttLink;
  readonly #o: SparkplugOptions;
  readonly #devices: Device[];
  readonly #aliases = new Map<string, number>();
  readonly #byAlias = new Map<number, string>();
  readonly #types = new Map<string, number>();
  readonly #bdSeqKey: string;
  #bdSeq = 0;
  #seq = 0;
  #online = false;
  /** A clean stop: no further CONNECT, so no next bdSeq. */
  #closing = false;
  births = 0;

  constructor(o: SparkplugOptions) {
    this.#o = o;
    const sp = o.config.sparkplug;
    this.#bdSeqKey = `mqtt:${o.pluginId}:sparkplug_bdseq`;
    const groups = sp.devices.length ? sp.devices : [{ id: 'gateway', keys: ['*'] }];
    this.#devices = groups.map((d) => ({
      id: d.id,
      matchers: d.keys.map(keyMatcher),
      born: null,
      last: new Map(),
      rebirthQueued: false,
      pending: [],
    }));
    this.link = new MqttLink('sparkplug', o.config, `${o.config.clientId}-spb`, o.log, {
      will: () => ({ topic: this.#topic('NDEATH'), payload: this.#death(), qos: 1, retain: false }),
      connect: () => this.#birth(),
      close: () => {
        // That session is over: the next CONNECT (and its will) carries the next bdSeq.
        this.#online = false;
        if (!this.#closing) this.#nextBdSeq((this.#bdSeq + 1) % 256, false).catch(() => {});
      },
      message: (topic, payload) => {
        this.#command(topic, payload).catch((err: unknown) => o.log.warn(`sparkplug: ${topic}: ${(err as Error).message}`));
      },
      oversize: (topic, bytes) => o.log.warn(`sparkplug: ${topic}: payload of ${bytes} bytes refused (limit ${o.config.maxPayloadBytes}); nothing was written`),
    });
  }

  get bdSeq(): number {
    return this.#bdSeq;
  }

  describe(): string {
    return `${this.#online ? 'online' : 'offline'}, bdSeq ${this.#bdSeq}, seq ${this.#seq}, births ${this.births}`;
  }

  /** Reads the last bdSeq and opens the session; each CONNECT uses the next bdSeq (mod 256). */
  async open(): Promise<void> {
    // The stored value is the bdSeq of the last CONNECT of the previous run.
    const stored = this.#o.store.get<number>(this.#bdSeqKey);
    await this.#nextBdSeq(typeof stored === 'number' ? (stored + 1) % 256 : 0, true);
    await this.link.open();
  }

  /** A clean stop: NDEATH first (the broker only sends the will on a lost connection), then DISCONNECT. */
  async close(): Promise<void> {
    this.#closing = true;
    if (this.link.connected) await this.link.publish(this.#topic('NDEATH'), this.#death(), { qos: 1, retain: false }).catch(() => {});
    this.#online = false;
    await this.link.close();
  }

  change(c: StateChange): void {
    const dev = this.#device(c.key);
    if (!dev || !this.#online) return;
    const datatype = this.#datatype(c.key, c.value);
    if (!dev.born || dev.born.get(c.key) !== datatype) {
      // A metric the last DBIRTH did not announce (or with another type): the device is born again,
      // once for all the keys of the same write (a setMany publishes them in one synchronous run).
      if (!dev.rebirthQueued) {
        dev.rebirthQueued = true;
        queueMicrotask(() => {
          dev.rebirthQueued = false;
          if (this.#online) void this.#deviceBirth(dev);
        });
      }
      return;
    }
    if (dev.rebirthQueued) return; // the queued DBIRTH carries this value
    const deadband = this.#o.selection.match(c.key)?.deadband ?? 0;
    if (!changed(dev.last.get(c.key), c.value, deadband)) return;
    dev.last.set(c.key, c.value);
    // The keys of one write (a setMany, a CAN frame's signals) go out as one DDATA.
    dev.pending.push({ alias: this.#alias(c.key), timestamp: Math.round(c.updatedAt * 1000), datatype, value: toMetricValue(c.value) });
    if (dev.pending.length === 1) {
      queueMicrotask(() => {
        const metrics = dev.pending;
        dev.pending = [];
        if (this.#online && metrics.length) void this.#publish(this.#topic('DDATA', dev.id), { timestamp: this.#o.clock.now(), seq: this.#next(), metrics });
      });
    }
  }

  async #birth(): Promise<void> {
    this.#seq = 0;
    const topics = [this.#topic('NCMD'), `${this.#topic('DCMD')}/+`];
    this.link.subscribe(topics, 1);
    await this.#publish(this.#topic('NBIRTH'), {
      timestamp: this.#o.clock.now(),
      seq: 0,
      metrics: [
        { name: 'bdSeq', datatype: DataType.Int64, value: this.#bdSeq },
        { name: REBIRTH, datatype: DataType.Boolean, value: false },
      ],
    });
    this.#online = true;
    this.births++;
    for (const dev of this.#devices) await this.#deviceBirth(dev);
  }

  async #deviceBirth(dev: Device): Promise<void> {
    const all = this.#o.store.getAll();
    const metrics: Metric[] = [];
    const born = new Map<string, number>();
    for (const [key, entry] of Object.entries(all)) {
      if (!this.#matches(dev, key) || !this.#o.selection.match(key)) continue;
      const datatype = this.#datatype(key, entry.value);
      born.set(key, datatype);
      dev.last.set(key, entry.value);
      metrics.push({ name: key, alias: this.#alias(key), timestamp: Math.round(entry.updatedAt * 1000), datatype, value: toMetricValue(entry.value) });
    }
    dev.born = born;
    if (!metrics.length) return;
    await this.#publish(this.#topic('DBIRTH', dev.id), { timestamp: this.#o.clock.now(), seq: this.#next(), metrics });
  }

  async #command(topic: string, bytes: Uint8Array): Promise<void> {
    const parts = topic.split('/');
    const type = parts[2];
    let payload;
    try {
      payload = decodePayload(bytes);
    } catch (err) {
      this.#o.log.warn(`sparkplug: ${topic}: not a Sparkplug B payload (${(err as Error).message}); ignored`);
      this.#o.onCommand?.(400);
      return;
    }
    if (type === 'NCMD') {
      for (const m of payload.metrics) {
        if (m.name === REBIRTH && m.value === true) {
          this.#o.log.info('sparkplug: rebirth requested (NCMD Node Control/Rebirth)');
          // The same session and bdSeq: the birth certificates are sent again, seq from 0.
          await this.#publish(this.#topic('NBIRTH'), {
            timestamp: this.#o.clock.now(),
            seq: 0,
            metrics: [
              { name: 'bdSeq', datatype: DataType.Int64, value: this.#bdSeq },
              { name: REBIRTH, datatype: DataType.Boolean, value: false },
            ],
          }, true);
        } else {
          this.#o.log.warn(`sparkplug: NCMD metric "${m.name ?? `alias ${m.alias}`}" is not a node control fieldgate knows (only ${REBIRTH})`);
        }
      }
      return;
    }
    if (type !== 'DCMD') return;
    const dev = this.#devices.find((d) => d.id === parts[4]);
    const body: Record<string, unknown> = {};
    const unknown: string[] = [];
    for (const m of payload.metrics) {
      const key = m.name ?? (m.alias !== undefined ? this.#byAlias.get(m.alias) : undefined);
      if (!key || !dev || !this.#matches(dev, key)) unknown.push(m.name ?? `alias ${m.alias}`);
      else body[key] = m.value;
    }
    if (unknown.length) {
      this.#o.log.warn(`sparkplug: ${topic}: refused, unknown metric(s) ${unknown.join(', ')} on device ${parts[4]}; nothing was written`);
      this.#o.onCommand?.(400);
      return;
    }
    const outcome = await this.#o.service.execute(body, { client: `mqtt ${this.#o.broker}`, keyId: `${this.#o.config.clientId}-spb`, route: `Sparkplug DCMD ${parts[4]}` });
    this.#o.onCommand?.(outcome.status);
    if (outcome.status === 400) this.#o.log.warn(`sparkplug: ${topic}: refused: ${outcome.body.message}`);
  }

  async #publish(topic: string, p: { timestamp: number; seq: number; metrics: Metric[] }, rebirth = false): Promise<void> {
    if (rebirth) {
      this.#seq = 0;
      await this.link.publish(topic, encodePayload(p), { qos: 0, retain: false });
      this.births++;
      for (const dev of this.#devices) await this.#deviceBirth(dev);
      return;
    }
    if (!this.link.connected) return;
    await this.link.publish(topic, encodePayload(p), { qos: 0, retain: false }).catch((err: unknown) => this.#o.log.debug(() => `sparkplug: ${topic} not sent: ${(err as Error).message}`));
  }

  #death(): Uint8Array {
    return encodePayload({ timestamp: this.#o.clock.now(), metrics: [{ name: 'bdSeq', datatype: DataType.Int64, value: this.#bdSeq }] });
  }

  async #nextBdSeq(n: number, durable: boolean): Promise<void> {
    this.#bdSeq = n;
    // Persisted before it is used in a CONNECT: a restart never reuses a bdSeq.
    const w = this.#o.store.set(this.#bdSeqKey, n, { durable });
    if (durable) await w;
  }

  #next(): number {
    this.#seq = (this.#seq + 1) % 256;
    return this.#seq;
  }

  #topic(type: string, device?: string): string {
    const sp = this.#o.config.sparkplug;
    return `${NAMESPACE}/${sp.groupId}/${type}/${sp.edgeNodeId}${device ? `/${device}` : ''}`;
  }

  #matches(dev: Device, key: string): boolean {
    return dev.matchers.some((m) => m(key));
  }

  #device(key: string): Device | undefined {
    if (!this.#o.selection.match(key)) return undefined;
    return this.#devices.find((d) => this.#matches(d, key));
  }

  #alias(key: string): number {
    let a = this.#aliases.get(key);
    if (a === undefined) {
      a = this.#aliases.size + 1;
      this.#aliases.set(key, a);
      this.#byAlias.set(a, key);
    }
    return a;
  }

  /** From the key's command schema, else the value; a null (a sensor past its TTL) keeps the type it had (is_null). */
  #datatype(key: string, value: unknown): number {
    const t = (this.#o.schemas[key] as { type?: unknown } | undefined)?.type;
    if (t === 'integer') return DataType.Int64;
    if (t === 'number') return DataType.Double;
    if (t === 'boolean') return DataType.Boolean;
    let d: number;
    if (value === null || value === undefined) d = this.#types.get(key) ?? DataType.Double;
    else d = typeof value === 'number' ? DataType.Double : typeof value === 'boolean' ? DataType.Boolean : DataType.String;
    this.#types.set(key, d);
    return d;
  }
}

function toMetricValue(v: unknown): Metric['value'] {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'string') return v;
  return JSON.stringify(v);
}
