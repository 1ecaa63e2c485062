// Loads plugins and adapters a manifest names by path (`./x.ts`, relative to the manifest) or by npm
// package (`npm:name`, resolved from the manifest's folder), and checks they fit the contract.
import { readFile, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CONTRACT_VERSION, type AnyAdapterDefinition, type AnyPluginDefinition } from '../plugin.ts';
import { errorMessage } from '../errors.ts';
import type { JsonSchema } from '../schema.ts';
import { formatPath, isRecord } from './paths.ts';
import { schemaProblem } from './validate.ts';

export interface ExternalDefinitions {
  /** Loaded definitions, renamed to the specifier the manifest used so every lookup by name finds them. */
  plugins: AnyPluginDefinition[];
  adapters: AnyAdapterDefinition[];
  /** `path: message` lines for entries that could not be loaded. */
  issues: string[];
}

// The kind an external adapter declares, under the specifier it was renamed to: a plugin's binding
// asks for an interface (`kind: 'value'`), which an external adapter can implement.
const declaredKinds = new WeakMap<AnyAdapterDefinition, string>();

/** The kind an adapter definition implements: its own, or the one an external adapter declared. */
export function declaredKind(definition: AnyAdapterDefinition): string {
  return declaredKinds.get(definition) ?? definition.kind;
}

/** Whether a `use` or `kind` names code outside the catalogue. */
export function isExternalSpecifier(name: string): boolean {
  return name.startsWith('./') || name.startsWith('../') || isAbsolute(name) || name.startsWith('npm:');
}

class LoadFailure extends Error {
  /** The file the failure is about, when one was found. */
  file?: string;
}

interface Wanted {
  what: 'plugin' | 'adapter';
  /** Every entry using the specifier: each gets the load failure, none an "unknown type" line. */
  at: string[];
}

/** Loads every external plugin and adapter `data` (a parsed, interpolated manifest) names. */
export async function loadExternal(data: unknown, manifestFile: string): Promise<ExternalDefinitions> {
  const out: ExternalDefinitions = { plugins: [], adapters: [], issues: [] };
  if (!isRecord(data)) return out;
  const baseDir = dirname(resolve(manifestFile));
  const wanted = new Map<string, Wanted>();
  const collect = (key: 'plugins' | 'adapters', field: 'use' | 'kind', what: Wanted['what']) => {
    (Array.isArray(data[key]) ? data[key] : []).forEach((raw: unknown, i: number) => {
      const spec = isRecord(raw) ? raw[field] : undefined;
      if (typeof spec !== 'string' || !isExternalSpecifier(spec)) return;
      const seen = wanted.get(`${what} ${spec}`);
      if (seen) seen.at.push(formatPath([key, i, field]));
      else wanted.set(`${what} ${spec}`, { what, at: [formatPath([key, i, field])] });
    });
  };
  collect('plugins', 'use', 'plugin');
  collect('adapters', 'kind', 'adapter');

  for (const [key, { what, at }] of wanted) {
    const spec = key.slice(what.length + 1);
    let where = spec;
    try {
      const file = await locate(spec, baseDir);
      where = file;
      const definition = check(await importModule(file), what);
      if (what === 'plugin') out.plugins.push({ ...(definition as AnyPluginDefinition), type: spec });
      else {
        const adapter: AnyAdapterDefinition = { ...(definition as AnyAdapterDefinition), kind: spec };
        declaredKinds.set(adapter, (definition as AnyAdapterDefinition).kind);
        out.adapters.push(adapter);
      }
    } catch (err) {
      const reason = err instanceof LoadFailure ? err.message : errorMessage(err);
      if (err instanceof LoadFailure && err.file) where = err.file;
      for (const path of at) out.issues.push(`${path}: cannot load ${what} "${spec}"${where !== spec ? ` (${where})` : ''}: ${reason}`);
    }
  }
  return out;
}

/** The file a specifier points at. */
export async function locate(spec: string, baseDir: string): Promise<string> {
  if (!spec.startsWith('npm:')) {
    const file = resolve(baseDir, spec);
    await mustBeFile(file, `no such file (paths are relative to the manifest's folder, ${baseDir})`);
    return file;
  }
  const { name, subpath } = splitPackage(spec.slice('npm:'.length));
  for (let dir = baseDir; ; dir = dirname(dir)) {
    const pkgDir = join(dir, 'node_modules', name);
    const manifest = await readPackageJson(join(pkgDir, 'package.json'));
    if (manifest) {
      const entry = packageEntry(manifest, subpath);
      if (!entry) throw new LoadFailure(`package ${name} (${pkgDir}) exports nothing at "${subpath}" for import`);
      const file = resolve(pkgDir, entry);
      await mustBeFile(file, `the package's entry ${entry} does not exist`);
      return file;
    }
    if (dirname(dir) === dir) break;
  }
  throw new LoadFailure(`package ${name} is not installed in node_modules of ${baseDir} or a folder above it; run \`npm install ${name}\` there`);
}

async function mustBeFile(file: string, missing: string): Promise<void> {
  let failure: LoadFailure | null = null;
  try {
    if (!(await stat(file)).isFile()) failure = new LoadFailure('it is not a file');
  } catch {
    failure = new LoadFailure(missing);
  }
  if (failure) {
    failure.file = file;
    throw failure;
  }
}

function splitPackage(ref: string): { name: string; subpath: string } {
  const parts = ref.split('/');
  const n = ref.startsWith('@') ? 2 : 1;
  const rest = parts.slice(n).join('/');
  return { name: parts.slice(0, n).join('/'), subpath: rest ? `./${rest}` : '.' };
}

async function readPackageJson(file: string): Promise<Record<string, unknown> | null> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return null;
  }
  try {
    const value: unknown = JSON.parse(text);
    if (!isRecord(value)) throw new Error('not an object');
    return value;
  } catch (err) {
    throw new LoadFailure(`${file} is not valid JSON (${errorMessage(err)})`);
  }
}

const CONDITIONS = ['import', 'node', 'deno', 'default'];

/** The package's entry for `subpath` (`.` or `./x`): `exports` with the import conditions, else `main`, else index.js. */
export function packageEntry(pkg: Record<string, unknown>, subpath: string): string | null {
  const pick = (target: unknown): string | null => {
    if (typeof target === 'string') return target;
    if (Array.isArray(target)) {
      for (const t of target) {
        const found = pick(t);
        if (found) return found;
      }
      return null;
    }
    if (!isRecord(target)) return null;
    // As Node does: the first key, in the package's order, that is one of our conditions.
    for (const [condition, value] of Object.entries(target)) {
      if (!CONDITIONS.includes(condition)) continue;
      const found = pick(value);
      if (found) return found;
    }
    return null;
  };
  const exports = pkg.exports;
  if (exports !== undefined) {
    const keyed = isRecord(exports) && Object.keys(exports).some((k) => k.startsWith('.'));
    if (!keyed) return subpath === '.' ? pick(exports) : null;
    return pick((exports as Record<string, unknown>)[subpath]);
  }
  if (subpath !== '.') return subpath;
  return typeof pkg.main === 'string' ? pkg.main : 'index.js';
}

async function importModule(file: string): Promise<unknown> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (err) {
    // Deno wraps a syntax error in a TypeError whose message starts "SyntaxError:" and carries a
    // code frame; one line with the position is what a list of manifest problems can hold.
    const e = err as Error;
    if ((err as { code?: unknown }).code === 'ERR_UNKNOWN_FILE_EXTENSION' && /\.[mc]?ts$/.test(file)) {
      throw new LoadFailure('this Node cannot import TypeScript (the compiled build runs without tsx); compile the plugin to JavaScript, or run fieldgate from source (bin/fieldgate.js) or on Deno');
    }
    const lines = errorMessage(err).split('\n');
    const position = lines.map((l) => /^\s*at (file:\S+:\d+:\d+)\s*$/.exec(l)?.[1]).find(Boolean);
    let message = lines[0];
    const syntax = e?.name === 'SyntaxError' || message.startsWith('SyntaxError: ');
    if (syntax) message = message.replace(/^SyntaxError: /, '');
    if (position) message += ` (at ${position})`;
    throw new LoadFailure(`${syntax ? 'syntax error' : `it failed to import (${e?.name ?? 'Error'})`}: ${message}`);
  }
  if (!('default' in mod) || mod.default === undefined) {
    throw new LoadFailure('the module has no default export; write `export default definePlugin({ ... })` (or defineAdapter)');
  }
  return mod.default;
}

const REQUIRED = {
  plugin: { name: 'type', schema: 'configSchema', functions: ['create'], define: 'definePlugin' },
  adapter: { name: 'kind', schema: 'optionsSchema', functions: ['real', 'sim'], define: 'defineAdapter' },
} as const;

/** Checks the default export is a definition of the right kind, written for this contract. */
function check(value: unknown, what: Wanted['what']): unknown {
  const req = REQUIRED[what];
  const article = what === 'adapter' ? 'an' : 'a';
  if (!isRecord(value)) throw new LoadFailure(`the default export is not ${article} ${what} definition (it is ${value === null ? 'null' : typeof value}); export ${req.define}({ ... })`);
  const missing = [
    ...(typeof value[req.name] === 'string' ? [] : [`${req.name} (string)`]),
    ...(isRecord(value[req.schema]) ? [] : [`${req.schema} (JSON Schema object)`]),
    ...req.functions.filter((f) => typeof value[f] !== 'function').map((f) => `${f}() (function)`),
  ];
  if (missing.length) throw new LoadFailure(`the default export is not ${article} ${what} definition: missing ${missing.join(', ')}`);
  const problem = schemaProblem(value[req.schema] as JsonSchema);
  if (problem) throw new LoadFailure(`its ${req.schema} is not a valid JSON Schema: ${problem}`);
  const contract = value.contract;
  if (contract === undefined) {
    throw new LoadFailure(`it does not declare which contract it was written for; add \`contract: ${CONTRACT_VERSION}\` to its definition if it fits this fieldgate's contract`);
  }
  if (contract !== CONTRACT_VERSION) {
    throw new LoadFailure(
      `it was written for ${what} contract ${JSON.stringify(contract)}, this fieldgate implements contract ${CONTRACT_VERSION}; use a version of the ${what} built for contract ${CONTRACT_VERSION}, or a fieldgate that implements ${JSON.stringify(contract)}`,
    );
  }
  return value;
}
