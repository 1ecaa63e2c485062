// Loads a manifest: parse, interpolate the environment, validate against the composed schema, cross-check.
import { readFileLimited, ReplyTooLargeError } from '../read-limited.ts';
import process from 'node:process';
import type { AnyAdapterDefinition, AnyPluginDefinition } from '../plugin.ts';
import { ManifestError, UnreadableFileError } from '../errors.ts';
import type { Manifest } from './types.ts';
import { composeManifestSchema } from './compose.ts';
import { crossCheck } from './cross-check.ts';
import { checkDisplay } from '../display.ts';
import { loadExternal } from './external.ts';
import { interpolate } from './interpolate.ts';
import { parseJson } from './json.ts';
import { getAt, setAt } from './paths.ts';
import { compileManifestSchema, formatSchemaErrors, validateCollectingSecrets } from './validate.ts';

export interface LoadOptions {
  plugins: AnyPluginDefinition[];
  adapters: AnyAdapterDefinition[];
  /** Variables for `${VAR}` interpolation; defaults to `process.env`. */
  env?: Record<string, string | undefined>;
  /** Problems found before validation (external code that failed to load), as `path: message` lines. */
  loadIssues?: string[];
}

export interface LoadedManifest {
  manifest: Manifest;
  /** Values to mask in logs: secret-looking variables and everything at an `x-secret` location. */
  secrets: string[];
  file: string;
  /** Plugins and adapters loaded from paths or npm packages the manifest names (the runtime needs them too). */
  external?: { plugins: AnyPluginDefinition[]; adapters: AnyAdapterDefinition[] };
}

/** A manifest is a few KB; a path naming a log, an image or `/dev/zero` must not be read whole. */
export const MANIFEST_MAX_BYTES = 1024 * 1024;

/** Reads and validates `file`. Throws UnreadableFileError, or ManifestError listing every problem. */
export async function loadManifest(file: string, options: LoadOptions): Promise<LoadedManifest> {
  let text: string;
  try {
    text = new TextDecoder().decode(await readFileLimited(file, MANIFEST_MAX_BYTES));
  } catch (err) {
    if (err instanceof ReplyTooLargeError) {
      const size = err.size === undefined ? `more than ${MANIFEST_MAX_BYTES} bytes` : `${err.size} bytes`;
      throw new UnreadableFileError(`${file}: the manifest is ${size}, over the ${MANIFEST_MAX_BYTES}-byte limit; a manifest is a few KB, so check the path names the right file`, { cause: err });
    }
    const code = (err as { code?: unknown }).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : String((err as Error).message ?? err);
    throw new UnreadableFileError(`${file}: cannot read the manifest (${reason}); check the path and its permissions`, { cause: err });
  }
  // External plugins and adapters are loaded before validation: their schemas are part of it.
  const parsed = parseJson(text);
  if (!parsed.ok) return parseManifest(text, file, options);
  const external = await loadExternal(interpolate(parsed.value, options.env ?? process.env).value, file);
  const loaded = parseManifest(text, file, {
    ...options,
    plugins: [...options.plugins, ...external.plugins],
    adapters: [...options.adapters, ...external.adapters],
    loadIssues: [...(options.loadIssues ?? []), ...external.issues],
  });
  return { ...loaded, external: { plugins: external.plugins, adapters: external.adapters } };
}

/**
 * Validates manifest text. Environment values are coerced to the type the schema wants (a
 * port `"${API_PORT:-8080}"` becomes 8080), literal strings in the file are not: the schema is
 * run with `coerceTypes` on a copy, and only the values at interpolated locations are taken
 * from it before the strict, defaults-applying validation that decides. External plugins and
 * adapters must already be in `options` (loadManifest loads them; this function does no I/O).
 */
export function parseManifest(text: string, file: string, options: LoadOptions): LoadedManifest {
  const parsed = parseJson(text);
  if (!parsed.ok) throw new ManifestError(file, [`${file}:${parsed.line}:${parsed.column}: ${parsed.message}`]);

  const catalog = { plugins: options.plugins, adapters: options.adapters };
  const compiled = compileManifestSchema(composeManifestSchema(catalog));
  const interpolated = interpolate(parsed.value, options.env ?? process.env);
  const data = interpolated.value;

  if (interpolated.sites.size > 0) {
    const copy = structuredClone(data);
    compiled.coerce(copy);
    for (const site of interpolated.sites.values()) {
      const coerced = getAt(copy, site.path);
      if (coerced !== undefined && typeof coerced !== 'string') setAt(data, site.path, coerced);
    }
  }

  const result = validateCollectingSecrets(compiled, data);
  const secrets = [...new Set([...interpolated.secrets, ...result.secrets])].filter((s) => s !== '');
  const show = (value: string) => (secrets.some((s) => value === s || (s.length >= 6 && value.includes(s))) ? '***' : value);

  // An entry that failed to load is reported once, with the reason, not again as an unknown name.
  const loadIssues = options.loadIssues ?? [];
  const failedAt = new Set(loadIssues.map((line) => line.slice(0, line.indexOf(': '))));
  const issues = [
    ...interpolated.issues,
    ...loadIssues,
    ...formatSchemaErrors(result.errors, { data, envVars: interpolated.sites, failed: interpolated.failed }),
    ...crossCheck(data, catalog, show).filter((line) => !failedAt.has(line.slice(0, line.indexOf(': ')))),
    ...checkDisplay((data as { display?: unknown }).display),
  ];
  issues.push(...semanticChecks(data, options.plugins, issues));
  if (issues.length > 0) throw new ManifestError(file, [...new Set(issues)].map((line) => mask(line, secrets)));
  return { manifest: data as Manifest, secrets, file };
}

/**
 * Runs each plugin type's `validateConfig` on the configs that passed the schema (a config with
 * schema errors is not in a shape those checks can judge), prefixing the entry's path.
 */
function semanticChecks(data: unknown, plugins: readonly AnyPluginDefinition[], earlier: readonly string[]): string[] {
  const entries = (data as { plugins?: unknown }).plugins;
  if (!Array.isArray(entries)) return [];
  const out: string[] = [];
  entries.forEach((entry: { use?: unknown; config?: unknown }, i) => {
    const prefix = `plugins[${i}]`;
    const check = plugins.find((p) => p.type === entry?.use)?.validateConfig;
    if (!check || earlier.some((line) => line.startsWith(`${prefix}.`) || line.startsWith(`${prefix}:`))) return;
    let lines: string[];
    try {
      lines = check(entry.config ?? {});
    } catch (err) {
      // External code is not trusted to be bug-free: its crash is a problem line, not a stack trace.
      out.push(`${prefix}.config: the plugin's validateConfig failed: ${err instanceof Error ? err.message : String(err)}`);
      return;
    }
    for (const line of lines) out.push(`${prefix}.config.${line}`);
  });
  return out;
}

/** Last line of defence: no message may carry a secret. Short values are skipped (they would mangle the text). */
function mask(line: string, secrets: readonly string[]): string {
  let out = line;
  for (const secret of secrets) if (secret.length >= 6) out = out.split(secret).join('***');
  return out;
}
