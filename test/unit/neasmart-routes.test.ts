// The neasmart REST handlers over an in-memory RegisterSpace: decoded answers, 202 writes with
// DPT 9.001 setpoints, 400s naming the field with nothing written, the stale header on every answer.
import { beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { RegisterSpace, RegisterTableName } from '../../adapters/modbus/register-space.ts';
import type { RouteContribution } from '../../core/http-routes.ts';
import { memoryLog } from '../../core/log.ts';
import type { NeasmartConfig } from '../../plugins/neasmart/config.ts';
import { decodeDpt9, encodeDpt9 } from '../../plugins/neasmart/dpt9001.ts';
import { deviceRoutes } from '../../plugins/neasmart/routes/devices.ts';
import type { RouteEnv } from '../../plugins/neasmart/routes/http.ts';
import { systemRoutes } from '../../plugins/neasmart/routes/system.ts';
import { zoneRoutes } from '../../plugins/neasmart/routes/zones.ts';

class MemorySpace implements RegisterSpace {
  readonly units = [240];
  readonly hr = new Array<number>(6100).fill(0);
  writes = 0;
  stale = false;
  read(_unit: number, _table: RegisterTableName, address: number, count: number): number[] {
    if (address + count > this.hr.length) throw new RangeError(`HR ${address}..${address + count - 1} is outside 0..${this.hr.length - 1}`);
    return this.hr.slice(address, address + count);
  }
  write(_unit: number, _table: RegisterTableName, address: number, values: number[]): Promise<{ durable: boolean }> {
    this.writes++;
    values.forEach((v, i) => (this.hr[address + i] = v));
    return Promise.resolve({ durable: true });
  }
  lastWrite(): number | null {
    return null;
  }
  traffic() {
    return { lastRequestAgeS: this.stale ? 500 : 1, stale: this.stale };
  }
}

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

const config: NeasmartConfig = { server: 'modbus', unit: 240, setpointRange: { min: 5, max: 35 }, zones: [{ base: 1, zone: 3, label: 'Bedroom' }], publishZones: false };

describe('neasmart routes', () => {
  let space: MemorySpace | null;
  let routes: RouteContribution[];

  const call = async (method: string, url: string, params: Record<string, string> = {}, body?: unknown, query: Record<string, unknown> = {}): Promise<Answer> => {
    const r = routes.find((x) => x.method === method && x.url === url);
    assert.ok(r, `${method} ${url} is contributed`);
    const answer: Answer = { status: 200, headers: {}, body: undefined };
    const reply = {
      code(s: number) {
        answer.status = s;
        return reply;
      },
      header(k: string, v: string) {
        answer.headers[k] = v;
        return reply;
      },
      send(b?: unknown) {
        answer.body = b;
        return reply;
      },
    };
    await r.handler({ params, body, query }, reply);
    assert.ok(answer.headers['X-Rehau-Registers-Stale'], `${method} ${url} → ${answer.status} carries the stale header`);
    return answer;
  };

  beforeEach(() => {
    space = new MemorySpace();
    const env: RouteEnv = {
      config,
      log: memoryLog('error').root.logger('test'),
      space: () => {
        if (!space) throw new Error('service "modbus-server:modbus" is not available');
        return space;
      },
    };
    routes = [...zoneRoutes(env), ...systemRoutes(env), ...deviceRoutes(env)];
  });

  test('GET /zones/1/3 decodes DPT 9.001 and names the state; invalid temperature is null', async () => {
    const s = space!;
    s.hr[300] = 1;
    s.hr[301] = encodeDpt9(21.5);
    s.hr[302] = 0x8116;
    s.hr[310] = 48;
    const r = await call('GET', '/zones/:base/:zone', { base: '1', zone: '3' });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { state: 1, state_name: 'normal', setpoint: 21.5, temperature: null, relative_humidity: 48 });
    assert.equal(r.headers['X-Rehau-Registers-Stale'], 'false');
  });

  test('POST /zones/1/3 writes state and DPT setpoint in one request and answers 202', async () => {
    const r = await call('POST', '/zones/:base/:zone', { base: '1', zone: '3' }, { state: 2, setpoint: 22.5 });
    assert.equal(r.status, 202);
    assert.deepEqual(r.body, { ok: true, durable: true, written: { state: 2, setpoint: 22.5 } });
    assert.equal(space!.writes, 1);
    assert.equal(space!.hr[300], 2);
    assert.equal(decodeDpt9(space!.hr[301]), 22.5);
    await call('POST', '/zones/:base/:zone', { base: '5', zone: '12' }, { setpoint: 5 });
    assert.equal(decodeDpt9(space!.hr[6001]), 5);
  });

  test('bad bodies and ids are 400 naming each field, and nothing is written', async () => {
    const cases: Array<[Record<string, string>, unknown, string[]]> = [
      [{ base: '1', zone: '3' }, { setpoint: 36 }, ['body.setpoint']],
      [{ base: '1', zone: '3' }, { setpoint: 4.9 }, ['body.setpoint']],
      [{ base: '1', zone: '3' }, { setpoint: '21' }, ['body.setpoint']],
      [{ base: '1', zone: '3' }, { state: 7, setpoint: 21 }, ['body.state']],
      [{ base: '1', zone: '3' }, { state: 1.5 }, ['body.state']],
      [{ base: '1', zone: '3' }, { state: 0 }, ['body.state']],
      [{ base: '1', zone: '3' }, {}, ['body']],
      [{ base: '1', zone: '3' }, [1], ['body']],
      [{ base: '1', zone: '3' }, { setpoint: 21, mode: 1 }, ['body.mode']],
      [{ base: '6', zone: '3' }, { setpoint: 21 }, ['params.base']],
      [{ base: '0', zone: '13' }, { state: 9 }, ['params.base', 'params.zone', 'body.state']],
      [{ base: 'x', zone: '3' }, { setpoint: 21 }, ['params.base']],
    ];
    for (const [params, body, fields] of cases) {
      const r = await call('POST', '/zones/:base/:zone', params, body);
      assert.equal(r.status, 400, JSON.stringify({ params, body }));
      assert.deepEqual(Object.keys((r.body as { fields: Record<string, string> }).fields).sort(), [...fields].sort(), JSON.stringify({ params, body }));
    }
    assert.equal(space!.writes, 0);
    assert.ok(space!.hr.every((v) => v === 0));
    const get = await call('GET', '/zones/:base/:zone', { base: '1', zone: '13' });
    assert.equal(get.status, 400);
    assert.match(JSON.stringify(get.body), /params\.zone.*1 to 12/);
  });

  test('mode and state: GET names the value, POST validates the range and answers 202', async () => {
    assert.equal((await call('POST', '/mode', {}, { mode: 3 })).status, 202);
    assert.deepEqual((await call('GET', '/mode')).body, { mode: 3, mode_name: 'cooling' });
    assert.equal((await call('POST', '/mode', {}, { mode: 6 })).status, 400);
    assert.equal((await call('POST', '/state', {}, { state: 6 })).status, 202);
    assert.deepEqual((await call('GET', '/state')).body, { state: 6, state_name: 'holiday' });
    const bad = await call('POST', '/state', {}, { state: 'party' });
    assert.deepEqual(Object.keys((bad.body as { fields: object }).fields), ['body.state']);
    assert.equal(space!.hr[1], 3);
    assert.equal(space!.hr[2], 6);
  });

  test('outside temperature, notifications, mixed groups, dehumidifiers and pumps', async () => {
    const s = space!;
    s.hr[7] = encodeDpt9(-5.5);
    s.hr[8] = 0x7fff;
    s.hr[3] = 1;
    s.hr[6] = 1;
    [s.hr[14], s.hr[15], s.hr[16], s.hr[17]] = [40, 1, encodeDpt9(35), encodeDpt9(30.5)];
    s.hr[22] = 1;
    s.hr[32] = 1;
    assert.deepEqual((await call('GET', '/outsidetemperature')).body, { outside_temperature: -5.5, filtered_outside_temperature: null });
    assert.deepEqual((await call('GET', '/notifications')).body, { hints_present: true, warnings_present: false, error_present: true });
    assert.deepEqual((await call('GET', '/mixedgroups/:group', { group: '2' })).body, { pump_running: true, mixing_valve_opening_percentage: 40, flow_temperature: 35, return_temperature: 30.5 });
    assert.equal((await call('GET', '/mixedgroups/:group', { group: '4' })).status, 400);
    assert.deepEqual((await call('GET', '/dehumidifiers/:id', { id: '1' })).body, { dehumidifier_running: true });
    assert.deepEqual((await call('GET', '/dehumidifier/:id', { id: '2' })).body, { dehumidifier_running: false });
    assert.equal((await call('GET', '/dehumidifiers/:id', { id: '10' })).status, 400);
    assert.deepEqual((await call('GET', '/pumps/:id', { id: '2' })).body, { pump_running: true, dehumidifier_running: true });
  });

  test('/api/v1/zones lists the configured zones; /api/v1/health follows the traffic', async () => {
    space!.hr[301] = encodeDpt9(20);
    const list = await call('GET', '/api/v1/zones');
    assert.deepEqual(list.body, {
      zones: [{ baseId: 1, zoneId: 3, zoneLabel: 'Bedroom', state: 0, stateName: null, setpoint: 20, temperature: 0, relativeHumidity: 0 }],
      total: 1,
    });
    assert.equal((await call('GET', '/api/v1/health')).status, 200);
    space!.stale = true;
    const h = await call('GET', '/api/v1/health', {}, undefined, { strict: 'true' });
    assert.equal(h.status, 503);
    assert.equal(h.headers['X-Rehau-Registers-Stale'], 'true');
    assert.equal((h.body as { status: string }).status, 'degraded');
  });

  test('while the modbus-server is not running every route answers 503 with the header true', async () => {
    space = null;
    const r = await call('GET', '/zones/:base/:zone', { base: '1', zone: '1' });
    assert.equal(r.status, 503);
    assert.equal(r.headers['X-Rehau-Registers-Stale'], 'true');
    assert.match((r.body as { message: string }).message, /not available/);
  });
});
