// GET /api/audit: who wrote what, newest first.
import type { FastifyInstance } from 'fastify';
import type { ServerDeps } from '../deps.ts';

export function auditRoutes(app: FastifyInstance, { audit }: ServerDeps): void {
  app.get<{ Querystring: { limit: number; key?: string; from?: number; to?: number } }>('/api/audit', {
    config: { access: 'admin' },
    schema: {
      summary: 'Audit log of writes through the API',
      description: 'Needs an admin key once apiKeys are configured. One row per written key: time (epoch s), client address, key id (sha256 prefix of the API key, never the key), route, key, old and new value.',
      tags: ['audit'],
      security: [{ apiKey: [] }],
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: {
          limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
          key: { type: 'string' },
          from: { type: 'number' },
          to: { type: 'number' },
        },
      },
    },
  }, async (req) => audit.list(req.query));
}
