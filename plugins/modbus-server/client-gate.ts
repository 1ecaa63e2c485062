// The Modbus TCP client allow-list of a modbus-server: which list applies (allowClients, else the
// RS-485/TCP converter, else anyone), the refusal log (once per address) and its counter.
import type { Logger } from '../../core/log.ts';
import type { MetricsRegistry } from '../../core/metrics.ts';
import { type ClientAllowList, parseAllowList } from '../../adapters/modbus/server/client-allow.ts';
import type { ModbusServerConfig } from './config.ts';

/** Distinct refused addresses logged; a scan of a whole subnet must not grow the set (or the log) without end. */
const MAX_LOGGED = 256;

export interface ClientGate {
  list: ClientAllowList;
  /** Where the list came from, for the start-up log line. */
  source: 'allowClients' | 'converter' | 'none';
  allowClient(address: string | undefined): boolean;
  onRefused(address: string | undefined): void;
}

export function clientGate(tcp: ModbusServerConfig['tcp'], deps: { log: Logger; metrics: MetricsRegistry }): ClientGate {
  const explicit = parseAllowList(tcp.allowClients, 'tcp.allowClients');
  const source = !explicit.open ? 'allowClients' : tcp.converter ? 'converter' : 'none';
  const list = source === 'converter' ? parseAllowList([tcp.converter!], 'tcp.converter') : explicit;
  const refused = deps.metrics.counter('modbus_server_clients_refused_total', 'Modbus TCP connections closed because the client address is not in tcp.allowClients');
  const logged = new Set<string>();
  return {
    list,
    source,
    allowClient: (address) => list.allows(address),
    onRefused(address) {
      refused.inc();
      const who = address ?? 'an unknown address';
      if (logged.has(who) || logged.size > MAX_LOGGED) return;
      logged.add(who);
      const why = source === 'converter' ? `not the RS-485/TCP converter (tcp.converter ${list.description})` : `not in tcp.allowClients (${list.description})`;
      const more = logged.size > MAX_LOGGED ? `; more than ${MAX_LOGGED} addresses refused, further ones are only counted` : '; further attempts from it are only counted';
      deps.log.warn(`tcp: refused a Modbus connection from ${who}: ${why}${more} (modbus_server_clients_refused_total)`);
    },
  };
}
