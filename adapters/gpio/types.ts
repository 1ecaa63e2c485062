// The GPIO boundary: one line of a gpiochip, read, written and watched for edges. Values are
// logical (after `activeLow`): 1 means "active", whatever the electrical level.

export type BitValue = 0 | 1;
export type Edge = 'rising' | 'falling' | 'both';
export type Direction = 'in' | 'out';

export interface GpioLine {
  /** `pinctrl-bcm2711 line 17 (sysfs gpio529)`, for log lines. */
  readonly description: string;
  readonly direction: Direction;
  /** Reads the logical value. Rejects with an error naming the line when the kernel refuses. */
  read(): Promise<BitValue>;
  /** Drives an output line. Rejects on an input line. */
  write(value: BitValue): Promise<void>;
  /**
   * Calls `listener` with the new logical value on each matching edge (an edge is judged on the
   * logical value, so `rising` means "became active"). Returns the function that stops watching.
   */
  watch(edge: Edge, listener: (value: BitValue) => void): () => void;
  /** Stops every watch and releases the line (unexport). Further calls reject. */
  close(): Promise<void>;
}

export interface GpioLineOptions {
  direction: Direction;
  activeLow: boolean;
  /** Output lines: the logical value driven when the line is opened (glitch-free). */
  initial: BitValue;
}

export interface GpioChip {
  /** The kernel's label, e.g. `pinctrl-bcm2711`, `pinctrl-rp1`, `300b000.pinctrl`. */
  readonly label: string;
  /** Number of lines. */
  readonly lines: number;
  /** Opens line `offset` (0-based within the chip). */
  open(offset: number, options: GpioLineOptions): Promise<GpioLine>;
  close(): Promise<void>;
}

export interface GpioAdapterOptions extends GpioLineOptions {
  /** Chip label (`pinctrl-bcm2711`), character device (`/dev/gpiochip0`, `gpiochip0`) or sysfs dir (`gpiochip512`). */
  chip: string;
  /** Line offset within the chip (the BCM number on a Raspberry Pi's main chip). */
  line: number;
  /** `cdev`: the character device v2 uAPI over libc FFI; `onoff`: the sysfs addon (Node only); `auto`: cdev where FFI loads. */
  backend: 'auto' | 'cdev' | 'onoff';
  /** Input lines: the kernel ignores edges shorter than this (cdev backend; onoff has none). */
  debounceMs: number;
  sim: {
    /** Simulated electrical level of an input line at start. */
    level: BitValue;
    /** Drive the shared lab plant's relay from this (output) line. */
    plantRelay: boolean;
    /** Process seconds per clock second of the lab plant. */
    timeScale: number;
  };
}

export function edgeMatches(edge: Edge, previous: BitValue, next: BitValue): boolean {
  if (previous === next) return false;
  return edge === 'both' || (edge === 'rising' ? next === 1 : next === 0);
}
