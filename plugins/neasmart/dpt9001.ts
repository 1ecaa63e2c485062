// KNX DPT 9.001 (2-byte float), the temperature format of the Rehau Neasmart 2.0 bus:
// value = 0.01 · M · 2^E, M a 12-bit two's complement mantissa whose sign is bit 15, E bits 14..11.

/** The raw words the Neasmart base uses for "no value" (sensor missing or faulty). */
export const DPT9_INVALID = 0x7fff;
export const DPT9_INVALID_REHAU = 0x8116;

/** Largest and smallest encodable values (0x7FFF itself is the invalid marker, so 2046 · 2^15 is the top). */
export const DPT9_MAX = 0.01 * 2046 * 2 ** 15;
export const DPT9_MIN = 0.01 * -2048 * 2 ** 15;

/** Decodes one register; the invalid markers (and anything that is not a 16-bit word) give null. */
export function decodeDpt9(raw: number): number | null {
  if (!Number.isInteger(raw) || raw < 0 || raw > 0xffff) return null;
  if (raw === DPT9_INVALID || raw === DPT9_INVALID_REHAU) return null;
  const exponent = (raw >> 11) & 0x0f;
  let mantissa = raw & 0x07ff;
  if (raw & 0x8000) mantissa -= 0x0800;
  // Rounded to 2 decimals so 21.5 reads 21.5, not 21.500000000000004; larger exponents are exact.
  return Math.round(mantissa * 2 ** exponent) / 100;
}

/**
 * Encodes a value with the smallest exponent that holds it (best precision), rounding half away
 * from zero. `null` gives the invalid marker 0x7FFF; no number ever encodes to 0x7FFF or 0x8116.
 * Throws a RangeError for NaN, infinities and values outside DPT9_MIN..DPT9_MAX.
 */
export function encodeDpt9(value: number | null): number {
  if (value === null) return DPT9_INVALID;
  if (!Number.isFinite(value)) throw new RangeError(`DPT 9.001 cannot encode ${value}`);
  const hundredths = value * 100;
  for (let exponent = 0; exponent <= 15; exponent++) {
    const scaled = hundredths / 2 ** exponent;
    // Math.round rounds -0.5 towards zero; round the magnitude so -x encodes as the mirror of x.
    const mantissa = Math.sign(scaled) * Math.round(Math.abs(scaled) + 1e-9);
    if (mantissa < -2048 || mantissa > 2047) continue;
    const raw = (mantissa < 0 ? 0x8000 : 0) | (exponent << 11) | (mantissa & 0x07ff);
    if (raw === DPT9_INVALID || raw === DPT9_INVALID_REHAU) continue; // the next exponent holds it too
    return raw;
  }
  throw new RangeError(`DPT 9.001 cannot encode ${value}: outside ${DPT9_MIN}..${DPT9_MAX}`);
}
