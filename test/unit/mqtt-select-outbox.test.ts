// The mqtt plugin's pure parts: key selection (patterns, exclusions, per-key options), the change
// filter (deadband), payload formats, and the store-and-forward outbox — bounded, oldest dropped
// first and counted, order kept, and still there after the store is reopened from disk.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../../core/clock.ts';
import { memoryLog } from '../../core/log.ts';
import { openStore } from '../../core/store/open.ts';
import { checkConfig, resolveConfig } from '../../plugins/mqtt/config.ts';
import { Outbox } from '../../plugins/mqtt/outbox.ts';
import { changed, formatValue, KeySelection } from '../../plugins/mqtt/select.ts';

const names = { manifest: 'lab', plugin: 'mqtt' };

test('key selection: exact names, * patterns, exclusions, per-key options over the defaults', () => {
  const c = resolveConfig({ publish: { keys: ['setpoint', { key: 'sensor:*', deadband: 0.5, qos: 0 }], exclude: ['sensor:*:ts'] } as never }, names);
  const s = new KeySelection(c.publish);
  assert.deepEqual(s.match('setpoint'), { deadband: 0, maxIntervalMs: 0, qos: 1, retain: true, format: 'json' });
  assert.equal(s.match('sensor:co2_b')?.deadband, 0.5);
  assert.equal(s.match('sensor:co2_b')?.qos, 0);
  assert.equal(s.match('sensor:co2_b:ts'), null);
  assert.equal(s.match('mv'), null);
});

test('change filter and payload formats', () => {
  assert.equal(changed(undefined, 1, 0), true);
  assert.equal(changed(20, 20.05, 0.1), false);
  assert.equal(changed(20, 20.2, 0.1), true);
  assert.equal(changed(20, 20.0001, 0), true);
  assert.equal(changed({ a: 1 }, { a: 1 }, 0), false);
  assert.equal(changed('auto', 'manual', 0), true);
  assert.equal(formatValue('auto', 'raw'), 'auto');
  assert.equal(formatValue('auto', 'json'), '"auto"');
  assert.equal(formatValue(21.5, 'raw'), '21.5');
  assert.equal(formatValue(null, 'json'), 'null');
});

test('config checks name the problem and where', () => {
  const c = resolveConfig({ reconnect: { minMs: 5000, maxMs: 100 }, tls: { ca: '', cert: '/c.pem', key: '', rejectUnauthorized: true }, publish: { keys: ['a/#'] } as never }, names);
  assert.deepEqual(checkConfig(c), [
    'reconnect.minMs: 5000 is above reconnect.maxMs 100',
    'tls: give both cert and key (mutual TLS), or neither',
    'publish.keys[0]: "a/#" contains an MQTT wildcard (# or +)',
  ]);
  assert.equal(resolveConfig({}, names).clientId, 'fieldgate-lab-mqtt');
});

test('outbox: bounded with the oldest dropped first (counted), order kept across a reopen', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fieldgate-outbox-'));
  const log = memoryLog('silent').root.logger('t');
  const errors: unknown[] = [];
  try {
    let store = await openStore({ dataDir: dir, clock: systemClock, log });
    let box = new Outbox(store, 'mqtt', 5, (e) => errors.push(e));
    await box.open();
    for (let i = 1; i <= 8; i++) box.add({ topic: `t/${i}`, payload: i % 2 ? String(i) : new Uint8Array([i]), qos: 1, retain: false });
    assert.equal(box.count, 5);
    assert.equal(box.dropped, 3);
    assert.deepEqual(box.peek(10).map((m) => m.topic), ['t/4', 't/5', 't/6', 't/7', 't/8']);
    assert.deepEqual(box.peek(10)[0].payload, new Uint8Array([4]), 'binary payloads stay binary');
    assert.equal(box.peek(10)[1].payload, '5', 'text payloads stay text');
    const [a, b] = box.peek(2);
    await box.remove(a.id, b.id, 2);
    assert.deepEqual(box.peek(10, 0).map((m) => m.topic), ['t/6', 't/7', 't/8']);
    assert.deepEqual(box.peek(10, box.peek(1)[0].id).map((m) => m.topic), ['t/7', 't/8'], 'after an id');
    await store.close();

    // Reopened from disk: the same messages, in order; a smaller bound trims the oldest.
    store = await openStore({ dataDir: dir, clock: systemClock, log });
    box = new Outbox(store, 'mqtt', 2, (e) => errors.push(e));
    await box.open();
    assert.equal(box.dropped, 1);
    assert.deepEqual(box.peek(10).map((m) => m.topic), ['t/7', 't/8']);
    const other = new Outbox(store, 'other', 10, (e) => errors.push(e));
    await other.open();
    assert.equal(other.count, 0, 'each plugin has its own queue');
    await store.close();
    assert.deepEqual(errors, []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('packet size guard: reads remaining lengths across chunk boundaries, flags the first packet over the limit', async () => {
  const { PacketSizeGuard } = await import('../../plugins/mqtt/packet-guard.ts');
  const packet = (len: number): number[] => {
    const out = [0x30];
    let n = len;
    do {
      let b = n % 128;
      n = Math.floor(n / 128);
      if (n > 0) b |= 0x80;
      out.push(b);
    } while (n > 0);
    return [...out, ...new Array<number>(len).fill(7)];
  };
  const g = new PacketSizeGuard(1000);
  const bytes = new Uint8Array([...packet(10), ...packet(0), ...packet(999), ...packet(300)]);
  // Fed one byte at a time: headers split anywhere.
  for (const b of bytes) assert.equal(g.feed(new Uint8Array([b])), 0);
  assert.equal(g.feed(new Uint8Array(packet(200_000).slice(0, 4))), 200_000);
  assert.equal(new PacketSizeGuard(1000).feed(new Uint8Array([0x30, 0xff, 0xff, 0xff, 0x7f])), 268_435_455);
});
