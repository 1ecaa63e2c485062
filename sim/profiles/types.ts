// A device profile: the declarative description a generic simulator (Modbus, HTTP JSON, S7, FINS, CAN) plays —
// its points with initial values and behaviours, its standing faults, and what a power cycle keeps.

export type PointType = 'bool' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'float32';
export type ModbusPointTable = 'holding' | 'input' | 'coil' | 'discrete';

export type Behaviour =
  /** Held at `initial`: a write is undone on the next tick (a read-only nameplate value). */
  | { kind: 'constant' }
  /** `initial + rate * t`; at `max` (or `min` for a negative rate) it wraps to the other end, or stays when `wrap` is false. */
  | { kind: 'ramp'; rate: number; min?: number; max?: number; wrap?: boolean }
  /** `initial + amplitude * sin(2π t / periodS + phase)`. */
  | { kind: 'sine'; amplitude: number; periodS: number; phaseDeg?: number }
  /** Each tick a uniform step in ±`step`, kept within [min, max]; the same seed gives the same walk. */
  | { kind: 'random-walk'; step: number; min?: number; max?: number; seed?: number }
  /** Grows by `rate` per second (a number or a formula, e.g. `p_total / 3600000` for kWh from W); wraps to 0 at `wrapAt`. */
  | { kind: 'counter'; rate: number | string; wrapAt?: number }
  /** Holds what was last written; with `of`, mirrors another point (a feedback that follows its command). */
  | { kind: 'echo'; of?: string }
  /** Recomputed each tick from other points and `t`. */
  | { kind: 'formula'; expr: string };

export interface ProfilePoint {
  name: string;
  description?: string;
  /** Engineering value at power-on (default 0). */
  initial: number;
  behaviour: Behaviour;
  /** Modbus: where the point lives; without a table and address it is internal (used by formulas only). */
  table?: ModbusPointTable;
  address?: number;
  type?: PointType;
  wordOrder?: 'big' | 'little';
  /** Modbus: value = raw * scale (as the modbus-bridge reads it). */
  scale?: number;
  /** HTTP: dotted path of the field in the device's JSON (`power.l1`); without it the point is internal. */
  field?: string;
  /** HTTP: whether a POST may set it (default true for echo points, false otherwise). */
  writable?: boolean;
  /** S7: the address in S7 syntax (`DB1,REAL0`, `I0.0`, `MW4`); its type gives the encoding. */
  s7?: string;
  /** FINS: the Omron address (`D100`, `CIO10`, `W3.04`); `type`, `wordOrder` and `scale` as for Modbus. */
  fins?: string;
  /** CAN: the DBC signal this point drives, `Message.Signal` (or `Signal` when its name is unique). */
  signal?: string;
}

/** A CAN message's fault window on the injected clock, from power-on. */
export interface CanFaultWindow {
  /** `silent`: the box stops sending this message (offline); `bus-off`: it drives the bus into bus-off. */
  kind: 'silent' | 'bus-off';
  atS: number;
  /** How long; absent = until a power cycle or recover. */
  forS?: number;
}

export interface CanMessageSettings {
  /** Period in ms; default the DBC's GenMsgCycleTime, else `can.defaultCycleMs`. 0 = not sent. */
  cycleMs?: number;
  /** Never sent: the box is unplugged. */
  silent?: boolean;
  faults?: CanFaultWindow[];
}

export interface ModbusExceptionRule {
  table?: ModbusPointTable;
  address: number;
  /** Registers or bits from `address` (default 1). */
  count: number;
  code: number;
}

export interface Profile {
  name: string;
  description?: string;
  protocol: 'modbus' | 'http' | 's7' | 'fins' | 'can';
  /** A named behaviour (a plant model in code) that plays the device instead of `points`. */
  behaviour?: string;
  /** Options for the named behaviour. */
  options?: Record<string, unknown>;
  /** Behaviour period. */
  tickMs: number;
  /** Seed of random walks without their own. */
  seed: number;
  /** What a power cycle leaves: the profile's initial values, or all zero. */
  powerCycle: { memory: 'initial' | 'zero' };
  points: ProfilePoint[];
  modbus: { sizes: { holding: number; input: number; coil: number; discrete: number }; exceptions: ModbusExceptionRule[] };
  http: { path: string; errors: Array<{ path: string; status: number }> };
  /** S7: data blocks by number with their size in bytes (grown to hold every point). */
  s7: { dbs: Record<string, number> };
  /** CAN: the DBC the device plays (a path, resolved like the decoder's), and each message's settings by name. */
  can: { dbc: string; defaultCycleMs: number; messages: Record<string, CanMessageSettings> };
}
