// Builds the fastify server: security (rate limit, CORS, API key), request metrics, error shapes,
// then the route modules. Listening is the plugin's business.
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import cors from '@fastify/cors';
import rateLimit from '@fastify/rate-limit';
import websocket from '@fastify/websocket';
import { authorize } from './access.ts';
import { dispatchedRoute, type ServerDeps } from './deps.ts';
import { alarmRoutes } from './routes/alarms.ts';
import { HostGuard, refuseForeign } from './host-guard.ts';
import { auditRoutes } from './routes/audit.ts';
import { commandRoutes } from './routes/command.ts';
import { contributedRoutes } from './routes/contributed.ts';
import { dashboardRoutes } from './routes/dashboard.ts';
import { docsRoutes } from './routes/docs.ts';
import { historyRoutes } from './routes/history.ts';
import { healthRoutes } from './routes/health.ts';
import { metricsRoutes } from './routes/metrics.ts';
import { stateRoutes } from './routes/state.ts';
import { trendRoutes } from './routes/trend.ts';
import { wsRoutes } from './ws/route.ts';
import type { TlsMaterial } from './tls.ts';

export async function buildServer(deps: ServerDeps, options: { https?: TlsMaterial | null } = {}): Promise<FastifyInstance> {
  const { config } = deps;
  // The https server type differs from http's only in its TLS members, which no route uses.
  const app = Fastify({
    ...(options.https ? { https: options.https } : {}),
    logger: false,
    bodyLimit: config.bodyLimit,
    // Keep-alive sockets must not hold a plugin restart or shutdown open.
    forceCloseConnections: true,
    // Fastify's default ajv strips unknown properties silently; here they are errors.
    ajv: { customOptions: { removeAdditional: false, allErrors: true, coerceTypes: 'array', useDefaults: true } },
  });

  await app.register(rateLimit, {
    max: config.rateLimit.max,
    timeWindow: config.rateLimit.timeWindowMs,
    keyGenerator: (req) => req.ip,
    errorResponseBuilder: (_req, ctx) => ({
      statusCode: 429,
      error: 'too many requests',
      message: `rate limit of ${ctx.max} requests per ${Math.round(config.rateLimit.timeWindowMs / 1000)} s exceeded; retry in ${ctx.after}`,
    }),
  });
  await app.register(cors, { origin: config.cors.origins.length ? config.cors.origins : false, allowedHeaders: ['Content-Type', 'X-API-Key'] });
  await app.register(websocket, { options: { maxPayload: 64 * 1024 } });
  // A rebound or cross-site request is refused before any route runs. Registered after the
  // websocket plugin, whose own onRequest hook must mark an upgrade for its socket to be closed.
  const hostGuard = new HostGuard({ boundHost: deps.guard.configured ? config.host : '127.0.0.1', keyConfigured: deps.guard.configured, config });
  app.addHook('onRequest', async (req, reply) => {
    if (refuseForeign(hostGuard, req, reply)) return reply;
  });

  requestMetrics(app, deps);
  app.addHook('onRequest', async (req, reply) => authorize(req, reply, deps));
  app.setErrorHandler((err: FastifyError, req, reply) => sendError(err, req, reply, deps));
  app.setNotFoundHandler((req, reply) => reply.code(404).send({ error: 'not found', message: `no route ${req.method} ${req.url.split('?')[0]}; see /docs` }));

  await docsRoutes(app, deps);
  stateRoutes(app, deps);
  commandRoutes(app, deps);
  trendRoutes(app, deps);
  historyRoutes(app, deps);
  auditRoutes(app, deps);
  alarmRoutes(app, deps, deps.alarms.board, deps.alarms.publish);
  healthRoutes(app, deps);
  metricsRoutes(app, deps);
  wsRoutes(app, deps);
  await dashboardRoutes(app, deps);
  contributedRoutes(app, deps);
  return app;
}

function requestMetrics(app: FastifyInstance, deps: ServerDeps): void {
  const labels = ['method', 'route', 'status'];
  const count = deps.metrics.counter('fieldgate_http_requests_total', 'HTTP requests by method, route and status', labels);
  const duration = deps.metrics.histogram('fieldgate_http_request_duration_seconds', 'HTTP request duration by method, route and status', labels,
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]);
  app.addHook('onResponse', async (req, reply) => {
    // Unmatched URLs share one label so scanners cannot grow the metric without bound.
    const route = dispatchedRoute.get(req) ?? (req.is404 ? 'unmatched' : req.routeOptions.url ?? 'unmatched');
    const l = { method: req.method, route, status: String(reply.statusCode) };
    count.inc(l);
    duration.observe(l, reply.elapsedTime / 1000);
  });
}

/** One error shape for every failure: `{error, message, fields?}`. */
function sendError(err: FastifyError, req: FastifyRequest, reply: FastifyReply, deps: ServerDeps): void {
  if (err.validation) {
    const fields: Record<string, string> = {};
    for (const v of err.validation) {
      const missing = (v.params as { missingProperty?: string }).missingProperty;
      const extra = (v.params as { additionalProperty?: string }).additionalProperty;
      const path = (v.instancePath ?? '').replace(/^\//, '').replace(/\//g, '.');
      const name = missing ?? extra ?? (path || err.validationContext || 'request');
      fields[extra && path ? `${path}.${extra}` : name] = extra ? 'unknown field' : (v.message ?? 'is invalid');
    }
    reply.code(400).send({ error: 'bad request', message: `invalid ${err.validationContext ?? 'request'}: ${Object.keys(fields).join(', ')}`, fields });
    return;
  }
  const status = err.statusCode ?? 500;
  if (status === 413) {
    reply.code(413).send({ error: 'payload too large', message: `body larger than ${deps.config.bodyLimit} bytes; nothing was written` });
  } else if (status < 500) {
    const malformed = err.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err.code === 'FST_ERR_CTP_EMPTY_JSON_BODY';
    reply.code(status).send({ error: malformed ? 'malformed JSON' : (err as { error?: string }).error ?? 'bad request', message: err.message });
  } else {
    deps.log.error(`${req.method} ${req.url.split('?')[0]} failed: ${err.message}`, { err });
    reply.code(500).send({ error: 'internal error', message: 'the request failed inside the gateway; see its log' });
  }
}
