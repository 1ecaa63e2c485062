// Neasmart zone writes from MQTT (Home Assistant's climate entity): `<prefix>/neasmart/<plugin>/
// zones/<base>/<zone>/setpoint/set` and `.../state/set` go through the neasmart plugin's own
// POST /zones/:base/:zone route — the same validation and register write as the REST call — and
// are audited like a contributed write route. A preset name (`reduced`) is accepted for the state.
import type { RouteRegistry } from '../../core/http-routes.ts';
import type { AuditLog } from '../http-api/audit.ts';
import { STATE_NAMES } from '../neasmart/registers.ts';
import { parseValue } from './commands.ts';
import { ZONE_SET } from './homeassistant.ts';

export interface ZoneWrite {
  status: number;
  body: unknown;
}

export async function writeZone(options: {
  relTopic: string;
  topic: string;
  payload: string;
  routes: RouteRegistry;
  audit: AuditLog;
  origin: { client: string; keyId: string };
  now: number;
}): Promise<ZoneWrite | null> {
  const m = ZONE_SET.exec(options.relTopic);
  if (!m) return null;
  const [, , base, zone, field] = m;
  const route = options.routes.find('POST', '/zones/:base/:zone');
  if (!route) return { status: 503, body: { error: 'unavailable', message: 'the neasmart plugin is not running; nothing was written' } };
  let value = parseValue(options.payload);
  if (field === 'state' && typeof value === 'string') {
    const text = value.trim().toLowerCase();
    const n = Object.entries(STATE_NAMES).find(([, name]) => name === text)?.[0];
    if (n) value = Number(n);
  }
  const body = { [field]: value };
  let status = 200;
  let answer: unknown;
  const reply = {
    code(s: number) {
      status = s;
      return reply;
    },
    header() {
      return reply;
    },
    send(b?: unknown) {
      answer = b;
      return reply;
    },
  };
  await route.handler({ params: { base, zone }, query: {}, body }, reply);
  if (status < 300) {
    await options.audit.record(
      { ts: options.now / 1000, client: options.origin.client, keyId: options.origin.keyId, route: `MQTT ${options.topic}`, changes: [{ key: `/zones/${base}/${zone}`, old: null, new: body }] },
      { durable: false },
    );
  }
  return { status, body: answer };
}
