// MAX31865 register map and configuration bits (datasheet, Adafruit_MAX31865). Read address =
// register, write address = register | 0x80; consecutive bytes auto-increment the address.

export const REG = {
  CONFIG: 0x00,
  RTD_MSB: 0x01,
  RTD_LSB: 0x02,
  HIGH_FAULT_MSB: 0x03,
  HIGH_FAULT_LSB: 0x04,
  LOW_FAULT_MSB: 0x05,
  LOW_FAULT_LSB: 0x06,
  FAULT_STATUS: 0x07,
} as const;

export const WRITE = 0x80;

export const CONFIG = {
  VBIAS: 0x80,
  AUTO_CONVERT: 0x40,
  /** Self-clearing. */
  ONE_SHOT: 0x20,
  THREE_WIRE: 0x10,
  /** D3:D2 fault-detection cycle control; reads non-zero while a cycle runs. */
  FAULT_CYCLE_MASK: 0x0c,
  /** 01: automatic delay (the chip times the cycle itself, ~550 µs). */
  FAULT_CYCLE_AUTO: 0x04,
  /** Self-clearing. */
  FAULT_CLEAR: 0x02,
  /** 1 = 50 Hz notch, 0 = 60 Hz. */
  FILTER_50HZ: 0x01,
} as const;

/** One-shot conversion time the driver waits (datasheet 62.5 / 52 ms max, plus margin as in the real lab). */
export function conversionWaitMs(filterHz: 50 | 60): number {
  return filterHz === 50 ? 65 : 55;
}

/** Bias settle time before a one-shot conversion (10.5 time constants of the input filter). */
export const BIAS_SETTLE_MS = 10;
