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

/** A key pattern: exact, or with `*` matching any run of characters (`sensor:*`, `machine_m1_*`). */
export function keyMatcher(pattern: string): (key: string) => boolean {
  if (!pattern.includes('*')) return (key) => key === pattern;
  const re = new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  return (key) => re.test(key);
}

export class KeySelection {
  readonly #exact = new Map<string, KeyOptions>();
  readonly #patterns: Array<[(key: string) => boolean, KeyOptions]> = [];
  readonly #exclude: Array<(key: string) => boolean>;
  readonly #cache = new Map<string, KeyOptions | null>();

  constructor(publish: MqttConfig['publish']) {
    this.#exclude = publish.exclude.map(keyMatcher);
    for (const entry of publish.keys) {
      const rule: KeyRule = typeof entry === 'string' ? { key: entry } : entry;
      const options: KeyOptions = {
        deadband: rule.deadband ?? publish.deadband,
        maxIntervalMs: rule.maxIntervalMs ?? publish.maxIntervalMs,
        qos: rule.qos ?? publish.qos,
        retain: rule.retain ?? publish.retain,
        format: rule.format ?? publish.format,
      };
      if (rule.key.includes('*')) this.#patterns.push([keyMatcher(rule.key), options]);
      else this.#exact.set(rule.key, options);
    }
  }

  get empty(): boolean {
    return this.#exact.size === 0 && this.#patterns.length === 0;
  }

  /** The options of `key`, or null when it is not published (excludes first, then exact names, then patterns in order). */
  match(key: string): KeyOptions | null {
    const hit = this.#cache.get(key);
    if (hit !== undefined) return hit;
    let found = this.#exclude.some((x) => x(key)) ? null : this.#exact.get(key) ?? null;
    if (!found && !this.#exclude.some((x) => x(key))) {
      for (const [test, o] of this.#patterns) {
        if (test(key)) {
          found = o;
          break;
        }
      }
    }
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
