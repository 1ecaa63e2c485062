// Home Assistant MQTT discovery: one retained `homeassistant/<component>/<node>/<object>/config`
// per entity — Neasmart zones as `climate`, writable numbers as `number`, writable booleans
// (relays) as `switch`, enums as `select`, read-only values as `sensor`/`binary_sensor` with a
// device class and unit guessed from the key (overridable) — all sharing one device and the
// gateway's availability topic, which the MQTT will turns to `offline` when the gateway dies.
import type { Manifest } from '../../core/manifest/types.ts';
import type { JsonSchema } from '../../core/schema.ts';
import type { StateStore } from '../../core/store/types.ts';
import { STATE_NAMES } from '../neasmart/registers.ts';
import type { MqttConfig } from './config.ts';
import type { KeySelection } from './select.ts';
import { topicSafe } from './select.ts';

export interface Discovery {
  topic: string;
  payload: string;
}

export interface DiscoveryInput {
  config: MqttConfig;
  manifest: Manifest | null;
  schemas: Record<string, JsonSchema>;
  store: StateStore;
  selection: KeySelection;
  version: string;
}

/** A zone write topic: `<prefix>/neasmart/<plugin>/zones/<base>/<zone>/<setpoint|state>/set`. */
export const ZONE_SET = /^neasmart\/([^/]+)\/zones\/(\d+)\/(\d+)\/(setpoint|state)\/set$/;

/** Values are JSON on the wire: strings lose their quotes, and null renders None (HA: unknown). */
const VALUE = '{{ value_json }}';

interface Guess {
  device_class?: string;
  unit_of_measurement?: string;
  state_class?: string;
}

// By key name (CAN sensors, lab keys): what a plant operator would pick in Home Assistant.
const GUESSES: Array<[RegExp, Guess]> = [
  [/co2/i, { device_class: 'carbon_dioxide', unit_of_measurement: 'ppm', state_class: 'measurement' }],
  [/vpd/i, { device_class: 'pressure', unit_of_measurement: 'kPa', state_class: 'measurement' }],
  [/pressure/i, { device_class: 'atmospheric_pressure', unit_of_measurement: 'hPa', state_class: 'measurement' }],
  [/(^|[_:])rh(_|$)|humidity/i, { device_class: 'humidity', unit_of_measurement: '%', state_class: 'measurement' }],
  [/temp|bulb/i, { device_class: 'temperature', unit_of_measurement: '°C', state_class: 'measurement' }],
  [/power_kw|_kw$/i, { device_class: 'power', unit_of_measurement: 'kW', state_class: 'measurement' }],
  [/(^|_)mv$/i, { unit_of_measurement: '%', state_class: 'measurement' }],
];

export function discoveryMessages(input: DiscoveryInput): Discovery[] {
  const { config, manifest, schemas, store, selection } = input;
  const ha = config.homeassistant;
  const node = ha.nodeId;
  const prefix = config.prefix;
  const device = {
    identifiers: [`fieldgate_${node}`],
    name: manifest?.name ?? node,
    manufacturer: 'fieldgate',
    model: manifest?.description?.slice(0, 120) ?? 'fieldgate gateway',
    sw_version: input.version,
  };
  const common = { availability_topic: `${prefix}/status`, payload_available: 'online', payload_not_available: 'offline', device };
  const out: Discovery[] = [];
  const add = (component: string, object: string, body: Record<string, unknown>): void => {
    const objectId = object.replace(/[^A-Za-z0-9_-]/g, '_');
    out.push({ topic: `${ha.prefix}/${component}/${node}/${objectId}/config`, payload: JSON.stringify({ ...body, unique_id: `${node}_${objectId}`, object_id: `${node}_${objectId}`, ...common }) });
  };

  // Neasmart zones → climate.
  for (const p of manifest?.plugins ?? []) {
    if (p.use !== 'neasmart' || p.enabled === false) continue;
    const c = p.config as { zones?: Array<{ base: number; zone: number; label?: string }>; setpointRange?: { min?: number; max?: number } };
    for (const z of c.zones ?? []) {
      const base = `${prefix}/neasmart/${p.id}/zones/${z.base}/${z.zone}`;
      const stateTopic = `${prefix}/bus/neasmart/${p.id}/zones/${z.base}/${z.zone}`;
      add('climate', `${p.id}_zone_${z.base}_${z.zone}`, {
        name: z.label ?? `Zone ${z.base}/${z.zone}`,
        modes: ['heat'],
        temperature_unit: 'C',
        precision: 0.1,
        temp_step: 0.5,
        min_temp: c.setpointRange?.min ?? 5,
        max_temp: c.setpointRange?.max ?? 35,
        current_temperature_topic: stateTopic,
        current_temperature_template: '{{ value_json.value.temperature }}',
        current_humidity_topic: stateTopic,
        current_humidity_template: '{{ value_json.value.relative_humidity }}',
        temperature_state_topic: stateTopic,
        temperature_state_template: '{{ value_json.value.setpoint }}',
        temperature_command_topic: `${base}/setpoint/set`,
        preset_modes: Object.values(STATE_NAMES),
        preset_mode_state_topic: stateTopic,
        preset_mode_value_template: '{{ value_json.value.state_name }}',
        preset_mode_command_topic: `${base}/state/set`,
      });
    }
  }

  // State keys: writable ones by their schema, published ones by their value.
  const keys = new Set<string>([...Object.keys(schemas), ...Object.keys(store.getAll()), ...canSensorKeys(manifest), ...exactKeys(config)]);
  for (const key of [...keys].sort()) {
    if (!selection.match(key)) continue;
    const schema = schemas[key] as { type?: string; minimum?: number; maximum?: number; exclusiveMinimum?: number; enum?: unknown[]; description?: string } | undefined;
    const state = `${prefix}/${topicSafe(key)}`;
    const name = key;
    const unit = schema?.description ? /\(([^)]{1,8})\)\s*$/.exec(schema.description)?.[1] : undefined;
    const guess = { ...guessFor(key), ...(unit ? { unit_of_measurement: unit } : {}), ...ha.entities[key] };
    if (schema) {
      const command = `${state}/set`;
      if (schema.type === 'boolean') {
        add('switch', key, { name, state_topic: state, command_topic: command, payload_on: 'true', payload_off: 'false', state_on: 'true', state_off: 'false' });
      } else if (schema.enum) {
        add('select', key, { name, state_topic: state, command_topic: command, options: schema.enum.map((v) => JSON.stringify(v)) });
      } else if (schema.type === 'number' || schema.type === 'integer') {
        add('number', key, {
          name, state_topic: state, command_topic: command, mode: 'box',
          min: schema.minimum ?? schema.exclusiveMinimum ?? -1e9, max: schema.maximum ?? 1e9, step: schema.type === 'integer' ? 1 : 0.1,
          ...(guess.unit_of_measurement ? { unit_of_measurement: guess.unit_of_measurement } : {}),
          ...(guess.device_class === 'temperature' ? { device_class: 'temperature' } : {}),
        });
      } else {
        add('text', key, { name, state_topic: state, command_topic: command, value_template: VALUE, command_template: '{{ value | tojson }}' });
      }
      continue;
    }
    const value = store.get(key);
    if (typeof value === 'boolean') {
      add('binary_sensor', key, { name, state_topic: state, payload_on: 'true', payload_off: 'false' });
    } else {
      add('sensor', key, { name, state_topic: state, value_template: VALUE, ...guess });
    }
  }
  return out;
}

function guessFor(key: string): Guess {
  for (const [re, g] of GUESSES) if (re.test(key)) return g;
  return {};
}

function canSensorKeys(manifest: Manifest | null): string[] {
  const out: string[] = [];
  for (const p of manifest?.plugins ?? []) {
    if (p.use !== 'can-decoder' || p.enabled === false) continue;
    for (const s of (p.config as { sensors?: Array<{ name: string }> }).sensors ?? []) out.push(`sensor:${s.name}`);
  }
  return out;
}

function exactKeys(config: MqttConfig): string[] {
  return config.publish.keys.map((k) => (typeof k === 'string' ? k : k.key)).filter((k) => !k.endsWith('*'));
}
