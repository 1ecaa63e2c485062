// DNS rebinding and cross-site writes against a real server: the rebinding request is
// refused before anything is written or audited; curl, the dashboard and configured names still work.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import WebSocket from 'ws';
import { API_KEY, startApi, type Api } from './http-fixture.ts';

interface Answer {
  status: number;
  body: { error?: string; message?: string; ok?: boolean };
}

/** A raw request with exactly these headers (fetch would not let a test set Host). */
function raw(api: Api, method: string, path: string, headers: Record<string, string>, body?: unknown): Promise<Answer> {
  const url = new URL(api.base);
  const data = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request({
      host: url.hostname, port: Number(url.port), method, path,
      headers: { ...headers, ...(data ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(data)) } : {}) },
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) as Answer['body'] : {} }));
    });
    req.on('error', reject);
    req.end(data);
  });
}

const port = (api: Api) => new URL(api.base).port;

async function auditRows(api: Api): Promise<unknown[]> {
  return (await (await api.get('/api/audit')).json()) as unknown[];
}

describe('http-api DNS rebinding protection (no key: loopback only)', () => {
  test('the rebinding request of issue 20 is refused: 403 naming why, nothing written nor audited', async () => {
    const api = await startApi({ apiKey: '' });
    try {
      const P = port(api);
      const r = await raw(api, 'POST', '/api/command', { host: `rebind.evil.example:${P}`, origin: `http://rebind.evil.example:${P}` },
        { power_on_requested: true, setpoint: 119 });
      assert.equal(r.status, 403);
      assert.match(r.body.message!, /Host "rebind\.evil\.example:\d+" does not name this gateway.*allowedHosts/);
      // A rebound page reading state is refused too.
      assert.equal((await raw(api, 'GET', '/api/state', { host: `rebind.evil.example:${P}` })).status, 403);
      assert.equal(api.runtime.store.get('setpoint'), undefined);
      assert.equal(api.runtime.store.get('power_on_requested'), undefined);
      assert.deepEqual(await auditRows(api), []);
    } finally {
      await api.stop();
    }
  });

  test('a loopback Host with a foreign Origin cannot write', async () => {
    const api = await startApi({ apiKey: '' });
    try {
      const P = port(api);
      const r = await raw(api, 'POST', '/api/command', { host: `127.0.0.1:${P}`, origin: 'http://evil.example' }, { setpoint: 50 });
      assert.equal(r.status, 403);
      assert.match(r.body.message!, /cross-origin POST from "http:\/\/evil\.example" refused/);
      assert.equal(api.runtime.store.get('setpoint'), undefined);
      assert.deepEqual(await auditRows(api), []);
    } finally {
      await api.stop();
    }
  });

  test('curl (no Origin), the same-origin dashboard and localhost/[::1] names still work', async () => {
    const api = await startApi({ apiKey: '' });
    try {
      const P = port(api);
      assert.equal((await raw(api, 'POST', '/api/command', { host: `127.0.0.1:${P}` }, { setpoint: 10 })).status, 200);
      assert.equal((await raw(api, 'POST', '/api/command', { host: `localhost:${P}`, origin: `http://localhost:${P}` }, { setpoint: 11 })).status, 200);
      assert.equal((await raw(api, 'POST', '/api/command', { host: `[::1]:${P}`, origin: `http://[::1]:${P}` }, { setpoint: 12 })).status, 200);
      assert.equal((await raw(api, 'GET', '/api/state', { host: 'localhost' })).status, 200, 'no port is fine');
      assert.equal((await raw(api, 'GET', '/api/state', { host: 'localhost:1' })).status, 403, 'another port is not this server');
      assert.equal(api.runtime.store.get('setpoint'), 12);
      assert.equal((await auditRows(api)).length, 3);
    } finally {
      await api.stop();
    }
  });

  test('a configured name is accepted, and a cors.origins origin may write', async () => {
    const api = await startApi({ apiKey: '', allowedHosts: ['Gateway.Plant.Local'], cors: { origins: ['http://scada.local'] } });
    try {
      const P = port(api);
      const own = await raw(api, 'POST', '/api/command', { host: `gateway.plant.local:${P}`, origin: `http://gateway.plant.local:${P}` }, { setpoint: 20 });
      assert.equal(own.status, 200);
      const scada = await raw(api, 'POST', '/api/command', { host: `gateway.plant.local:${P}`, origin: 'http://scada.local' }, { setpoint: 21 });
      assert.equal(scada.status, 200);
      const proxied = await raw(api, 'POST', '/api/command', { host: 'gateway.plant.local', origin: 'https://gateway.plant.local' }, { setpoint: 21 });
      assert.equal(proxied.status, 200, 'a TLS reverse proxy forwarding the Host is same-origin');
      assert.equal(api.runtime.store.get('setpoint'), 21);
      assert.equal((await raw(api, 'GET', '/api/state', { host: `other.plant.local:${P}` })).status, 403);
    } finally {
      await api.stop();
    }
  });

  test('the WebSocket upgrade gets the same Host check', async () => {
    const api = await startApi({ apiKey: '' });
    try {
      const P = port(api);
      const open = (host: string) => new Promise<string>((resolve) => {
        const ws = new WebSocket(`ws://127.0.0.1:${P}/ws`, { headers: { host } });
        ws.once('open', () => {
          ws.close();
          resolve('open');
        });
        ws.once('unexpected-response', (_req, res) => {
          resolve(`HTTP ${res.statusCode}`);
          res.resume();
          ws.terminate();
        });
        ws.once('error', (err) => resolve(String(err)));
      });
      assert.equal(await open(`rebind.evil.example:${P}`), 'HTTP 403');
      assert.equal(await open(`127.0.0.1:${P}`), 'open');
    } finally {
      await api.stop();
    }
  });
});

describe('http-api Host check with a key', () => {
  test('a keyed server bound to loopback checks the Host; cross-origin writes are refused even with the key', async () => {
    const api = await startApi();
    try {
      const P = port(api);
      assert.equal((await raw(api, 'GET', '/api/state', { host: `rebind.evil.example:${P}` })).status, 403);
      const r = await raw(api, 'POST', '/api/command', { host: `127.0.0.1:${P}`, origin: 'http://evil.example', 'x-api-key': API_KEY }, { setpoint: 5 });
      assert.equal(r.status, 403);
      assert.equal((await raw(api, 'POST', '/api/command', { host: `127.0.0.1:${P}`, 'x-api-key': API_KEY }, { setpoint: 5 })).status, 200);
    } finally {
      await api.stop();
    }
  });
});
