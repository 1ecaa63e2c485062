// GET /api/alarms (active alarms, and the recently cleared ones) and POST /api/alarms/:id/ack: an
// operator acknowledges an alarm; it needs the API key like any write and is audited.
import type { FastifyInstance } from 'fastify';
import type { AlarmBoard, AlarmEvent } from '../alarms/board.ts';
import { requestKeyId, type ServerDeps } from '../deps.ts';

const alarmSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' }, severity: { type: 'string', enum: ['warning', 'critical'] }, message: { type: 'string' },
    raisedAt: { type: 'number' }, acknowledgedAt: { type: ['number', 'null'] }, acknowledgedBy: { type: ['string', 'null'] }, clearedAt: { type: ['number', 'null'] },
  },
};

export function alarmRoutes(app: FastifyInstance, { audit, clock }: ServerDeps, board: AlarmBoard, publish: (e: AlarmEvent) => void): void {
  app.get('/api/alarms', {
    config: { access: 'read' },
    schema: {
      summary: 'Active alarms (stale heartbeats, plugins not running, failing checks, values outside their limits) and recently cleared ones',
      tags: ['alarms'],
      response: { 200: { type: 'object', properties: { active: { type: 'array', items: alarmSchema }, recent: { type: 'array', items: alarmSchema } } } },
    },
  }, async () => ({ active: board.active(), recent: board.recent() }));

  app.post<{ Params: { id: string } }>('/api/alarms/:id/ack', {
    config: { access: 'write' },
    schema: {
      summary: 'Acknowledge an active alarm (audited)',
      tags: ['alarms'],
      params: { type: 'object', properties: { id: { type: 'string', minLength: 1, maxLength: 200 } }, required: ['id'] },
    },
  }, async (req, reply) => {
    const client = req.ip;
    const keyId = requestKeyId.get(req) ?? null;
    const event = board.acknowledge(req.params.id, keyId ?? client, clock.now() / 1000);
    if (!event) {
      return reply.code(404).send({ error: 'not found', message: `no active alarm "${req.params.id}"; GET /api/alarms lists them` });
    }
    await audit.record({ ts: clock.now() / 1000, client, keyId, route: 'POST /api/alarms/:id/ack', changes: [{ key: `alarm:${event.alarm.id}`, old: 'raised', new: 'acknowledged' }] }, { durable: true });
    publish(event);
    return { ok: true, alarm: event.alarm };
  });
}
