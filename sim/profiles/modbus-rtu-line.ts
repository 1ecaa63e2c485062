// A simulated Modbus TCP device also answering on an RTU line: the RTU framing of the production
// slave (adapters/modbus/server/rtu.ts) in front of the device's own request handler, so memory and
// faults are shared, and a device that is off the network (not listening) is silent on the line too.
import type { Clock } from '../../core/clock.ts';
import { ModbusRtuServer, type SerialLink } from '../../adapters/modbus/server/rtu.ts';
import type { ModbusTcpServer } from '../modbus-server.ts';

export function serveUnitOnRtu(server: ModbusTcpServer, unit: number, link: SerialLink, baudRate: number, clock: Clock): ModbusRtuServer {
  return new ModbusRtuServer({
    link,
    baudRate,
    clock,
    handle: (u, pdu) => (server.listening && u === unit ? server.handle(u, pdu) : null),
  });
}
