// The batch-plc configuration: which odoo-sync queue it works, which protocol reaches the mixing PLC,
// and the link's timing, state keys, backoff and circuit breaker.
import type { JsonSchema } from '../../core/schema.ts';

export type PlcProtocol = 'fins' | 'modbus';

export interface BatchPlcConfig {
  /** Id of the odoo-sync plugin whose mo_batch queue this link works. */
  queue: string;
  protocol: PlcProtocol;
  pollMs: number;
  /** Modbus map: holding register of D word `d` = base + (d - 7000); unit id. */
  modbus: { unit: number; base: number };
  staleAfterS: number;
  connectedKey: string;
  lastOkKey: string;
  countKey: string;
  circuit: { failureThreshold: number; openMs: number };
  backoff: { initialMs: number; maxMs: number; factor: number; jitter: number };
}

const KEY = { type: 'string', pattern: '^[A-Za-z][A-Za-z0-9_.:-]*$' };

export const configSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['queue'],
  properties: {
    queue: { type: 'string', minLength: 1, description: 'Id of the odoo-sync plugin whose mo_batch queue is sent to the PLC.' },
    protocol: {
      enum: ['fins', 'modbus'],
      default: 'fins',
      description: 'fins: D memory over FINS/UDP (binding "fins"); modbus: the same block layout in holding registers (binding "modbus").',
    },
    pollMs: { type: 'integer', minimum: 50, maximum: 600000, default: 1000, description: 'Period of one cycle (read the queue, load new batches, read their status).' },
    modbus: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description: 'Modbus alternative map (protocol "modbus").',
      properties: {
        unit: { type: 'integer', minimum: 0, maximum: 255, default: 1, description: 'Modbus unit id.' },
        base: {
          type: 'integer',
          minimum: 0,
          maximum: 65535,
          default: 7000,
          description: 'Holding register of batch 1 word +0; batch n word +k is base + 100(n-1) + k (7000 = the D numbers).',
        },
      },
    },
    staleAfterS: { type: 'number', exclusiveMinimum: 0, default: 10, description: 'Health calls the PLC link stale when no cycle succeeded for this long.' },
    connectedKey: { ...KEY, default: 'plc_connected', description: 'State key: true while the PLC answers.' },
    lastOkKey: { ...KEY, default: 'plc_last_ok_ts', description: 'State key (epoch s) of the last good cycle; health watches it.' },
    countKey: { ...KEY, default: 'batches_on_plc', description: 'State key: queued batches the PLC holds (loaded, mixing or finished).' },
    circuit: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        failureThreshold: { type: 'integer', minimum: 1, default: 3 },
        openMs: { type: 'integer', minimum: 0, default: 10000 },
      },
    },
    backoff: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        initialMs: { type: 'integer', minimum: 0, default: 1000 },
        maxMs: { type: 'integer', minimum: 0, default: 30000 },
        factor: { type: 'number', minimum: 1, default: 2 },
        jitter: { type: 'number', minimum: 0, maximum: 1, default: 0.2 },
      },
    },
  },
};

/** Checks the schema cannot say, one `path: message` per problem. */
export function checkConfig(config: BatchPlcConfig): string[] {
  const issues: string[] = [];
  if (config.backoff && config.backoff.maxMs < config.backoff.initialMs) issues.push(`backoff.maxMs: must be >= backoff.initialMs (${config.backoff.initialMs})`);
  // The highest D word the layout uses is 32767; over Modbus the same span must fit in 0..65535.
  if (config.protocol === 'modbus' && config.modbus && config.modbus.base + (32767 - 7000) > 65535) {
    issues.push(`modbus.base: ${config.modbus.base} leaves no room for the batch blocks (at most ${65535 - (32767 - 7000)})`);
  }
  return issues;
}
