// What the gateway wants a PLC to hold for the values it owns, and which of them the PLC is known
// to hold since the current connection began: the basis for re-asserting after a restart.
import { type Raw, sameRaw } from './codec.ts';
import type { TagConfig } from './config.ts';

export interface Desired {
  tag: TagConfig;
  raw: Raw;
  value: number | boolean;
}

export class GatewayValues {
  readonly #desired = new Map<string, Desired>();
  /** Keys the PLC is known to hold (written, or read back equal) on the current connection. */
  readonly #confirmed = new Map<string, Desired>();
  /** Holding registers covered by gateway-owned entries, for joining write gaps. */
  readonly #byRegister = new Map<number, TagConfig>();
  /** The current re-assert episode (logged once), until the PLC holds every value again. */
  #episode: string | null = null;
  /** Re-asserts since start, for the health check. */
  reasserts = 0;

  constructor(tags: Iterable<TagConfig>, width: (t: TagConfig) => number) {
    for (const tag of tags) {
      if (tag.table !== 'holding') continue;
      for (let a = tag.address; a < tag.address + width(tag); a++) this.#byRegister.set(a, tag);
    }
  }

  get(key: string): Desired | undefined {
    return this.#desired.get(key);
  }

  /** A new desired value; what the PLC was known to hold for the key is no evidence for a different one. */
  set(d: Desired): void {
    this.#desired.set(d.tag.key, d);
    const held = this.#confirmed.get(d.tag.key);
    if (held && !sameRaw(held.raw, d.raw)) this.#confirmed.delete(d.tag.key);
  }

  /** What the PLC is known to hold for `key` on this connection, if anything. */
  confirmed(key: string): Desired | undefined {
    return this.#confirmed.get(key);
  }

  confirm(key: string, raw: Raw): void {
    const d = this.#desired.get(key);
    if (d && sameRaw(d.raw, raw)) this.#confirmed.set(key, d);
  }

  /** Forgets what the PLC holds (a new connection, a restart); returns every value to write again. */
  forget(): Desired[] {
    this.#confirmed.clear();
    return [...this.#desired.values()];
  }

  /** Everything to write again (PLC restarted, new connection), and whether this starts an episode. */
  reassert(reason: string): { all: Desired[]; first: boolean } {
    const all = this.forget();
    if (all.length === 0) return { all, first: false };
    this.reasserts++;
    const first = this.#episode === null;
    this.#episode = reason;
    return { all, first };
  }

  /** True once, when a re-assert episode ends: the PLC holds every value again. */
  settled(): boolean {
    if (this.#episode === null || this.unconfirmed > 0) return false;
    this.#episode = null;
    return true;
  }

  get size(): number {
    return this.#desired.size;
  }

  get unconfirmed(): number {
    return this.#desired.size - this.#confirmed.size;
  }

  /** The gateway-owned entry covering holding register `address` with a value to write, if any. */
  atRegister(address: number): Desired | undefined {
    const tag = this.#byRegister.get(address);
    return tag ? this.#desired.get(tag.key) : undefined;
  }
}
