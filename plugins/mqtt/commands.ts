// Writes from MQTT: `<prefix>/<key>/set` (the payload is the value) and `<prefix>/command` (a JSON
// object of key: value, all or nothing) go through the same CommandService as POST /api/command,
// and the outcome — the same body the HTTP route answers, with its status — goes to the reply topic
// (`<topic>/reply`, or the MQTT 5 response topic with its correlation data).
import type { Packet } from 'mqtt';
import type { Logger } from '../../core/log.ts';
import type { CommandOrigin, CommandOutcome, CommandService } from '../http-api/command-service.ts';
import type { MqttLink } from './link.ts';
import { topicSafe } from './select.ts';

export interface CommandTopicsOptions {
  prefix: string;
  service: CommandService;
  link: MqttLink;
  log: Logger;
  /** Recorded as the audit row's client. */
  broker: string;
  clientId: string;
  onOutcome?(status: number): void;
}

export class CommandTopics {
  readonly #byTopic = new Map<string, string | null>();

  constructor(private readonly o: CommandTopicsOptions) {
    for (const key of o.service.keys) this.#byTopic.set(`${o.prefix}/${topicSafe(key)}/set`, key);
    this.#byTopic.set(`${o.prefix}/command`, null);
  }

  get topics(): string[] {
    return [...this.#byTopic.keys()];
  }

  handles(topic: string): boolean {
    return this.#byTopic.has(topic);
  }

  async handle(topic: string, payload: Uint8Array, packet: Packet): Promise<void> {
    const key = this.#byTopic.get(topic);
    if (key === undefined) return;
    const text = new TextDecoder('utf-8', { fatal: false }).decode(payload);
    let outcome: CommandOutcome;
    if (key === null) {
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch (err) {
        body = undefined;
        outcome = { status: 400, body: { error: 'invalid command', message: `payload is not JSON (${(err as Error).message}); send an object of key: value`, fields: {} } };
      }
      outcome ??= await this.o.service.execute(body, this.#origin(topic));
    } else {
      outcome = await this.o.service.execute({ [key]: parseValue(text) }, this.#origin(topic));
    }
    this.o.onOutcome?.(outcome.status);
    if (outcome.status === 400) this.o.log.warn(`${topic}: refused: ${outcome.body.message}${Object.keys(outcome.body.fields).length ? ` (${Object.entries(outcome.body.fields).map(([k, v]) => `${k}: ${v}`).join('; ')})` : ''}`);
    await this.reply(topic, packet, { status: outcome.status, ...outcome.body });
  }

  /** Answers a write that never reached the service (too large). */
  async refuse(topic: string, packet: Packet | null, message: string): Promise<void> {
    this.o.onOutcome?.(413);
    await this.reply(topic, packet, { status: 413, error: 'payload too large', message, fields: {} });
  }

  async reply(topic: string, packet: Packet | null, body: Record<string, unknown>): Promise<void> {
    const props = packet && 'properties' in packet ? (packet.properties as { responseTopic?: string; correlationData?: Buffer } | undefined) : undefined;
    const to = props?.responseTopic ?? `${topic}/reply`;
    if (!this.o.link.connected) return; // a reply is only meaningful now; it is never queued
    await this.o.link.publish(to, JSON.stringify(body), { qos: 1, retain: false, ...(props?.correlationData ? { properties: { correlationData: props.correlationData } } : {}) })
      .catch((err: unknown) => this.o.log.debug(() => `reply to ${to} not sent: ${(err as Error).message}`));
  }

  #origin(topic: string): CommandOrigin {
    return { client: `mqtt ${this.o.broker}`, keyId: this.o.clientId, route: `MQTT ${topic}` };
  }
}

/** A `/set` payload: JSON when it parses (`21.5`, `true`, `"auto"`), else the text as a string. */
export function parseValue(text: string): unknown {
  const t = text.trim();
  if (t === '') return text;
  try {
    return JSON.parse(t);
  } catch {
    return text;
  }
}
