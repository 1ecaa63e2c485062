// The mixing PLC's batch block in D memory, as the real middleware (saptadi73/Middleware-PLC-SCADA-Odoo,
// app/reference/MASTER_BATCH_REFERENCE.json) lays it out: batch n at D7000 + 100(n-1), "REAL"
// values as unsigned int x100 in two words (high word first), ASCII two characters per word
// (first character in the high byte). Encoding refuses what the PLC would misread.
//
// Offsets inside a block (word = +offset from the block's base), from MASTER_BATCH_REFERENCE.json:
//   +0        BATCH            batch number (scale 1, one word)
//   +1..+8    NO-MO            ASCII, 16 characters (e.g. WH/MO/00002)
//   +9..+16   NO-BoM           ASCII, 16 characters
//   +17..+24  finished_goods   ASCII, 16 characters
//   +25..+26  quantity         x100, two words
//   +27+3i    silo id          101..113 (silos A..M), 114/115 liquid tanks; one word, scale 1
//   +28+3i..  consumption      x100, two words (i = id - 101, i = 0..14)
//   +72       status_manufacturing  0 = start (loaded / mixing), 1 = finished
//   +73       status_operation      0 = run, 1 = failed
//   +74..+75  weight_finished_good  x100, two words
//   +76       status_read_data      0 = not yet read, 1 = read by the middleware
// Unverified (not in the reference, chosen here, the simulator follows them): the PLC takes a
// batch when a write sets +0 to n and +72 is 0; the middleware acknowledges a finished batch by
// writing +76 = 1, after which the PLC (and the simulator) clears the block to zeros; ASCII is
// padded with NUL bytes; the PLC program sums the consumptions as the finished weight.

export const BATCH_BASE = 7000;
export const BATCH_STRIDE = 100;
/** Words of a block the layout uses (+0..+76); the rest of the 100 are left alone. */
export const BATCH_WORDS = 77;
/** The last batch whose block fits in the CJ2M's D0..D32767. */
export const MAX_BATCH_NO = Math.floor((32768 - BATCH_BASE - BATCH_STRIDE) / BATCH_STRIDE) + 1;

export const OFFSET = {
  batchNo: 0,
  moId: 1,
  bomCode: 9,
  finishedGoods: 17,
  quantity: 25,
  silos: 27,
  statusManufacturing: 72,
  statusOperation: 73,
  weightFinished: 74,
  statusReadData: 76,
} as const;

export const TEXT_WORDS = 8;
/** Silo ids in block order: 101..113 (A..M), then the liquid tanks 114 and 115. */
export const SILO_IDS: readonly number[] = Array.from({ length: 15 }, (_, i) => 101 + i);
/** Largest value a two-word x100 field holds. */
export const MAX_SCALED = Math.floor(0xffffffff / 100);

export interface PlcBatch {
  batchNo: number;
  moId: string;
  bomCode: string;
  finishedGoods: string;
  /** Quantity to produce (kg), two decimals kept. */
  quantity: number;
  /** Consumption (kg) by silo id 101..115; a missing silo is 0. */
  consumption: Record<number, number>;
  /** Read back from the PLC; ignored when encoding a new batch (written as 0). */
  finished?: boolean;
  failed?: boolean;
  weightFinished?: number;
  readAcknowledged?: boolean;
}

export class PlcLayoutError extends Error {
  override name = 'PlcLayoutError';
}

/** D address of batch n's block. */
export function batchAddress(batchNo: number): number {
  if (!Number.isInteger(batchNo) || batchNo < 1 || batchNo > MAX_BATCH_NO) {
    throw new PlcLayoutError(`batch number ${batchNo} is out of range: batches are 1..${MAX_BATCH_NO} (D${BATCH_BASE} + 100 per batch)`);
  }
  return BATCH_BASE + BATCH_STRIDE * (batchNo - 1);
}

/** The batch number whose block holds D`address`, or 0 when the address lies outside every block's used words. */
export function batchAt(address: number): number {
  if (address < BATCH_BASE) return 0;
  const n = Math.floor((address - BATCH_BASE) / BATCH_STRIDE) + 1;
  return n <= MAX_BATCH_NO && (address - BATCH_BASE) % BATCH_STRIDE < BATCH_WORDS ? n : 0;
}

/** Value x100 as [high word, low word]; refuses negatives, NaN and values past MAX_SCALED. */
export function encodeScaled(value: number, field = 'value'): [number, number] {
  if (!Number.isFinite(value)) throw new PlcLayoutError(`${field}: ${value} is not a number`);
  if (value < 0) throw new PlcLayoutError(`${field}: ${value} is negative; the PLC stores unsigned int x100`);
  const raw = Math.round(value * 100);
  if (raw > 0xffffffff) throw new PlcLayoutError(`${field}: ${value} is too large; the PLC holds at most ${MAX_SCALED} (two words x100)`);
  return [Math.floor(raw / 0x10000), raw % 0x10000];
}

export function decodeScaled(high: number, low: number): number {
  return (high * 0x10000 + low) / 100;
}

/** ASCII, two characters per word, big-endian, padded with NUL; `truncate` cuts instead of refusing. */
export function encodeAscii(text: string, words: number, options: { field?: string; truncate?: boolean } = {}): number[] {
  const field = options.field ?? 'text';
  if (/[^\x20-\x7e]/.test(text)) throw new PlcLayoutError(`${field}: "${text}" has characters outside printable ASCII; the PLC field is ASCII`);
  if (text.length > words * 2) {
    if (!options.truncate) throw new PlcLayoutError(`${field}: "${text}" is ${text.length} characters; the PLC field holds ${words * 2}`);
    text = text.slice(0, words * 2);
  }
  const out: number[] = [];
  for (let i = 0; i < words; i++) out.push(((text.charCodeAt(2 * i) || 0) << 8) | (text.charCodeAt(2 * i + 1) || 0));
  return out;
}

export function decodeAscii(words: readonly number[]): string {
  let s = '';
  for (const w of words) s += String.fromCharCode(w >> 8, w & 0xff);
  return s.replace(/[\0 ]+$/, '').replace(/\0/g, '');
}

/** The words of batch `batch.batchNo`'s block (+0..+76), ready for one FINS write at batchAddress(). */
export function encodeBatch(batch: PlcBatch): number[] {
  batchAddress(batch.batchNo);
  const w = new Array<number>(BATCH_WORDS).fill(0);
  const put = (offset: number, values: readonly number[]) => values.forEach((v, i) => (w[offset + i] = v));
  put(OFFSET.batchNo, [batch.batchNo]);
  // The MO reference identifies the batch in Odoo: refuse rather than send a cut one.
  put(OFFSET.moId, encodeAscii(batch.moId, TEXT_WORDS, { field: `batch ${batch.batchNo} moId` }));
  put(OFFSET.bomCode, encodeAscii(batch.bomCode, TEXT_WORDS, { field: `batch ${batch.batchNo} bomCode`, truncate: true }));
  put(OFFSET.finishedGoods, encodeAscii(batch.finishedGoods, TEXT_WORDS, { field: `batch ${batch.batchNo} finishedGoods`, truncate: true }));
  put(OFFSET.quantity, encodeScaled(batch.quantity, `batch ${batch.batchNo} quantity`));
  for (const key of Object.keys(batch.consumption)) {
    if (!SILO_IDS.includes(Number(key))) throw new PlcLayoutError(`batch ${batch.batchNo}: silo ${key} has no place in the PLC block (silos ${SILO_IDS[0]}..${SILO_IDS.at(-1)})`);
  }
  SILO_IDS.forEach((id, i) => {
    put(OFFSET.silos + 3 * i, [id]);
    put(OFFSET.silos + 3 * i + 1, encodeScaled(batch.consumption[id] ?? 0, `batch ${batch.batchNo} silo ${id} consumption`));
  });
  return w;
}

/** Reads a block back (at least BATCH_WORDS words from its base). Text is trimmed, values /100. */
export function decodeBatch(words: readonly number[]): PlcBatch {
  if (words.length < BATCH_WORDS) throw new PlcLayoutError(`a batch block is ${BATCH_WORDS} words; got ${words.length}`);
  const consumption: Record<number, number> = {};
  SILO_IDS.forEach((id, i) => {
    const o = OFFSET.silos + 3 * i;
    const value = decodeScaled(words[o + 1], words[o + 2]);
    if (value !== 0) consumption[id] = value;
  });
  return {
    batchNo: words[OFFSET.batchNo],
    moId: decodeAscii(words.slice(OFFSET.moId, OFFSET.moId + TEXT_WORDS)),
    bomCode: decodeAscii(words.slice(OFFSET.bomCode, OFFSET.bomCode + TEXT_WORDS)),
    finishedGoods: decodeAscii(words.slice(OFFSET.finishedGoods, OFFSET.finishedGoods + TEXT_WORDS)),
    quantity: decodeScaled(words[OFFSET.quantity], words[OFFSET.quantity + 1]),
    consumption,
    finished: words[OFFSET.statusManufacturing] === 1,
    failed: words[OFFSET.statusOperation] === 1,
    weightFinished: decodeScaled(words[OFFSET.weightFinished], words[OFFSET.weightFinished + 1]),
    readAcknowledged: words[OFFSET.statusReadData] === 1,
  };
}
