// The `apiKeys` config: several keys, each with an id (written to the audit log) and a role, the
// key given inline (usually "${ENV_VAR}") or read from a file. Resolved once at start.
import { readFileSync, statSync } from 'node:fs';
import type { JsonSchema } from '../../core/schema.ts';
import { errorMessage } from '../../core/errors.ts';
import { ROLES, type ConfiguredKey, type Role } from './auth.ts';

export interface ApiKeyEntry {
  id: string;
  role: Role;
  /** The key itself; "${OPERATOR_KEY:-}" keeps it out of the manifest. Empty = this entry is off. */
  key?: string;
  /** A file holding the key (first line, trimmed), e.g. a systemd credential. */
  keyFile?: string;
}

export const apiKeysSchema: JsonSchema = {
  type: 'array',
  default: [],
  description: 'Keys with roles besides apiKey (which is admin): read = GETs that need a key and the WebSocket, operate = commands, alarm acks and operator actions, admin = everything, including the audit log. The id is written to the audit log, never the key.',
  items: {
    type: 'object',
    additionalProperties: false,
    required: ['id', 'role'],
    properties: {
      id: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,64}$', description: 'Name recorded in the audit log, e.g. "scada" or "operator-1".' },
      role: { enum: [...ROLES] },
      key: { type: 'string', 'x-secret': true, description: 'The key, e.g. "${SCADA_KEY:-}"; empty = entry disabled.' },
      keyFile: { type: 'string', description: 'File whose first line is the key (instead of key).' },
    },
  },
};

/** Keys shorter than this are guessable within the rate limit's lifetime of a gateway. */
const MIN_KEY_LENGTH = 12;
const MAX_KEY_FILE_BYTES = 4096;

/**
 * Resolves the entries to keys. Throws naming the entry (`apiKeys[1] "scada"`) for a duplicate
 * id or key, an entry with both or neither of key/keyFile, a short key, or an unreadable file.
 * Entries whose inline key is empty (an unset variable) are returned with an empty key: off.
 */
export function resolveApiKeys(entries: ApiKeyEntry[], single: string | undefined): ConfiguredKey[] {
  const out: ConfiguredKey[] = [];
  const ids = new Map<string, number>();
  const seen = new Map<string, string>(single ? [[single, 'apiKey']] : []);
  entries.forEach((e, i) => {
    const where = `http-api: apiKeys[${i}] "${e.id}"`;
    const first = ids.get(e.id);
    if (first !== undefined) throw new Error(`${where}: duplicate id (first used by apiKeys[${first}]); ids name keys in the audit log and must be unique`);
    ids.set(e.id, i);
    if (e.key !== undefined && e.keyFile !== undefined) throw new Error(`${where}: set key or keyFile, not both`);
    if (e.key === undefined && e.keyFile === undefined) throw new Error(`${where}: no key; set key (e.g. "\${${e.id.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_KEY}") or keyFile`);
    const key = e.keyFile !== undefined ? readKeyFile(e.keyFile, where) : e.key!;
    if (key && key.length < MIN_KEY_LENGTH) throw new Error(`${where}: key is ${key.length} characters; use at least ${MIN_KEY_LENGTH} (e.g. openssl rand -hex 16)`);
    const other = key ? seen.get(key) : undefined;
    if (other) throw new Error(`${where}: same key as ${other}; each key must be distinct so the audit log can tell who wrote`);
    if (key) seen.set(key, `apiKeys[${i}] "${e.id}"`);
    out.push({ id: e.id, role: e.role, key });
  });
  return out;
}

function readKeyFile(path: string, where: string): string {
  try {
    const size = statSync(path).size;
    if (size > MAX_KEY_FILE_BYTES) throw new Error(`is ${size} bytes, over the ${MAX_KEY_FILE_BYTES}-byte limit for a key file`);
    const key = (readFileSync(path, 'utf8').split(/\r?\n/)[0] ?? '').trim();
    if (!key) throw new Error('is empty');
    return key;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'is not readable by this user' : errorMessage(err);
    throw new Error(`${where}: keyFile ${path} ${why}`, { cause: err });
  }
}
