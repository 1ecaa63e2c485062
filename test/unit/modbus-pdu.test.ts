// The server's protocol core without a network: request decoding and exception codes in the order
// the specification gives, FC 23's read-after-write, asynchronous (persisting) writes, and RTU
// framing (CRC-16, frames split across chunks, bad CRC and noise dropped at the silence).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../core/clock-fake.ts';
import { handlePdu, type ModbusDataModel, responseException } from '../../adapters/modbus/server/pdu.ts';
import { crc16, encodeRtuFrame, interFrameMs, RtuFramer, rtuCrcOk } from '../../adapters/modbus/server/rtu.ts';
import { RegisterBank } from '../../sim/register-bank.ts';

const hex = (s: string) => Uint8Array.from(s.trim().split(/\s+/).map((b) => parseInt(b, 16)));
const run = (pdu: string, model: ModbusDataModel) => handlePdu(hex(pdu), model) as Uint8Array;

function bank(): RegisterBank {
  const b = new RegisterBank({ holding: 100, input: 100, coil: 100, discrete: 100 });
  b.holding[10] = 0x1234;
  b.input[0] = 7;
  b.discrete[3] = 1;
  return b;
}

test('reads and writes every table, answering as the specification encodes it', () => {
  const b = bank();
  assert.deepEqual(run('03 00 0a 00 02', b), hex('03 04 12 34 00 00'));
  assert.deepEqual(run('04 00 00 00 01', b), hex('04 02 00 07'));
  assert.deepEqual(run('02 00 00 00 0a', b), hex('02 02 08 00'));
  assert.deepEqual(run('06 00 05 ab cd', b), hex('06 00 05 ab cd'));
  assert.equal(b.holding[5], 0xabcd);
  assert.deepEqual(run('10 00 00 00 02 04 00 01 00 02', b), hex('10 00 00 00 02'));
  assert.deepEqual([b.holding[0], b.holding[1]], [1, 2]);
  assert.deepEqual(run('05 00 09 ff 00', b), hex('05 00 09 ff 00'));
  assert.deepEqual(run('0f 00 00 00 0a 02 05 02', b), hex('0f 00 00 00 0a'));
  assert.deepEqual(run('01 00 00 00 0a', b), hex('01 02 05 02'));
  assert.deepEqual(run('08 00 00 12 34', b), hex('08 00 00 12 34'));
});

test('FC 23 writes first, then reads, and checks the read range before writing anything', () => {
  const b = bank();
  assert.deepEqual(run('17 00 00 00 02 00 01 00 01 02 00 63', b), hex('17 04 00 00 00 63'));
  const before = [...b.holding];
  assert.deepEqual(run('17 00 63 00 02 00 00 00 01 02 00 07', b), hex('97 02'));
  assert.deepEqual([...b.holding], before);
});

test('exception 1 for unknown functions, 3 for bad quantities and lengths, 2 beyond the table; nothing changes', () => {
  const b = bank();
  const before = [...b.holding];
  const code = (pdu: string) => responseException(run(pdu, b));
  assert.equal(code('2b 0e 01 00'), 1); // read device identification: not offered
  assert.equal(code('07'), 1);
  assert.equal(code('08 00 01 00 00'), 1); // diagnostics other than echo
  assert.equal(code('03 00 00 00 7e'), 3); // 126 registers
  assert.equal(code('03 00 00 00 00'), 3);
  assert.equal(code('01 00 00 07 d1'), 3); // 2001 coils
  assert.equal(code('03 00 00'), 3); // truncated
  assert.equal(code('10 00 00 00 02 03 00 01 00'), 3); // byte count does not match
  assert.equal(code('10 00 00 00 7c f8'), 3); // 124 registers
  assert.equal(code('05 00 00 12 34'), 3); // coil value neither ff00 nor 0000
  assert.equal(code('03 00 63 00 02'), 2); // 99..100 of 0..99
  assert.equal(code('10 00 63 00 02 04 00 01 00 02'), 2);
  assert.equal(code('06 ff ff 00 01'), 2);
  assert.equal(code('01 00 64 00 01'), 2);
  assert.deepEqual([...b.holding], before);
  assert.deepEqual(run('83 00', b), hex('83 01')); // an exception code sent to us is not a function
});

test('an asynchronous write (persistence) is answered only once it settles; a failing model answers 4', async () => {
  let release!: () => void;
  const written: number[][] = [];
  const model: ModbusDataModel = {
    read: () => [0],
    write: (_t, _a, values) => {
      written.push(values);
      return new Promise<void>((r) => (release = r));
    },
  };
  const answer = handlePdu(hex('06 00 01 00 2a'), model);
  assert.ok(answer instanceof Promise);
  let settled = false;
  void answer.then(() => (settled = true));
  await new Promise((r) => setImmediate(r));
  assert.equal(settled, false);
  release();
  assert.deepEqual(await answer, hex('06 00 01 00 2a'));
  assert.deepEqual(written, [[42]]);
  const broken: ModbusDataModel = { read: () => { throw new Error('boom'); }, write: () => {} };
  assert.deepEqual(handlePdu(hex('03 00 00 00 01'), broken), hex('83 04'));
});

test('CRC-16/MODBUS matches the specification example and frames carry it low byte first', () => {
  assert.equal(crc16(hex('01 03 00 00 00 0a')), 0xcdc5);
  assert.deepEqual(encodeRtuFrame(1, hex('03 00 00 00 0a')), hex('01 03 00 00 00 0a c5 cd'));
  assert.ok(rtuCrcOk(hex('01 03 00 00 00 0a c5 cd')));
  assert.ok(!rtuCrcOk(hex('01 03 00 00 00 0a c5 ce')));
  assert.equal(interFrameMs(38400), 1.75);
  assert.ok(Math.abs(interFrameMs(9600) - 4.01) < 0.01);
});

test('RTU framer: whole, split and back-to-back frames are delivered; bad CRC and noise are dropped at the silence', async () => {
  const clock = new FakeClock();
  const frames: string[] = [];
  const dropped: string[] = [];
  const framer = new RtuFramer({
    silenceMs: 1.75,
    clock,
    onFrame: (unit, pdu) => frames.push(`${unit}:${Buffer.from(pdu).toString('hex')}`),
    onDropped: (reason) => dropped.push(reason),
  });
  const read = encodeRtuFrame(240, hex('03 00 00 00 02'));
  const write = encodeRtuFrame(240, hex('10 00 00 00 01 02 00 2a'));

  framer.push(read); // complete by length and CRC: no need to wait for the silence
  assert.deepEqual(frames, ['240:0300000002']);

  framer.push(write.subarray(0, 5));
  await clock.advance(20); // an USB adapter's burst gap inside a frame of known length
  framer.push(write.subarray(5));
  assert.deepEqual(frames.slice(1), ['240:10000000010200' + '2a']);

  framer.push(Uint8Array.from([...read, ...read]));
  assert.equal(frames.length, 4);

  const bad = read.slice();
  bad[7] ^= 0xff;
  framer.push(bad);
  assert.equal(frames.length, 4);
  await clock.advance(2);
  assert.deepEqual(dropped, ['CRC mismatch']);

  framer.push(hex('ff 00')); // noise
  await clock.advance(60);
  assert.equal(dropped.at(-1), '2 byte(s) of noise');

  framer.push(encodeRtuFrame(240, hex('2b 0e 01 00'))); // unknown length: delivered at the silence
  assert.equal(frames.length, 4);
  await clock.advance(2);
  assert.equal(frames.at(-1), '240:2b0e0100');

  framer.push(read.subarray(0, 3)); // a frame cut short is dropped once the line stays quiet
  await clock.advance(60);
  framer.push(read);
  assert.equal(frames.at(-1), '240:0300000002');
  assert.equal(frames.length, 6);
});
