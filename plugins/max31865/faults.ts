// MAX31865 fault status register (0x07) → readable faults. Bits D7..D2; D1:D0 are unused.

export interface FaultBit {
  bit: number;
  /** Short identifier for metrics and tests. */
  code: 'high-threshold' | 'low-threshold' | 'refin-high' | 'refin-low-force-open' | 'rtdin-low-force-open' | 'over-under-voltage';
  text: string;
}

// Ordered most specific first: the first fault is what an operator should check first.
export const FAULT_BITS: readonly FaultBit[] = [
  { bit: 0x20, code: 'refin-high', text: 'RTD open circuit (REFIN- > 0.85 VBIAS)' },
  { bit: 0x10, code: 'refin-low-force-open', text: 'FORCE- open (REFIN- < 0.85 VBIAS)' },
  { bit: 0x08, code: 'rtdin-low-force-open', text: 'FORCE- open (RTDIN- < 0.85 VBIAS)' },
  { bit: 0x04, code: 'over-under-voltage', text: 'over/under-voltage on an input (check wiring and supply)' },
  { bit: 0x80, code: 'high-threshold', text: 'RTD resistance above the high fault threshold (open RTD or wire?)' },
  { bit: 0x40, code: 'low-threshold', text: 'RTD resistance below the low fault threshold (shorted RTD?)' },
];

/** The faults whose bits are set in `status`, most specific first. */
export function decodeFaults(status: number): FaultBit[] {
  return FAULT_BITS.filter((f) => (status & f.bit) !== 0);
}

/** One line for the state key and the log: "RTD open circuit (REFIN- > 0.85 VBIAS); RTD resistance above …". */
export function describeFaults(status: number): string {
  const faults = decodeFaults(status);
  if (faults.length === 0) return `fault flag set, but the fault status register reads 0x${hex(status)} (a transient fault that has cleared)`;
  return faults.map((f) => f.text).join('; ');
}

export function hex(n: number, width = 2): string {
  return n.toString(16).toUpperCase().padStart(width, '0');
}
