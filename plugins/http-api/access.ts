// Who may call what: the API key and role check run before every route that declares its access.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { presentedKey, roleAllows, type Role } from './auth.ts';
import { requestKeyId, type RouteConfig, type ServerDeps } from './deps.ts';

/** The API key check for routes that declare their access (contributed routes check in the dispatcher). */
export async function authorize(req: FastifyRequest, reply: FastifyReply, deps: ServerDeps): Promise<void> {
  const access = (req.routeOptions.config as Partial<RouteConfig> | undefined)?.access ?? 'public';
  if (access === 'public' || access === 'dynamic') return;
  const admin = access === 'admin' && deps.guard.hasRoles;
  if ((access === 'read' || access === 'admin') && !admin && !deps.config.requireKeyForReads) return;
  const needed: Role = access === 'write' ? 'operate' : admin ? 'admin' : 'read';
  checkKey(req, reply, deps, { needed, allowQuery: req.routeOptions.url === '/ws' });
}

/**
 * Sends 401 unless the request carries a configured key, 403 when that key's role is below
 * `needed`; records the key id for the audit. Returns whether the request may go on.
 */
export function checkKey(req: FastifyRequest, reply: FastifyReply, deps: ServerDeps, opts: { needed: Role; allowQuery?: boolean }): boolean {
  const check = deps.guard.check(presentedKey(req.headers, opts.allowQuery ? req.query : undefined));
  if (!check.ok) {
    reply.code(401).send({ error: 'unauthorized', message: 'missing or wrong X-API-Key header; nothing was done' });
    return false;
  }
  if (check.role && !roleAllows(check.role, opts.needed)) {
    const route = `${req.method} ${req.url.split('?')[0]}`;
    reply.code(403).send({
      error: 'forbidden',
      message: `${route} needs a key with role "${opts.needed}"${opts.needed === 'admin' ? '' : ' or above'}; key "${check.keyId}" has role "${check.role}"; nothing was done`,
      needed: opts.needed,
      held: check.role,
    });
    return false;
  }
  requestKeyId.set(req, check.keyId);
  return true;
}
