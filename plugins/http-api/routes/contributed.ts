// Routes other plugins contribute through the RouteRegistry. One catch-all dispatches each request
// to whatever the registry holds at that moment, so routes added or removed after the server
// started (a plugin restarting later than this one) work without restarting the API.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Ajv, type ValidateFunction } from 'ajv';
import type { RouteContribution } from '../../../core/http-routes.ts';
import type { JsonSchema } from '../../../core/schema.ts';
import { errorMessage } from '../../../core/errors.ts';
import { dispatchedRoute, requestKeyId, type ServerDeps } from '../deps.ts';
import { checkKey } from '../access.ts';

interface Compiled {
  segments: string[];
  body?: ValidateFunction;
  querystring?: ValidateFunction;
  params?: ValidateFunction;
}

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

export function contributedRoutes(app: FastifyInstance, deps: ServerDeps): void {
  const ajv = new Ajv({ allErrors: true, strict: false, coerceTypes: 'array', useDefaults: true });
  const compiled = new WeakMap<RouteContribution, Compiled>();
  const compile = (route: RouteContribution): Compiled => {
    let c = compiled.get(route);
    if (!c) {
      const s = route.schema ?? {};
      const make = (schema: JsonSchema | undefined) => (schema ? ajv.compile(schema) : undefined);
      c = { segments: splitPath(route.url), body: make(s.body), querystring: make(s.querystring), params: make(s.params) };
      compiled.set(route, c);
    }
    return c;
  };

  app.route({
    method: [...METHODS],
    url: '/*',
    config: { access: 'dynamic' },
    schema: { hide: true },
    handler: async (req: FastifyRequest, reply: FastifyReply) => {
      const path = req.url.split('?')[0]!;
      const hit = findRoute(deps, req.method, path, compile);
      if (!hit) return reply.code(404).send({ error: 'not found', message: `no route ${req.method} ${path}; see /docs` });
      const { route, params, c } = hit;
      dispatchedRoute.set(req, route.url);
      const write = route.write ?? req.method !== 'GET';
      // Contributed writes are operator actions (dashboard buttons, zone setpoints): operate role.
      if ((write || deps.config.requireKeyForReads) && !checkKey(req, reply, deps, { needed: write ? 'operate' : 'read' })) return reply;
      const fields: Record<string, string> = {};
      validate(c.params, params, 'params', fields);
      validate(c.querystring, req.query, 'querystring', fields);
      validate(c.body, req.body, 'body', fields);
      if (Object.keys(fields).length) {
        return reply.code(400).send({ error: 'bad request', message: `invalid ${Object.keys(fields).join(', ')}; nothing was done`, fields });
      }
      (req as { params: unknown }).params = params;
      const result = await route.handler(req, reply);
      if (write) {
        const entry = {
          ts: deps.clock.now() / 1000,
          client: req.ip,
          keyId: requestKeyId.get(req) ?? null,
          route: `${req.method} ${route.url}`,
          changes: [{ key: path, old: null, new: req.body ?? null }],
        };
        await deps.audit.record(entry, { durable: false }).catch((err: unknown) => deps.log.error(`audit row for ${entry.route} not written: ${errorMessage(err)}`));
      }
      return reply.sent ? reply : result;
    },
  });
}

function findRoute(deps: ServerDeps, method: string, path: string, compile: (r: RouteContribution) => Compiled) {
  const parts = splitPath(path);
  for (const { route } of deps.routes.list()) {
    if (route.method !== method) continue;
    const c = compile(route);
    const params = matchPath(c.segments, parts);
    if (params) return { route, params, c };
  }
  return null;
}

function splitPath(path: string): string[] {
  return path.split('/').filter((s) => s !== '');
}

/** Matches `/api/zones/:id` style patterns; returns the decoded params or null. */
function matchPath(pattern: string[], parts: string[]): Record<string, string> | null {
  if (pattern.length !== parts.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    if (p.startsWith(':')) {
      try {
        params[p.slice(1)] = decodeURIComponent(parts[i]!);
      } catch {
        return null;
      }
    } else if (p !== parts[i]) {
      return null;
    }
  }
  return params;
}

function validate(fn: ValidateFunction | undefined, data: unknown, part: string, fields: Record<string, string>): void {
  if (!fn || fn(data ?? {})) return;
  for (const e of fn.errors ?? []) {
    const p = e.params as { missingProperty?: string; additionalProperty?: string };
    const name = [part, e.instancePath.replace(/^\//, '').replace(/\//g, '.'), p.missingProperty ?? p.additionalProperty].filter(Boolean).join('.');
    fields[name] = p.additionalProperty ? 'unknown field' : (e.message ?? 'is invalid');
  }
}

/** OpenAPI path items for the contributed routes, merged into the generated document on every read. */
export function contributedOpenApi(deps: ServerDeps, doc: Record<string, unknown>): Record<string, unknown> {
  const paths = (doc.paths ?? {}) as Record<string, Record<string, unknown>>;
  for (const { owner, route } of deps.routes.list()) {
    const s = route.schema ?? {};
    const url = route.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    const parameters = [
      ...props(s.params).map(([name, schema]) => ({ in: 'path', name, required: true, schema })),
      ...props(s.querystring).map(([name, schema]) => ({ in: 'query', name, required: s.querystring?.required?.includes(name) ?? false, schema })),
    ];
    const responses: Record<string, unknown> = {};
    for (const [code, schema] of Object.entries(s.response ?? { 200: undefined })) {
      responses[code] = { description: schema?.description ?? 'OK', ...(schema ? { content: { 'application/json': { schema } } } : {}) };
    }
    const write = route.write ?? route.method !== 'GET';
    (paths[url] ??= {})[route.method.toLowerCase()] = {
      summary: s.summary,
      description: `${s.description ?? ''}${s.description ? '\n\n' : ''}Contributed by plugin \`${owner}\`.`,
      tags: s.tags ?? [owner],
      ...(parameters.length ? { parameters } : {}),
      ...(s.body ? { requestBody: { required: true, content: { 'application/json': { schema: s.body } } } } : {}),
      ...(write || deps.config.requireKeyForReads ? { security: [{ apiKey: [] }] } : {}),
      responses,
    };
  }
  return { ...doc, paths };
}

function props(schema: JsonSchema | undefined): Array<[string, JsonSchema]> {
  return Object.entries(schema?.properties ?? {});
}
