// GET /ws: the WebSocket live feed (protocol in docs/http-api.md). The API key, when reads need it,
// comes as the X-API-Key header or `?apiKey=` since browsers cannot set headers on a WebSocket.
import type { FastifyInstance } from 'fastify';
import type { ServerDeps } from '../deps.ts';

export function wsRoutes(app: FastifyInstance, { hub }: ServerDeps): void {
  app.get<{ Querystring: { topics?: string; apiKey?: string } }>('/ws', {
    websocket: true,
    config: { access: 'read' },
    schema: {
      summary: 'WebSocket live feed: subscribe to bus topics, get a snapshot then deltas {topic, key, value, ts}',
      tags: ['live'],
      querystring: {
        type: 'object',
        properties: { topics: { type: 'string', description: 'Comma-separated patterns to subscribe at once, e.g. state/*' }, apiKey: { type: 'string' } },
      },
    },
  }, (socket, req) => {
    const topics = req.query.topics?.split(',').map((t) => t.trim()).filter(Boolean) ?? [];
    hub.add(socket, req.ip, topics);
  });
}
