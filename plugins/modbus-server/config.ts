// The modbus-server configuration: its JSON Schema, defaults for runtimes built without the
// manifest loader, and the checks JSON Schema cannot express (ranges against table sizes).
import type { JsonSchema } from '../../core/schema.ts';
import type { RegisterTableName } from '../../adapters/modbus/register-space.ts';
import { parseAllowList } from '../../adapters/modbus/server/client-allow.ts';

export interface CommandRange {
  table: RegisterTableName;
  /** First address (zero-based). */
  from: number;
  /** Last address, inclusive. */
  to: number;
}

export interface ModbusServerConfig {
  units: number[];
  /**
   * `allowClients`: addresses/CIDR ranges that may connect (empty = any). `converter`: the RS-485/TCP
   * converter that forwards the bus master's requests; the allow-list defaults to it.
   */
  tcp: { enabled: boolean; host: string; port: number; allowClients: string[]; converter?: string };
  rtu: { enabled: boolean; backend: 'auto' | 'ffi' | 'serialport'; path?: string; baudRate: number; parity: 'none' | 'even' | 'odd'; dataBits: 7 | 8; stopBits: 1 | 2 };
  tables: Record<RegisterTableName, number>;
  commandRegisters: CommandRange[];
  persistCommands: boolean;
  staleAfterS: number;
}

export const TABLES: readonly RegisterTableName[] = ['holding', 'input', 'coil', 'discrete'];

const tableSize = (what: string): JsonSchema => ({ type: 'integer', minimum: 1, maximum: 65536, default: 10000, description: `Number of ${what} per unit (addresses 0..size-1).` });

export const configSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    units: {
      type: 'array',
      items: { type: 'integer', minimum: 1, maximum: 247 },
      minItems: 1,
      uniqueItems: true,
      default: [240, 241],
      description: 'Unit (slave) ids answered; requests for other ids get no answer, writes to 0 (broadcast) apply to all.',
    },
    tcp: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        enabled: { type: 'boolean', default: true },
        host: { type: 'string', minLength: 1, default: '127.0.0.1', description: 'Address to listen on; 0.0.0.0 for every interface.' },
        port: { type: 'integer', minimum: 0, maximum: 65535, default: 502, description: '0 picks a free port (tests).' },
        allowClients: {
          type: 'array',
          default: [],
          items: { type: 'string' },
          description: 'Client addresses or CIDR ranges that may connect, e.g. ["10.0.0.5", "192.168.1.0/24"] (an entry may list several, comma-separated, for "${MODBUS_TCP_ALLOW:-}"). Empty: the converter if one is set, else any address. Others are closed at once and logged once per address.',
        },
        converter: { type: 'string', description: 'IP address of the RS-485/TCP converter that forwards the bus master (e.g. the Neasmart base station); the default allow-list. Empty: none.' },
      },
    },
    rtu: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        enabled: { type: 'boolean', default: false, description: 'Serve Modbus RTU on a serial line (Node and Deno; see backend).' },
        backend: {
          enum: ['auto', 'ffi', 'serialport'], default: 'auto',
          description: 'How the serial line is opened: "ffi" through libc (koffi on Node, Deno.dlopen on Deno; no native addon), "serialport" through the native serialport module (Node only), "auto" the first of these that loads.',
        },
        path: { type: 'string', minLength: 1, description: 'Serial device, e.g. /dev/ttyUSB0 (an RS-485 adapter).' },
        baudRate: { type: 'integer', minimum: 300, maximum: 921600, default: 38400 },
        parity: { enum: ['none', 'even', 'odd'], default: 'none' },
        dataBits: { enum: [7, 8], default: 8 },
        stopBits: { enum: [1, 2], default: 1 },
      },
    },
    tables: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: { holding: tableSize('holding registers'), input: tableSize('input registers'), coil: tableSize('coils'), discrete: tableSize('discrete inputs') },
    },
    commandRegisters: {
      type: 'array',
      default: [],
      description: 'Ranges zeroed at every start (commands must not replay after a power cut) unless persistCommands is true.',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['table', 'from', 'to'],
        properties: {
          table: { enum: ['holding', 'input', 'coil', 'discrete'] },
          from: { type: 'integer', minimum: 0, maximum: 65535 },
          to: { type: 'integer', minimum: 0, maximum: 65535, description: 'Inclusive.' },
        },
      },
    },
    persistCommands: { type: 'boolean', default: false, description: 'Keep command registers across restarts.' },
    staleAfterS: { type: 'number', exclusiveMinimum: 0, default: 180, description: 'The registers count as stale after this long without a request from a master.' },
  },
};

/** Fills defaults the way the manifest loader does, for runtimes built directly (tests, embedding). */
export function withDefaults(config: Partial<ModbusServerConfig> = {}): ModbusServerConfig {
  const t: Partial<ModbusServerConfig['tables']> = config.tables ?? {};
  return {
    units: config.units ?? [240, 241],
    tcp: { enabled: true, host: '127.0.0.1', port: 502, allowClients: [], ...config.tcp },
    rtu: { enabled: false, backend: 'auto', baudRate: 38400, parity: 'none', dataBits: 8, stopBits: 1, ...config.rtu },
    tables: { holding: t.holding ?? 10000, input: t.input ?? 10000, coil: t.coil ?? 10000, discrete: t.discrete ?? 10000 },
    commandRegisters: config.commandRegisters ?? [],
    persistCommands: config.persistCommands ?? false,
    staleAfterS: config.staleAfterS ?? 180,
  };
}

/** `path: message` for what the schema cannot say. */
export function checkConfig(partial: Partial<ModbusServerConfig>): string[] {
  const config = withDefaults(partial);
  const issues: string[] = [];
  if (config.rtu.enabled && !config.rtu.path) issues.push('rtu.path: required when rtu.enabled is true (e.g. /dev/ttyUSB0)');
  try {
    parseAllowList(config.tcp.allowClients, 'tcp.allowClients');
    if (config.tcp.converter) parseAllowList([config.tcp.converter], 'tcp.converter');
  } catch (err) {
    issues.push((err as Error).message);
  }
  config.commandRegisters.forEach((r, i) => {
    const size = config.tables[r.table];
    if (r.to < r.from) issues.push(`commandRegisters[${i}].to: ${r.to} is below from (${r.from})`);
    if (r.to >= size) issues.push(`commandRegisters[${i}].to: ${r.to} is outside the ${r.table} table (0..${size - 1})`);
  });
  if (new Set(config.units).size !== config.units.length) issues.push('units: a unit id is listed twice');
  return issues;
}
