// The manifest's display section in the API's own texts: command schemas and the state route's
// OpenAPI description name each key as the operator knows it (label, unit, enum names).
import type { DisplayMap } from '../../core/display.ts';
import { displayTitle } from '../../core/display.ts';
import type { JsonSchema } from '../../core/schema.ts';

/** Copies of the command schemas with the key's label, unit and enum names in `description` / `x-enumLabels`. */
export function describedCommands(commands: Record<string, JsonSchema>, display: DisplayMap): Record<string, JsonSchema> {
  const out: Record<string, JsonSchema> = {};
  for (const [key, schema] of Object.entries(commands)) {
    const d = display[key];
    if (!d) {
      out[key] = schema;
      continue;
    }
    const copy: JsonSchema = { ...schema };
    const title = displayTitle(key, d);
    const names = d.enum ? Object.entries(d.enum).map(([v, n]) => `${v} = ${n}`).join(', ') : '';
    copy.description = [title, schema.description, names].filter(Boolean).join('. ');
    const values = Array.isArray(schema.enum) ? (schema.enum as unknown[]) : null;
    if (values && d.enum && !Array.isArray(schema['x-enumLabels'])) copy['x-enumLabels'] = values.map((v) => d.enum?.[String(v)] ?? String(v));
    out[key] = copy;
  }
  return out;
}

/** One Markdown line per displayed key for the state route's description. */
export function stateKeyText(display: DisplayMap): string {
  const lines = Object.entries(display).map(([key, d]) => {
    const names = d.enum ? ` (${Object.entries(d.enum).map(([v, n]) => `${v} ${n}`).join(', ')})` : '';
    const limits = d.limits ? ` alarm outside ${d.limits.low ?? '-∞'} .. ${d.limits.high ?? '∞'}` : '';
    return `- \`${key}\`: ${displayTitle(key, d)}${names}${limits}`;
  });
  return lines.length ? `\n\nKeys:\n${lines.join('\n')}` : '';
}
