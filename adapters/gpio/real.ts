// Real GPIO through `onoff` (sysfs + epoll), with the line number resolved from the chip's label
// and base. onoff is a native addon: loaded here only, on Node only.
import { requireNodeFor } from '../../core/runtime-info.ts';
import { edgeMatches, type BitValue, type Edge, type GpioAdapterOptions, type GpioLine } from './types.ts';
import { resolveLine, sysfsRoot } from './resolve.ts';

// The slice of onoff's `Gpio` this adapter uses (typed here so the module type never has to load).
interface OnoffGpio {
  read(): Promise<BitValue>;
  write(value: BitValue): Promise<void>;
  watch(callback: (err: Error | null | undefined, value: BitValue) => void): void;
  unwatchAll(): void;
  unexport(): void;
}
type OnoffGpioCtor = new (
  gpio: number,
  direction: 'in' | 'out' | 'high' | 'low',
  edge?: 'none' | 'rising' | 'falling' | 'both',
  options?: { activeLow?: boolean; reconfigureDirection?: boolean },
) => OnoffGpio;

async function loadOnoff(): Promise<OnoffGpioCtor> {
  requireNodeFor('gpio adapter (real driver)', 'onoff');
  try {
    const mod = (await import('onoff')) as unknown as { Gpio?: OnoffGpioCtor; default?: { Gpio: OnoffGpioCtor } };
    const Gpio = mod.Gpio ?? mod.default?.Gpio;
    if (!Gpio) throw new Error('module "onoff" has no Gpio export');
    return Gpio;
  } catch (err) {
    const reason = (err instanceof Error ? err.message : String(err)).replace(/\s+/g, ' ');
    // An addon built for another Node version (NODE_MODULE_VERSION) only needs a rebuild.
    const fix = /NODE_MODULE_VERSION/.test(reason)
      ? 'It was built for another Node version: run "npm rebuild onoff epoll" with the Node that runs fieldgate'
      : 'Install it on the device with "npm install onoff" (needs python3, make and a C++ compiler)';
    throw new Error(`gpio adapter: the native module "onoff" could not be loaded (${reason}). ${fix}, or set this adapter's driver to "sim".`, { cause: err });
  }
}

export async function openOnoffLine(options: GpioAdapterOptions): Promise<GpioLine> {
  const Gpio = await loadOnoff();
  const resolved = await resolveLine(options.chip, options.line, sysfsRoot());
  const description = `${resolved.chip.label || resolved.chip.dir} line ${options.line} (sysfs gpio${resolved.number})`;
  const direction = options.direction === 'in' ? 'in' : (options.initial ^ (options.activeLow ? 1 : 0)) ? 'high' : 'low';
  let gpio: OnoffGpio;
  try {
    gpio = new Gpio(resolved.number, direction, options.direction === 'in' ? 'both' : 'none', { activeLow: options.activeLow, reconfigureDirection: false });
  } catch (err) {
    const code = (err as { code?: string }).code;
    const hint = code === 'EACCES' ? '; add the user to the "gpio" group' : code === 'EBUSY' ? '; another process holds the line' : '';
    throw new Error(`gpio ${description}: cannot export (${code ?? (err as Error).message})${hint}`, { cause: err });
  }
  return new OnoffLine(gpio, description, options);
}

class OnoffLine implements GpioLine {
  readonly direction;
  readonly #listeners = new Set<(value: BitValue, previous: BitValue) => void>();
  #last: BitValue;
  #closed = false;

  constructor(readonly gpio: OnoffGpio, readonly description: string, options: GpioAdapterOptions) {
    this.direction = options.direction;
    this.#last = options.initial;
    if (options.direction === 'in') {
      gpio.watch((err, value) => {
        if (err) return;
        const previous = this.#last;
        this.#last = value;
        for (const l of this.#listeners) l(value, previous);
      });
    }
  }

  async read(): Promise<BitValue> {
    this.#open();
    try {
      return (await this.gpio.read()) ? 1 : 0;
    } catch (err) {
      throw new Error(`gpio ${this.description}: read failed (${(err as Error).message})`, { cause: err });
    }
  }

  async write(value: BitValue): Promise<void> {
    this.#open();
    if (this.direction !== 'out') throw new Error(`gpio ${this.description}: cannot write an input line`);
    try {
      await this.gpio.write(value);
    } catch (err) {
      throw new Error(`gpio ${this.description}: write ${value} failed (${(err as Error).message})`, { cause: err });
    }
    const previous = this.#last;
    this.#last = value;
    for (const l of this.#listeners) l(value, previous);
  }

  watch(edge: Edge, listener: (value: BitValue) => void): () => void {
    this.#open();
    const wrapped = (value: BitValue, previous: BitValue) => {
      if (edgeMatches(edge, previous, value)) listener(value);
    };
    this.#listeners.add(wrapped);
    return () => {
      this.#listeners.delete(wrapped);
    };
  }

  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    this.#listeners.clear();
    this.gpio.unwatchAll();
    this.gpio.unexport();
    return Promise.resolve();
  }

  #open(): void {
    if (this.#closed) throw new Error(`gpio ${this.description}: line is closed`);
  }
}
