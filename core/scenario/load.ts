// Reads and validates a scenario file: JSON syntax with line:column, the schema with `path: message`
// lines, then the rules a schema says badly (exactly one action per step, device xor disk).
import { readFile } from 'node:fs/promises';
import { FieldgateError, UnreadableFileError } from '../errors.ts';
import { parseJson } from '../manifest/json.ts';
import { formatPath, type PathSegment } from '../manifest/paths.ts';
import { compileManifestSchema, formatSchemaErrors } from '../manifest/validate.ts';
import { ASSERTION_KINDS, DEVICE_FAULTS, DISK_FAULTS, STEP_KINDS, scenarioSchema, type Scenario } from './schema.ts';

/** The scenario file is not valid; `issues` holds one `path: message` line per problem. */
export class ScenarioError extends FieldgateError {
  override name = 'ScenarioError';
  constructor(readonly file: string, readonly issues: string[]) {
    super(`${file}: invalid scenario (${issues.length} problem${issues.length === 1 ? '' : 's'}):\n  ${issues.join('\n  ')}`);
  }
}

// A scenario is a few hundred lines at most; a larger file is a mistake (a log pasted in).
const MAX_BYTES = 1024 * 1024;

export async function loadScenario(file: string): Promise<Scenario> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : String((err as Error).message ?? err);
    throw new UnreadableFileError(`${file}: cannot read the scenario (${reason}); check the path`, { cause: err });
  }
  return parseScenario(text, file);
}

export function parseScenario(text: string, file: string): Scenario {
  if (text.length > MAX_BYTES) throw new ScenarioError(file, [`(root): the file is ${text.length} bytes; a scenario is at most ${MAX_BYTES}`]);
  const parsed = parseJson(text);
  if (!parsed.ok) throw new ScenarioError(file, [`${file}:${parsed.line}:${parsed.column}: ${parsed.message}`]);
  const data = parsed.value;
  const compiled = compileManifestSchema(scenarioSchema);
  const rules = [...ruleIssues(data)];
  const issues = [...rules];
  if (!compiled.validate(data)) {
    // A step that does two things (or none) gets one line, not the schema's noise about each half.
    const confused = new Set(rules.filter((r) => /^steps\[\d+\](\.expect)?: (has|says|asserts) /.test(r)).map((r) => r.slice(0, r.indexOf(':'))));
    const schemaIssues = formatSchemaErrors(compiled.validate.errors ?? [], { data, envVars: new Map(), failed: new Set() });
    issues.push(...schemaIssues.filter((line) => ![...confused].some((c) => line.startsWith(c))));
  }
  const stepOf = (line: string) => Number(/^steps\[(\d+)\]/.exec(line)?.[1] ?? -1);
  if (issues.length) throw new ScenarioError(file, [...new Set(issues)].sort((a, b) => stepOf(a) - stepOf(b)));
  return data as Scenario;
}

function* ruleIssues(data: unknown): Generator<string> {
  if (!isObject(data) || !Array.isArray(data.steps)) return;
  for (const [i, step] of data.steps.entries()) {
    if (!isObject(step)) continue;
    const at = (...more: PathSegment[]) => formatPath(['steps', i, ...more]);
    const kinds = STEP_KINDS.filter((k) => k in step);
    if (kinds.length !== 1) {
      const keys = Object.keys(step).filter((k) => k !== 'name');
      yield `${at()}: ${kinds.length ? `has ${kinds.join(' and ')}; a step does one thing` : `says nothing to do (${keys.length ? `unknown key${keys.length > 1 ? 's' : ''} ${keys.map((k) => JSON.stringify(k)).join(', ')}; ` : ''}give one of: ${STEP_KINDS.join(', ')})`}`;
      continue;
    }
    if (kinds[0] === 'fault') {
      const hasDevice = 'device' in step;
      const hasDisk = 'disk' in step;
      if (hasDevice === hasDisk) yield `${at()}: a fault needs either "device" (an adapter id) or "disk" (store, history or both)`;
      else if (hasDisk && !(DISK_FAULTS as readonly unknown[]).includes(step.fault)) yield `${at('fault')}: a disk fault is one of: ${DISK_FAULTS.join(', ')}`;
      else if (hasDevice && !(DEVICE_FAULTS as readonly unknown[]).includes(step.fault)) yield `${at('fault')}: a device fault is one of: ${DEVICE_FAULTS.join(', ')}`;
      if (step.fault === 'silent' && !('box' in step)) yield `${at()}: fault "silent" needs "box" (the CAN node that stops sending)`;
      if (step.fault === 'slow' && !('ms' in step)) yield `${at()}: fault "slow" needs "ms" (the delay added to each answer)`;
    }
    if (kinds[0] === 'expect' && isObject(step.expect)) {
      const a = step.expect;
      const akinds = ASSERTION_KINDS.filter((k) => k in a);
      if (akinds.length !== 1) {
        yield `${at('expect')}: ${akinds.length ? `has ${akinds.join(' and ')}; one assertion per step` : `asserts nothing (give one of: ${ASSERTION_KINDS.join(', ')})`}`;
      } else if (akinds[0] === 'state' || akinds[0] === 'sql') {
        if (!['equals', 'approx', 'min', 'max', 'exists'].some((k) => k in a)) yield `${at('expect')}: give what the value must be (equals, approx, min, max${akinds[0] === 'state' ? ' or exists' : ''})`;
      }
      if (akinds[0] === 'sql' && typeof a.sql === 'string' && !/^\s*(select|with)\b/i.test(a.sql)) yield `${at('expect', 'sql')}: must be a read-only query (SELECT or WITH)`;
      if ('tolerance' in a && !('approx' in a)) yield `${at('expect', 'tolerance')}: only meaningful with "approx"`;
    }
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
