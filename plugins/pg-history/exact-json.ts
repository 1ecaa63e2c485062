// JSON text to one canonical text without going through JavaScript numbers: object keys sorted,
// no whitespace, and numbers written as PostgreSQL's numeric writes them (exact digits, the scale
// kept: `23.0` stays `23.0`, `1e2` becomes `100`, 9007199254740993 stays itself). Both sides of the
// migration check go through this, so a big integer changed by one is a difference.

export class JsonTextError extends Error {}

/** The canonical text of a JSON document; throws JsonTextError when it is not JSON. */
export function canonicalJsonText(text: string): string {
  const p = { s: text, i: 0 };
  const out = value(p);
  ws(p);
  if (p.i !== p.s.length) throw new JsonTextError(`unexpected ${JSON.stringify(p.s[p.i])} at offset ${p.i}`);
  return out;
}

interface P {
  s: string;
  i: number;
}

function ws(p: P): void {
  while (p.i < p.s.length && ' \t\n\r'.includes(p.s[p.i])) p.i++;
}

function value(p: P): string {
  ws(p);
  const c = p.s[p.i];
  if (c === '{') {
    p.i++;
    const entries: Array<[string, string]> = [];
    ws(p);
    if (p.s[p.i] === '}') {
      p.i++;
      return '{}';
    }
    for (;;) {
      ws(p);
      if (p.s[p.i] !== '"') throw new JsonTextError(`expected a key at offset ${p.i}`);
      const key = string(p);
      ws(p);
      if (p.s[p.i++] !== ':') throw new JsonTextError(`expected ":" at offset ${p.i - 1}`);
      entries.push([key, value(p)]);
      ws(p);
      const sep = p.s[p.i++];
      if (sep === '}') break;
      if (sep !== ',') throw new JsonTextError(`expected "," or "}" at offset ${p.i - 1}`);
    }
    // Like jsonb: the last of duplicate keys wins. Keys sorted by UTF-16 code units.
    const byKey = new Map(entries.map(([k, v]) => [JSON.parse(k) as string, v]));
    return `{${[...byKey.keys()].sort().map((k) => `${JSON.stringify(k)}:${byKey.get(k)}`).join(',')}}`;
  }
  if (c === '[') {
    p.i++;
    const items: string[] = [];
    ws(p);
    if (p.s[p.i] === ']') {
      p.i++;
      return '[]';
    }
    for (;;) {
      items.push(value(p));
      ws(p);
      const sep = p.s[p.i++];
      if (sep === ']') break;
      if (sep !== ',') throw new JsonTextError(`expected "," or "]" at offset ${p.i - 1}`);
    }
    return `[${items.join(',')}]`;
  }
  if (c === '"') return JSON.stringify(JSON.parse(string(p)));
  for (const lit of ['true', 'false', 'null']) {
    if (p.s.startsWith(lit, p.i)) {
      p.i += lit.length;
      return lit;
    }
  }
  const m = /^-?(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?/.exec(p.s.slice(p.i, p.i + 400));
  if (!m) throw new JsonTextError(`unexpected ${JSON.stringify(c ?? 'end')} at offset ${p.i}`);
  p.i += m[0].length;
  return numeric(m[0].startsWith('-'), m[1], m[2] ?? '', Number(m[3] ?? 0));
}

/** The raw text of a JSON string token, quotes included. */
function string(p: P): string {
  const start = p.i;
  p.i++;
  while (p.i < p.s.length && p.s[p.i] !== '"') p.i += p.s[p.i] === '\\' ? 2 : 1;
  if (p.i >= p.s.length) throw new JsonTextError(`string not terminated (offset ${start})`);
  p.i++;
  return p.s.slice(start, p.i);
}

/** digits × 10^-(frac.length) × 10^exp, written with scale max(0, frac.length - exp) like numeric. */
function numeric(negative: boolean, int: string, frac: string, exp: number): string {
  let digits = int + frac;
  let point = int.length + exp; // position of the decimal point within digits
  const scale = Math.max(0, frac.length - exp);
  if (point <= 0) {
    digits = '0'.repeat(1 - point) + digits;
    point = 1;
  }
  if (digits.length < point + scale) digits += '0'.repeat(point + scale - digits.length);
  let whole = digits.slice(0, point).replace(/^0+(?=\d)/, '');
  const fraction = digits.slice(point, point + scale);
  if (whole === '') whole = '0';
  const zero = /^0*$/.test(whole + fraction);
  return `${negative && !zero ? '-' : ''}${whole}${scale ? `.${fraction}` : ''}`;
}
