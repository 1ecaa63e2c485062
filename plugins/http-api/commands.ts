// Validation of POST /api/command bodies: every field against the JSON Schema the manifest gives
// its key, collecting every problem so one 400 names all the bad fields.
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { JsonSchema } from '../../core/schema.ts';

export type FieldErrors = Record<string, string>;

export type CommandCheck = { ok: true; values: Record<string, unknown> } | { ok: false; fields: FieldErrors; message: string };

export class CommandValidator {
  readonly #validators = new Map<string, ValidateFunction>();

  constructor(commands: Record<string, JsonSchema>) {
    // No coercion and no defaults: a command is written exactly as sent, or refused.
    const ajv = new Ajv({ allErrors: true, strict: false, coerceTypes: false, useDefaults: false });
    for (const [key, schema] of Object.entries(commands)) {
      try {
        this.#validators.set(key, ajv.compile(schema));
      } catch (err) {
        throw new Error(`http-api: config.commands.${key} is not a valid JSON Schema: ${(err as Error).message}`, { cause: err });
      }
    }
  }

  get keys(): string[] {
    return [...this.#validators.keys()];
  }

  check(body: unknown): CommandCheck {
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      return { ok: false, fields: {}, message: 'body must be a JSON object of key: value' };
    }
    const entries = Object.entries(body as Record<string, unknown>);
    if (entries.length === 0) return { ok: false, fields: {}, message: `body names no key; writable keys: ${this.keys.join(', ') || '(none configured)'}` };
    const fields: FieldErrors = {};
    for (const [key, value] of entries) {
      const validate = this.#validators.get(key);
      if (!validate) {
        fields[key] = `unknown key; writable keys: ${this.keys.join(', ') || '(none configured)'}`;
      } else if (!validate(value)) {
        fields[key] = describe(validate.errors ?? []);
      }
    }
    const bad = Object.keys(fields);
    if (bad.length) return { ok: false, fields, message: `${bad.length} invalid field(s): ${bad.join(', ')}; nothing was written` };
    return { ok: true, values: body as Record<string, unknown> };
  }
}

function describe(errors: ErrorObject[]): string {
  return errors.map((e) => `${e.instancePath ? `${e.instancePath} ` : ''}${e.message ?? 'is invalid'}`).join('; ');
}
