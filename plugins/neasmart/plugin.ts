// Plugin `neasmart`: the Rehau Neasmart 2.0 register model over a modbus-server's registers —
// the original gateway's REST routes (zones, mixed groups, mode, state, ...) with DPT 9.001
// temperatures, a health check on the base station's polling, and decoded zone events on the bus.
import type { RegisterChange, RegisterSpace } from '../../adapters/modbus/register-space.ts';
import { registerSpaceService } from '../../adapters/modbus/register-space.ts';
import type { NeasmartBase } from '../../adapters/neasmart-base/types.ts';
import { errorMessage } from '../../core/errors.ts';
import type { RouteRegistry } from '../../core/http-routes.ts';
import { definePlugin } from '../../core/plugin.ts';
import type { ServiceRegistry } from '../../core/services.ts';
import { Tokens } from '../../core/tokens.ts';
import { checkConfig, configSchema, type NeasmartConfig } from './config.ts';
import { zoneOf } from './registers.ts';
import { deviceRoutes } from './routes/devices.ts';
import type { RouteEnv } from './routes/http.ts';
import { systemRoutes } from './routes/system.ts';
import { zoneRoutes } from './routes/zones.ts';
import { NeasmartView } from './view.ts';

export default definePlugin<NeasmartConfig>({
  type: 'neasmart',
  version: '0.1.0',
  description: 'Rehau Neasmart 2.0 gateway: the register model (zones, globals, mixed groups, DPT 9.001) over a modbus-server, with the original gateway\'s REST routes.',
  adapters: {
    base: {
      kind: 'neasmart-base',
      optional: true,
      description: 'The Neasmart base station (the Modbus master). Real: nothing to open; sim: a simulated base polling the modbus-server.',
    },
  },
  configSchema,
  validateConfig: checkConfig,
  create({ id, config, container, adapters, bus, health, scope, log, store }) {
    const issues = checkConfig(config);
    if (issues.length) throw new Error(`neasmart "${id}": invalid config:\n  ${issues.map((i) => `config.${i}`).join('\n  ')}`);
    const services = container.resolve<ServiceRegistry>(Tokens.Services);
    const routes = container.resolve<RouteRegistry>(Tokens.HttpRoutes);
    const serviceName = registerSpaceService(config.server);
    // Looked up per use, never cached: the modbus-server may restart and offer a new instance.
    const space = () => services.require<RegisterSpace>(serviceName);
    const env: RouteEnv = { config, log, space };
    const base = adapters.base as NeasmartBase | undefined;

    return {
      start() {
        for (const r of [...zoneRoutes(env), ...systemRoutes(env), ...deviceRoutes(env)]) scope.defer(routes.add(id, r));
        health.setCheck(`neasmart:${id}`, () => {
          const s = services.get<RegisterSpace>(serviceName);
          if (!s) return { ok: false, detail: `modbus-server "${config.server}" is not running` };
          const t = s.traffic();
          return t.stale
            ? { ok: false, detail: t.lastRequestAgeS === null ? 'the base station has not polled yet' : `no request from the base station for ${t.lastRequestAgeS.toFixed(0)} s` }
            : { ok: true, detail: `last request ${t.lastRequestAgeS?.toFixed(1) ?? '?'} s ago` };
        }, id);
        if (config.publishZones) {
          // Unit 0 too: the base broadcasts measurements, which the server applies to every unit.
          bus.subscribe<RegisterChange>(`modbus/${config.server}/+/holding`, (change) => {
            if (change.unit !== config.unit && change.unit !== 0) return;
            publishZones(change);
          });
        }
        log.info(`serving unit ${config.unit} of modbus-server "${config.server}"; ${base ? base.description : 'no base-station adapter bound'}`);
      },
    };

    function publishZones(change: RegisterChange): void {
      const touched = new Map<string, { base: number; zone: number }>();
      for (let i = 0; i < change.values.length; i++) {
        const z = zoneOf(change.address + i);
        if (z) touched.set(`${z.base}/${z.zone}`, z);
      }
      let view: NeasmartView;
      try {
        view = new NeasmartView(space(), config.unit);
      } catch (err) {
        log.debug(() => `zone event skipped: ${errorMessage(err)}`);
        return;
      }
      // The zones and the outside temperature as state keys too: tiles, alarms, history chart and MQTT see them.
      const changed: Record<string, unknown> = {};
      const put = (key: string, value: unknown) => {
        if (store.get(key) !== value) changed[key] = value;
      };
      put('outside_temperature', view.outsideTemperature().outside_temperature);
      for (const [key, z] of touched) {
        const zone = view.zone(z.base, z.zone);
        bus.publish(`neasmart/${id}/zones/${z.base}/${z.zone}`, { key: `zone_${z.base}_${z.zone}`, value: zone, ts: change.ts / 1000, zone: key });
        const prefix = `zone_${z.base}_${z.zone}`;
        put(`${prefix}_temperature`, zone.temperature);
        put(`${prefix}_humidity`, zone.relative_humidity);
        put(`${prefix}_setpoint`, zone.setpoint);
        put(`${prefix}_state`, zone.state);
      }
      if (Object.keys(changed).length) {
        store.setMany(changed, { durable: false }).catch((err: unknown) => log.warn(`zone values not written to the state store: ${errorMessage(err)}`));
      }
    }
  },
});
