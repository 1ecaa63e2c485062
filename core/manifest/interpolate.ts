// Environment interpolation: `${VAR}`, `${VAR:-default}` and `$${` (a literal `${`) in string values.
import { formatPath, toPointer, type PathSegment } from './paths.ts';

/** Variable names whose values are secrets whatever the schema says. */
export const SECRET_NAME = /PASS|SECRET|TOKEN|KEY|CREDENTIAL/i;

export interface InterpolationSite {
  path: PathSegment[];
  /** Variables substituted into this string, in order. */
  vars: string[];
}

export interface InterpolationResult {
  value: unknown;
  /** Strings that took a value from the environment, keyed by JSON pointer: only these are coerced. */
  sites: Map<string, InterpolationSite>;
  /** Pointers whose interpolation failed; schema errors there would only repeat the problem. */
  failed: Set<string>;
  issues: string[];
  /** Values of variables whose names look secret (defaults included). */
  secrets: string[];
}

const REFERENCE = /^([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?$/s;

/**
 * Returns a copy of `value` with every string interpolated. Like the shell, `${VAR:-default}`
 * uses the default when VAR is unset or empty. Keys are not interpolated, and nesting
 * (`${A:-${B}}`) is not supported.
 */
export function interpolate(value: unknown, env: Record<string, string | undefined>): InterpolationResult {
  const result: InterpolationResult = { value: undefined, sites: new Map(), failed: new Set(), issues: [], secrets: [] };

  const visit = (node: unknown, path: PathSegment[]): unknown => {
    if (typeof node === 'string') return interpolateString(node, path);
    if (Array.isArray(node)) return node.map((item, i) => visit(item, [...path, i]));
    if (typeof node === 'object' && node !== null) {
      const out: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(node)) {
        // defineProperty: a "__proto__" key in the file must stay a plain key.
        Object.defineProperty(out, key, { value: visit(item, [...path, key]), enumerable: true, writable: true, configurable: true });
      }
      return out;
    }
    return node;
  };

  const interpolateString = (text: string, path: PathSegment[]): string => {
    if (!text.includes('${')) return text;
    const where = formatPath(path);
    const vars: string[] = [];
    let out = '';
    let ok = true;
    let i = 0;
    while (i < text.length) {
      if (text.startsWith('$${', i)) {
        out += '${';
        i += 3;
        continue;
      }
      if (!text.startsWith('${', i)) {
        out += text[i++];
        continue;
      }
      const end = text.indexOf('}', i + 2);
      const match = end < 0 ? null : REFERENCE.exec(text.slice(i + 2, end));
      if (!match) {
        const shown = end < 0 ? text.slice(i) : text.slice(i, end + 1);
        result.issues.push(
          `${where}: invalid environment reference ${JSON.stringify(shown)} (write \${NAME} or \${NAME:-default}; $\${ for a literal \${)`,
        );
        ok = false;
        break;
      }
      const [, name, fallback] = match;
      let resolved = env[name];
      if ((resolved === undefined || resolved === '') && fallback !== undefined) resolved = fallback;
      if (resolved === undefined) {
        result.issues.push(
          `${where}: environment variable ${name} is not set (use \${${name}:-default} for a default)`,
        );
        ok = false;
        resolved = '';
      }
      if (SECRET_NAME.test(name) && resolved !== '') result.secrets.push(resolved);
      vars.push(name);
      out += resolved;
      i = end + 1;
    }
    const pointer = toPointer(path);
    if (!ok) result.failed.add(pointer);
    else if (vars.length > 0) result.sites.set(pointer, { path, vars });
    return out;
  };

  result.value = visit(value, []);
  return result;
}
