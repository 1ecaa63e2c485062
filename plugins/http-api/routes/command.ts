// POST /api/command: writes manifest-declared keys, all or nothing. Every field is checked against
// its schema first; one bad field is a 400 naming all of them and nothing is written. A good command
// is one store mutation (plus its audit rows), answered 200 once it is on disk.
import type { FastifyInstance } from 'fastify';
import { errorMessage } from '../../../core/errors.ts';
import { requestKeyId, type ServerDeps } from '../deps.ts';

export function commandRoutes(app: FastifyInstance, deps: ServerDeps): void {
  const { store, audit, commands, config, clock, log } = deps;
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
      body: { type: 'object', additionalProperties: false, minProperties: 1, properties: config.commands },
    },
  }, async (req, reply) => {
    const check = commands.check(req.body);
    if (!check.ok) return reply.code(400).send({ error: 'invalid command', message: check.message, fields: check.fields });
    const values = check.values;
    const before = store.getAll(Object.keys(values));
    const changes = Object.entries(values).map(([key, value]) => ({ key, old: before[key]?.value ?? null, new: value }));
    const entry = { ts: clock.now() / 1000, client: req.ip, keyId: requestKeyId.get(req) ?? null, route: 'POST /api/command', changes };
    // Both go into the same group commit; the audit row never delays the answer beyond the write.
    const [written] = await Promise.all([
      store.setMany(values, { durable: true }),
      audit.record(entry, { durable: true }).catch((err: unknown) => log.error(`audit row for ${Object.keys(values).join(', ')} not written: ${errorMessage(err)}`)),
    ]);
    // A store configured without a data dir is never durable by design; only a failing disk is news.
    if (!written.durable && store.status().dataDir !== null) {
      notDurable.inc();
      log.warn(`command ${Object.keys(values).join(', ')} applied in memory only: the store's disk is failing`);
      return reply.code(202).send({
        ok: true,
        durable: false,
        written: values,
        warning: 'applied in memory only: the store cannot write to disk; it is written when the disk returns and is lost if the gateway stops before',
      });
    }
    return { ok: true, durable: written.durable, written: values };
  });
}
