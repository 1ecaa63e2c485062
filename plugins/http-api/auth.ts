// API key checks: constant-time comparison of SHA-256 digests (equal length whatever the input),
// the role each key holds (read < operate < admin), and the key id the audit log records instead
// of the key.
import { createHash, timingSafeEqual } from 'node:crypto';

export type Role = 'read' | 'operate' | 'admin';
export const ROLES: readonly Role[] = ['read', 'operate', 'admin'];

export interface KeyCheck {
  /** True when no key is configured or the presented key matches one. */
  ok: boolean;
  /** Id of the matching key (its configured id, or sha256 prefix of the single apiKey); null without a key. */
  keyId: string | null;
  /** Role of the matching key; admin when no key is configured (loopback only), null when no match. */
  role: Role | null;
}

export interface ConfiguredKey {
  id: string;
  key: string;
  role: Role;
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** First 8 hex digits of sha256(key): the id of the single `apiKey`, safe to log. */
export function keyId(key: string): string {
  return digest(key).toString('hex').slice(0, 8);
}

/** Whether `held` may do what `needed` allows (admin may everything, operate may read). */
export function roleAllows(held: Role, needed: Role): boolean {
  return ROLES.indexOf(held) >= ROLES.indexOf(needed);
}

export class ApiKeyGuard {
  readonly #keys: Array<{ digest: Buffer; id: string; role: Role }>;
  readonly #roles: boolean;

  /** The single `apiKey` (admin, id = sha256 prefix) and the `apiKeys` list; empty keys are ignored. */
  constructor(apiKey: string | undefined, keys: ConfiguredKey[] = []) {
    this.#keys = [];
    if (apiKey) this.#keys.push({ digest: digest(apiKey), id: keyId(apiKey), role: 'admin' });
    for (const k of keys) if (k.key) this.#keys.push({ digest: digest(k.key), id: k.id, role: k.role });
    this.#roles = keys.some((k) => k.key);
  }

  get configured(): boolean {
    return this.#keys.length > 0;
  }

  /**
   * True when `apiKeys` are configured: admin-only routes then need an admin key. With the single
   * `apiKey` alone there is one trust level and those routes stay as open as any read.
   */
  get hasRoles(): boolean {
    return this.#roles;
  }

  /**
   * Checks a presented key (header or query value) against every configured key. Hashing first
   * makes each comparison length-independent, and every key is compared (no early exit), so the
   * time does not say which key was close.
   */
  check(presented: string | undefined): KeyCheck {
    if (!this.configured) return { ok: true, keyId: null, role: 'admin' };
    if (typeof presented !== 'string' || presented === '') return { ok: false, keyId: null, role: null };
    const d = digest(presented);
    let hit: { id: string; role: Role } | null = null;
    for (const k of this.#keys) if (timingSafeEqual(d, k.digest) && !hit) hit = k;
    return hit ? { ok: true, keyId: hit.id, role: hit.role } : { ok: false, keyId: null, role: null };
  }
}

/** The key from `X-API-Key`, or from `?apiKey=` (browsers cannot set headers on a WebSocket). */
export function presentedKey(headers: Record<string, string | string[] | undefined>, query: unknown): string | undefined {
  const h = headers['x-api-key'];
  if (typeof h === 'string') return h;
  if (Array.isArray(h)) return h[0];
  const q = (query as Record<string, unknown> | undefined)?.apiKey;
  return typeof q === 'string' ? q : undefined;
}
