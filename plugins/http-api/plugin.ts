// The http-api plugin: REST API, WebSocket live feed and dashboard of a gateway (docs/http-api.md).
import { definePlugin } from '../../core/plugin.ts';
import type { FastifyInstance } from 'fastify';
import type { RouteRegistry } from '../../core/http-routes.ts';
import type { Manifest } from '../../core/manifest/types.ts';
import type { HistoryStore } from '../../core/history/types.ts';
import { Tokens } from '../../core/tokens.ts';
import { displayLimits } from '../../core/display.ts';
import { errorMessage } from '../../core/errors.ts';
import { AuditLog } from './audit.ts';
import { AUDIT_SERIES, pruneAudit } from './audit-retention.ts';
import { ApiKeyGuard } from './auth.ts';
import { resolveApiKeys } from './api-keys.ts';
import { CommandService } from './command-service.ts';
import { CommandValidator } from './commands.ts';
import { configSchema, withDefaults, type HttpApiConfig } from './config.ts';
import { AlarmBoard, type AlarmEvent, conditionsOf } from './alarms/board.ts';
import { buildServer } from './server.ts';
import { sampleChart } from './chart-sampler.ts';
import { LiveHub } from './ws/hub.ts';
import { loadTls } from './tls.ts';

const VERSION = '0.1.0';
const LOOPBACK = '127.0.0.1';

export type { HttpApiConfig } from './config.ts';

export default definePlugin<Partial<HttpApiConfig>>({
  type: 'http-api',
  version: VERSION,
  description: 'REST API (state, commands, trend, health, metrics, audit, OpenAPI), WebSocket live feed and operator dashboard.',
  configSchema,
  create(ctx) {
    const config = withDefaults(ctx.config);
    const { log, store, scope } = ctx;
    // Bad command schemas fail here, at start, with the key named.
    const commands = new CommandValidator(config.commands);
    const keys = resolveApiKeys(config.apiKeys, config.apiKey);
    const guard = new ApiKeyGuard(config.apiKey, keys);
    const routes = ctx.container.resolve<RouteRegistry>(Tokens.HttpRoutes);
    const manifest = ctx.container.isRegistered(Tokens.Manifest, true) ? ctx.container.resolve<Manifest>(Tokens.Manifest) : null;
    const display = manifest?.display ?? {};
    const limits = displayLimits(display, config.alarms.limits);
    const audit = new AuditLog(store);
    const commandService = new CommandService({ store, audit, validator: commands, clock: ctx.clock, log });
    const board = new AlarmBoard({ keepRecent: config.alarms.keepRecent });
    const alarmsActive = ctx.metrics.gauge('fieldgate_alarms_active', 'Active alarms by severity', ['severity']);
    const publishAlarm = (e: AlarmEvent) => {
      ctx.bus.publish(`alarm/${e.alarm.id}`, { key: e.alarm.id, value: e, ts: ctx.clock.now() / 1000 });
      for (const severity of ['warning', 'critical'] as const) alarmsActive.set({ severity }, board.active().filter((a) => a.severity === severity).length);
    };
    const evaluateAlarms = () => {
      const values = Object.fromEntries(Object.keys(limits).map((k) => [k, store.get(k)]));
      for (const e of board.update(conditionsOf(ctx.health.report(), values, limits), ctx.clock.now() / 1000)) {
        // info, not warn: the plugin behind the condition already logged its own warning once.
        log.info(`alarm ${e.event}: ${e.alarm.message}`);
        publishAlarm(e);
      }
    };
    let app: FastifyInstance | null = null;
    let hub: LiveHub | null = null;

    const close = async () => {
      const a = app;
      app = null;
      hub?.stop();
      hub = null;
      if (routes.address && a) routes.address = null;
      await a?.close();
    };

    return {
      async start() {
        const host = guard.configured ? config.host : LOOPBACK;
        const off = keys.filter((k) => !k.key).map((k) => k.id);
        if (off.length) log.info(`apiKeys ${off.join(', ')}: empty key (variable unset?), so disabled`);
        if (!guard.configured) {
          log.warn(`no apiKey configured: writes need no key, so the API listens on ${LOOPBACK} only${config.host !== LOOPBACK ? ` (not ${config.host})` : ''}; set apiKey (e.g. "\${API_KEY}") to serve the network`);
        }
        // Before anything else starts: a wrong certificate path must fail the start, not serve HTTP.
        const tls = loadTls(config.tls);
        await audit.migrate();
        const history = ctx.container.isRegistered(Tokens.History, true) ? ctx.container.resolve<HistoryStore>(Tokens.History) : null;
        // The archive is kept for archiveDays, whatever history.retentionMs does to the CAN frames.
        if (history && config.audit.archive) history.setRetention(AUDIT_SERIES, config.audit.archiveDays * 86_400_000);
        const retention = async () => {
          const r = await pruneAudit({ store, history, policy: config.audit }, ctx.clock.now());
          if (r.pruned) log.info(`audit retention: ${r.pruned} row(s) pruned from the store${r.archived ? `, ${r.archived} moved to history series http_api_audit` : ''}`);
        };
        // At start too: a gateway restarted daily would otherwise never reach the hourly run.
        await retention().catch((err: unknown) => log.warn(`audit retention failed: ${errorMessage(err)}; rows stay in the store, retrying hourly`));
        hub = new LiveHub({ bus: ctx.bus, store, clock: scope.clock, limits: config.ws, metrics: ctx.metrics, log });
        hub.start();
        app = await buildServer({
          config, store, history: ctx.history, health: ctx.health, metrics: ctx.metrics, routes, hub, audit, guard, commands, commandService, log, clock: ctx.clock,
          alarms: { board, publish: publishAlarm }, gatewayName: manifest?.name ?? 'gateway', version: VERSION, display,
        }, { https: tls });
        scope.defer(close);
        try {
          await app.listen({ host, port: config.port });
        } catch (err) {
          throw new Error(`http-api: cannot listen on ${host}:${config.port}: ${errorMessage(err)}; pick another port or stop what holds it`, { cause: err });
        }
        const addr = app.server.address();
        const port = typeof addr === 'object' && addr ? addr.port : config.port;
        routes.address = `${tls ? 'https' : 'http'}://${host}:${port}`;
        log.info(`listening on ${routes.address} (dashboard /, API docs /docs)`);
        scope.every(config.alarms.evalMs, evaluateAlarms, { onError: (err) => log.warn(`alarm evaluation failed: ${errorMessage(err)}`) });
        const chartKeys = config.dashboard.chart.keys;
        if (chartKeys.length) {
          scope.every(config.dashboard.chart.sampleMs, () => sampleChart({ store, history: ctx.history, keys: chartKeys, nowMs: ctx.clock.now() }), {
            onError: (err) => log.warn(`chart sample not written to history series "dashboard": ${errorMessage(err)}; next try in ${config.dashboard.chart.sampleMs} ms`),
          });
        }
        scope.every(3_600_000, retention, { onError: (err) => log.warn(`audit retention failed: ${errorMessage(err)}; rows stay in the store, retrying hourly`) });
      },
      stop: close,
    };
  },
});
