// The mqtt plugin over mqtts:// with a client certificate and a password, against a Mosquitto TLS
// listener that requires both (certificates made by openssl for the test); Debian's mosquitto_sub,
// over the same TLS, is the independent subscriber. A wrong password and an unreadable certificate
// file are reported in health with what went wrong.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRuntime, type Runtime } from '../../core/host/runtime.ts';
import { memoryLog } from '../../core/log.ts';
import mqttPlugin from '../../plugins/mqtt/plugin.ts';
import { eventually } from '../helpers/eventually.ts';
import { testManifest } from '../helpers/manifest.ts';
import { mosquittoSkip, mosquittoSubSkip, startMosquitto } from '../helpers/mosquitto.ts';

const opensslSkip = spawnSync('openssl', ['version']).status === 0 ? false : 'openssl not found (apt-get install -y openssl)';

function openssl(dir: string, args: string[]): void {
  const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
}

/** A CA, a server certificate for 127.0.0.1 and a client certificate, in `dir`. */
function makeCerts(dir: string): void {
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1\n');
  openssl(dir, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-subj', '/CN=fieldgate-test-ca', '-days', '2']);
  for (const who of ['server', 'client']) {
    openssl(dir, ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${who}.key`, '-out', `${who}.csr`, '-subj', `/CN=${who === 'server' ? '127.0.0.1' : 'fieldgate-gateway'}`]);
    openssl(dir, ['x509', '-req', '-in', `${who}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${who}.crt`, '-days', '2', ...(who === 'server' ? ['-extfile', 'server.ext'] : [])]);
  }
}

async function gateway(url: string, config: Record<string, unknown>): Promise<Runtime> {
  const manifest = testManifest([{ id: 'mqtt', use: 'mqtt', config: { url, prefix: 'lab', publish: { keys: ['rtd_temp'] }, reconnect: { minMs: 100, maxMs: 400 }, ...config } }], { name: 'lab' });
  const rt = await createRuntime({ manifest, plugins: [mqttPlugin], adapters: [], logRoot: memoryLog('silent').root, dataDir: null });
  await rt.start();
  return rt;
}

test('mqtt over TLS with a client certificate and a password; wrong password and unreadable files reported', { skip: mosquittoSkip || mosquittoSubSkip || opensslSkip, timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fieldgate-mqtt-tls-'));
  const f = (name: string) => join(dir, name);
  makeCerts(dir);
  const broker = await startMosquitto({ tls: { ca: f('ca.crt'), cert: f('server.crt'), key: f('server.key') }, users: { gw: 'gw-secret', sub: 'sub-secret' } });
  const runtimes: Runtime[] = [];
  let sub: ChildProcess | null = null;
  try {
    assert.match(broker.url, /^mqtts:\/\//);
    let lines = '';
    sub = spawn('mosquitto_sub', ['-h', '127.0.0.1', '-p', String(broker.port), '--cafile', f('ca.crt'), '--cert', f('client.crt'), '--key', f('client.key'), '-u', 'sub', '-P', 'sub-secret', '-t', 'lab/#', '-v'], { stdio: ['ignore', 'pipe', 'pipe'] });
    sub.stdout!.setEncoding('utf8').on('data', (d: string) => (lines += d));
    sub.stderr!.setEncoding('utf8').on('data', (d: string) => (lines += d));

    const tls = { ca: f('ca.crt'), cert: f('client.crt'), key: f('client.key') };
    const good = await gateway(broker.url, { username: 'gw', password: 'gw-secret', tls });
    runtimes.push(good);
    await eventually('connected over TLS', 10_000, () => good.health.report().checks['mqtt.mqtt']?.ok);
    await eventually('mosquitto_sub sees the status', 10_000, () => lines.includes('lab/status online'));
    await good.store.set('rtd_temp', 21.75);
    await eventually('mosquitto_sub sees the value', 10_000, () => lines.includes('lab/rtd_temp 21.75'));

    const badPassword = await gateway(broker.url, { username: 'gw', password: 'wrong', tls, clientId: 'bad-password' });
    runtimes.push(badPassword);
    await eventually('wrong password reported', 10_000, () => {
      const c = badPassword.health.report().checks['mqtt.mqtt'];
      return c && !c.ok && /not authori[sz]ed|bad user ?name or password/i.test(c.detail ?? '');
    });

    const missing = await gateway(broker.url, { username: 'gw', password: 'gw-secret', tls: { ...tls, key: f('nope.key') }, clientId: 'missing-key' });
    runtimes.push(missing);
    await eventually('unreadable key file reported', 10_000, () => /cannot read the TLS key file .*nope\.key/.test(missing.health.report().plugins.mqtt?.lastError ?? ''));
  } finally {
    for (const rt of runtimes) await rt.stop();
    sub?.kill('SIGKILL');
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
