// A small thermal model of Neasmart zones for the base-station simulator: each zone's temperature
// follows a first-order lag toward its target (the setpoint when the zone heats normally), the
// outside temperature swings slowly, and the filtered outside temperature lags it.

export interface ZoneModelState {
  base: number;
  zone: number;
  temperature: number;
  humidity: number;
  /** The zone's state and setpoint as the base holds them: its room unit's defaults, then the last the gateway held (0 / null = none). */
  state: number;
  setpoint: number | null;
}

/** A zone the base has a room for, with its room unit's own state and setpoint (°C) at power-on. */
export interface ZoneRoom {
  base: number;
  zone: number;
  state?: number;
  setpoint?: number;
}

export interface ZonesModelOptions {
  zones: ZoneRoom[];
  /** Process seconds per clock second. */
  timeScale: number;
  /** Time constant of a zone, in process seconds. */
  tauS?: number;
  /** Mean outside temperature (°C) and its daily swing (± °C). */
  outside?: { mean: number; amplitude: number };
  /** Setback of the reduced and holiday states (°C below the setpoint). */
  setbackC?: number;
}

const DAY_S = 86_400;
const OUTSIDE_FILTER_TAU_S = 6 * 3600;

export class ZonesModel {
  readonly zones = new Map<string, ZoneModelState>();
  readonly timeScale: number;
  readonly #tauS: number;
  readonly #setback: number;
  #outsideMean: number;
  #outsideAmplitude: number;
  #outside: number;
  #filteredOutside: number;
  /** Process seconds simulated so far. */
  #t = 0;

  constructor(options: ZonesModelOptions) {
    this.timeScale = options.timeScale;
    this.#tauS = options.tauS ?? 1800;
    this.#setback = options.setbackC ?? 4;
    this.#outsideMean = options.outside?.mean ?? 5;
    this.#outsideAmplitude = options.outside?.amplitude ?? 3;
    this.#outside = this.#outsideMean;
    this.#filteredOutside = this.#outside;
    for (const { base, zone, state, setpoint } of options.zones) {
      this.zones.set(`${base}/${zone}`, { base, zone, temperature: 18 + ((base * 7 + zone) % 5) * 0.5, humidity: 45 + (zone % 10), state: state ?? 0, setpoint: setpoint ?? null });
    }
  }

  get outsideTemperature(): number {
    return this.#outside;
  }

  get filteredOutsideTemperature(): number {
    return this.#filteredOutside;
  }

  /** Pins the outside temperature (test hook): the swing stops, the filtered value still lags. */
  setOutside(mean: number, amplitude = 0): void {
    this.#outsideMean = mean;
    this.#outsideAmplitude = amplitude;
    this.#outside = mean;
  }

  zone(base: number, zone: number): ZoneModelState {
    const z = this.zones.get(`${base}/${zone}`);
    if (!z) throw new Error(`zone ${base}/${zone} is not simulated (simulated: ${[...this.zones.keys()].join(', ')})`);
    return z;
  }

  /** What a zone heads for: its setpoint while heating normally, a setback when reduced, free-floating otherwise. */
  target(z: ZoneModelState): number {
    // Free-floating: a house with no heat settles between inside and outside.
    const free = (this.#outside + 20) / 2;
    if (z.setpoint === null) return free;
    switch (z.state) {
      case 1: // normal
      case 4: // time program (the simulator's program is always "on")
      case 5: // party
        return z.setpoint;
      case 2: // reduced
      case 6: // holiday
        return z.setpoint - this.#setback;
      default: // standby, or not yet set
        return free;
    }
  }

  /** Advances the model by `clockMs` of clock time (× timeScale in process time). */
  advance(clockMs: number): void {
    const dt = (clockMs / 1000) * this.timeScale;
    if (dt <= 0) return;
    this.#t += dt;
    this.#outside = this.#outsideMean + this.#outsideAmplitude * Math.sin((2 * Math.PI * this.#t) / DAY_S);
    this.#filteredOutside += (this.#outside - this.#filteredOutside) * (1 - Math.exp(-dt / OUTSIDE_FILTER_TAU_S));
    const k = 1 - Math.exp(-dt / this.#tauS);
    for (const z of this.zones.values()) {
      z.temperature += (this.target(z) - z.temperature) * k;
      // Heating dries the air a little; the value stays a plausible whole percent.
      z.humidity = Math.min(70, Math.max(30, 50 - (z.temperature - 20)));
    }
  }

  /** Heating demand 0..100 %: how far the zones are below their targets (drives the mixed group). */
  demand(): number {
    let worst = 0;
    for (const z of this.zones.values()) worst = Math.max(worst, this.target(z) - z.temperature);
    return Math.round(Math.min(100, Math.max(0, worst * 25)));
  }
}
