// The neasmart plugin's configuration: which modbus-server plugin holds the registers, the unit the
// base station addresses, the setpoint range REST accepts, and the zones to list.
import type { JsonSchema } from '../../core/schema.ts';
import { BASES, ZONES } from './registers.ts';

export interface ZoneEntry {
  base: number;
  zone: number;
  label?: string;
}

export interface NeasmartConfig {
  /** Plugin id of the modbus-server whose registers this gateway presents. */
  server: string;
  unit: number;
  setpointRange: { min: number; max: number };
  zones: ZoneEntry[];
  /** Publish decoded zone changes on the bus as `neasmart/<pluginId>/zones/<base>/<zone>`. */
  publishZones: boolean;
}

export const configSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['server'],
  properties: {
    server: { type: 'string', minLength: 1, description: 'Id of the modbus-server plugin that holds the registers (also list it in dependsOn).' },
    unit: { type: 'integer', minimum: 1, maximum: 247, default: 240, description: 'Slave id the Neasmart base station polls (240; a second gateway is 241).' },
    setpointRange: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description: 'Setpoints POST /zones/<base>/<zone> accepts, in °C.',
      properties: {
        min: { type: 'number', default: 5 },
        max: { type: 'number', default: 35 },
      },
    },
    zones: {
      type: 'array',
      default: [],
      description: 'Zones listed by GET /api/v1/zones (every zone stays reachable at /zones/<base>/<zone>).',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['base', 'zone'],
        properties: {
          base: { type: 'integer', minimum: BASES.min, maximum: BASES.max },
          zone: { type: 'integer', minimum: ZONES.min, maximum: ZONES.max },
          label: { type: 'string', minLength: 1 },
        },
      },
    },
    publishZones: { type: 'boolean', default: true, description: 'Publish decoded zone values on the bus (and so on the WebSocket) when their registers change.' },
  },
};

/** What the schema cannot say, one `path: message` line per problem. */
export function checkConfig(config: NeasmartConfig): string[] {
  const issues: string[] = [];
  if (config.setpointRange.min >= config.setpointRange.max) {
    issues.push(`setpointRange.max: must be above setpointRange.min (${config.setpointRange.min})`);
  }
  const seen = new Map<string, number>();
  config.zones.forEach((z, i) => {
    const key = `${z.base}/${z.zone}`;
    const first = seen.get(key);
    if (first !== undefined) issues.push(`zones[${i}]: zone ${key} is already listed at zones[${first}]`);
    else seen.set(key, i);
  });
  return issues;
}
