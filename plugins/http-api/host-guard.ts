// DNS-rebinding and cross-site-write protection: which Host a request may name and which browser
// Origin may write. Runs before every route, the WebSocket upgrade included (docs/http-api.md).
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { HttpApiConfig } from './config.ts';

/** Names that always mean "this machine" to a browser on the gateway itself. */
const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'];
/** Methods a browser sends cross-origin without consequence (reads and CORS preflights). */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface HostGuardOptions {
  /** The address the server is bound to (127.0.0.1 whenever no key is configured). */
  boundHost: string;
  keyConfigured: boolean;
  config: Pick<HttpApiConfig, 'allowedHosts' | 'cors'>;
}

export class HostGuard {
  /** Null when the Host header is not checked (a keyed server bound to a network address). */
  readonly #names: Set<string> | null;
  readonly #origins: Set<string>;

  constructor({ boundHost, keyConfigured, config }: HostGuardOptions) {
    const enforce = !keyConfigured || isLoopback(boundHost);
    this.#names = enforce ? new Set([...LOOPBACK_NAMES, ...config.allowedHosts.map(normaliseName), normaliseName(boundHost)]) : null;
    this.#origins = new Set(config.cors.origins.map((o) => o.toLowerCase().replace(/\/$/, '')));
  }

  /** Why the request is refused, or null when it may go on. `localPort` is the port it arrived on. */
  refusal(method: string, headers: Record<string, string | string[] | undefined>, localPort: number | undefined): string | null {
    const host = typeof headers.host === 'string' ? headers.host.toLowerCase() : '';
    if (this.#names && host && !this.#hostAllowed(host, localPort)) {
      return `Host "${host}" does not name this gateway (DNS rebinding protection); allowed: ${[...this.#names].join(', ')}. ` +
        'Add the name to allowedHosts in the http-api config if it is yours; nothing was done';
    }
    const origin = typeof headers.origin === 'string' ? headers.origin.toLowerCase().replace(/\/$/, '') : undefined;
    // https too: behind a TLS reverse proxy that forwards the Host, the page's origin is https://host.
    const own = origin === `http://${host}` || origin === `https://${host}`;
    if (origin !== undefined && !SAFE_METHODS.has(method) && !own && !this.#origins.has(origin)) {
      return `cross-origin ${method} from "${origin}" refused: only the gateway's own pages and cors.origins may write; nothing was done`;
    }
    return null;
  }

  #hostAllowed(host: string, localPort: number | undefined): boolean {
    const m = /^(\[[^\]]*\]|[^:]*)(?::(\d+))?$/.exec(host);
    if (!m) return false;
    if (m[2] !== undefined && localPort !== undefined && Number(m[2]) !== localPort) return false;
    return this.#names!.has(normaliseName(m[1]!));
  }
}

/** Sends 403 when the guard refuses the request; returns whether it did. */
export function refuseForeign(guard: HostGuard, req: FastifyRequest, reply: FastifyReply): boolean {
  const why = guard.refusal(req.method, req.headers, req.socket.localPort);
  if (why === null) return false;
  reply.code(403).send({ error: 'forbidden', message: why });
  return true;
}

function normaliseName(name: string): string {
  const n = name.trim().toLowerCase().replace(/\.$/, '');
  // A bare IPv6 literal from the config compares with the bracketed form of the Host header.
  return n.includes(':') && !n.startsWith('[') ? `[${n}]` : n;
}

function isLoopback(host: string): boolean {
  const h = normaliseName(host);
  return h === 'localhost' || h === '[::1]' || /^127\./.test(h);
}
