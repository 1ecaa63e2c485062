// HTTPS and WSS for the API: a self-signed certificate made by openssl in a temp dir, the real
// server started with it, a request over TLS trusting that certificate, and plain HTTP refused.
// Bad files fail the start with the file named.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { loadTls } from '../../plugins/http-api/tls.ts';
import { startApi, type Api } from './http-fixture.ts';

const opensslSkip: string | false = (() => {
  const r = spawnSync('openssl', ['version'], { encoding: 'utf8' });
  return r.status === 0 ? false : `openssl not found (apt-get install -y openssl): ${r.error?.message ?? r.stderr}`;
})();

function selfSigned(dir: string, name: string): { cert: string; key: string } {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  const r = spawnSync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-keyout', key, '-out', cert,
  ], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl req failed: ${r.stderr}`);
  return { cert, key };
}

/** GET over HTTPS trusting only `ca`; resolves with status and body. */
function httpsGet(url: string, ca: Buffer, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('http-api over TLS', { skip: opensslSkip }, () => {
  let dir = '';
  let files: { cert: string; key: string };
  let api: Api;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fieldgate-tls-'));
    files = selfSigned(dir, 'api');
    api = await startApi({ tls: files });
    await api.runtime.store.set('pv', 21.5);
  });
  after(async () => {
    await api?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('serves /api/state over https to a client trusting the certificate', async () => {
    assert.match(api.base, /^https:\/\/127\.0\.0\.1:\d+$/);
    const r = await httpsGet(`${api.base}/api/state`, readFileSync(files.cert));
    assert.equal(r.status, 200);
    assert.equal((JSON.parse(r.body) as { pv: number }).pv, 21.5);
  });

  test('a plain-http request to the same port gets no API answer', async () => {
    const plain = api.base.replace('https://', 'http://');
    const outcome = await fetch(`${plain}/api/state`).then((r) => `status ${r.status}`, (err: unknown) => `error ${String(err)}`);
    assert.doesNotMatch(outcome, /status 200/);
  });

  test('a client that does not trust the certificate is refused', async () => {
    await assert.rejects(fetch(`${api.base}/api/state`));
  });

  test('the live feed runs over wss', async () => {
    const ws = new WebSocket(`${api.base.replace('https://', 'wss://')}/ws`, { ca: readFileSync(files.cert) });
    try {
      const first = await new Promise<string>((resolve, reject) => {
        ws.on('message', (d) => resolve(String(d)));
        ws.on('error', reject);
        ws.on('open', () => ws.send(JSON.stringify({ type: 'subscribe', topics: ['state/pv'] })));
      });
      assert.match(first, /"type"/);
    } finally {
      ws.close();
    }
  });
});

describe('http-api TLS files', { skip: opensslSkip }, () => {
  let dir = '';
  before(() => (dir = mkdtempSync(join(tmpdir(), 'fieldgate-tls-bad-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('a missing certificate fails the start naming the file', async () => {
    const missing = join(dir, 'nope.crt');
    const { key } = selfSigned(dir, 'k1');
    await assert.rejects(startApi({ tls: { cert: missing, key } }), (err: Error) => err.message.includes(missing) && /does not exist/.test(err.message));
  });

  test('only one of cert and key set is an error saying which', () => {
    assert.throws(() => loadTls({ cert: '/x.crt', key: '' }), /tls\.key \(API_TLS_KEY\) is not/);
  });

  test('a key from another certificate is refused, naming both files', () => {
    const a = selfSigned(dir, 'a');
    const b = selfSigned(dir, 'b');
    assert.throws(() => loadTls({ cert: a.cert, key: b.key }), (err: Error) => err.message.includes(b.key) && err.message.includes(a.cert) && /does not match/.test(err.message));
  });

  test('a file that is not PEM is named', () => {
    const a = selfSigned(dir, 'c');
    const junk = join(dir, 'junk.crt');
    writeFileSync(junk, 'hello');
    assert.throws(() => loadTls({ cert: junk, key: a.key }), (err: Error) => err.message.includes(junk) && /not PEM/.test(err.message));
  });

  test('an unreadable key is named', { skip: process.getuid?.() === 0 ? 'root reads any file' : false }, () => {
    const a = selfSigned(dir, 'd');
    chmodSync(a.key, 0o000);
    assert.throws(() => loadTls({ cert: a.cert, key: a.key }), (err: Error) => err.message.includes(a.key) && /not readable/.test(err.message));
  });
});

