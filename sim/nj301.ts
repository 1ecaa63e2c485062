// The Omron NJ301 of the PLC remote lab, simulated on the wire: a Modbus TCP server on loopback
// with the lab's holding-register map, and a 40 ms task running the PID on the PV the gateway
// writes (HR1-2), driving the shared heater plant and reporting MV (HR102-103). It lives like a
// PLC: power cycles, program downloads, a halted program, a hung or slow Modbus server.
import type { Clock, TimerHandle } from '../core/clock.ts';
import type { HeaterPlant } from './plants/heater.ts';
import { type Fault, ModbusTcpServer, RegisterBank, type RequestRecord } from './modbus-server.ts';

/** Holding-register addresses of the real lab program (REAL = two registers, high word first). */
export const NJ301_MAP = {
  gwTxSeq: 0,
  rtdTemp: 1,
  webStatus: 3,
  mode: 4,
  plcStatus: 5,
  mvManual: 6,
  setpoint: 8,
  tuneCmd: 10,
  pb: 11,
  ti: 13,
  td: 15,
  ackSeq: 100,
  heartbeat: 101,
  mvFb: 102,
  tuneBusy: 104,
  tuneDone: 105,
  tuneErr: 106,
  tunedPb: 107,
  tunedTi: 109,
  tunedTd: 111,
  setpointOut: 113,
  autotunePb: 115,
  autotuneTi: 117,
  autotuneTd: 119,
} as const;

export const NJ301_MODE = { manual: 0, auto: 1, tune: 2 } as const;

export interface Nj301Options {
  clock: Clock;
  /** The plant MV drives (heats only while its relay is on). None: the PID runs open loop. */
  plant?: HeaterPlant;
  host?: string;
  /** 0 = ephemeral (tests); the real lab uses 1502. */
  port?: number;
  unit?: number;
  taskMs?: number;
  /** Process seconds per clock second, for the PID's integral and derivative (the plant's timeScale). */
  timeScale?: number;
  /** Initial values; the defaults match a lab PLC just switched to auto. */
  initial?: { mode?: number; setpoint?: number; pb?: number; ti?: number; td?: number; mvManual?: number };
}

/** What a restart leaves in the registers: all zero, or the program's initial values. */
export type Nj301Memory = 'zero' | 'defaults';

export class Nj301Simulator {
  readonly bank = new RegisterBank({ holding: 1024, input: 1024, coil: 1024, discrete: 1024 });
  readonly server: ModbusTcpServer;
  readonly unit: number;
  readonly #options: Nj301Options;
  #task: TimerHandle | undefined;
  #lastTask: number;
  #integral = 0;
  #lastError: number | null = null;
  #tuneStartedAt: number | null = null;
  /** Mode 2 tunes once on entering it, then controls with the result (the PLC never writes HR 4). */
  #tunedInMode2 = false;
  #lastTuneCmd = 0;
  #halted = false;
  /** Restarts so far (power cycles and program downloads), for tests. */
  restarts = 0;

  constructor(options: Nj301Options) {
    this.#options = options;
    this.unit = options.unit ?? 1;
    this.server = new ModbusTcpServer({ host: options.host ?? '127.0.0.1', port: options.port ?? 0, units: new Map([[this.unit, this.bank]]) });
    this.#loadDefaults();
    this.#lastTask = options.clock.monotonic();
  }

  /** The program's initial values; the defaults match a lab PLC just switched to auto. */
  #loadDefaults(): void {
    const options = this.#options;
    const init = options.initial ?? {};
    const m = NJ301_MAP;
    this.bank.holding[m.mode] = init.mode ?? NJ301_MODE.auto;
    this.bank.setFloat(m.setpoint, init.setpoint ?? 25);
    this.bank.setFloat(m.pb, init.pb ?? 10);
    this.bank.setFloat(m.ti, init.ti ?? 60);
    this.bank.setFloat(m.td, init.td ?? 0);
    this.bank.setFloat(m.mvManual, init.mvManual ?? 0);
    this.bank.setFloat(m.rtdTemp, options.plant?.temperature() ?? 22);
  }

  /**
   * Power cycle: off the network (connections dropped) for `offMs`, then back with its memory lost
   * (`zero`, the default: nothing retained; `defaults`: the program's initial values). The PID
   * restarts from scratch and MV is 0 until the task runs.
   */
  async powerCycle(options: { offMs?: number; memory?: Nj301Memory } = {}): Promise<void> {
    await this.stop();
    this.#plantMv(0);
    if ((options.offMs ?? 0) > 0) await new Promise<void>((r) => this.#options.clock.setTimeout(r, options.offMs ?? 0));
    this.#reset(options.memory ?? 'zero');
    await this.start();
  }

  /**
   * Program download from Sysmac Studio: the variables go back to the program's initial values.
   * The Modbus server function block restarts with the program, dropping the gateway's connection,
   * unless `keepConnections` (an online edit that only reinitialises variables).
   */
  async programDownload(options: { keepConnections?: boolean } = {}): Promise<void> {
    if (options.keepConnections) {
      this.#reset('defaults');
      return;
    }
    await this.stop();
    this.#reset('defaults');
    await this.start();
  }

  /** The CPU stops its program (PROGRAM mode): Modbus still answers, nothing is computed or acknowledged. */
  halt(): void {
    this.#halted = true;
    this.#plantMv(0);
  }

  /** Back to RUN after `halt()`. */
  run(): void {
    this.#halted = false;
    this.#lastTask = this.#options.clock.monotonic();
  }

  /** Modbus requests are taken but never answered; TCP connections stay open. */
  hang(): void {
    this.server.hung = true;
  }

  /** Answers again after `hang()`. */
  resume(): void {
    this.server.hung = false;
  }

  /** Each answer takes `ms` (0: at once), like a PLC whose communication task is starved. */
  slow(ms: number): void {
    this.server.responseDelayMs = ms;
  }

  #reset(memory: Nj301Memory): void {
    this.restarts++;
    this.bank.clear();
    if (memory === 'defaults') this.#loadDefaults();
    this.#integral = 0;
    this.#lastError = null;
    this.#tuneStartedAt = null;
    this.#tunedInMode2 = false;
    this.#lastTuneCmd = 0;
    this.#halted = false;
    this.#lastTask = this.#options.clock.monotonic();
  }

  #plantMv(mv: number): void {
    this.#options.plant?.setMv(mv);
  }

  get host(): string {
    return this.server.host;
  }

  get port(): number {
    return this.server.port;
  }

  /** `127.0.0.1:1502` */
  get address(): string {
    return `${this.host}:${this.port}`;
  }

  get running(): boolean {
    return this.server.listening;
  }

  /** Starts (or restarts, on the same port) the server and the 40 ms task. */
  async start(): Promise<void> {
    await this.server.start();
    this.bank.holding[NJ301_MAP.plcStatus] = 1;
    if (!this.#task) {
      this.#lastTask = this.#options.clock.monotonic();
      this.#task = this.#options.clock.setInterval(() => this.step(), this.#options.taskMs ?? 40);
    }
  }

  /** Takes the PLC off the network (connections dropped, port closed) and halts its task. */
  async stop(): Promise<void> {
    this.#options.clock.clearInterval(this.#task);
    this.#task = undefined;
    await this.server.stop();
  }

  close(): Promise<void> {
    return this.stop();
  }

  /** Injects a server fault: `{kind: 'timeout'}`, `{kind: 'exception', code: 4, address: 8}`, ... */
  fault(fault: Fault): void {
    this.server.fault(fault);
  }

  clearFaults(): void {
    this.server.clearFaults();
  }

  /** Requests received (recent first-in order), for tests to see what the gateway sent. */
  get requests(): readonly RequestRecord[] {
    return this.server.requests;
  }

  /** REAL at a holding register (`NJ301_MAP.setpoint`, ...). */
  real(address: number): number {
    return this.bank.getFloat(address);
  }

  setReal(address: number, value: number): void {
    this.bank.setFloat(address, value);
  }

  register(address: number): number {
    return this.bank.holding[address];
  }

  setRegister(address: number, value: number): void {
    this.bank.holding[address] = value & 0xffff;
  }

  /** One scan of the PLC task; public so fake-clock tests can step it. */
  step(): void {
    const clock = this.#options.clock;
    const now = clock.monotonic();
    const dtS = ((now - this.#lastTask) / 1000) * (this.#options.timeScale ?? 1);
    this.#lastTask = now;
    if (this.#halted) return;
    const m = NJ301_MAP;
    const h = this.bank.holding;
    h[m.heartbeat] = (h[m.heartbeat] + 1) & 0xffff;
    h[m.ackSeq] = h[m.gwTxSeq];

    const pv = this.real(m.rtdTemp);
    const sp = this.real(m.setpoint);
    const mode = h[m.mode];
    // A tune starts on a rising edge of tune_cmd (which the PLC clears: it is a pulse) or on
    // entering mode 2; the PLC writes only its own registers, never the gateway's mode.
    const tuneCmd = h[m.tuneCmd];
    if (tuneCmd === 1 && this.#lastTuneCmd !== 1 && mode !== NJ301_MODE.manual && this.#tuneStartedAt === null) this.#tuneStartedAt = -1;
    if (tuneCmd === 1) h[m.tuneCmd] = 0;
    this.#lastTuneCmd = tuneCmd;
    if (mode === NJ301_MODE.tune && !this.#tunedInMode2 && this.#tuneStartedAt === null) this.#tuneStartedAt = -1;
    if (mode !== NJ301_MODE.tune) this.#tunedInMode2 = false;
    let mv: number;
    if (mode === NJ301_MODE.manual) {
      mv = clamp(this.real(m.mvManual));
      this.#integral = 0;
      this.#lastError = null;
      this.#tuneStartedAt = null;
      h[m.tuneBusy] = 0;
    } else {
      mv = this.#pid(sp - pv, dtS);
      if (this.#tuneStartedAt !== null) this.#tune(now);
    }
    this.setReal(m.mvFb, mv);
    this.setReal(m.setpointOut, sp);
    this.#options.plant?.setMv(mv);
  }

  // PIDAT-like: MV % = 100/pb * (e + (1/ti) ∫e dt + td de/dt), e and pb in °C, ti and td in
  // process seconds. The integral is clamped so MV can leave saturation at once (anti-windup).
  #pid(error: number, dtS: number): number {
    const m = NJ301_MAP;
    const pb = this.real(m.pb);
    const ti = this.real(m.ti);
    const td = this.real(m.td);
    if (!(pb > 0) || !Number.isFinite(error)) return 0;
    const gain = 100 / pb;
    if (ti > 0 && dtS > 0) this.#integral += (error * dtS) / ti;
    const derivative = td > 0 && dtS > 0 && this.#lastError !== null ? (td * (error - this.#lastError)) / dtS : 0;
    this.#lastError = error;
    const limit = 100 / gain;
    this.#integral = Math.min(limit, Math.max(ti > 0 ? -limit : 0, this.#integral));
    return clamp(gain * (error + this.#integral + derivative));
  }

  // Autotune stand-in: busy for 5 process seconds of task time, then reports the current
  // parameters as the tuned ones; control goes on meanwhile.
  #tune(now: number): void {
    const m = NJ301_MAP;
    const h = this.bank.holding;
    const startedAt = this.#tuneStartedAt;
    if (startedAt === null) return;
    if (startedAt === -1) {
      this.#tuneStartedAt = now;
      h[m.tuneBusy] = 1;
      h[m.tuneDone] = 0;
      h[m.tuneErr] = 0;
      return;
    }
    if (((now - startedAt) / 1000) * (this.#options.timeScale ?? 1) < 5) return;
    for (const [from, a, b] of [[m.pb, m.tunedPb, m.autotunePb], [m.ti, m.tunedTi, m.autotuneTi], [m.td, m.tunedTd, m.autotuneTd]]) {
      this.setReal(a, this.real(from));
      this.setReal(b, this.real(from));
    }
    h[m.tuneBusy] = 0;
    h[m.tuneDone] = 1;
    if (h[m.mode] === NJ301_MODE.tune) this.#tunedInMode2 = true;
    this.#tuneStartedAt = null;
  }
}

function clamp(mv: number): number {
  return Number.isFinite(mv) ? Math.min(100, Math.max(0, mv)) : 0;
}
