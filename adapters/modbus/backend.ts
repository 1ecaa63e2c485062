// Chooses the Modbus client for a link: TCP always through modbus-serial; RTU through our own master
// on the libc FFI serial line where libc FFI loads (koffi on Node, Deno.dlopen on Deno), else through
// modbus-serial and the native serialport addon (Node only). `fieldgate doctor` asks the same question.
import type { Clock } from '../../core/clock.ts';
import type { ModbusLinkOptions } from './client.ts';
import type { ModbusClient } from './types.ts';

export type ModbusBackend = 'auto' | 'ffi' | 'serialport';

export async function createModbusClient(options: ModbusLinkOptions & { backend?: ModbusBackend }, clock: Clock): Promise<ModbusClient> {
  const backend = options.backend ?? 'auto';
  if (options.transport === 'tcp' || backend === 'serialport') return serialport(options, clock);
  const ffiError = await (await import('../ffi/libc.ts')).libcLoadError();
  if (ffiError === undefined) {
    const [{ RtuModbusClient }, { FfiSerialPort }, { POLL_INTERVAL_MS }] = await Promise.all([
      import('./rtu-client.ts'),
      import('../serial/ffi-serial.ts'),
      import('../ffi/poller.ts'),
    ]);
    return new RtuModbusClient({
      path: options.path!,
      baudRate: options.baudRate ?? 9600,
      parity: options.parity ?? 'none',
      dataBits: options.dataBits ?? 8,
      stopBits: options.stopBits ?? 1,
      timeoutMs: options.timeoutMs ?? 1000,
      onReplyLimit: options.onReplyLimit,
      rxLatencyMs: POLL_INTERVAL_MS,
      openLine: (path, line, onLost) => FfiSerialPort.open(path, line, onLost),
    }, clock);
  }
  const where = `modbus rtu ${options.path}`;
  if (backend === 'ffi') throw new Error(`${where}: backend "ffi": ${ffiError.message}`, { cause: ffiError });
  try {
    return await serialport(options, clock);
  } catch (err) {
    throw new Error(`${(err as Error).message} (the FFI backend did not load either: ${ffiError.message})`, { cause: err });
  }
}

async function serialport(options: ModbusLinkOptions, clock: Clock): Promise<ModbusClient> {
  const { requireNodeFor } = await import('../../core/runtime-info.ts');
  if (options.transport === 'rtu') requireNodeFor(`modbus rtu ${options.path} (backend "serialport")`, 'serialport');
  const { SerialModbusClient } = await import('./client.ts');
  return new SerialModbusClient(options, clock);
}
