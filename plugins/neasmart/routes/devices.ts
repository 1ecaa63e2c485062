// Read-only device routes of the original gateway: mixed groups, dehumidifiers, extra pumps.
import type { RouteContribution } from '../../../core/http-routes.ts';
import { DEHUMIDIFIERS, MIXED_GROUPS, PUMPS } from '../registers.ts';
import { intParam, route, type RouteEnv } from './http.ts';

const idParam = (name: string, range: { min: number; max: number }) => ({
  type: 'object',
  properties: { [name]: { type: 'string', description: `${range.min}..${range.max}` } },
});

export function deviceRoutes(env: RouteEnv): RouteContribution[] {
  const dehumidifier = route(env, {
    method: 'GET',
    url: '/dehumidifiers/:id',
    schema: { summary: 'Whether a dehumidifier runs', tags: ['neasmart'], params: idParam('id', DEHUMIDIFIERS) },
  }, (req, view) => ({ body: view.dehumidifier(intParam(req, 'id', DEHUMIDIFIERS.min, DEHUMIDIFIERS.max)) }));
  return [
    route(env, {
      method: 'GET',
      url: '/mixedgroups/:group',
      schema: { summary: 'A mixed group: pump, valve opening (%), flow and return temperature (°C)', tags: ['neasmart'], params: idParam('group', MIXED_GROUPS) },
    }, (req, view) => ({ body: view.mixedGroup(intParam(req, 'group', MIXED_GROUPS.min, MIXED_GROUPS.max)) })),
    dehumidifier,
    // The original gateway served this one in the singular; kept so its clients keep working.
    { ...dehumidifier, url: '/dehumidifier/:id', schema: { ...dehumidifier.schema, summary: 'Alias of /dehumidifiers/:id (the original gateway\'s spelling)' } },
    route(env, {
      method: 'GET',
      url: '/pumps/:id',
      schema: { summary: 'Whether an extra pump runs (`dehumidifier_running` repeats it, as the original gateway answered)', tags: ['neasmart'], params: idParam('id', PUMPS) },
    }, (req, view) => ({ body: view.pump(intParam(req, 'id', PUMPS.min, PUMPS.max)) })),
  ];
}
