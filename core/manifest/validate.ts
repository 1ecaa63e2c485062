// Compiles the composed manifest schema with ajv and turns its errors into `path: message` lines.
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { JsonSchema } from '../schema.ts';
import { formatPath, fromPointer, isUnder, type PathSegment } from './paths.ts';

// ajv-formats is CommonJS: depending on the loader the default import is the plugin or its module.
type FormatsPlugin = (ajv: Ajv) => Ajv;
const addFormats = ((addFormatsModule as unknown as { default?: FormatsPlugin }).default ??
  addFormatsModule) as unknown as FormatsPlugin;

export interface CompiledManifestSchema {
  /** Validates in place and applies defaults. Never coerces. */
  validate: ValidateFunction;
  /** Same schema with `coerceTypes`: run on a copy to learn what environment strings should become. */
  coerce: ValidateFunction;
}

// The x-secret keyword reports each value it sees to the sink of the validation in progress.
// Validation is synchronous, so one module-level sink is enough.
let secretSink: string[] | null = null;

function createAjv(coerceTypes: boolean): Ajv {
  const ajv = new Ajv({ allErrors: true, strict: false, useDefaults: true, coerceTypes, verbose: true, allowUnionTypes: true });
  addFormats(ajv);
  ajv.addKeyword({
    keyword: 'x-secret',
    schemaType: 'boolean',
    errors: false,
    validate: (marked: boolean, data: unknown) => {
      if (marked && secretSink && (typeof data === 'string' || typeof data === 'number') && data !== '') secretSink.push(String(data));
      return true;
    },
  });
  return ajv;
}

// The compiled validators are large (the manifest's two are ~1 MB of generated source that V8 keeps
// for lazy compilation, plus their bytecode) and a running gateway validates once, at start. So the
// cache holds them weakly: repeated validations (tests, scenarios) reuse them while they are alive,
// and a gateway's heap lets them go after start (bench/RESULTS.md, "Footprint").
const cache = new Map<string, WeakRef<CompiledManifestSchema>>();
const forget = new FinalizationRegistry<string>((key) => {
  if (cache.get(key)?.deref() === undefined) cache.delete(key);
});

export function compileManifestSchema(schema: JsonSchema): CompiledManifestSchema {
  const key = JSON.stringify(schema);
  let compiled = cache.get(key)?.deref();
  if (!compiled) {
    compiled = { validate: createAjv(false).compile(schema), coerce: createAjv(true).compile(schema) };
    cache.set(key, new WeakRef(compiled));
    forget.register(compiled, key);
  }
  return compiled;
}

/** Why `schema` cannot be compiled (a plugin's own schema, checked alone), or null when it can. */
export function schemaProblem(schema: JsonSchema): string | null {
  try {
    createAjv(false).compile(schema);
    return null;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

/** Runs the strict validator, returning its errors and the values found at `x-secret` locations. */
export function validateCollectingSecrets(
  compiled: CompiledManifestSchema,
  data: unknown,
): { errors: ErrorObject[]; secrets: string[] } {
  const secrets: string[] = [];
  secretSink = secrets;
  try {
    compiled.validate(data);
  } finally {
    secretSink = null;
  }
  return { errors: [...(compiled.validate.errors ?? [])], secrets };
}

export interface FormatContext {
  /** The validated data (to tell array indices from object keys). */
  data: unknown;
  /** Variables behind each interpolated string, by JSON pointer. */
  envVars: Map<string, { vars: string[] }>;
  /** Pointers whose interpolation already failed: errors at or under them are dropped. */
  failed: Set<string>;
}

const ENTRY_NAME = /^\/(plugins\/\d+\/use|adapters\/\d+\/kind)$/;

/**
 * One line per problem. Noise is removed: the "must match then schema" line of every if/then,
 * the per-branch errors of a failed anyOf/oneOf (folded into one line), and the enum error on
 * an unknown plugin type or adapter kind (the cross-checks report those with the known names).
 */
export function formatSchemaErrors(errors: readonly ErrorObject[], ctx: FormatContext): string[] {
  const combiners = errors.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf');
  const branchOf = (e: ErrorObject) =>
    combiners.find((c) => c !== e && e.schemaPath.startsWith(c.schemaPath + '/') && isUnder(e.instancePath, c.instancePath));

  const lines: string[] = [];
  for (const error of errors) {
    if (error.keyword === 'if') continue;
    if (error.schemaPath.includes('/propertyNames/')) continue; // folded into the propertyNames line
    if (branchOf(error)) continue;
    if (error.keyword === 'enum' && ENTRY_NAME.test(error.instancePath)) continue;
    if ([...ctx.failed].some((p) => isUnder(error.instancePath, p))) continue;

    const segments: PathSegment[] = fromPointer(error.instancePath, ctx.data);
    let message = error.message ?? error.keyword;
    const params = error.params as Record<string, unknown>;
    const env = ctx.envVars.get(error.instancePath);

    switch (error.keyword) {
      case 'additionalProperties': {
        const key = String(params.additionalProperty);
        segments.push(key);
        const allowed = Object.keys((error.parentSchema?.properties as object | undefined) ?? {});
        message = `unknown key ${JSON.stringify(key)} (${allowed.length ? `allowed: ${allowed.join(', ')}` : 'no keys are allowed here'})`;
        break;
      }
      case 'type':
        if (env) {
          const names = env.vars.join(', ');
          message = `environment variable${env.vars.length > 1 ? 's' : ''} ${names} cannot be converted to ${typeName(params.type)}`;
        }
        break;
      case 'enum':
        message = `must be one of: ${(params.allowedValues as unknown[]).map(show).join(', ')}`;
        break;
      case 'propertyNames': {
        const inner = errors.find((e) => e !== error && e.instancePath === error.instancePath && e.schemaPath.startsWith(`${error.schemaPath}/`));
        const rule = inner?.keyword === 'pattern' ? `keys must match ${String(inner.params.pattern)}` : (inner?.message ?? 'not allowed here');
        message = `key ${JSON.stringify(params.propertyName)} is not valid (${rule})`;
        break;
      }
      case 'const':
        message = `must be ${show(params.allowedValue)}`;
        break;
      case 'anyOf':
      case 'oneOf': {
        const branches = errors.filter((e) => branchOf(e) === error);
        if (branches.length > 0 && branches.every((b) => b.keyword === 'type' && b.instancePath === error.instancePath)) {
          message = `must be ${branches.map((b) => typeName(b.params.type)).join(' or ')}`;
        }
        break;
      }
    }
    if (env && error.keyword !== 'type') message += ` (value from environment variable ${env.vars.join(', ')})`;
    lines.push(`${formatPath(segments)}: ${message}`);
  }
  return lines;
}

function typeName(type: unknown): string {
  return Array.isArray(type) ? type.join(' or ') : String(type);
}

function show(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}
