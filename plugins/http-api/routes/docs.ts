// The OpenAPI document (/openapi.json, generated from the route schemas plus the contributed routes
// of the moment) and its UI at /docs, loaded on the first request to /docs (docs-ui.ts).
import type { FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import type { ServerDeps } from '../deps.ts';
import { contributedOpenApi } from './contributed.ts';
import { lazyDocsUi } from './docs-ui.ts';

export async function docsRoutes(app: FastifyInstance, deps: ServerDeps): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: `fieldgate ${deps.gatewayName}`,
        version: deps.version,
        description: 'Gateway REST API. Writes need the X-API-Key header; see docs/http-api.md.',
      },
      components: { securitySchemes: { apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' } } },
    },
  });
  const merged = () => contributedOpenApi(deps, structuredClone(app.swagger() as unknown as Record<string, unknown>));
  if (deps.config.docs) lazyDocsUi(app, '/docs', merged);
  app.get('/openapi.json', { config: { access: 'read' }, schema: { hide: true } }, async () => merged());
}
