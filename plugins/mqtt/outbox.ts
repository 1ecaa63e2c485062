// Store and forward: messages that could not go to the broker wait in a table of the state store
// (journaled like every write, so they survive a SIGKILL or power cut), oldest first, bounded —
// beyond the bound the oldest is dropped and counted. Drained in id order once the broker is back.
import type { StateStore } from '../../core/store/types.ts';

const OWNER = 'mqtt';
const TABLE = 'mqtt_outbox';
const MIGRATIONS = [
  `CREATE TABLE ${TABLE} (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     plugin TEXT NOT NULL,
     topic TEXT NOT NULL,
     payload BLOB,
     qos INTEGER NOT NULL,
     retain INTEGER NOT NULL
   )`,
  `CREATE INDEX ${TABLE}_plugin_id ON ${TABLE} (plugin, id)`,
];

export interface OutMessage {
  topic: string;
  /** Text payloads are kept as TEXT (cheaper in the journal), binary ones (Sparkplug) as BLOB. */
  payload: string | Uint8Array;
  qos: 0 | 1 | 2;
  retain: boolean;
}

export interface QueuedMessage extends OutMessage {
  id: number;
}

export class Outbox {
  #count = 0;
  dropped = 0;

  constructor(
    private readonly store: StateStore,
    private readonly plugin: string,
    private readonly max: number,
    private readonly onError: (err: unknown) => void,
  ) {}

  async open(): Promise<void> {
    await this.store.migrate(OWNER, MIGRATIONS);
    const [row] = this.store.query<{ n: number }>(`SELECT COUNT(*) AS n FROM ${TABLE} WHERE plugin = :p`, { ':p': this.plugin });
    this.#count = Number(row?.n ?? 0);
    // A smaller bound than last run: trim now, oldest first.
    if (this.#count > this.max) this.#dropOldest(this.#count - this.max);
  }

  get count(): number {
    return this.#count;
  }

  /**
   * Queues one message. The mutation is applied and journaled synchronously (before this returns),
   * so it lands in the same group commit as the state write that caused it.
   */
  add(msg: OutMessage): void {
    const insert = {
      sql: `INSERT INTO ${TABLE} (plugin, topic, payload, qos, retain) VALUES (:p, :t, :b, :q, :r)`,
      params: { ':p': this.plugin, ':t': msg.topic, ':b': msg.payload, ':q': msg.qos, ':r': msg.retain ? 1 : 0 },
    };
    if (this.#count >= this.max) {
      const n = this.#count - this.max + 1;
      this.store.runMany([this.#dropStatement(n), insert], { durable: false }).catch(this.onError);
      this.dropped += n;
      this.#count -= n;
    } else {
      this.store.run(insert.sql, insert.params, { durable: false }).catch(this.onError);
    }
    this.#count++;
  }

  /** The oldest `limit` messages after id `after`, in order. */
  peek(limit: number, after = 0): QueuedMessage[] {
    const rows = this.store.query<{ id: number; topic: string; payload: string | Uint8Array | null; qos: number; retain: number }>(
      `SELECT id, topic, payload, qos, retain FROM ${TABLE} WHERE plugin = :p AND id > :after ORDER BY id LIMIT :n`,
      { ':p': this.plugin, ':n': limit, ':after': after },
    );
    return rows.map((r) => ({ id: Number(r.id), topic: String(r.topic), payload: r.payload ?? '', qos: Number(r.qos) as 0 | 1 | 2, retain: r.retain === 1 }));
  }

  /** Removes the messages with ids from `first` to `last` (once the broker has them). */
  async remove(first: number, last: number, removed: number): Promise<void> {
    this.#count = Math.max(0, this.#count - removed);
    await this.store.run(`DELETE FROM ${TABLE} WHERE plugin = :p AND id BETWEEN :a AND :b`, { ':p': this.plugin, ':a': first, ':b': last }, { durable: false });
  }

  #dropOldest(n: number): void {
    const s = this.#dropStatement(n);
    this.store.run(s.sql, s.params, { durable: false }).catch(this.onError);
    this.dropped += n;
    this.#count -= n;
  }

  #dropStatement(n: number): { sql: string; params: Record<string, string | number> } {
    return {
      sql: `DELETE FROM ${TABLE} WHERE id IN (SELECT id FROM ${TABLE} WHERE plugin = :p ORDER BY id LIMIT :n)`,
      params: { ':p': this.plugin, ':n': n },
    };
  }
}
