// The gateway/PLC sequence handshake (the lab's gw_tx_seq HR 0 / ack_seq HR 100): the gateway
// writes a new sequence number with each PV sample, the PLC program copies it to its ack register.
// A PLC that stops copying has stopped its program; a sequence that stops moving tells the PLC that
// the gateway (or its sensor) is gone, so there is deliberately no keep-alive of its own.
import type { Logger } from '../../core/log.ts';
import type { HandshakeConfig, TagConfig } from './config.ts';

/** Internal keys of the two registers (never valid state keys, so they cannot clash with the map). */
export const SEQ_KEY = '#gw_tx_seq';
export const ACK_KEY = '#ack_seq';

export class Handshake {
  readonly seqTag: TagConfig;
  readonly ackTag: TagConfig;
  readonly #config: HandshakeConfig;
  readonly #keys: Set<string>;
  readonly #log: Logger;
  readonly #prefix: string;
  #seq = 0;
  #unackedSince: number | null = null;
  #lastAck: number | null = null;
  #warned = false;

  constructor(options: { config: HandshakeConfig; map: readonly TagConfig[]; log: Logger; prefix: string; isGatewayWriteOnly: (t: TagConfig) => boolean }) {
    const { config, map } = options;
    this.#config = config;
    this.#log = options.log;
    this.#prefix = options.prefix;
    this.#keys = new Set(config.keys ?? map.filter(options.isGatewayWriteOnly).map((t) => t.key));
    const base = { table: 'holding', type: 'uint16', wordOrder: 'big', scale: 1, offset: 0, deadband: 0 } as const;
    this.seqTag = { ...base, key: SEQ_KEY, address: config.seqAddress, owner: 'gateway', direction: 'read-write' };
    this.ackTag = { ...base, key: ACK_KEY, address: config.ackAddress, owner: 'plc', direction: 'read' };
  }

  /** Whether a write of these keys carries a new sequence number. */
  carries(keys: Iterable<string>): boolean {
    for (const k of keys) if (this.#keys.has(k)) return true;
    return false;
  }

  /** The next sequence number: 1..65535, never 0, so a register cleared by a restart never looks acknowledged. */
  next(): number {
    this.#seq = this.#seq >= 0xffff ? 1 : this.#seq + 1;
    return this.#seq;
  }

  written(seq: number, now: number): void {
    if (seq === this.#seq && this.#unackedSince === null && this.#lastAck !== seq) this.#unackedSince = now;
  }

  onAck(ack: number, now: number): void {
    this.#lastAck = ack;
    if (ack !== this.#seq) {
      if (this.#unackedSince !== null && !this.#warned && now - this.#unackedSince > this.#config.ackTimeoutS * 1000) {
        this.#warned = true;
        this.#log.warn(`${this.#prefix}: ${this.#stale(now)}; is its program running?`);
      }
      return;
    }
    if (this.#warned) this.#log.info(`${this.#prefix}: the PLC acknowledges the sequence again (ack ${ack})`);
    this.#warned = false;
    this.#unackedSince = null;
  }

  /** A new connection: the acknowledgement clock starts again with the next write. */
  reset(): void {
    this.#unackedSince = null;
    this.#lastAck = null;
  }

  /** For the health check: null while the PLC keeps up, else what is wrong. */
  problem(now: number): string | null {
    if (this.#unackedSince === null || now - this.#unackedSince <= this.#config.ackTimeoutS * 1000) return null;
    return this.#stale(now);
  }

  summary(): string {
    return `sequence ${this.#seq}, ack ${this.#lastAck ?? 'not read yet'}`;
  }

  #stale(now: number): string {
    const s = ((now - (this.#unackedSince ?? now)) / 1000).toFixed(1);
    return `PLC has not acknowledged the gateway sequence for ${s} s (HR ${this.#config.seqAddress} = ${this.#seq}, ack HR ${this.#config.ackAddress} = ${this.#lastAck ?? 'not read'})`;
  }
}
