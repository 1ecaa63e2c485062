// Opens the serial line for Modbus RTU with the native serialport module, loaded only when RTU is
// enabled (it is a Node addon: Deno refuses it, see core/runtime-info.ts).
import { requireNodeFor } from '../../core/runtime-info.ts';
import type { SerialLink } from '../../adapters/modbus/server/rtu.ts';
import type { ModbusServerConfig } from './config.ts';

export interface OpenSerial extends SerialLink {
  close(): Promise<void>;
}

export async function openSerial(id: string, rtu: ModbusServerConfig['rtu'], onLost: (err: Error) => void): Promise<OpenSerial> {
  const where = `modbus-server "${id}": RTU on ${rtu.path}`;
  requireNodeFor(where, 'serialport');
  const { SerialPort } = await import('serialport');
  const port = new SerialPort({ path: rtu.path!, baudRate: rtu.baudRate, parity: rtu.parity, dataBits: rtu.dataBits, stopBits: rtu.stopBits, autoOpen: false });
  await new Promise<void>((resolve, reject) =>
    port.open((err) => (err ? reject(new Error(`${where}: cannot open the port: ${err.message}; check the device path and that this user may use it (group dialout)`, { cause: err })) : resolve())));
  let closing = false;
  port.on('error', (err: Error) => onLost(new Error(`${where}: ${err.message}`, { cause: err })));
  port.on('close', () => {
    if (!closing) onLost(new Error(`${where}: the port closed (adapter unplugged?)`));
  });
  return {
    on: (event, listener) => port.on(event, listener),
    write: (data) => port.write(data),
    close: () => {
      closing = true;
      return new Promise<void>((resolve) => {
        if (!port.isOpen) return resolve();
        port.close(() => resolve());
      });
    },
  };
}
