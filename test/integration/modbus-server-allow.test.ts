// The Modbus TCP slave's client allow-list, with a real TCP client and mbpoll (Debian) from
// 127.0.0.1: refused when the list (or the RS-485/TCP converter) names another address, closed
// before any answer, logged once per address with the reason and counted; accepted when listed.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { connect } from 'node:net';
import { parseAllowList } from '../../adapters/modbus/server/client-allow.ts';
import { checkConfig } from '../../plugins/modbus-server/config.ts';
import { startModbusServer, type ServerUnderTest } from '../fixtures/modbus-server-runtime.ts';

function run(cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 10_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}
const mbpollMissing = (await run('mbpoll', ['-V'])).code === -1 ? 'mbpoll is not installed (Debian: apt-get install -y mbpoll)' : false;

/** Connects, sends a read of HR 0 for unit 240, and says whether an answer came or the server closed. */
async function readOnce(port: number): Promise<'answered' | 'closed'> {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => {});
  return await new Promise((resolve) => {
    socket.once('connect', () => socket.write(Buffer.from([0, 1, 0, 0, 0, 6, 240, 3, 0, 0, 0, 1])));
    socket.once('data', () => {
      socket.destroy();
      resolve('answered');
    });
    socket.once('close', () => resolve('closed'));
  });
}

const refusals = (s: ServerUnderTest) => s.lines.filter((l) => /refused a Modbus connection/.test(String(l.msg)));

describe('modbus-server tcp.allowClients', () => {
  const servers: ServerUnderTest[] = [];
  const start = async (tcp: Record<string, unknown>) => {
    const s = await startModbusServer({ dataDir: null, config: { tcp: { port: 0, ...tcp } } });
    servers.push(s);
    return s;
  };
  after(async () => {
    for (const s of servers) await s.stop();
  });

  test('a client not in the list is closed before any answer, logged once with the reason, and counted', async () => {
    const s = await start({ allowClients: ['10.0.0.5'] });
    assert.equal(await readOnce(s.port), 'closed');
    assert.equal(await readOnce(s.port), 'closed');
    const logged = refusals(s);
    assert.equal(logged.length, 1, JSON.stringify(logged));
    assert.match(String(logged[0]!.msg), /refused a Modbus connection from (::ffff:)?127\.0\.0\.1: not in tcp\.allowClients \(10\.0\.0\.5\)/);
    assert.match(await s.runtime.metrics.text(), /modbus_server_clients_refused_total 2/);
  });

  test('mbpoll from 127.0.0.1 is refused by ["10.0.0.5"] and reads with ["127.0.0.1"]', { skip: mbpollMissing }, async () => {
    const refused = await start({ allowClients: ['10.0.0.5'] });
    const allowed = await start({ allowClients: ['127.0.0.1'] });
    await allowed.space.model(240).write('holding', 0, [4242]);
    const mb = (port: number) => run('mbpoll', ['-m', 'tcp', '-p', String(port), '-a', '240', '-0', '-1', '-o', '2', '-r', '0', '-c', '1', '127.0.0.1']);
    const no = await mb(refused.port);
    assert.notEqual(no.code, 0, no.stdout);
    assert.doesNotMatch(no.stdout, /\[0\]:\s+4242/);
    const yes = await mb(allowed.port);
    assert.equal(yes.code, 0, yes.stderr);
    assert.match(yes.stdout, /\[0\]:\s+4242/);
  });

  test('a CIDR range admits its addresses', async () => {
    const s = await start({ allowClients: ['192.168.1.0/24, 127.0.0.0/8'] });
    assert.equal(await readOnce(s.port), 'answered');
    assert.equal(refusals(s).length, 0);
  });

  test('the RS-485/TCP converter is the default list, and the refusal says so', async () => {
    const s = await start({ converter: '10.0.0.7' });
    assert.equal(await readOnce(s.port), 'closed');
    assert.match(String(refusals(s)[0]!.msg), /not the RS-485\/TCP converter \(tcp\.converter 10\.0\.0\.7\)/);
    const listed = await start({ converter: '10.0.0.7', allowClients: ['127.0.0.1'] });
    assert.equal(await readOnce(listed.port), 'answered', 'an explicit list wins over the converter');
  });

  test('a bad entry is a config error naming it (what `fieldgate validate` and the start report)', () => {
    const tcp = (t: Record<string, unknown>) => checkConfig({ tcp: { enabled: true, host: '0.0.0.0', port: 502, allowClients: [], ...t } });
    assert.deepEqual(tcp({ allowClients: ['10.0.0.300'] }), ['tcp.allowClients: "10.0.0.300" is not an IP address or CIDR range (e.g. 10.0.0.5 or 192.168.1.0/24)']);
    assert.deepEqual(tcp({ allowClients: ['10.0.0.0/33'] }), ['tcp.allowClients: "10.0.0.0/33" has a prefix length outside 0..32']);
    assert.deepEqual(tcp({ converter: 'rs485.local' }), ['tcp.converter: "rs485.local" is not an IP address or CIDR range (e.g. 10.0.0.5 or 192.168.1.0/24)']);
  });
});

describe('client allow-list matching', () => {
  test('IPv4, IPv4-mapped IPv6, IPv6 and CIDR prefixes', () => {
    const l = parseAllowList(['10.0.0.5', '192.168.8.0/22', 'fd00::/8', '::1'], 'test');
    for (const ok of ['10.0.0.5', '::ffff:10.0.0.5', '192.168.11.200', 'fd12:3456::1', '::1']) assert.ok(l.allows(ok), ok);
    for (const no of ['10.0.0.6', '192.168.12.1', 'fe80::1', '::2', undefined, 'garbage']) assert.ok(!l.allows(no), String(no));
    assert.ok(parseAllowList([''], 'test').open, 'an empty variable means no list');
  });
});
