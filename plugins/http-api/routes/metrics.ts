// GET /metrics: Prometheus text for the whole runtime (requests, WebSocket, plugins, store, ...).
import type { FastifyInstance } from 'fastify';
import type { ServerDeps } from '../deps.ts';

export function metricsRoutes(app: FastifyInstance, { metrics }: ServerDeps): void {
  app.get('/metrics', {
    config: { access: 'read' },
    schema: { summary: 'Prometheus metrics', tags: ['health'] },
  }, async (_req, reply) => {
    const text = await metrics.text();
    return reply.type(metrics.contentType).send(text);
  });
}
