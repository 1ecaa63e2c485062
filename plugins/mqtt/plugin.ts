// Plugin `mqtt`: the gateway's northbound MQTT face (docs/mqtt.md). Plain topics (chosen state keys
// and bus topics, change-only with deadband and a maximum interval), writes from `/set` topics
// through the same command path as POST /api/command, store and forward while the broker is down,
// and optionally Sparkplug B and Home Assistant discovery. Off (and says so once) without a URL.
import { type StateChange, topicMatches } from '../../core/bus.ts';
import { errorMessage } from '../../core/errors.ts';
import type { Manifest } from '../../core/manifest/types.ts';
import { definePlugin } from '../../core/plugin.ts';
import type { JsonSchema } from '../../core/schema.ts';
import type { RouteRegistry } from '../../core/http-routes.ts';
import { Tokens } from '../../core/tokens.ts';
import { AuditLog } from '../http-api/audit.ts';
import { CommandService } from '../http-api/command-service.ts';
import { CommandValidator } from '../http-api/commands.ts';
import { CommandTopics } from './commands.ts';
import { checkConfig, configSchema, type MqttConfig, redactUrl, resolveConfig } from './config.ts';
import { Forwarder } from './forwarder.ts';
import { discoveryMessages } from './homeassistant.ts';
import { MqttLink } from './link.ts';
import { Outbox } from './outbox.ts';
import { changed, formatValue, KeySelection, topicSafe } from './select.ts';
import { writeZone } from './zones.ts';

export type { MqttConfig } from './config.ts';

const VERSION = '0.1.0';

export default definePlugin<Partial<MqttConfig>>({
  type: 'mqtt',
  version: VERSION,
  description: 'MQTT northbound: state keys and bus topics to plain topics, /set writes through the command path, store and forward, Sparkplug B, Home Assistant discovery.',
  configSchema,
  validateConfig: (raw) => checkConfig(resolveConfig(raw, { manifest: 'gateway', plugin: 'mqtt' })),
  async create({ id, config: raw, container, store, bus, health, metrics, scope, log, clock }) {
    const manifest = container.isRegistered(Tokens.Manifest, true) ? container.resolve<Manifest>(Tokens.Manifest) : null;
    const config = resolveConfig(raw, { manifest: manifest?.name ?? 'gateway', plugin: id });
    const issues = checkConfig(config);
    if (issues.length) throw new Error(`mqtt "${id}": invalid config:\n  ${issues.map((i) => `config.${i}`).join('\n  ')}`);
    if (!config.url) {
      return {
        start() {
          log.info('mqtt off: no broker URL (set MQTT_URL=mqtt://host:1883 or mqtts://host:8883 to turn it on)');
        },
      };
    }
    const where = redactUrl(config.url);
    const labels = { plugin: id };
    const m = {
      connected: metrics.gauge('fieldgate_mqtt_connected', '1 while the MQTT session to the broker is up', ['plugin']),
      queued: metrics.gauge('fieldgate_mqtt_queued', 'Messages waiting in the store-and-forward outbox', ['plugin']),
      sent: metrics.counter('fieldgate_mqtt_sent_total', 'Messages the broker took (QoS 0 written, QoS 1/2 acknowledged)', ['plugin']),
      dropped: metrics.counter('fieldgate_mqtt_dropped_total', 'Queued messages dropped (oldest first) because the outbox was full', ['plugin']),
      commands: metrics.counter('fieldgate_mqtt_commands_total', 'Writes received over MQTT by outcome status', ['plugin', 'status']),
      oversize: metrics.counter('fieldgate_mqtt_oversize_total', 'Incoming payloads refused for their size', ['plugin']),
    };

    // The writable keys and their schemas: this plugin's own, else the http-api plugin's `commands`.
    const schemas: Record<string, JsonSchema> = config.commands.schemas ?? httpCommands(manifest);
    const validator = new CommandValidator(config.commands.enabled ? schemas : {});
    const audit = new AuditLog(store);
    const service = new CommandService({ store, audit, validator, clock, log });
    const selection = new KeySelection(config.publish);
    const outbox = new Outbox(store, id, config.queue.maxMessages, (err) => log.error(`store and forward: outbox write failed: ${errorMessage(err)}`));
    const status = `${config.prefix}/status`;
    const routes = container.resolve<RouteRegistry>(Tokens.HttpRoutes);
    const neasmartIds = (manifest?.plugins ?? []).filter((p) => p.use === 'neasmart' && p.enabled !== false).map((p) => p.id);
    // Zone values for Home Assistant's climate entities come from the neasmart plugin's bus events.
    const busPatterns = [...config.publish.topics];
    if (config.homeassistant.enabled) {
      for (const n of neasmartIds) if (!busPatterns.some((p) => topicMatches(p, `neasmart/${n}/zones/1/1`))) busPatterns.push(`neasmart/${n}/zones/+/+`);
    }
    const zoneSet = neasmartIds.length ? [`${config.prefix}/neasmart/+/zones/+/+/+/set`] : [];
    const haStatus = `${config.homeassistant.prefix}/status`;
    const publishDiscovery = async (): Promise<void> => {
      const messages = discoveryMessages({ config, manifest, schemas, store, selection, version: VERSION });
      for (const d of messages) await link.publish(d.topic, d.payload, { qos: 1, retain: true });
      log.info(`Home Assistant discovery: ${messages.length} entit${messages.length === 1 ? 'y' : 'ies'} under ${config.homeassistant.prefix}/`);
    };
    let droppedSeen = 0;

    const link = new MqttLink('mqtt', config, config.clientId, log, {
      will: () => ({ topic: status, payload: 'offline', qos: 1, retain: true }),
      connect: async (again) => {
        m.connected.set(labels, 1);
        link.subscribe([...commandTopics.topics, ...zoneSet, ...(config.homeassistant.enabled ? [haStatus] : [])], 1);
        await link.publish(status, 'online', { qos: 1, retain: true });
        // Every connection: a restarted broker without persistence has lost the retained configs.
        if (config.homeassistant.enabled) await publishDiscovery();
        await forwarder.drain();
        if (!again) publishAll();
      },
      close: () => {
        m.connected.set(labels, 0);
      },
      message: (topic, payload, packet) => {
        if (commandTopics.handles(topic)) scope.guard(() => commandTopics.handle(topic, payload, packet))();
        else if (topic === haStatus && new TextDecoder().decode(payload) === 'online') scope.guard(publishDiscovery)();
        else if (zoneSet.length && topic.startsWith(`${config.prefix}/neasmart/`)) {
          scope.guard(async () => {
            const r = await writeZone({
              relTopic: topic.slice(config.prefix.length + 1), topic, payload: new TextDecoder().decode(payload), routes, audit,
              origin: { client: `mqtt ${where}`, keyId: config.clientId }, now: clock.now(),
            });
            if (!r) return;
            m.commands.inc({ ...labels, status: String(r.status) });
            if (r.status >= 400) log.warn(`${topic}: refused (${r.status}): ${JSON.stringify(r.body)}`);
            await commandTopics.reply(topic, packet, { status: r.status, ...(r.body as object) });
          })();
        }
      },
      oversize: (topic, bytes) => {
        m.oversize.inc(labels);
        log.warn(`${topic}: payload of ${bytes} bytes refused (limit ${config.maxPayloadBytes}); nothing was written`);
        if (commandTopics.handles(topic)) scope.guard(() => commandTopics.refuse(topic, null, `payload of ${bytes} bytes is above the limit of ${config.maxPayloadBytes}; nothing was written`))();
      },
    });
    const forwarder = new Forwarder(link, outbox, log, config.queue.drainBatch, (n) => m.sent.inc(labels, n));
    const commandTopics = new CommandTopics({
      prefix: config.prefix, service, link, log, broker: where, clientId: config.clientId,
      onOutcome: (s) => m.commands.inc({ ...labels, status: String(s) }),
    });
    // Sparkplug's protobuf codec (protobufjs, ~50 modules) loads only when a broker is set and it is on.
    const sparkplug = config.sparkplug.enabled
      ? new (await import('./sparkplug/node.ts')).SparkplugNode({ config, store, service, selection, schemas, log, clock, pluginId: id, broker: where, onCommand: (s) => m.commands.inc({ ...labels, status: String(s) }) })
      : null;

    // Change-only publishing of state keys.
    const last = new Map<string, { value: unknown; at: number }>();
    const publishKey = (key: string, value: unknown, force: boolean): void => {
      const o = selection.match(key);
      if (!o) return;
      const prev = last.get(key);
      const now = clock.monotonic();
      if (!force && prev && !changed(prev.value, value, o.deadband)) return;
      last.set(key, { value, at: now });
      forwarder.send({ topic: `${config.prefix}/${topicSafe(key)}`, payload: formatValue(value === undefined ? null : value, o.format), qos: o.qos, retain: o.retain });
    };
    const publishAll = (): void => {
      // Keys already sent in this run (changed while the session came up) are not sent twice.
      for (const [key, entry] of Object.entries(store.getAll())) if (selection.match(key) && !last.has(key)) publishKey(key, entry.value, true);
    };
    const minInterval = Math.min(...[config.publish.maxIntervalMs, ...config.publish.keys.map((k) => (typeof k === 'string' ? 0 : k.maxIntervalMs ?? 0))].filter((n) => n > 0));

    return {
      async start() {
        await audit.migrate();
        await outbox.open();
        if (outbox.count) log.info(`store and forward: ${outbox.count} message(s) waiting from before the restart; sent once the broker answers`);
        if (!selection.empty) {
          scope.defer(bus.subscribe<StateChange>('state/+', (change) => {
            publishKey(change.key, change.value, false);
            sparkplug?.change(change);
          }));
        } else if (sparkplug) {
          scope.defer(bus.subscribe<StateChange>('state/+', (change) => sparkplug.change(change)));
        }
        for (const pattern of busPatterns) {
          scope.defer(bus.subscribe(pattern, (payload, topic) => {
            forwarder.send({ topic: `${config.prefix}/bus/${topic.split('/').map(topicSafe).join('/')}`, payload: JSON.stringify(payload ?? null), qos: config.publish.qos, retain: config.publish.retain });
          }));
        }
        if (Number.isFinite(minInterval)) {
          // Re-send values unchanged for longer than their maximum interval (a heartbeat per key).
          scope.every(Math.max(100, Math.floor(minInterval / 4)), () => {
            const now = clock.monotonic();
            for (const [key, prev] of last) {
              const o = selection.match(key);
              if (o && o.maxIntervalMs > 0 && now - prev.at >= o.maxIntervalMs) publishKey(key, store.get(key) ?? prev.value, true);
            }
          });
        }
        scope.every(1000, () => {
          m.queued.set(labels, outbox.count);
          if (outbox.dropped > droppedSeen) {
            m.dropped.inc(labels, outbox.dropped - droppedSeen);
            log.warn(`store and forward: outbox full (${config.queue.maxMessages}); ${outbox.dropped - droppedSeen} oldest message(s) dropped`);
            droppedSeen = outbox.dropped;
          }
        }, { immediate: true });
        metrics.onCollect(() => m.queued.set(labels, outbox.count));
        m.connected.set(labels, 0);
        // The dashboard shows contributed GET routes tagged "dashboard" as panels.
        scope.defer(routes.add(id, {
          method: 'GET',
          url: `/api/mqtt/${id}`,
          schema: { summary: `MQTT (${id})`, description: 'Broker session, store-and-forward queue and counters of the mqtt plugin.', tags: ['dashboard', 'mqtt'] },
          handler: () => ({
            broker: where,
            connected: link.connected,
            client_id: config.clientId,
            last_error: link.lastError || null,
            sent: forwarder.stats.sent,
            queued: outbox.count,
            dropped: outbox.dropped,
            prefix: config.prefix,
            writable: validator.keys.length,
            sparkplug: sparkplug ? `${config.sparkplug.groupId}/${config.sparkplug.edgeNodeId}: ${sparkplug.describe()}` : 'off',
            homeassistant: config.homeassistant.enabled ? `${config.homeassistant.prefix}/…/${config.homeassistant.nodeId}` : 'off',
          }),
        }));
        scope.defer(health.setCheck(`${id}.mqtt`, () => {
          const s = forwarder.stats;
          const stats = `sent ${s.sent}, queued now ${outbox.count}, dropped ${outbox.dropped}${sparkplug ? `, sparkplug ${sparkplug.describe()}` : ''}`;
          return link.connected
            ? { ok: true, detail: `connected to ${where} as ${config.clientId}; ${stats}` }
            : { ok: false, detail: `not connected to ${where}${link.lastError ? ` (${link.lastError})` : ''}: changes are queued in the store, reconnecting with backoff; ${stats}` };
        }, id));
        scope.defer(async () => {
          // A clean stop says so (the will is only for a crash), then releases the sessions.
          if (link.connected) await link.publish(status, 'offline', { qos: 1, retain: true }).catch(() => {});
          await sparkplug?.close();
          await link.close();
        });
        try {
          await link.open();
          if (sparkplug) await sparkplug.open();
        } catch (err) {
          throw new Error(`mqtt: cannot start the client for ${where}: ${errorMessage(err)}`, { cause: err });
        }
        log.info(`publishing ${config.publish.keys.length} key rule(s) and ${busPatterns.length} bus pattern(s) under ${config.prefix}/ to ${where}; writable: ${validator.keys.join(', ') || 'none'}${sparkplug ? `; Sparkplug B ${config.sparkplug.groupId}/${config.sparkplug.edgeNodeId}` : ''}${config.homeassistant.enabled ? `; Home Assistant discovery under ${config.homeassistant.prefix}/` : ''}`);
      },
    };
  },
});

function httpCommands(manifest: Manifest | null): Record<string, JsonSchema> {
  const out: Record<string, JsonSchema> = {};
  for (const p of manifest?.plugins ?? []) {
    if (p.use !== 'http-api' || p.enabled === false) continue;
    Object.assign(out, (p.config as { commands?: Record<string, JsonSchema> } | undefined)?.commands ?? {});
  }
  return out;
}
