// The OpenAPI UI at /docs, loaded on its first request: @fastify/swagger-ui (and the YAML library it
// brings) is set up in a small Fastify instance of its own, the first time someone opens /docs, and
// the gateway forwards /docs requests to it in process. A gateway nobody browses never loads it.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** Response headers the gateway's own reply sets (or that only made sense on the inner reply). */
const HOP_HEADERS = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive', 'date']);

type Spec = () => Record<string, unknown>;

async function createDocsApp(prefix: string, spec: Spec): Promise<FastifyInstance> {
  const [{ default: Fastify }, { default: swagger }, { default: swaggerUi }] = await Promise.all([
    import('fastify'),
    import('@fastify/swagger'),
    import('@fastify/swagger-ui'),
  ]);
  const ui = Fastify({ logger: false });
  // swagger-ui depends on @fastify/swagger by name; the document it shows is the gateway's (spec()).
  await ui.register(swagger, { openapi: { openapi: '3.0.3', info: { title: 'docs', version: '0' } } });
  await ui.register(swaggerUi, { routePrefix: prefix, transformSpecification: () => spec(), transformSpecificationClone: false });
  await ui.ready();
  return ui;
}

/** Registers `prefix` and `prefix/*` on `app`; the UI behind them loads on the first request. */
export function lazyDocsUi(app: FastifyInstance, prefix: string, spec: Spec): void {
  let inner: Promise<FastifyInstance> | null = null;
  const forward = async (req: FastifyRequest, reply: FastifyReply) => {
    inner ??= createDocsApp(prefix, spec).catch((err: unknown) => {
      inner = null; // a failed load is retried on the next request
      throw new Error(`http-api: cannot load the OpenAPI UI (@fastify/swagger-ui) for ${prefix}: ${(err as Error).message}`, { cause: err });
    });
    const ui = await inner;
    const res = await ui.inject({ method: req.method === 'HEAD' ? 'HEAD' : 'GET', url: req.url, headers: { ...req.headers, host: 'localhost' } });
    reply.code(res.statusCode);
    for (const [name, value] of Object.entries(res.headers)) {
      if (value !== undefined && !HOP_HEADERS.has(name.toLowerCase())) reply.header(name, value);
    }
    return reply.send(res.rawPayload);
  };
  const options = { config: { access: 'public' as const }, schema: { hide: true } };
  app.get(prefix, options, forward);
  app.get(`${prefix}/*`, options, forward);
}
