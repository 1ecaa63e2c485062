// GET /api/state: the seed's state read — every key, or `?keys=a,b` — as a flat key → value map.
import type { FastifyInstance } from 'fastify';
import type { ServerDeps } from '../deps.ts';
import { stateKeyText } from '../display-text.ts';

export function stateRoutes(app: FastifyInstance, { store, display }: ServerDeps): void {
  app.get<{ Querystring: { keys?: string; detail?: boolean } }>('/api/state', {
    config: { access: 'read' },
    schema: {
      summary: 'Current state values',
      description: 'A flat `{key: value}` map like the seed gateway. `detail=true` gives `{key: {value, updatedAt}}` (epoch seconds). ' +
        'Labels, units and limits of the keys: GET /api/display.' + stateKeyText(display),
      tags: ['state'],
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: {
          keys: { type: 'string', description: 'Comma-separated keys; absent keys are left out.' },
          detail: { type: 'boolean', default: false },
        },
      },
    },
  }, async (req, reply) => {
    const keys = req.query.keys?.split(',').map((k) => k.trim()).filter(Boolean);
    // The common read (every key, flat) is served as the store's cached JSON text: no parse and re-serialise.
    if (!keys && !req.query.detail) return reply.type('application/json; charset=utf-8').send(store.stateJson());
    const all = store.getAll(keys);
    if (req.query.detail) return all;
    const flat: Record<string, unknown> = {};
    for (const [k, e] of Object.entries(all)) flat[k] = e.value;
    return flat;
  });
}
