// Sends messages to the broker in order: straight to the client while it is connected and nothing
// is waiting, otherwise into the durable outbox. The outbox is drained in id order when the
// connection returns; a row leaves the table only once the broker acknowledged it, so a SIGKILL
// in between re-sends it after the restart (at least once). Rows already handed to the client are
// not handed again on a reconnect: the client re-sends its unacknowledged messages itself, first.
import type { Logger } from '../../core/log.ts';
import type { MqttLink } from './link.ts';
import type { OutMessage, Outbox } from './outbox.ts';

export interface ForwarderStats {
  sent: number;
  queued: number;
  failed: number;
}

export class Forwarder {
  #draining = false;
  /** Highest outbox id handed to the client in this process. */
  #handed = 0;
  /** Highest outbox id ever queued in this process (0: none yet; the table may hold older rows). */
  #unsent = true;
  readonly stats: ForwarderStats = { sent: 0, queued: 0, failed: 0 };

  constructor(
    private readonly link: MqttLink,
    private readonly outbox: Outbox,
    private readonly log: Logger,
    private readonly batch: number,
    private readonly onSent: (n: number) => void = () => {},
  ) {}

  get backlog(): number {
    return this.outbox.count;
  }

  send(msg: OutMessage): void {
    if (this.link.connected && !this.#draining && !this.#unsent) {
      this.link.publish(msg.topic, msg.payload, { qos: msg.qos, retain: msg.retain }).then(
        () => this.#sent(1),
        (err: unknown) => {
          // Refused by the client (it is closing): keep it for the next connection.
          this.stats.failed++;
          this.log.debug(() => `publish ${msg.topic} failed (${(err as Error).message}); queued`);
          this.#queue(msg);
        },
      );
      return;
    }
    this.#queue(msg);
  }

  /**
   * Hands the outbox to the client in order while connected, one batch at a time (the next batch
   * waits for the acknowledgements of a full one, which bounds memory); returns once every row has
   * been handed over, after which new messages go straight to the client again.
   */
  async drain(): Promise<void> {
    if (this.#draining) return;
    this.#draining = true;
    let handed = 0;
    try {
      while (this.link.connected) {
        const batch = this.outbox.peek(this.batch, this.#handed);
        if (!batch.length) {
          this.#unsent = false;
          break;
        }
        this.#handed = batch[batch.length - 1].id;
        handed += batch.length;
        const acked = Promise.allSettled(batch.map((m) => this.link.publish(m.topic, m.payload, { qos: m.qos, retain: m.retain }))).then(async (results) => {
          const ok = results.filter((r) => r.status === 'fulfilled').length;
          if (ok === results.length) await this.outbox.remove(batch[0].id, batch[batch.length - 1].id, ok);
          else this.stats.failed += results.length - ok; // left in the table: re-sent after a restart
          this.#sent(ok);
        });
        if (batch.length === this.batch) await acked;
      }
    } finally {
      this.#draining = false;
    }
    if (handed) this.log.info(`store and forward: ${handed} queued message(s) handed to the broker, ${this.outbox.count} awaiting acknowledgement`);
  }

  #queue(msg: OutMessage): void {
    this.outbox.add(msg);
    this.#unsent = true;
    this.stats.queued++;
    if (this.link.connected && !this.#draining) this.drain().catch((err: unknown) => this.log.warn(`store and forward: drain failed: ${(err as Error).message}`));
  }

  #sent(n: number): void {
    this.stats.sent += n;
    this.onSent(n);
  }
}
