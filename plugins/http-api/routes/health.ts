// GET /health: the health model's report. 200 whatever the devices do (a probe of the gateway, not
// of the plant), unless `?strict=true` asks for 503 while degraded (load balancers, watchdogs).
import type { FastifyInstance } from 'fastify';
import type { ServerDeps } from '../deps.ts';

export function healthRoutes(app: FastifyInstance, { health, hub }: ServerDeps): void {
  app.get<{ Querystring: { strict?: boolean } }>('/health', {
    config: { access: 'public' },
    schema: {
      summary: 'Heartbeat ages and staleness, plugin statuses, store status',
      tags: ['health'],
      querystring: { type: 'object', additionalProperties: false, properties: { strict: { type: 'boolean', default: false } } },
    },
  }, async (req, reply) => {
    const report = health.report();
    if (req.query.strict && report.status !== 'ok') reply.code(503);
    return { ...report, wsClients: hub.clientCount };
  });
}
