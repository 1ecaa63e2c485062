// Omron memory addresses in the notation of CX-Programmer and the manuals: `D100` (or `DM100`),
// `CIO10`, `W3`, `H5`, `A500`, and bits as `W3.04` / `CIO0.1`. Used by FINS device profiles.
import type { FinsArea } from './types.ts';

export interface FinsAddress {
  area: FinsArea;
  /** Word address within the area. */
  address: number;
  /** Bit 0..15 for a bit address; absent for a word. */
  bit?: number;
}

const PATTERN = /^(DM|D|CIO|W|H|A)(\d{1,5})(?:\.(\d{1,2}))?$/;
/** The same, for JSON Schema (`fieldgate validate` reports a bad one with its manifest path). */
export const FINS_ADDRESS_PATTERN = '^(DM|D|CIO|W|H|A)[0-9]{1,5}(\\.[0-9]{1,2})?$';

export function parseFinsAddress(text: string): FinsAddress {
  const m = PATTERN.exec(text);
  if (!m) throw new Error(`"${text}" is not an Omron address (D100, DM100, CIO10, W3, H5, A500; bits as W3.04)`);
  const area: FinsArea = m[1] === 'D' ? 'DM' : (m[1] as FinsArea);
  const address = Number(m[2]);
  if (m[3] === undefined) return { area, address };
  const bit = Number(m[3]);
  if (bit > 15) throw new Error(`"${text}": bit ${bit} is not 0..15`);
  return { area, address, bit };
}
