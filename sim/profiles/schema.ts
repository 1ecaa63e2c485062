// The JSON Schema of a device profile (sim/profiles/types.ts); defaults fill in what a profile leaves out.
import type { JsonSchema } from '../../core/schema.ts';
import { FINS_ADDRESS_PATTERN } from '../../adapters/fins/address.ts';

const NAME = '^[A-Za-z_][A-Za-z0-9_]*$';

const behaviourSchema: JsonSchema = {
  type: 'object',
  required: ['kind'],
  properties: {
    kind: { enum: ['constant', 'ramp', 'sine', 'random-walk', 'counter', 'echo', 'formula'], description: 'How the value moves.' },
  },
  allOf: [
    kindIs('constant', {}, []),
    kindIs('ramp', { rate: { type: 'number', description: 'Units per second.' }, min: { type: 'number' }, max: { type: 'number' }, wrap: { type: 'boolean', default: true } }, ['rate']),
    kindIs('sine', { amplitude: { type: 'number' }, periodS: { type: 'number', exclusiveMinimum: 0 }, phaseDeg: { type: 'number', default: 0 } }, ['amplitude', 'periodS']),
    kindIs('random-walk', { step: { type: 'number', minimum: 0 }, min: { type: 'number' }, max: { type: 'number' }, seed: { type: 'integer' } }, ['step']),
    kindIs('counter', { rate: { type: ['number', 'string'], description: 'Units per second, or a formula.' }, wrapAt: { type: 'number', exclusiveMinimum: 0 } }, ['rate']),
    kindIs('echo', { of: { type: 'string', pattern: NAME, description: 'Mirror this point instead of holding writes.' } }, []),
    kindIs('formula', { expr: { type: 'string', minLength: 1, maxLength: 2000 } }, ['expr']),
  ],
};

function kindIs(kind: string, properties: Record<string, JsonSchema>, required: string[]): JsonSchema {
  return {
    if: { properties: { kind: { const: kind } }, required: ['kind'] },
    then: { properties: { kind: { const: kind }, ...properties }, required, additionalProperties: false },
  };
}

const pointSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: {
    name: { type: 'string', pattern: NAME, description: 'Point name, used by formulas and fault hooks.' },
    description: { type: 'string' },
    initial: { type: 'number', default: 0, description: 'Engineering value at power-on.' },
    behaviour: { ...behaviourSchema, default: { kind: 'echo' } },
    table: { enum: ['holding', 'input', 'coil', 'discrete'], description: 'Modbus table.' },
    address: { type: 'integer', minimum: 0, maximum: 65535, description: 'Modbus zero-based address.' },
    type: { enum: ['bool', 'int16', 'uint16', 'int32', 'uint32', 'float32'], description: 'Modbus value type; default bool for bits, uint16 for registers.' },
    wordOrder: { enum: ['big', 'little'], default: 'big', description: '32-bit types: big = high word first.' },
    scale: { type: 'number', not: { const: 0 }, default: 1, description: 'value = raw * scale.' },
    field: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)*$', description: 'HTTP: dotted path in the JSON document.' },
    writable: { type: 'boolean', description: 'HTTP: whether a POST may set it (default: echo points only).' },
    s7: { type: 'string', minLength: 2, description: 'S7: address in S7 syntax (DB1,REAL0, I0.0, MW4); its type gives the encoding.' },
    fins: { type: 'string', pattern: FINS_ADDRESS_PATTERN, description: 'FINS: Omron address (D100, DM100, CIO10, W3, H5, A500; bits W3.04); type, wordOrder and scale as for Modbus.' },
    signal: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)?$', description: 'CAN: the DBC signal this point drives, Message.Signal (or Signal when unique).' },
  },
};

export const profileSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'protocol'],
  properties: {
    $schema: { type: 'string' },
    name: { type: 'string', minLength: 1 },
    description: { type: 'string' },
    protocol: { enum: ['modbus', 'http', 's7', 'fins', 'can'] },
    behaviour: { type: 'string', minLength: 1, description: 'A named behaviour (plant model in code) instead of points.' },
    options: { type: 'object', description: 'Options of the named behaviour.' },
    tickMs: { type: 'integer', minimum: 10, maximum: 3600000, default: 100 },
    seed: { type: 'integer', default: 1 },
    powerCycle: {
      type: 'object', additionalProperties: false, default: {},
      properties: { memory: { enum: ['initial', 'zero'], default: 'initial', description: 'What memory holds after a power cycle.' } },
    },
    points: { type: 'array', items: pointSchema, maxItems: 4096, default: [] },
    modbus: {
      type: 'object', additionalProperties: false, default: {},
      properties: {
        sizes: {
          type: 'object', additionalProperties: false, default: {},
          properties: Object.fromEntries(['holding', 'input', 'coil', 'discrete'].map((t) => [t, { type: 'integer', minimum: 1, maximum: 65536, default: 1024 }])),
        },
        exceptions: {
          type: 'array', default: [],
          description: 'Addresses that always answer with an exception code (a gap in the map, a register the device refuses).',
          items: {
            type: 'object', additionalProperties: false, required: ['address', 'code'],
            properties: {
              table: { enum: ['holding', 'input', 'coil', 'discrete'] },
              address: { type: 'integer', minimum: 0, maximum: 65535 },
              count: { type: 'integer', minimum: 1, maximum: 65536, default: 1 },
              code: { type: 'integer', minimum: 1, maximum: 255 },
            },
          },
        },
      },
    },
    http: {
      type: 'object', additionalProperties: false, default: {},
      properties: {
        path: { type: 'string', pattern: '^/', default: '/', description: 'Where the JSON document is served (GET) and written (POST).' },
        errors: {
          type: 'array', default: [],
          items: { type: 'object', additionalProperties: false, required: ['path', 'status'], properties: { path: { type: 'string', pattern: '^/' }, status: { type: 'integer', minimum: 400, maximum: 599 } } },
        },
      },
    },
    s7: {
      type: 'object', additionalProperties: false, default: {},
      properties: {
        dbs: {
          type: 'object', default: {}, additionalProperties: false,
          patternProperties: { '^[0-9]+$': { type: 'integer', minimum: 1, maximum: 65536 } },
          description: 'Data blocks by number with their size in bytes; grown to hold every point.',
        },
      },
    },
    can: {
      type: 'object', additionalProperties: false, default: {},
      properties: {
        dbc: { type: 'string', default: '', description: 'The DBC file the device plays (required for protocol "can"); relative paths start at the working directory, then the fieldgate install.' },
        defaultCycleMs: { type: 'integer', minimum: 0, maximum: 3600000, default: 1000, description: 'Period of messages with no cycle time here or in the DBC; 0 = not sent.' },
        messages: {
          type: 'object', default: {},
          description: 'Settings by message name; messages not named keep their DBC cycle time.',
          additionalProperties: {
            type: 'object', additionalProperties: false,
            properties: {
              cycleMs: { type: 'integer', minimum: 0, maximum: 3600000, description: 'Period in ms (default GenMsgCycleTime); 0 = not sent.' },
              silent: { type: 'boolean', default: false, description: 'Never sent: the box is unplugged.' },
              faults: {
                type: 'array', default: [], maxItems: 64,
                items: {
                  type: 'object', additionalProperties: false, required: ['kind', 'atS'],
                  properties: {
                    kind: { enum: ['silent', 'bus-off'], description: 'silent: the message stops (box offline); bus-off: the box drives the bus into bus-off.' },
                    atS: { type: 'number', minimum: 0, description: 'Seconds after power-on.' },
                    forS: { type: 'number', exclusiveMinimum: 0, description: 'How long; absent = until a power cycle or recover.' },
                  },
                },
              },
            },
          },
        },
      },
    },
  },
};

/** The schema as published in schema/sim-profile.schema.json for editors (`"$schema"` in a profile file). */
export function publishedProfileSchema(): JsonSchema {
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: 'https://fieldgate.dev/schema/sim-profile.schema.json',
    title: 'fieldgate device profile',
    description: 'A simulated device for --sim: points with initial values and behaviours, standing faults, power-cycle memory. See docs/simulators.md.',
    ...profileSchema,
  };
}
