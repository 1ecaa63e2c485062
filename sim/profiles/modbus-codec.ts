// Engineering values ↔ Modbus words for profile points (types, scale, word order), as a device
// stores them; the modbus-bridge decodes them with the same rules from the other end.
import type { ProfilePoint } from './types.ts';

export function wordCount(point: ProfilePoint): number {
  return point.type === 'int32' || point.type === 'uint32' || point.type === 'float32' ? 2 : 1;
}

/** Words (registers 0..65535, or bits 0/1) for `value`; integers are rounded and kept in range. */
export function encodePoint(point: ProfilePoint, value: number): number[] {
  const type = point.type ?? 'uint16';
  if (type === 'bool') return [value !== 0 ? 1 : 0];
  const raw = type === 'float32' ? value / (point.scale ?? 1) : Math.round(value / (point.scale ?? 1));
  const v = new DataView(new ArrayBuffer(4));
  switch (type) {
    case 'int16':
      return [clampInt(raw, -32768, 32767) & 0xffff];
    case 'uint16':
      return [clampInt(raw, 0, 65535)];
    case 'int32':
      v.setInt32(0, clampInt(raw, -2147483648, 2147483647));
      break;
    case 'uint32':
      v.setUint32(0, clampInt(raw, 0, 4294967295));
      break;
    case 'float32':
      v.setFloat32(0, raw);
      break;
  }
  const words = [v.getUint16(0), v.getUint16(2)];
  return point.wordOrder === 'little' ? words.reverse() : words;
}

export function decodePoint(point: ProfilePoint, words: number[]): number {
  const type = point.type ?? 'uint16';
  if (type === 'bool') return words[0] ? 1 : 0;
  const scale = point.scale ?? 1;
  if (type === 'int16') return ((words[0] << 16) >> 16) * scale;
  if (type === 'uint16') return words[0] * scale;
  const [hi, lo] = point.wordOrder === 'little' ? [words[1], words[0]] : [words[0], words[1]];
  const v = new DataView(new ArrayBuffer(4));
  v.setUint16(0, hi);
  v.setUint16(2, lo);
  const raw = type === 'int32' ? v.getInt32(0) : type === 'uint32' ? v.getUint32(0) : v.getFloat32(0);
  return raw * scale;
}

function clampInt(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, Number.isFinite(v) ? v : 0));
}
