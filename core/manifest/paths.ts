// Path helpers: manifest locations as JS-style paths (`plugins[2].config.port`) and JSON pointers.

export type PathSegment = string | number;

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** `['plugins', 2, 'config', 'port']` → `plugins[2].config.port`; the empty path is `(root)`. */
export function formatPath(segments: readonly PathSegment[]): string {
  let out = '';
  for (const segment of segments) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (IDENTIFIER.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out === '' ? '(root)' : out;
}

/** JSON pointer (as in ajv's `instancePath`) for a list of segments. */
export function toPointer(segments: readonly PathSegment[]): string {
  return segments.map((s) => '/' + String(s).replace(/~/g, '~0').replace(/\//g, '~1')).join('');
}

/**
 * Splits a JSON pointer into segments. Array indices become numbers, decided by the data they
 * point into, so an object key that happens to be "0" still prints as `.0`-style `["0"]`.
 */
export function fromPointer(pointer: string, data: unknown): PathSegment[] {
  if (pointer === '') return [];
  const segments: PathSegment[] = [];
  let node: unknown = data;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(node) && /^\d+$/.test(key)) {
      segments.push(Number(key));
      node = node[Number(key)];
    } else {
      segments.push(key);
      node = isRecord(node) ? node[key] : undefined;
    }
  }
  return segments;
}

/** Whether `pointer` is `base` or lies inside it. */
export function isUnder(pointer: string, base: string): boolean {
  return pointer === base || pointer.startsWith(base + '/');
}

export function getAt(data: unknown, segments: readonly PathSegment[]): unknown {
  let node = data;
  for (const segment of segments) {
    if (Array.isArray(node) && typeof segment === 'number') node = node[segment];
    else if (isRecord(node)) node = node[String(segment)];
    else return undefined;
  }
  return node;
}

export function setAt(data: unknown, segments: readonly PathSegment[], value: unknown): void {
  if (segments.length === 0) return;
  const parent = getAt(data, segments.slice(0, -1));
  const last = segments[segments.length - 1];
  if (Array.isArray(parent) && typeof last === 'number') parent[last] = value;
  else if (isRecord(parent)) parent[String(last)] = value;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
