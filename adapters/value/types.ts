// The smallest hardware boundary: something that yields one number when read (a sysfs file such as
// the SoC temperature, a 1-Wire sensor's value file, or its simulator).

export interface ValueSource {
  /** Reads the current value. Rejects with an error naming the source when it cannot be read. */
  read(): Promise<number>;
  /** Where the value comes from, for log lines (`/sys/class/thermal/thermal_zone0/temp`). */
  readonly description: string;
}

export interface ValueSourceOptions {
  /** Real driver: the file to read; its content is parsed as a number. */
  path: string;
  /** Multiplier applied to the raw number (sysfs temperatures are in milli-degrees: 0.001). */
  scale: number;
  offset: number;
  /** Simulator: a slow sine around `base` plus noise, the value a thermal zone would show. */
  sim: { base: number; amplitude: number; periodS: number; noise: number; failEvery: number };
}
