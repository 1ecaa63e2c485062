// Byte limits on what peers send: one error type naming the peer and the limit, and the one
// counter (`fieldgate_peer_reply_oversize_total{peer}`) every client reports to.
import type { MetricsRegistry } from './metrics.ts';

export const PEER_LIMIT_METRIC = 'fieldgate_peer_reply_oversize_total';

/** A peer sent more than a client reads from it: the read was abandoned (and the link closed). */
export class PeerLimitError extends Error {
  override name = 'PeerLimitError';
  /**
   * @param peer who sent it, as the operator knows it (`modbus tcp 10.0.0.5:502`, `redis 127.0.0.1:6379`)
   * @param limit the limit in bytes
   * @param what what went over it (`reply frame of 65535 bytes`)
   */
  constructor(readonly peer: string, readonly limit: number, what: string, options?: ErrorOptions) {
    super(`${peer}: ${what} is over the ${limit}-byte limit; refused and the link closed`, options);
  }
}

/**
 * A function that counts one limit exceeded for `peer`: the id of the adapter or plugin that
 * talks to it, as the manifest names it (bounded cardinality; never a value a peer chooses).
 */
export function peerLimitCounter(metrics: MetricsRegistry | undefined): (peer: string) => void {
  // Adapters built outside a runtime (tests, tools) may have no registry: count nothing then.
  if (!metrics) return () => {};
  const counter = metrics.counter(PEER_LIMIT_METRIC, 'Peer replies refused for exceeding their byte limit', ['peer']);
  return (peer) => counter.inc({ peer });
}
