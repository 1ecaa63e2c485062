// POST /api/command: writes manifest-declared keys, all or nothing. Every field is checked against
// its schema first; one bad field is a 400 naming all of them and nothing is written. A good command
// is one store mutation (plus its audit rows), answered 200 once it is on disk. The write path
// itself is the CommandService, which the MQTT plugin's `/set` topics share.
import type { FastifyInstance } from 'fastify';
import { requestKeyId, type ServerDeps } from '../deps.ts';
import { describedCommands } from '../display-text.ts';

export function commandRoutes(app: FastifyInstance, deps: ServerDeps): void {
  const { commandService, config } = deps;
  const notDurable = deps.metrics.counter('fieldgate_http_commands_not_durable_total', 'Commands applied in memory only because the store disk failed');
  app.post('/api/command', {
    config: { access: 'write' },
    // The body is validated here, not by fastify, so every bad field is named (and none coerced).
    validatorCompiler: () => () => true,
    schema: {
      summary: 'Write one or more writable keys (all or nothing)',
      description: 'Needs X-API-Key. 200 once durable; 202 when applied in memory while the disk is failing; 400 names every bad field.',
      tags: ['state'],
      security: [{ apiKey: [] }],
      body: { type: 'object', additionalProperties: false, minProperties: 1, properties: describedCommands(config.commands, deps.display) },
    },
  }, async (req, reply) => {
    const outcome = await commandService.execute(req.body, { client: req.ip, keyId: requestKeyId.get(req) ?? null, route: 'POST /api/command' });
    if (outcome.status === 202) notDurable.inc();
    return reply.code(outcome.status).send(outcome.body);
  });
}
