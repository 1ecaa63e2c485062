// Installation-wide routes of the original gateway (mode, state, notifications, outside
// temperature) and the gateway's own health at /api/v1/health (http-api owns /health).
import type { RouteContribution } from '../../../core/http-routes.ts';
import { GLOBAL, MODE_NAMES, STATE_NAMES } from '../registers.ts';
import { BadRequest, checkInt, objectBody, route, type RouteEnv } from './http.ts';

export function systemRoutes(env: RouteEnv): RouteContribution[] {
  const setter = (url: '/mode' | '/state', key: 'mode' | 'state', max: number, names: Record<number, string>, address: number) =>
    route(env, {
      method: 'POST',
      url,
      write: true,
      schema: {
        summary: `Sets the installation's ${key} (202)`,
        description: `Body \`{"${key}": 1..${max}}\`: ${Object.entries(names).map(([k, v]) => `${k} ${v}`).join(', ')}.`,
        tags: ['neasmart'],
      },
    }, async (req, view) => {
      const body = objectBody(req, [key]);
      const fields: Record<string, string> = {};
      if (!checkInt(body[key], key, 1, max, fields)) throw new BadRequest(fields);
      const { durable } = await view.space.write(view.unit, 'holding', address, [body[key] as number]);
      return { status: 202, body: { ok: true, durable, written: { [key]: body[key] } } };
    });

  return [
    route(env, { method: 'GET', url: '/mode', schema: { summary: 'Global operating mode (1 auto, 2 heating, 3 cooling, 4 manual heating, 5 manual cooling)', tags: ['neasmart'] } },
      (_req, view) => ({ body: view.mode() })),
    setter('/mode', 'mode', 5, MODE_NAMES, GLOBAL.mode),
    route(env, { method: 'GET', url: '/state', schema: { summary: 'Global operating state (1..6, as a zone state)', tags: ['neasmart'] } },
      (_req, view) => ({ body: view.state() })),
    setter('/state', 'state', 6, STATE_NAMES, GLOBAL.state),
    route(env, { method: 'GET', url: '/notifications', schema: { summary: 'Whether the base station reports hints, warnings, errors', tags: ['neasmart', 'dashboard'] } },
      (_req, view) => ({ body: view.notifications() })),
    route(env, { method: 'GET', url: '/outsidetemperature', schema: { summary: 'Outside temperature, raw and filtered (°C, null when invalid)', tags: ['neasmart', 'dashboard'] } },
      (_req, view) => ({ body: view.outsideTemperature() })),
    route(env, {
      method: 'GET',
      url: '/api/v1/health',
      schema: {
        summary: 'The Neasmart gateway\'s health: whether the base station polls the registers',
        description: '`status` is `degraded` when no Modbus request came within the server\'s staleAfterS. 200 either way; `?strict=true` answers 503 while degraded.',
        tags: ['neasmart'],
        querystring: { type: 'object', properties: { strict: { type: 'string', description: 'true: 503 while degraded' } } },
      },
    }, (req, view) => {
      const traffic = view.space.traffic();
      const status = traffic.stale ? 'degraded' : 'ok';
      return {
        status: status === 'degraded' && req.query.strict === 'true' ? 503 : 200,
        body: { status, server: env.config.server, unit: env.config.unit, registers: { stale: traffic.stale, lastRequestAgeS: traffic.lastRequestAgeS } },
      };
    }),
  ];
}
