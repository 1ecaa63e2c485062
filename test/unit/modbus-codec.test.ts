// The modbus-bridge's pure parts: value codec (types, word order, scale, deadband), read
// coalescing (fewest requests, gap, 125 cap), write runs, and the config checks the schema cannot do.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decode, encode, EncodeError, movedBeyond } from '../../plugins/modbus-bridge/codec.ts';
import { type BridgeConfig, checkConfig, type TagConfig, tagDirection, tagOwner } from '../../plugins/modbus-bridge/config.ts';
import { gapFillers, planReads, planWrites } from '../../plugins/modbus-bridge/plan.ts';

const tag = (t: Partial<TagConfig> & Pick<TagConfig, 'address'>): TagConfig => ({
  key: `k${t.address}`, table: 'holding', wordOrder: 'big', scale: 1, offset: 0, direction: 'read', deadband: 0, ...t,
});

const limits = { maxGap: 10, maxRegistersPerRequest: 125, maxBitsPerRequest: 2000 };

test('float32 is high word first by default and low word first with wordOrder little', () => {
  // 50.0f = 0x42480000
  assert.deepEqual(encode(tag({ address: 0, type: 'float32' }), 50), [0x4248, 0x0000]);
  assert.deepEqual(encode(tag({ address: 0, type: 'float32', wordOrder: 'little' }), 50), [0x0000, 0x4248]);
  assert.equal(decode(tag({ address: 0, type: 'float32' }), [0x4248, 0x0000]), 50);
  assert.equal(decode(tag({ address: 0, type: 'float32', wordOrder: 'little' }), [0x0000, 0x4248]), 50);
  assert.ok(Math.abs((decode(tag({ address: 0, type: 'float32' }), encode(tag({ address: 0, type: 'float32' }), 21.37)) as number) - 21.37) < 1e-5);
});

test('int32 and uint32 keep their sign and range in both word orders', () => {
  const i32 = tag({ address: 0, type: 'int32' });
  assert.deepEqual(encode(i32, -2), [0xffff, 0xfffe]);
  assert.equal(decode(i32, [0xffff, 0xfffe]), -2);
  assert.equal(decode({ ...i32, wordOrder: 'little' }, [0xfffe, 0xffff]), -2);
  const u32 = tag({ address: 0, type: 'uint32' });
  assert.deepEqual(encode(u32, 0x12345678), [0x1234, 0x5678]);
  assert.deepEqual(encode({ ...u32, wordOrder: 'little' }, 0x12345678), [0x5678, 0x1234]);
  assert.equal(decode(u32, [0xffff, 0xffff]), 0xffffffff);
  assert.throws(() => encode(u32, -1), EncodeError);
});

test('16-bit types, scale and offset: value = raw * scale + offset, writes round and range-check', () => {
  const t = tag({ address: 0, type: 'int16', scale: 0.1, offset: -40 });
  assert.equal(decode(t, [0xffff]), -0.1 - 40);
  assert.deepEqual(encode(t, 21.5), [615]);
  assert.equal(decode(tag({ address: 0, type: 'uint16' }), [0xffff]), 65535);
  assert.throws(() => encode(tag({ address: 0, type: 'uint16' }), 70000), /out of range for uint16 \(0\.\.65535\)/);
  assert.throws(() => encode(tag({ address: 0, type: 'int16' }), 'hot'), /"hot" is not a number/);
  assert.deepEqual(encode(tag({ address: 0, type: 'uint16' }), '42'), [42]);
});

test('bool: one bit in coil tables, non-zero register in register tables', () => {
  assert.deepEqual(encode(tag({ address: 0, table: 'coil', type: 'bool' }), true), [true]);
  assert.deepEqual(encode(tag({ address: 0, type: 'bool' }), true), [1]);
  assert.equal(decode(tag({ address: 0, type: 'bool' }), [7]), true);
  assert.equal(decode(tag({ address: 0, table: 'discrete' }), [false]), false);
});

test('deadband: only a move larger than the band counts; 0 means any change', () => {
  assert.equal(movedBeyond(0.5, 20, 20.4), false);
  assert.equal(movedBeyond(0.5, 20, 20.6), true);
  assert.equal(movedBeyond(0, 20, 20.0001), true);
  assert.equal(movedBeyond(0, 20, 20), false);
  assert.equal(movedBeyond(0.5, undefined, 20), true);
  assert.equal(movedBeyond(0.5, true, false), true);
});

test('coalescing: adjacent and near entries share one request; a gap beyond maxGap splits', () => {
  const tags = [tag({ address: 0 }), tag({ address: 1, type: 'float32' }), tag({ address: 8, type: 'float32' }), tag({ address: 30 }), tag({ address: 100, type: 'float32' })];
  const blocks = planReads(tags, limits);
  assert.deepEqual(blocks.map((b) => [b.address, b.count]), [[0, 10], [30, 1], [100, 2]]);
  assert.deepEqual(planReads(tags, { ...limits, maxGap: 100 }).map((b) => [b.address, b.count]), [[0, 102]]);
  assert.deepEqual(planReads(tags, { ...limits, maxGap: 0 }).map((b) => [b.address, b.count]), [[0, 3], [8, 2], [30, 1], [100, 2]]);
  assert.deepEqual(blocks[0].tags.map((t) => [t.offset, t.width]), [[0, 1], [1, 2], [8, 2]]);
});

test('coalescing never exceeds the per-request cap (125 registers) and keeps 32-bit values whole', () => {
  const tags = Array.from({ length: 300 }, (_, i) => tag({ address: i }));
  const blocks = planReads(tags, limits);
  assert.deepEqual(blocks.map((b) => b.count), [125, 125, 50]);
  const floats = Array.from({ length: 100 }, (_, i) => tag({ address: i * 2, type: 'float32' }));
  const fb = planReads(floats, limits);
  assert.ok(fb.every((b) => b.count <= 125 && b.count % 2 === 0), JSON.stringify(fb.map((b) => b.count)));
  assert.equal(fb.length, 2);
  assert.deepEqual(planReads(tags, { ...limits, maxRegistersPerRequest: 16 }).length, Math.ceil(300 / 16));
});

test('coalescing keeps tables apart and caps bit reads separately', () => {
  const tags = [tag({ address: 0 }), tag({ address: 0, table: 'input' }), tag({ address: 0, table: 'coil' }), tag({ address: 1999, table: 'coil' }), tag({ address: 2000, table: 'coil' })];
  const blocks = planReads(tags, { ...limits, maxGap: 5000 });
  assert.deepEqual(blocks.map((b) => [b.table, b.address, b.count]), [['holding', 0, 1], ['input', 0, 1], ['coil', 0, 2000], ['coil', 2000, 1]]);
});

test('write runs merge contiguous pending writes only', () => {
  const w = (address: number, n: number, table: 'holding' | 'coil' = 'holding') => ({ table, address, raw: new Array(n).fill(0) });
  const runs = planWrites([w(8, 2), w(6, 2), w(11, 2), w(0, 1, 'coil'), w(1, 1, 'coil')]);
  assert.deepEqual(runs.map((r) => r.map((x) => x.address)), [[6, 8], [11], [0, 1]]);
});

const config = (map: Array<Partial<TagConfig> & Pick<TagConfig, 'address'>>, extra: Partial<BridgeConfig> = {}): BridgeConfig => ({
  unit: 1, pollMs: 100, map: map.map(tag), maxGap: 10, maxRegistersPerRequest: 125, maxBitsPerRequest: 2000, staleAfterS: 5,
  connectedKey: 'plc_connected', lastOkKey: 'modbus_last_ok_ts', circuit: { failureThreshold: 5, openMs: 10000 },
  backoff: { initialMs: 500, maxMs: 10000, factor: 2, jitter: 0.2 }, ...extra,
});

test('config checks name map[i]: overlapping addresses, a 32-bit value at 65535, duplicate keys', () => {
  assert.deepEqual(checkConfig(config([{ address: 1, type: 'float32' }, { address: 3, type: 'uint16' }])), []);
  assert.deepEqual(checkConfig(config([{ address: 8, type: 'float32', key: 'sp' }, { address: 9, key: 'x' }])), [
    'map[1].address: holding 9 ("x") overlaps map[0] 8..9 ("sp")',
  ]);
  // The same address in another table is fine.
  assert.deepEqual(checkConfig(config([{ address: 9, key: 'a' }, { address: 9, key: 'b', table: 'input' }])), []);
  assert.deepEqual(checkConfig(config([{ address: 65535, type: 'float32' }])), [
    'map[0].address: float32 needs 2 registers, so it cannot start at 65535 (last address is 65535)',
  ]);
  assert.match(checkConfig(config([{ address: 1, key: 'a' }, { address: 2, key: 'a' }])).join('\n'), /map\[1\]\.key: "a" is already mapped by map\[0\]/);
  assert.match(checkConfig(config([{ address: 1, key: 'plc_connected' }])).join('\n'), /map\[0\]\.key: "plc_connected" is the bridge's own status key/);
});

test('ownership defaults from direction, and a contradiction is named with the key', () => {
  assert.equal(tagOwner({ direction: 'write' }), 'gateway');
  assert.equal(tagOwner({ direction: 'read-write' }), 'shared');
  assert.equal(tagOwner({}), 'plc');
  assert.equal(tagDirection({ owner: 'gateway' }), 'read-write');
  assert.equal(tagDirection({ owner: 'plc' }), 'read');
  const issues = (t: Partial<TagConfig>) => checkConfig(config([{ address: 4, key: 'mode', direction: undefined, ...t }])).join('\n');
  assert.equal(issues({ owner: 'gateway' }), '');
  assert.equal(issues({ owner: 'gateway', direction: 'write' }), '');
  assert.match(issues({ owner: 'plc', direction: 'write' }), /map\[0\]\.owner: "mode" is owned by the PLC, so it is only read/);
  assert.match(issues({ owner: 'gateway', direction: 'read' }), /map\[0\]\.owner: "mode" is owned by the gateway, so it must be written/);
  assert.match(issues({ owner: 'shared', direction: 'write' }), /map\[0\]\.owner: a shared value is read and written; "mode" needs direction "read-write"/);
  assert.match(issues({ owner: 'gateway', table: 'input' }), /map\[0\]\.owner: input 4 \("mode"\) is read-only/);
});

test('handshake registers must be free and its keys gateway-owned', () => {
  const hs = { seqAddress: 0, ackAddress: 100, ackTimeoutS: 3 };
  const base = config([{ address: 1, key: 'pv', type: 'float32', direction: 'write' }, { address: 100, key: 'ack' }]);
  assert.deepEqual(checkConfig({ ...base, handshake: { ...hs, ackAddress: 101, keys: ['pv'] } }), []);
  const issues = checkConfig({ ...base, handshake: { ...hs, seqAddress: 2, keys: ['ack', 'nope'] } }).join('\n');
  assert.match(issues, /handshake\.seqAddress: HR 2 is also mapped by map\[0\] \("pv"\)/);
  assert.match(issues, /handshake\.ackAddress: HR 100 is also mapped by map\[1\] \("ack"\)/);
  assert.match(issues, /handshake\.keys\[0\]: "ack" is not gateway-owned/);
  assert.match(issues, /handshake\.keys\[1\]: "nope" is not a key of the map/);
});

test('gap filling joins two pending runs only across gateway-owned registers', () => {
  const pending = [{ table: 'holding' as const, address: 8, raw: [1, 2] }, { table: 'holding' as const, address: 11, raw: [1, 2, 3, 4, 5, 6] }];
  // HR 10 belongs to a gateway-owned value: written with them, one request.
  assert.deepEqual(gapFillers(pending, 10, (a) => (a === 10 ? 'tune' : undefined)), ['tune']);
  // HR 10 is the PLC's (or shared): never written, two requests.
  assert.deepEqual(gapFillers(pending, 10, () => undefined), []);
  // Beyond maxGap: not joined.
  assert.deepEqual(gapFillers(pending, 0, () => 'x'), []);
  // A 2-register value filling a 2-register gap is listed once.
  assert.deepEqual(gapFillers([{ table: 'holding', address: 0, raw: [1] }, { table: 'holding', address: 3, raw: [1] }], 10, () => 'f'), ['f']);
});
