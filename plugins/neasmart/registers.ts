// The Neasmart 2.0 holding-register map (zero-based), in one place: where each zone, global value,
// mixed group, dehumidifier and pump lives, and what the enumerated values mean.
// Source: the original gateway's const.py/main.py (MatteoManzoni/RehauNeasmart2.0_Gateway).

export const BASES = { min: 1, max: 5 } as const;
export const ZONES = { min: 1, max: 12 } as const;
export const MIXED_GROUPS = { min: 1, max: 3 } as const;
export const DEHUMIDIFIERS = { min: 1, max: 9 } as const;
export const PUMPS = { min: 1, max: 5 } as const;

/** Registers per base station and per zone. */
export const BASE_STRIDE = 1200;
export const ZONE_STRIDE = 100;

/** Offsets inside a zone block. */
export const ZONE = { state: 0, setpoint: 1, temperature: 2, humidity: 10 } as const;

/** Global registers. */
export const GLOBAL = {
  mode: 1,
  state: 2,
  errors: 3,
  warnings: 5,
  hints: 6,
  outsideTemperature: 7,
  filteredOutsideTemperature: 8,
} as const;

/** Mixed groups 1..3 start at 10, 14, 18. */
export const MIXED_GROUP_BASE: Record<number, number> = { 1: 10, 2: 14, 3: 18 };
export const MIXED_GROUP = { valve: 0, pump: 1, flowTemperature: 2, returnTemperature: 3 } as const;

/**
 * Dehumidifier n is at 21 + n and extra pump n at 30 + n, as the original gateway reads them
 * (`id + DEHUMIDIFIERS_ADDR_OFFSET`): 21 itself is mixed group 3's return temperature.
 */
export const DEHUMIDIFIER_OFFSET = 21;
export const PUMP_OFFSET = 30;

/** Highest address the map uses (base 5, zone 12, humidity): the server must hold at least this many + 1. */
export const LAST_ADDRESS = (BASES.max - 1) * BASE_STRIDE + ZONES.max * ZONE_STRIDE + ZONE.humidity;

/** Operating states of a zone and of the whole installation (register values 1..6). */
export const STATE_NAMES: Record<number, string> = {
  1: 'normal',
  2: 'reduced',
  3: 'standby',
  4: 'time program',
  5: 'party',
  6: 'holiday',
};

/** Global operating modes (register value 1..5). */
export const MODE_NAMES: Record<number, string> = {
  1: 'auto',
  2: 'heating',
  3: 'cooling',
  4: 'manual heating',
  5: 'manual cooling',
};

export function zoneAddress(base: number, zone: number): number {
  return (base - 1) * BASE_STRIDE + zone * ZONE_STRIDE;
}

export function mixedGroupAddress(group: number): number {
  const a = MIXED_GROUP_BASE[group];
  if (a === undefined) throw new RangeError(`mixed group ${group} does not exist (1..3)`);
  return a;
}

export function dehumidifierAddress(id: number): number {
  return DEHUMIDIFIER_OFFSET + id;
}

export function pumpAddress(id: number): number {
  return PUMP_OFFSET + id;
}

/** Which zone (if any) a holding register belongs to, with its field; used to map bus changes to zones. */
export function zoneOf(address: number): { base: number; zone: number; field: keyof typeof ZONE } | null {
  const base = Math.floor(address / BASE_STRIDE) + 1;
  const inBase = address % BASE_STRIDE;
  let zone = Math.floor(inBase / ZONE_STRIDE);
  let offset = inBase % ZONE_STRIDE;
  // Zone 12 of a base spills into the next base's first 100 registers (12 · 100 = 1200).
  let b = base;
  if (zone === 0 && base > 1) {
    b = base - 1;
    zone = 12;
    offset = inBase;
  }
  if (b < BASES.min || b > BASES.max || zone < ZONES.min || zone > ZONES.max) return null;
  const field = (Object.keys(ZONE) as Array<keyof typeof ZONE>).find((k) => ZONE[k] === offset);
  return field ? { base: b, zone, field } : null;
}
