// What the bridge says about its link: connected or not, one log line per outage (and per open
// circuit, and per refused request), the heartbeat's pace, and the health check's first parts.
import { errorMessage } from '../../core/errors.ts';
import type { Logger } from '../../core/log.ts';
import type { ModbusExceptionError } from '../../adapters/modbus/types.ts';

// The heartbeat goes to the store at most this often (not every 100 ms poll), and always well
// inside staleAfterS so it never flickers stale while the device answers.
const LAST_OK_EVERY_MS = 1000;

export class LinkStatus {
  readonly #log: Logger;
  readonly #prefix: string;
  readonly #keys: { connectedKey: string; lastOkKey: string; staleAfterS: number };
  /** null until the first exchange decides. */
  connected: boolean | null = null;
  #outage: { since: number; failures: number; circuitLogged: boolean } | null = null;
  #lastOkWritten = 0;
  #lastOkAt: number | null = null;
  /** Request descriptions refused with an exception, with the code, logged once until they succeed. */
  readonly #refused = new Map<string, number>();

  constructor(options: { log: Logger; prefix: string; keys: { connectedKey: string; lastOkKey: string; staleAfterS: number } }) {
    this.#log = options.log;
    this.#prefix = options.prefix;
    this.#keys = options.keys;
  }

  /** A good cycle: the status keys to write, and whether the link was down before. */
  succeeded(now: number): { changes: Record<string, unknown>; wasDown: boolean } {
    const k = this.#keys;
    const changes: Record<string, unknown> = {};
    const wasDown = this.connected === false;
    this.#lastOkAt = now;
    if (this.connected !== true) changes[k.connectedKey] = true;
    if (this.connected !== true || now - this.#lastOkWritten >= Math.min(LAST_OK_EVERY_MS, (k.staleAfterS * 1000) / 4)) {
      changes[k.lastOkKey] = now / 1000;
      this.#lastOkWritten = now;
    }
    if (this.#outage) {
      const s = ((now - this.#outage.since) / 1000).toFixed(1);
      this.#log.info(`${this.#prefix}: answering again after ${s} s (${this.#outage.failures} failed attempt(s))`);
      this.#outage = null;
    } else if (this.connected === null) {
      this.#log.info(`${this.#prefix}: connected`);
    }
    this.connected = true;
    return { changes, wasDown };
  }

  /** A failed cycle; true when the link just went down (the connected key must be written). */
  failed(err: unknown, now: number): boolean {
    if (!this.#outage) {
      this.#outage = { since: now, failures: 1, circuitLogged: false };
      this.#log.warn(`${errorMessage(err)}; ${this.#keys.connectedKey}=false, retrying with backoff (logged once per outage)`);
    } else {
      this.#outage.failures++;
      this.#log.debug(() => `${this.#prefix}: still failing (${this.#outage?.failures}): ${errorMessage(err)}`);
    }
    const wentDown = this.connected !== false;
    this.connected = false;
    return wentDown;
  }

  circuitOpened(failures: number, openMs: number): void {
    if (this.#outage?.circuitLogged) return;
    if (this.#outage) this.#outage.circuitLogged = true;
    this.#log.warn(`${this.#prefix}: circuit open after ${failures} consecutive failures; one trial request every ${openMs / 1000} s until it answers`);
  }

  refusedOnce(request: string, err: ModbusExceptionError, keys: string[]): void {
    if (this.#refused.get(request) === err.code) return;
    this.#refused.set(request, err.code);
    this.#log.warn(`${err.message}; not updated: ${keys.join(', ')} (check the map addresses against the device)`);
  }

  answered(request: string): void {
    this.#refused.delete(request);
  }

  /** Requests refused with an exception, for the health check. */
  refused(): string[] {
    return [...this.#refused].map(([r, code]) => `${r}: exception ${code}`);
  }

  lastOk(now: number): string {
    return this.#lastOkAt === null ? 'never' : `${((now - this.#lastOkAt) / 1000).toFixed(1)} s ago`;
  }
}
