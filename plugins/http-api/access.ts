// Who may call what: the API key check run before every route that declares its access.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { presentedKey } from './auth.ts';
import { requestKeyId, type RouteConfig, type ServerDeps } from './deps.ts';

/** The API key check for routes that declare their access (contributed routes check in the dispatcher). */
export async function authorize(req: FastifyRequest, reply: FastifyReply, deps: ServerDeps): Promise<void> {
  const access = (req.routeOptions.config as Partial<RouteConfig> | undefined)?.access ?? 'public';
  if (access === 'public' || access === 'dynamic') return;
  if (access === 'read' && !deps.config.requireKeyForReads) return;
  checkKey(req, reply, deps, req.routeOptions.url === '/ws');
}

/** Sends 401 unless the request carries the configured key; records the key id for the audit. */
export function checkKey(req: FastifyRequest, reply: FastifyReply, deps: ServerDeps, allowQuery = false): boolean {
  const check = deps.guard.check(presentedKey(req.headers, allowQuery ? req.query : undefined));
  if (!check.ok) {
    reply.code(401).send({ error: 'unauthorized', message: 'missing or wrong X-API-Key header; nothing was done' });
    return false;
  }
  requestKeyId.set(req, check.keyId);
  return true;
}
