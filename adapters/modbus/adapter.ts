// Adapter kind `modbus`: one Modbus link (TCP, or RTU over a serial port) shared by the plugins
// bound to it. The simulator is the device its profile describes (default: the lab's NJ301) on
// loopback, and the adapter hands back the real client connected to it, so the code under test is
// the production client.
import { profileSchema } from '../../sim/profiles/schema.ts';
import { defineAdapter } from '../../core/plugin.ts';
import { peerLimitCounter } from '../../core/peer-limits.ts';
import type { ModbusBackend } from './backend.ts';
import type { ModbusLinkOptions } from './client.ts';
import type { ModbusClient } from './types.ts';

export interface ModbusSimOptions {
  /** Simulator port on 127.0.0.1; 0 = any free port (the real lab uses 1502). */
  port: number;
  unit: number;
  /** Process seconds per clock second of the shared lab plant. */
  timeScale: number;
  /** PLC task period. */
  taskMs: number;
  /** Name of the shared plant in the sim world (`plant:<name>`). */
  plant: string;
  /** Device profile: built-in name, path to a profile file, or inline (sim/profiles). Default `nj301`. */
  profile?: string | Record<string, unknown>;
}

export type ModbusAdapterOptions = Required<Pick<ModbusLinkOptions, 'transport' | 'port' | 'timeoutMs' | 'baudRate' | 'parity' | 'dataBits' | 'stopBits'>> &
  Pick<ModbusLinkOptions, 'host' | 'path'> & { backend?: ModbusBackend; sim: ModbusSimOptions };

export default defineAdapter<ModbusAdapterOptions, ModbusClient>({
  kind: 'modbus',
  description: 'A Modbus link (TCP or RTU) to one or more devices; the simulator plays a device profile on loopback (default: the lab\'s Omron NJ301).',
  optionsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      transport: { enum: ['tcp', 'rtu'], default: 'tcp', description: 'Modbus TCP, or RTU over a serial port.' },
      host: { type: 'string', minLength: 1, description: 'TCP: the device address.' },
      port: { type: 'integer', minimum: 1, maximum: 65535, default: 502, description: 'TCP port.' },
      path: { type: 'string', minLength: 1, description: 'RTU: serial device, e.g. /dev/ttyUSB0.' },
      baudRate: { type: 'integer', minimum: 300, maximum: 921600, default: 9600 },
      parity: { enum: ['none', 'even', 'odd'], default: 'none' },
      dataBits: { enum: [7, 8], default: 8 },
      stopBits: { enum: [1, 2], default: 1 },
      backend: {
        enum: ['auto', 'ffi', 'serialport'],
        default: 'auto',
        description: 'RTU only. ffi: fieldgate\'s RTU master on a serial line opened through libc (koffi on Node, Deno.dlopen on Deno; Linux, nothing to compile); ' +
          'serialport: modbus-serial with the native serialport addon (Node only); auto: ffi where libc loads, else serialport.',
      },
      timeoutMs: { type: 'integer', minimum: 10, maximum: 60000, default: 1000, description: 'Deadline of each request (and of connecting).' },
      sim: {
        type: 'object',
        additionalProperties: false,
        default: {},
        description: 'The simulated device (driver "sim"): a profile, by default the lab\'s NJ301.',
        properties: {
          port: { type: 'integer', minimum: 0, maximum: 65535, default: 0, description: 'Loopback port; 0 = any free port.' },
          unit: { type: 'integer', minimum: 0, maximum: 255, default: 1 },
          timeScale: { type: 'number', exclusiveMinimum: 0, default: 1, description: 'Process seconds per clock second of the lab plant.' },
          taskMs: { type: 'integer', minimum: 1, default: 40, description: 'PLC task period.' },
          plant: { type: 'string', minLength: 1, default: 'lab', description: 'Shared plant name in the simulator world.' },
          profile: {
            // An inline profile is checked by `fieldgate validate` with paths; a named or file profile when the simulator starts.
            if: { type: 'object' },
            then: profileSchema,
            else: { type: 'string', minLength: 1 },
            description: 'Device profile: a built-in name (nj301, modbus-memory), a path to a profile JSON file (relative to the working directory), ' +
              'or an inline profile; see docs/simulators.md. Default nj301. Files are checked when the simulator starts.',
          },
        },
      },
    },
  },
  async real(options, ctx) {
    // Checked here, not in the schema: the simulator needs no address, and the schema cannot see the driver.
    if (options.transport === 'tcp' && !options.host) throw new Error(`modbus adapter "${ctx.id}": options.host is required for transport "tcp"`);
    if (options.transport === 'rtu' && !options.path) throw new Error(`modbus adapter "${ctx.id}": options.path (e.g. /dev/ttyUSB0) is required for transport "rtu"`);
    const { createModbusClient } = await import('./backend.ts');
    const limit = peerLimitCounter(ctx.metrics);
    const client = await createModbusClient({ ...options, onReplyLimit: () => limit(ctx.id) }, ctx.clock).catch((err: Error) => {
      throw new Error(`modbus adapter "${ctx.id}": ${err.message}`, { cause: err });
    });
    // Not awaited: a device that is down at start must not keep the gateway from starting;
    // the plugins see the link as disconnected and retry.
    void client.connect().catch((err: unknown) => ctx.log.debug(() => `first connect failed: ${String(err)}`));
    return { instance: client, close: () => client.close() };
  },
  async sim(options, ctx) {
    const { startModbusSim } = await import('../../sim/profiles/modbus-sim.ts');
    const device = await startModbusSim(ctx, options.sim);
    const limit = peerLimitCounter(ctx.metrics);
    if (options.transport === 'rtu') {
      // The manifest's RTU master on a simulated line at the manifest's baud rate (on the runtime
      // clock): the same RTU master as on a device, so framing, silence and timeouts are exercised.
      const [{ RtuModbusClient }, { serialPair }] = await Promise.all([import('./rtu-client.ts'), import('../../sim/serial-pair.ts')]);
      const line = { baudRate: options.baudRate, parity: options.parity, dataBits: options.dataBits, stopBits: options.stopBits };
      const [deviceEnd, gatewayEnd] = serialPair(ctx.clock, line, ['device', 'gateway']);
      device.serveRtu(deviceEnd, options.baudRate);
      ctx.log.info(`${device.label} on a simulated RTU line at ${options.baudRate} baud (and on ${device.host}:${device.port})`);
      const client = new RtuModbusClient({
        ...line, path: `sim:${ctx.id}`, timeoutMs: options.timeoutMs, onReplyLimit: () => limit(ctx.id),
        openLine: () => Promise.resolve(gatewayEnd.open()),
      }, ctx.clock);
      return { instance: client, close: () => client.close() };
    }
    const { SerialModbusClient } = await import('./client.ts');
    ctx.log.info(`${device.label} listening on ${device.host}:${device.port}`);
    const client = new SerialModbusClient({ ...options, transport: 'tcp', host: device.host, port: device.port, onReplyLimit: () => limit(ctx.id) }, ctx.clock);
    return { instance: client, close: () => client.close() };
  },
});
