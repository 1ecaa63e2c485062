// In-process publish/subscribe with MQTT-style wildcards and owner-keyed listeners, so stopping a
// plugin removes everything it subscribed.

/**
 * Topics are `/`-separated levels. Patterns may use `+` for exactly one level and a trailing `#`
 * for any number of levels (including none): `state/+`, `signal/press1/#`, `#`.
 */
export type Listener<T = unknown> = (payload: T, topic: string) => void | Promise<void>;

/** Known topics and their payloads; plugins extend it with declaration merging. */
export interface TopicPayloads {
  'state/+': StateChange;
}

export interface StateChange {
  key: string;
  value: unknown;
  previous: unknown;
  updatedAt: number;
}

interface Subscription {
  pattern: string[];
  owner: string;
  listener: Listener;
}

export type ListenerErrorHandler = (owner: string, error: unknown, topic: string) => void;

export function topicMatches(pattern: string | string[], topic: string): boolean {
  const p = typeof pattern === 'string' ? pattern.split('/') : pattern;
  const t = topic.split('/');
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '#') return true;
    if (i >= t.length) return false;
    if (p[i] !== '+' && p[i] !== t[i]) return false;
  }
  return p.length === t.length;
}

export class Bus {
  readonly #subs = new Set<Subscription>();
  #onError: ListenerErrorHandler = () => {};

  /** Called with the owner when one of its listeners throws or rejects (the supervisor restarts it). */
  onListenerError(handler: ListenerErrorHandler): void {
    this.#onError = handler;
  }

  subscribe<T = unknown>(pattern: string, listener: Listener<T>, options: { owner?: string } = {}): () => void {
    validatePattern(pattern);
    const sub: Subscription = { pattern: pattern.split('/'), owner: options.owner ?? 'core', listener: listener as Listener };
    this.#subs.add(sub);
    return () => {
      this.#subs.delete(sub);
    };
  }

  /** Delivers synchronously to every matching listener; a failing listener never affects the others. */
  publish<T = unknown>(topic: string, payload: T): number {
    let delivered = 0;
    for (const sub of [...this.#subs]) {
      if (!this.#subs.has(sub) || !topicMatches(sub.pattern, topic)) continue;
      delivered++;
      try {
        const r = sub.listener(payload, topic);
        if (r && typeof (r as Promise<void>).then === 'function') {
          (r as Promise<void>).then(undefined, (err: unknown) => this.#onError(sub.owner, err, topic));
        }
      } catch (err) {
        this.#onError(sub.owner, err, topic);
      }
    }
    return delivered;
  }

  /** Removes every listener of `owner`; returns how many were removed. */
  removeOwner(owner: string): number {
    let n = 0;
    for (const sub of this.#subs) {
      if (sub.owner === owner) {
        this.#subs.delete(sub);
        n++;
      }
    }
    return n;
  }

  listenerCount(owner?: string): number {
    if (owner === undefined) return this.#subs.size;
    let n = 0;
    for (const sub of this.#subs) if (sub.owner === owner) n++;
    return n;
  }
}

/** A bus view bound to one owner: what a plugin receives. */
export class OwnedBus {
  constructor(readonly bus: Bus, readonly owner: string) {}
  subscribe<T = unknown>(pattern: string, listener: Listener<T>): () => void {
    return this.bus.subscribe(pattern, listener, { owner: this.owner });
  }
  publish<T = unknown>(topic: string, payload: T): number {
    return this.bus.publish(topic, payload);
  }
}

function validatePattern(pattern: string): void {
  const levels = pattern.split('/');
  levels.forEach((level, i) => {
    if (level === '#' && i !== levels.length - 1) throw new Error(`bus pattern "${pattern}": "#" must be the last level`);
    if (level !== '#' && level !== '+' && (level.includes('#') || level.includes('+'))) {
      throw new Error(`bus pattern "${pattern}": wildcards must fill a whole level`);
    }
  });
}
