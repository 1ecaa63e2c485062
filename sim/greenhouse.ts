// The greenhouse CAN simulator: four sensor boxes (Flower room back and front, Veg room, Lab) on a
// virtual bus, each sending its frames once per period from a small climate model (day/night
// cycle, lights-on CO2 draw-down, psychrometric wet bulb and VPD). The boxes encode their frames
// byte by byte as their firmware would (manifests/cea.dbc describes them), so the decoder is
// tested against an independent encoder. Fault hooks: error frames, bus-off, a silent box.
import type { Clock, TimerHandle } from '../core/clock.ts';
import type { VirtualCanBus, VirtualCanChannel } from '../adapters/can/virtual-bus.ts';
import { CAN_ERR } from '../adapters/can/virtual-bus.ts';
import { mulberry32 } from './seeded-random.ts';

export type BoxId = 'b' | 'f' | 'v' | 'lab';

export interface GreenhouseOptions {
  /** Real ms between two rounds of frames (1000 = the boxes' 1 Hz). */
  periodMs: number;
  /** Model time runs this many times faster than the clock (the day/night cycle). */
  timeScale: number;
  /** PRNG seed for the sensor noise, so runs are reproducible. */
  seed: number;
}

/** One room's climate at a moment: what every box sensor measures, before noise. */
export interface RoomClimate {
  dryBulb: number;
  rh: number;
  co2: number;
  pressure: number;
}

const ROOMS: Record<Exclude<BoxId, 'lab'>, { base: number; rh: number; co2: number; phase: number; canBase: number }> = {
  b: { base: 25.5, rh: 58, co2: 900, phase: 0, canBase: 0x100 },
  f: { base: 25.0, rh: 60, co2: 950, phase: 0.2, canBase: 0x110 },
  v: { base: 23.5, rh: 68, co2: 750, phase: 0.5, canBase: 0x120 },
};
export const LAB_ID = 0x18ff5001;

/** Saturation vapour pressure in kPa (Tetens). */
export function svp(t: number): number {
  return 0.6108 * Math.exp((17.27 * t) / (t + 237.3));
}

/** Psychrometric wet-bulb temperature from dry bulb and RH (Stull 2011, ±0.3 °C in 5..99 %RH). */
export function wetBulb(t: number, rh: number): number {
  return t * Math.atan(0.151977 * Math.sqrt(rh + 8.313659)) + Math.atan(t + rh) - Math.atan(rh - 1.676331) +
    0.00391838 * rh ** 1.5 * Math.atan(0.023101 * rh) - 4.686035;
}

function i16le(view: DataView, at: number, v: number, scale: number): void {
  view.setInt16(at, Math.max(-32768, Math.min(32767, Math.round(v / scale))), true);
}

export class GreenhouseSim {
  readonly channel: VirtualCanChannel;
  readonly silent = new Set<BoxId>();
  readonly #start: number;
  readonly #random: () => number;
  #timer: TimerHandle | null = null;
  /** Rounds sent so far (one round = every box's frames). */
  rounds = 0;
  framesSent = 0;
  /** Overrides the model for one sensor (tests: a value out of range); key `co2_b`, `dry_bulb_v`, `lab_temp`... */
  readonly overrides = new Map<string, number>();

  constructor(readonly bus: VirtualCanBus, readonly clock: Clock, readonly options: GreenhouseOptions) {
    this.channel = bus.attach('greenhouse boxes');
    this.#start = clock.now();
    this.#random = mulberry32(options.seed);
  }

  start(): void {
    if (this.#timer) return;
    this.#timer = this.clock.setInterval(() => this.emitRound(), this.options.periodMs);
  }

  stop(): void {
    this.clock.clearInterval(this.#timer ?? undefined);
    this.#timer = null;
  }

  /** The model's climate of a room now (model time = clock time * timeScale). */
  climate(room: Exclude<BoxId, 'lab'>): RoomClimate {
    const r = ROOMS[room];
    const modelS = (this.#start + (this.clock.now() - this.#start) * this.options.timeScale) / 1000;
    const day = Math.sin(2 * Math.PI * (modelS / 86400 + r.phase));
    return {
      dryBulb: r.base + 2.5 * day,
      rh: r.rh - 6 * day,
      co2: r.co2 - 250 * day, // plants draw CO2 down with the lights on
      pressure: 1013.2 + 1.5 * Math.sin((2 * Math.PI * modelS) / (3 * 86400)),
    };
  }

  /** Sends one round of frames now: 5 per room box (Psychro, 3x SCD30, Env) and 1 for the Lab. */
  emitRound(): void {
    this.rounds++;
    for (const room of ['b', 'f', 'v'] as const) if (!this.silent.has(room)) this.#sendRoom(room);
    if (!this.silent.has('lab')) {
      const data = new Uint8Array(4);
      const view = new DataView(data.buffer);
      i16le(view, 0, this.#value('lab_temp', 21 + this.#noise(0.05)), 0.01);
      i16le(view, 2, this.#value('water_temp', 18.5 + this.#noise(0.05)), 0.01);
      this.#send(LAB_ID, true, data);
    }
  }

  /** Puts error frames on the bus (a loose terminator, a noisy cable). */
  injectErrorFrames(count = 1, errClass: number = CAN_ERR.PROT): void {
    for (let i = 0; i < count; i++) this.bus.injectErrorFrame(errClass);
  }

  /** Every controller leaves the bus (true) or comes back (false). */
  busOff(on: boolean): void {
    this.bus.setBusOff(on);
  }

  /** A box stops sending (unplugged, crashed firmware) or resumes. */
  silence(box: BoxId, on = true): void {
    if (on) this.silent.add(box);
    else this.silent.delete(box);
  }

  #noise(amplitude: number): number {
    return (this.#random() * 2 - 1) * amplitude;
  }

  #value(sensor: string, model: number): number {
    return this.overrides.get(sensor) ?? model;
  }

  #sendRoom(room: Exclude<BoxId, 'lab'>): void {
    const c = this.climate(room);
    const id = ROOMS[room].canBase;
    const dry = this.#value(`dry_bulb_${room}`, c.dryBulb + this.#noise(0.02));
    const rh = this.#value(`rh_${room}`, c.rh + this.#noise(0.3));
    // Psychro: PT100 dry and wet bulb, Intel int16, 0.01 °C.
    const psy = new Uint8Array(4);
    const pv = new DataView(psy.buffer);
    i16le(pv, 0, dry, 0.01);
    i16le(pv, 2, this.#value(`wet_bulb_${room}`, wetBulb(c.dryBulb, c.rh) + this.#noise(0.02)), 0.01);
    this.#send(id, false, psy);
    // SCD30: channel byte then a little-endian float32, as the box forwards the sensor's floats.
    const scd = [this.#value(`co2_${room}`, c.co2 + this.#noise(15)), this.#value(`scd30_temp_${room}`, c.dryBulb + 0.4 + this.#noise(0.1)), rh];
    scd.forEach((v, ch) => {
      const d = new Uint8Array(5);
      d[0] = ch;
      new DataView(d.buffer).setFloat32(1, v, true);
      this.#send(id + 1, false, d);
    });
    // Env: Motorola (big-endian) words: pressure 0.1 hPa, secondary T 0.01 °C (signed), secondary RH 0.01 %, VPD 0.001 kPa.
    const env = new Uint8Array(8);
    const ev = new DataView(env.buffer);
    ev.setUint16(0, Math.round(this.#value(`pressure_${room}`, c.pressure + this.#noise(0.1)) * 10));
    ev.setInt16(2, Math.round(this.#value(`secondary_temp_${room}`, c.dryBulb + 0.3 + this.#noise(0.05)) * 100));
    ev.setUint16(4, Math.round(this.#value(`secondary_rh_${room}`, c.rh - 1 + this.#noise(0.3)) * 100));
    ev.setUint16(6, Math.round(this.#value(`vpd_${room}`, svp(c.dryBulb) * (1 - c.rh / 100)) * 1000));
    this.#send(id + 2, false, env);
  }

  #send(id: number, ext: boolean, data: Uint8Array): void {
    // A bus-off controller refuses to send; the box retries next period, as firmware does.
    this.channel.send({ id, ext, data }).then(() => this.framesSent++, () => {});
  }
}
