// API key checks: constant-time comparison of SHA-256 digests (equal length whatever the input),
// and the short key id the audit log records instead of the key.
import { createHash, timingSafeEqual } from 'node:crypto';

export interface KeyCheck {
  /** True when no key is configured or the presented key matches. */
  ok: boolean;
  /** First 8 hex digits of sha256(key) of the configured key when it matched; null without a key. */
  keyId: string | null;
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

export function keyId(key: string): string {
  return digest(key).toString('hex').slice(0, 8);
}

export class ApiKeyGuard {
  readonly #digest: Buffer | null;
  readonly #id: string | null;

  constructor(apiKey: string | undefined) {
    this.#digest = apiKey ? digest(apiKey) : null;
    this.#id = apiKey ? keyId(apiKey) : null;
  }

  get configured(): boolean {
    return this.#digest !== null;
  }

  /** Checks a presented key (header or query value); hashing first makes the comparison length-independent. */
  check(presented: string | undefined): KeyCheck {
    if (!this.#digest) return { ok: true, keyId: null };
    if (typeof presented !== 'string' || presented === '') return { ok: false, keyId: null };
    const ok = timingSafeEqual(digest(presented), this.#digest);
    return { ok, keyId: ok ? this.#id : null };
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
