// GET /api/trend: the PV/SP/MV trend, newest `limit` rows in [from, to], oldest first (as the seed).
import type { FastifyInstance } from 'fastify';
import type { ServerDeps } from '../deps.ts';

export const TREND_MAX_LIMIT = 10000;

export function trendRoutes(app: FastifyInstance, { store }: ServerDeps): void {
  app.get<{ Querystring: { limit: number; from?: number; to?: number } }>('/api/trend', {
    config: { access: 'read' },
    schema: {
      summary: 'Trend rows (ts, pv, sp, mv)',
      tags: ['state'],
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: {
          limit: { type: 'integer', minimum: 1, maximum: TREND_MAX_LIMIT, default: 900 },
          from: { type: 'number', description: 'Epoch seconds, inclusive.' },
          to: { type: 'number', description: 'Epoch seconds, inclusive.' },
        },
      },
    },
  }, async (req) => store.recentTrend({ limit: req.query.limit, from: req.query.from, to: req.query.to }));
}
