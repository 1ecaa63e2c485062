// Turns what a manifest names as `sim.profile` (a built-in name, a file path, or an inline object)
// into a checked Profile; every problem is reported with its path (`points[2].type: must be ...`).
import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Ajv } from 'ajv';
import { formatPath, fromPointer } from '../../core/manifest/paths.ts';
import { profileSchema } from './schema.ts';
import { compileExpression, ExpressionError } from './expression.ts';
import type { Profile, ProfilePoint } from './types.ts';
import { BUILTIN_PROFILES } from './builtin.ts';
import { parseS7Address } from '../../adapters/s7/address.ts';
import { parseFinsAddress } from '../../adapters/fins/address.ts';
import { CJ2M_AREA_WORDS } from '../fins-server.ts';

const MAX_FILE_BYTES = 1024 * 1024;

export class ProfileError extends Error {
  override name = 'ProfileError';
  constructor(readonly source: string, readonly problems: string[]) {
    super(`device profile ${source} is invalid:\n  ${problems.join('\n  ')}`);
  }
}

const validate = new Ajv({ allErrors: true, strict: false, useDefaults: true, allowUnionTypes: true }).compile(profileSchema);

/**
 * Resolves `spec`: a built-in profile name (`nj301`, `energy-meter`), a path to a JSON file
 * (relative to `cwd`, like the CAN adapter's DBC), or an inline profile object.
 */
export async function resolveProfile(spec: string | Record<string, unknown>, options: { cwd?: string; protocol?: Profile['protocol'] } = {}): Promise<Profile> {
  let raw: unknown;
  let source: string;
  if (typeof spec !== 'string') {
    raw = structuredClone(spec);
    source = 'inline profile';
  } else if (Object.hasOwn(BUILTIN_PROFILES, spec)) {
    raw = structuredClone(BUILTIN_PROFILES[spec]);
    source = `built-in profile "${spec}"`;
  } else if (/[/\\.]/.test(spec)) {
    const file = resolve(options.cwd ?? process.cwd(), spec);
    source = file;
    raw = await readJson(file);
  } else {
    throw new ProfileError(`"${spec}"`, [`no built-in profile "${spec}" (built-in: ${Object.keys(BUILTIN_PROFILES).join(', ')}); a file path needs a "/" or an extension`]);
  }
  const profile = checkProfile(raw, source);
  if (options.protocol && profile.protocol !== options.protocol) {
    throw new ProfileError(source, [`protocol: is "${profile.protocol}" but this adapter speaks ${options.protocol}`]);
  }
  return profile;
}

async function readJson(file: string): Promise<unknown> {
  let size: number;
  try {
    size = (await stat(file)).size;
  } catch (err) {
    throw new ProfileError(file, [`cannot read the file: ${(err as Error).message} (relative paths start at the working directory, ${process.cwd()})`]);
  }
  if (size > MAX_FILE_BYTES) throw new ProfileError(file, [`the file is ${size} bytes; a profile may have at most ${MAX_FILE_BYTES}`]);
  const text = await readFile(file, 'utf8');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ProfileError(file, [`not valid JSON: ${(err as Error).message}`]);
  }
}

/** Validates (filling defaults in place) and checks what the schema cannot say. Throws ProfileError. */
export function checkProfile(raw: unknown, source = 'profile'): Profile {
  if (!validate(raw)) {
    const problems = (validate.errors ?? [])
      .filter((e) => e.keyword !== 'if')
      .map((e) => {
        const where = formatPath(fromPointer(e.instancePath, raw));
        const extra = e.keyword === 'enum' ? `: ${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')}` :
          e.keyword === 'additionalProperties' ? ` ("${(e.params as { additionalProperty: string }).additionalProperty}")` : '';
        return `${where}: ${e.message}${extra}`;
      });
    throw new ProfileError(source, [...new Set(problems)]);
  }
  const profile = raw as unknown as Profile;
  const problems = crossCheck(profile);
  if (problems.length) throw new ProfileError(source, problems);
  return profile;
}

const WORDS: Record<string, number> = { bool: 1, int16: 1, uint16: 1, int32: 2, uint32: 2, float32: 2 };

function crossCheck(p: Profile): string[] {
  const out: string[] = [];
  if (p.behaviour && p.points.length) out.push(`points: a profile with the named behaviour "${p.behaviour}" gets its points from it; remove them`);
  const names = new Set<string>();
  const used = new Map<string, string>(); // table:address -> point path
  p.points.forEach((pt, i) => {
    const at = `points[${i}]`;
    if (names.has(pt.name) || pt.name === 't') out.push(`${at}.name: "${pt.name}" is ${pt.name === 't' ? 'reserved for the time' : 'already used'}`);
    names.add(pt.name);
    if (p.protocol === 'modbus') out.push(...modbusPoint(p, pt, at, used));
    else if (pt.table !== undefined || pt.address !== undefined) out.push(`${at}: table and address are for Modbus points`);
    else if (p.protocol !== 'fins' && (pt.wordOrder !== 'big' || pt.scale !== 1)) out.push(`${at}: wordOrder and scale are for Modbus and FINS points`);
    if (p.protocol !== 'http' && (pt.field !== undefined || pt.writable !== undefined)) out.push(`${at}: field and writable are for HTTP points`);
    if (p.protocol === 's7') out.push(...s7Point(pt, at, used));
    else if (pt.s7 !== undefined) out.push(`${at}.s7: an S7 address in a ${p.protocol} profile`);
    if (p.protocol === 'fins') out.push(...finsPoint(pt, at, used));
    else if (pt.fins !== undefined) out.push(`${at}.fins: a FINS address in a ${p.protocol} profile`);
    if (p.protocol === 'can' && pt.type !== undefined) out.push(`${at}.type: a CAN signal's encoding is in the DBC`);
    if (p.protocol !== 'can' && pt.signal !== undefined) out.push(`${at}.signal: a CAN signal in a ${p.protocol} profile`);
  });
  if (p.protocol === 'can' && !p.behaviour && !p.can.dbc) out.push('can.dbc: a CAN profile names the DBC it plays');
  p.points.forEach((pt, i) => {
    const b = pt.behaviour;
    const at = `points[${i}].behaviour`;
    try {
      if (b.kind === 'formula') compileExpression(b.expr, names);
      if (b.kind === 'counter' && typeof b.rate === 'string') compileExpression(b.rate, names);
    } catch (err) {
      if (!(err instanceof ExpressionError)) throw err;
      out.push(`${at}.${b.kind === 'formula' ? 'expr' : 'rate'}: ${err.message}`);
    }
    if (b.kind === 'echo' && b.of !== undefined && !names.has(b.of)) out.push(`${at}.of: no point "${b.of}"`);
    if ((b.kind === 'ramp' || b.kind === 'random-walk') && b.min !== undefined && b.max !== undefined && b.min > b.max) out.push(`${at}: min is above max`);
  });
  if (p.protocol === 'http') {
    const fields = new Set<string>();
    p.points.forEach((pt, i) => {
      if (pt.field === undefined) return;
      const clash = [...fields].find((f) => f === pt.field || f.startsWith(`${pt.field}.`) || pt.field!.startsWith(`${f}.`));
      if (clash) out.push(`points[${i}].field: "${pt.field}" clashes with "${clash}"`);
      fields.add(pt.field);
    });
  }
  return out;
}

function modbusPoint(p: Profile, pt: ProfilePoint, at: string, used: Map<string, string>): string[] {
  if (pt.table === undefined && pt.address === undefined) return pt.type === undefined ? [] : [`${at}.type: an internal point (no table/address) has no type`];
  if (pt.table === undefined || pt.address === undefined) return [`${at}: a Modbus point needs both table and address (or neither, for an internal point)`];
  const bits = pt.table === 'coil' || pt.table === 'discrete';
  pt.type ??= bits ? 'bool' : 'uint16';
  if (bits !== (pt.type === 'bool')) return [`${at}.type: ${bits ? `${pt.table} points are bool` : `bool is for coils and discrete inputs, not ${pt.table} registers`}`];
  const words = WORDS[pt.type];
  const size = p.modbus.sizes[pt.table];
  if (pt.address + words > size) return [`${at}.address: ${pt.address}${words > 1 ? `..${pt.address + 1}` : ''} is outside the ${pt.table} table (size ${size}, see modbus.sizes)`];
  for (let a = pt.address; a < pt.address + words; a++) {
    const key = `${pt.table}:${a}`;
    const other = used.get(key);
    if (other) return [`${at}.address: ${pt.table} ${a} is already used by ${other}`];
    used.set(key, `${at} (${pt.name})`);
  }
  return [];
}

function finsPoint(pt: ProfilePoint, at: string, used: Map<string, string>): string[] {
  if (pt.fins === undefined) return pt.type === undefined ? [] : [`${at}.type: an internal point (no fins address) has no type`];
  let a;
  try {
    a = parseFinsAddress(pt.fins);
  } catch (err) {
    return [`${at}.fins: ${(err as Error).message}`];
  }
  const bit = a.bit !== undefined;
  pt.type ??= bit ? 'bool' : 'uint16';
  if (bit !== (pt.type === 'bool')) return [`${at}.type: ${bit ? `${pt.fins} is a bit; its type is bool` : `bool is for bit addresses (${pt.fins}.00), not words`}`];
  const words = WORDS[pt.type];
  const size = CJ2M_AREA_WORDS[a.area];
  if (a.address + words > size) return [`${at}.fins: ${pt.fins}${words > 1 ? ` (${words} words)` : ''} is past the end of ${a.area} (${size} words on a CJ2M)`];
  for (let w = a.address; w < a.address + words; w++) {
    const whole = `fins:${a.area}:${w}`;
    const key = bit ? `${whole}.${a.bit}` : whole;
    const other = used.get(key) ?? (bit ? used.get(whole) : [...used.entries()].find(([k]) => k.startsWith(`${whole}.`))?.[1]);
    if (other) return [`${at}.fins: ${pt.fins} overlaps ${other}`];
    used.set(key, `${at} (${pt.name})`);
  }
  return [];
}

function s7Point(pt: ProfilePoint, at: string, used: Map<string, string>): string[] {
  if (pt.type !== undefined) return [`${at}.type: an S7 point's type is in its address (DB1,REAL0, MW4, I0.0)`];
  if (pt.s7 === undefined) return [];
  let a;
  try {
    a = parseS7Address(pt.s7);
  } catch (err) {
    return [`${at}.s7: ${(err as Error).message}`];
  }
  if (a.type === 'CHAR') return [`${at}.s7: CHAR addresses hold text; a point is a number or a bit`];
  const bytes = a.type === 'REAL' || a.type === 'DINT' || a.type === 'DWORD' ? 4 : a.type === 'INT' || a.type === 'WORD' ? 2 : 1;
  for (let b = a.byte; b < a.byte + bytes; b++) {
    const key = `s7:${a.area}${a.db ?? ''}:${b}${a.type === 'X' ? `.${a.bit}` : ''}`;
    const whole = `s7:${a.area}${a.db ?? ''}:${b}`;
    const other = used.get(key) ?? (a.type === 'X' ? used.get(whole) : [...used.entries()].find(([k]) => k.startsWith(`${whole}.`) || k === whole)?.[1]);
    if (other) return [`${at}.s7: ${pt.s7} overlaps ${other}`];
    used.set(key, `${at} (${pt.name})`);
  }
  return [];
}
