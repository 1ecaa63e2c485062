// The real SPI bus through the `spi-device` native addon (Node only). Loaded by the adapter only
// when a manifest selects real hardware, so sim runs and Deno never touch the addon.
import { access, constants } from 'node:fs/promises';
import { requireNodeFor } from '../../core/runtime-info.ts';
import { SpiClosedError, type SpiBus, type SpiBusOptions } from './types.ts';

// The slice of spi-device's API we use (it ships no type declarations).
interface SpiTransferMessage {
  byteLength: number;
  sendBuffer?: Buffer;
  receiveBuffer?: Buffer;
  speedHz?: number;
}
interface SpiDeviceHandle {
  transfer(message: SpiTransferMessage[], cb: (err: Error | null, message: SpiTransferMessage[]) => void): unknown;
  close(cb: (err: Error | null) => void): unknown;
}
interface SpiDeviceModule {
  open(bus: number, device: number, options: { mode: number; maxSpeedHz: number }, cb: (err: Error | null) => void): SpiDeviceHandle;
}

const SETUP_HINT =
  'enable SPI and reboot (Raspberry Pi: "dtparam=spi=on" or "dtoverlay=spi0-1cs" in /boot/firmware/config.txt; ' +
  'Orange Pi/Armbian: the spi-spidev overlay with param_spidev_spi_bus=0 in /boot/armbianEnv.txt), then check "ls -l /dev/spidev*"';
const PERMISSION_HINT = 'add the user to the "spi" group (sudo usermod -aG spi $USER, then log in again) or fix the udev rule for spidev';
const INSTALL_HINT =
  'run "npm install spi-device" on the gateway (a native addon: needs python3, make and a C++ compiler, e.g. apt install build-essential python3)';

/** `/dev/spidev0.1` → bus 0, chip select 1. */
export function parseSpiDevicePath(path: string): { bus: number; chipSelect: number } {
  const m = /^\/dev\/spidev(\d+)\.(\d+)$/.exec(path);
  if (!m) throw new Error(`spi device "${path}" is not a spidev node; expected /dev/spidev<bus>.<chip-select>, e.g. /dev/spidev0.0`);
  return { bus: Number(m[1]), chipSelect: Number(m[2]) };
}

async function loadSpiDevice(): Promise<SpiDeviceModule> {
  // A variable specifier keeps type checkers and bundlers from resolving the optional addon.
  const specifier = 'spi-device';
  try {
    const mod = (await import(specifier)) as { default?: SpiDeviceModule } & Partial<SpiDeviceModule>;
    const api = (mod.default ?? mod) as SpiDeviceModule;
    if (typeof api.open !== 'function') throw new Error('the module has no open()');
    return api;
  } catch (err) {
    throw new Error(`spi: the native module "spi-device" could not be loaded (${(err as Error).message}); ${INSTALL_HINT}`, { cause: err });
  }
}

function explainOpenError(path: string, err: NodeJS.ErrnoException): Error {
  const code = err.code ?? /^(E[A-Z]+)/.exec(err.message)?.[1];
  if (code === 'ENOENT') return new Error(`spi ${path}: no such device node; ${SETUP_HINT}`, { cause: err });
  if (code === 'EACCES' || code === 'EPERM') return new Error(`spi ${path}: permission denied; ${PERMISSION_HINT}`, { cause: err });
  return new Error(`spi ${path}: cannot open (${err.message})`, { cause: err });
}

/** Opens `options.device` with spi-device. Rejects with an error that says what to check. */
export async function openSpiDevice(options: Pick<SpiBusOptions, 'device' | 'mode' | 'speedHz'>, what = 'spi adapter'): Promise<SpiBus> {
  requireNodeFor(what, 'spi-device');
  const { bus, chipSelect } = parseSpiDevicePath(options.device);
  try {
    await access(options.device, constants.R_OK | constants.W_OK);
  } catch (err) {
    throw explainOpenError(options.device, err as NodeJS.ErrnoException);
  }
  const api = await loadSpiDevice();
  const handle = await new Promise<SpiDeviceHandle>((resolve, reject) => {
    const h = api.open(bus, chipSelect, { mode: options.mode, maxSpeedHz: options.speedHz }, (err) => {
      if (err) reject(explainOpenError(options.device, err));
      else resolve(h);
    });
  });
  return new SpiDeviceBus(handle, options);
}

class SpiDeviceBus implements SpiBus {
  readonly description: string;
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;

  constructor(readonly handle: SpiDeviceHandle, readonly options: Pick<SpiBusOptions, 'device' | 'mode' | 'speedHz'>) {
    this.description = `${options.device} mode ${options.mode} @ ${options.speedHz / 1000} kHz`;
  }

  transfer(tx: Uint8Array): Promise<Uint8Array> {
    if (tx.length === 0) return Promise.reject(new RangeError(`spi ${this.description}: empty transfer`));
    const run = () => this.#transferNow(tx);
    const p = this.#queue.then(run, run);
    this.#queue = p.catch(() => {});
    return p;
  }

  #transferNow(tx: Uint8Array): Promise<Uint8Array> {
    if (this.#closed) return Promise.reject(new SpiClosedError(this.description));
    const message: SpiTransferMessage = {
      byteLength: tx.length,
      sendBuffer: Buffer.from(tx),
      receiveBuffer: Buffer.alloc(tx.length),
      speedHz: this.options.speedHz,
    };
    return new Promise((resolve, reject) => {
      this.handle.transfer([message], (err) => {
        if (err) reject(new Error(`spi ${this.description}: transfer of ${tx.length} byte(s) failed (${err.message})`, { cause: err }));
        else resolve(new Uint8Array(message.receiveBuffer!));
      });
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#queue;
    await new Promise<void>((resolve, reject) => this.handle.close((err) => (err ? reject(err) : resolve())));
  }
}
