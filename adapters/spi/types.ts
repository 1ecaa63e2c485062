// The SPI hardware boundary: one chip-select line on one SPI bus (`/dev/spidevB.C`), as small as
// serialport's bindings interface. The real driver (spi-device) and the chip simulators implement it.

/**
 * A full-duplex SPI device. Rules every implementation follows (test/unit/spi-contract.test.ts):
 *
 * - `transfer(tx)` asserts chip select, clocks out every byte of `tx` MSB first while clocking in
 *   the same number of bytes, releases chip select, and resolves with the bytes read
 *   (`rx.length === tx.length`, a fresh `Uint8Array` the caller may keep).
 * - Transfers are atomic and run in call order: concurrent calls are queued, never interleaved,
 *   so a register read started after a write sees that write.
 * - `tx` must hold at least one byte; an empty transfer rejects with a `RangeError`.
 * - A transfer on a closed bus rejects with an error whose `closed` property is `true`;
 *   transfers still queued when `close()` is called reject the same way.
 * - `close()` is idempotent and resolves once the device is released.
 */
export interface SpiBus {
  transfer(tx: Uint8Array): Promise<Uint8Array>;
  close(): Promise<void>;
  /** What this bus is, for log lines and errors (`/dev/spidev0.0 mode 1 @ 500 kHz`, `max31865 simulator`). */
  readonly description: string;
}

/** The rejection of a transfer on a closed bus. */
export class SpiClosedError extends Error {
  override name = 'SpiClosedError';
  readonly closed = true;
  constructor(description: string) {
    super(`spi ${description}: the bus is closed`);
  }
}

/** Simulated chip behind the bus (`driver: "sim"` or `fieldgate run --sim`). */
export interface SpiSimOptions {
  chip: 'max31865';
  /** Name of the shared plant model in the runtime's SimWorld (`plant:<name>`) the chip measures. */
  plant: string;
  /** Process seconds per clock second for the plant, when this simulator is the first to create it. */
  timeScale: number;
  /** RTD resistance at 0 °C: 100 (PT100) or 1000 (PT1000). */
  rtdNominal: 100 | 1000;
  /** Reference resistor on the board (Ω); default 430 for PT100 boards, 4300 for PT1000. */
  rref?: number;
  /** How the simulated RTD is wired. */
  wires: 2 | 3 | 4;
}

export interface SpiBusOptions {
  /** spidev node, `/dev/spidev<bus>.<chip-select>`. */
  device: string;
  /** SPI mode 0..3 (CPOL, CPHA); the MAX31865 needs mode 1 (or 3). */
  mode: 0 | 1 | 2 | 3;
  /** Clock in Hz. */
  speedHz: number;
  sim: SpiSimOptions;
}
