// The one write path for operator commands, shared by POST /api/command and the MQTT plugin's
// `/set` topics: validate every field against the manifest's schema, write all keys in one store
// mutation with their audit rows, answer once durable, and say why when not.
import type { Clock } from '../../core/clock.ts';
import { errorMessage } from '../../core/errors.ts';
import type { Logger } from '../../core/log.ts';
import type { StateStore } from '../../core/store/types.ts';
import type { AuditLog } from './audit.ts';
import type { CommandValidator, FieldErrors } from './commands.ts';

/** Who sent a command, as the audit log records it. */
export interface CommandOrigin {
  /** Client address (HTTP) or broker and topic (MQTT). */
  client: string;
  /** API key id (HTTP) or MQTT client id; null when there is none. */
  keyId: string | null;
  /** `POST /api/command`, `MQTT <topic>`. */
  route: string;
}

export type CommandOutcome =
  | { status: 200; body: { ok: true; durable: boolean; written: Record<string, unknown> } }
  | { status: 202; body: { ok: true; durable: false; written: Record<string, unknown>; warning: string } }
  | { status: 400; body: { error: 'invalid command'; message: string; fields: FieldErrors } };

export interface CommandServiceDeps {
  store: StateStore;
  audit: AuditLog;
  validator: CommandValidator;
  clock: Clock;
  log: Logger;
}

export class CommandService {
  constructor(private readonly deps: CommandServiceDeps) {}

  get keys(): string[] {
    return this.deps.validator.keys;
  }

  /** Validates all, writes once (value + audit rows in the same group commit), resolves once on disk. */
  async execute(body: unknown, origin: CommandOrigin): Promise<CommandOutcome> {
    const { store, audit, validator, clock, log } = this.deps;
    const check = validator.check(body);
    if (!check.ok) return { status: 400, body: { error: 'invalid command', message: check.message, fields: check.fields } };
    const values = check.values;
    const before = store.getAll(Object.keys(values));
    const changes = Object.entries(values).map(([key, value]) => ({ key, old: before[key]?.value ?? null, new: value }));
    const entry = { ts: clock.now() / 1000, client: origin.client, keyId: origin.keyId, route: origin.route, changes };
    // Both go into the same group commit; the audit row never delays the answer beyond the write.
    const [written] = await Promise.all([
      store.setMany(values, { durable: true }),
      audit.record(entry, { durable: true }).catch((err: unknown) => log.error(`audit row for ${Object.keys(values).join(', ')} not written: ${errorMessage(err)}`)),
    ]);
    // A store configured without a data dir is never durable by design; only a failing disk is news.
    if (!written.durable && store.status().dataDir !== null) {
      log.warn(`command ${Object.keys(values).join(', ')} (${origin.route}) applied in memory only: the store's disk is failing`);
      return {
        status: 202,
        body: {
          ok: true,
          durable: false,
          written: values,
          warning: 'applied in memory only: the store cannot write to disk; it is written when the disk returns and is lost if the gateway stops before',
        },
      };
    }
    return { status: 200, body: { ok: true, durable: written.durable, written: values } };
  }
}
