// Reads a DBC file for the decoder, the bridge and `fieldgate validate`: path resolution (absolute,
// working directory, then the fieldgate install), a size limit, UTF-8 or Windows-1252 text (CANdb++
// writes the latter, `°C` as one byte), and binary files refused before they reach the parser.
import { readFileSync, statSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Dbc, DbcParseError, parseDbc } from './parse.ts';

const INSTALL_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** Real databases of whole vehicles are a few MB; anything far larger is not a DBC. */
export const DBC_MAX_BYTES = 32 * 1024 * 1024;

export function dbcCandidates(path: string): string[] {
  return isAbsolute(path) ? [path] : [resolve(path), resolve(INSTALL_ROOT, path)];
}

/** DBC bytes as text; throws DbcParseError for binary content. */
export function dbcText(bytes: Uint8Array, source: string): string {
  let line = 1;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (b === 10) line++;
    else if (b < 32 && b !== 9 && b !== 13 && b !== 12) {
      throw new DbcParseError(source, line, `not a DBC text file: binary byte 0x${b.toString(16).padStart(2, '0')} at offset ${i}`);
    }
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return new TextDecoder('windows-1252').decode(bytes);
  }
}

function tooBig(path: string, size: number): Error {
  return new Error(`DBC "${path}" is ${size} bytes, above the ${DBC_MAX_BYTES}-byte limit for a message database`);
}

/** Reads and parses a DBC; errors name the file (and the line for syntax errors). */
export async function loadDbc(path: string): Promise<{ dbc: Dbc; path: string }> {
  let lastErr: unknown;
  for (const p of dbcCandidates(path)) {
    let bytes: Uint8Array;
    try {
      const st = await stat(p);
      if (st.size > DBC_MAX_BYTES) throw tooBig(p, st.size);
      bytes = await readFile(p);
    } catch (err) {
      lastErr = err;
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      break;
    }
    return { dbc: parseDbc(dbcText(bytes, p), p), path: p };
  }
  throw new Error(`cannot read the DBC "${path}" (looked in ${dbcCandidates(path).join(', ')}): ${(lastErr as Error).message}`, { cause: lastErr });
}

/** The same, synchronously, for `fieldgate validate` (validateConfig hooks are synchronous). */
export function loadDbcSync(path: string): { dbc: Dbc; path: string } {
  let lastErr: unknown;
  for (const p of dbcCandidates(path)) {
    let bytes: Uint8Array;
    try {
      const st = statSync(p);
      if (st.size > DBC_MAX_BYTES) throw tooBig(p, st.size);
      bytes = readFileSync(p);
    } catch (err) {
      lastErr = err;
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      break;
    }
    return { dbc: parseDbc(dbcText(bytes, p), p), path: p };
  }
  throw new Error(`cannot read the DBC "${path}" (looked in ${dbcCandidates(path).join(', ')}): ${(lastErr as Error).message}`, { cause: lastErr });
}
