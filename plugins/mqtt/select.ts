// Which state keys go to the broker and with what options, and the change filter: a value is sent
// when it differs from the last one sent (numbers: by more than the deadband), or when the
// maximum interval since the last send has passed.
import type { KeyRule, MqttConfig, PayloadFormat, Qos } from './config.ts';

export interface KeyOptions {
  deadband: number;
  maxIntervalMs: number;
  qos: Qos;
  retain: boolean;
  format: PayloadFormat;
}

export class KeySelection {
  readonly #exact = new Map<string, KeyOptions>();
  readonly #prefixes: Array<[string, KeyOptions]> = [];
  readonly #cache = new Map<string, KeyOptions | null>();

  constructor(publish: MqttConfig['publish']) {
    for (const entry of publish.keys) {
      const rule: KeyRule = typeof entry === 'string' ? { key: entry } : entry;
      const options: KeyOptions = {
        deadband: rule.deadband ?? publish.deadband,
        maxIntervalMs: rule.maxIntervalMs ?? publish.maxIntervalMs,
        qos: rule.qos ?? publish.qos,
        retain: rule.retain ?? publish.retain,
        format: rule.format ?? publish.format,
      };
      if (rule.key.endsWith('*')) this.#prefixes.push([rule.key.slice(0, -1), options]);
      else this.#exact.set(rule.key, options);
    }
  }

  get empty(): boolean {
    return this.#exact.size === 0 && this.#prefixes.length === 0;
  }

  /** The options of `key`, or null when it is not published (exact names win over prefixes). */
  match(key: string): KeyOptions | null {
    const hit = this.#cache.get(key);
    if (hit !== undefined) return hit;
    let found = this.#exact.get(key) ?? null;
    if (!found) for (const [prefix, o] of this.#prefixes) if (key.startsWith(prefix)) { found = o; break; }
    if (this.#cache.size < 100_000) this.#cache.set(key, found);
    return found;
  }
}

/** Whether `next` is worth sending after `last` (undefined: never sent). */
export function changed(last: unknown, next: unknown, deadband: number): boolean {
  if (last === undefined) return true;
  if (typeof last === 'number' && typeof next === 'number') return deadband > 0 ? Math.abs(next - last) > deadband : next !== last;
  if (last === next) return false;
  if (typeof last !== 'object' && typeof next !== 'object') return true;
  return JSON.stringify(last) !== JSON.stringify(next);
}

/** json: the value as JSON; raw: a string bare, anything else as JSON (numbers, booleans print the same). */
export function formatValue(value: unknown, format: PayloadFormat): string {
  if (format === 'raw' && typeof value === 'string') return value;
  return value === undefined ? '' : JSON.stringify(value);
}

/** An MQTT topic level from a state key: the wildcard characters are not allowed in a published topic. */
export function topicSafe(key: string): string {
  return key.replace(/[#+]/g, '_');
}
