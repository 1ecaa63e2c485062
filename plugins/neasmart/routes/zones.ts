// Zone routes of the original gateway (GET/POST /zones/<base>/<zone>) and the fork's listing
// (GET /api/v1/zones): state, setpoint, temperature and humidity of each zone.
import type { RouteContribution } from '../../../core/http-routes.ts';
import { encodeDpt9 } from '../dpt9001.ts';
import { BASES, STATE_NAMES, ZONE, zoneAddress, ZONES } from '../registers.ts';
import { BadRequest, checkInt, intParam, objectBody, route, type RouteEnv } from './http.ts';

const zoneParams = {
  type: 'object',
  properties: {
    base: { type: 'string', description: `Base station ${BASES.min}..${BASES.max}` },
    zone: { type: 'string', description: `Zone ${ZONES.min}..${ZONES.max}` },
  },
};

export function zoneRoutes(env: RouteEnv): RouteContribution[] {
  const { min, max } = env.config.setpointRange;
  return [
    route(env, {
      method: 'GET',
      url: '/zones/:base/:zone',
      schema: { summary: 'One zone: state (1..6), setpoint and temperature (°C, null when invalid), relative humidity (%)', tags: ['neasmart'], params: zoneParams },
    }, (req, view) => ({ body: view.zone(intParam(req, 'base', BASES.min, BASES.max), intParam(req, 'zone', ZONES.min, ZONES.max)) })),

    route(env, {
      method: 'POST',
      url: '/zones/:base/:zone',
      write: true,
      schema: {
        summary: 'Sets a zone\'s state and/or setpoint (202); the base station picks them up on its next poll',
        description: `Body \`{state?: 1..6, setpoint?: ${min}..${max} °C}\`, at least one. States: ${Object.entries(STATE_NAMES).map(([k, v]) => `${k} ${v}`).join(', ')}. ` +
          'Any invalid field is a 400 naming it, and nothing is written.',
        tags: ['neasmart'],
        params: zoneParams,
      },
    }, async (req, view) => {
      // Both parameters and body are checked before anything is written.
      const fields: Record<string, string> = {};
      const at = (fn: () => number) => {
        try {
          return fn();
        } catch (err) {
          if (err instanceof BadRequest) Object.assign(fields, err.fields);
          return 0;
        }
      };
      const base = at(() => intParam(req, 'base', BASES.min, BASES.max));
      const zone = at(() => intParam(req, 'zone', ZONES.min, ZONES.max));
      let body: Record<string, unknown> = {};
      try {
        body = objectBody(req, ['state', 'setpoint']);
      } catch (err) {
        if (!(err instanceof BadRequest)) throw err;
        Object.assign(fields, err.fields);
      }
      const { state, setpoint } = body;
      if (!Object.keys(fields).length && state === undefined && setpoint === undefined) fields.body = 'give "state" and/or "setpoint"';
      if (state !== undefined) checkInt(state, 'state', 1, 6, fields);
      if (setpoint !== undefined && (typeof setpoint !== 'number' || !Number.isFinite(setpoint) || setpoint < min || setpoint > max)) {
        fields['body.setpoint'] = `must be a number from ${min} to ${max} (°C)`;
      }
      if (Object.keys(fields).length) throw new BadRequest(fields);

      const address = zoneAddress(base, zone);
      const written: Record<string, number> = {};
      let result: { durable: boolean };
      // State and setpoint are adjacent (+0, +1): one write when both are given.
      if (state !== undefined && setpoint !== undefined) {
        result = await view.space.write(view.unit, 'holding', address + ZONE.state, [state as number, encodeDpt9(setpoint as number)]);
      } else if (state !== undefined) {
        result = await view.space.write(view.unit, 'holding', address + ZONE.state, [state as number]);
      } else {
        result = await view.space.write(view.unit, 'holding', address + ZONE.setpoint, [encodeDpt9(setpoint as number)]);
      }
      if (state !== undefined) written.state = state as number;
      if (setpoint !== undefined) written.setpoint = setpoint as number;
      return { status: 202, body: { ok: true, durable: result.durable, written } };
    }),

    route(env, {
      method: 'GET',
      url: '/api/v1/zones',
      schema: { summary: 'Every zone listed in the neasmart plugin\'s config, with its current values', tags: ['neasmart'] },
    }, (_req, view) => {
      const zones = env.config.zones.map((z) => {
        const v = view.zone(z.base, z.zone);
        return {
          baseId: z.base,
          zoneId: z.zone,
          zoneLabel: z.label ?? `Zone ${z.base}/${z.zone}`,
          state: v.state,
          stateName: v.state_name,
          setpoint: v.setpoint,
          temperature: v.temperature,
          relativeHumidity: v.relative_humidity,
        };
      });
      return { body: { zones, total: zones.length } };
    }),
  ];
}
