// Opens the serial line for Modbus RTU: through libc FFI (adapters/serial/ffi-serial.ts: koffi on Node,
// Deno.dlopen on Deno) where it loads, else with the native serialport module (Node only); `rtu.backend`
// forces one. The same choice as the Modbus adapter's RTU master. Loaded only when RTU is enabled.
import { requireNodeFor } from '../../core/runtime-info.ts';
import type { SerialLink } from '../../adapters/modbus/server/rtu.ts';
import type { ModbusServerConfig } from './config.ts';

export interface OpenSerial extends SerialLink {
  close(): Promise<void>;
}

export async function openSerial(id: string, rtu: ModbusServerConfig['rtu'], onLost: (err: Error) => void): Promise<OpenSerial> {
  const where = `modbus-server "${id}": RTU on ${rtu.path}`;
  const ffiError = rtu.backend === 'serialport' ? undefined : await (await import('../../adapters/ffi/libc.ts')).libcLoadError();
  if (rtu.backend !== 'serialport' && ffiError === undefined) {
    const { FfiSerialPort } = await import('../../adapters/serial/ffi-serial.ts');
    const port = await FfiSerialPort.open(rtu.path!, rtu, (err) => onLost(new Error(`${where}: ${err.message}`, { cause: err }))).catch((err: Error) => {
      throw new Error(`${where}: ${err.message}`, { cause: err });
    });
    return { on: (event, listener) => port.on(event, listener), write: (data) => port.write(data), close: () => port.close() };
  }
  if (rtu.backend === 'ffi') throw new Error(`${where}: backend "ffi": ${ffiError!.message}`, { cause: ffiError });
  requireNodeFor(`${where} (backend "serialport")`, 'serialport');
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
