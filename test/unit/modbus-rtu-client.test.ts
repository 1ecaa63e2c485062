// The RTU master on an in-memory serial line with a fake clock: the exact request bytes, replies in
// fragments, CRC errors, exception replies, timeouts, late replies and stray frames dropped, the
// 256-byte reply limit, the inter-frame silence, and a lost line reopened.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock, settle } from '../../core/clock-fake.ts';
import { encodeRtuFrame } from '../../adapters/modbus/server/rtu.ts';
import { type RtuLine, RtuModbusClient, silenceMs } from '../../adapters/modbus/rtu-client.ts';
import { ModbusExceptionError, ModbusLinkError } from '../../adapters/modbus/types.ts';

/** An in-memory serial line: records what the master sent, delivers what the test answers. */
class MemoryLine implements RtuLine {
  readonly sent: number[][] = [];
  #listener: ((chunk: Uint8Array) => void) | undefined;
  closed = false;
  on(_event: 'data', listener: (chunk: Uint8Array) => void): this {
    this.#listener = listener;
    return this;
  }
  write(data: Uint8Array): void {
    if (this.closed) throw new Error('closed');
    this.sent.push([...data]);
  }
  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
  deliver(...chunks: Array<number[] | Uint8Array>): void {
    for (const c of chunks) this.#listener?.(Uint8Array.from(c));
  }
}

const frame = (unit: number, pdu: number[]) => [...encodeRtuFrame(unit, Uint8Array.from(pdu))];

function setup(options: { timeoutMs?: number; baudRate?: number; rxLatencyMs?: number } = {}) {
  const clock = new FakeClock();
  const lines: MemoryLine[] = [];
  const lost: Array<(err: Error) => void> = [];
  let limits = 0;
  const client = new RtuModbusClient({
    path: '/dev/ttyMEM0',
    baudRate: options.baudRate ?? 9600,
    parity: 'none',
    dataBits: 8,
    stopBits: 1,
    timeoutMs: options.timeoutMs ?? 500,
    onReplyLimit: () => limits++,
    rxLatencyMs: options.rxLatencyMs,
    openLine: (_path, _o, onLost) => {
      const line = new MemoryLine();
      lines.push(line);
      lost.push(onLost);
      return Promise.resolve(line);
    },
  }, clock);
  const line = () => lines.at(-1)!;
  /** Waits until the master has put `n` requests on the line in all. */
  const sent = async (n: number) => {
    for (let i = 0; i < 100 && line()?.sent.length !== n; i++) await settle();
    assert.equal(line().sent.length, n, 'requests on the line');
    return line().sent[n - 1];
  };
  return { clock, client, line, lines, lost, sent, limits: () => limits };
}

test('FC3 request bytes are the textbook frame; a reply in three fragments is assembled', async () => {
  const { client, line, sent } = setup();
  const read = client.readRegisters('holding', 1, 0, 10);
  assert.deepEqual(await sent(1), [0x01, 0x03, 0x00, 0x00, 0x00, 0x0a, 0xc5, 0xcd]);
  const reply = frame(1, [3, 20, ...Array.from({ length: 10 }, (_, i) => [0, i + 1]).flat()]);
  line().deliver(reply.slice(0, 1), reply.slice(1, 6), reply.slice(6));
  assert.deepEqual(await read, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  assert.equal(client.description, 'rtu /dev/ttyMEM0@9600');
  await client.close();
});

test('each function code: FC1, FC2, FC4 decoded; FC5, FC6, FC15, FC16 request bytes and echo checked', async () => {
  const { clock, client, line, sent } = setup();
  const step = async <T>(n: number, call: Promise<T>, expectPdu: number[], replyPdu: number[]) => {
    assert.deepEqual(await sent(n), frame(7, expectPdu));
    line().deliver(frame(7, replyPdu));
    const v = await call;
    await clock.advance(5); // the line rests before the next request
    return v;
  };
  assert.deepEqual(await step(1, client.readBits('coil', 7, 19, 10), [1, 0, 19, 0, 10], [1, 2, 0b1100_1101, 0b01]), [true, false, true, true, false, false, true, true, true, false]);
  assert.deepEqual(await step(2, client.readBits('discrete', 7, 0, 3), [2, 0, 0, 0, 3], [2, 1, 0b101]), [true, false, true]);
  assert.deepEqual(await step(3, client.readRegisters('input', 7, 8, 2), [4, 0, 8, 0, 2], [4, 4, 0x12, 0x34, 0xff, 0xff]), [0x1234, 0xffff]);
  await step(4, client.writeCoils(7, 172, [true]), [5, 0, 172, 0xff, 0], [5, 0, 172, 0xff, 0]);
  await step(5, client.writeRegisters(7, 1, [3]), [6, 0, 1, 0, 3], [6, 0, 1, 0, 3]);
  await step(6, client.writeCoils(7, 19, [true, false, true, true, false, false, true, true, true, false]), [15, 0, 19, 0, 10, 2, 0xcd, 0x01], [15, 0, 19, 0, 10]);
  await step(7, client.writeRegisters(7, 1, [10, 258]), [16, 0, 1, 0, 2, 4, 0, 10, 1, 2], [16, 0, 1, 0, 2]);
  const wrongEcho = client.writeRegisters(7, 1, [4]);
  await sent(8);
  line().deliver(frame(7, [6, 0, 2, 0, 4]));
  await assert.rejects(wrongEcho, /modbus rtu \/dev\/ttyMEM0@9600: bad reply \(reply does not echo the write \(address or value differ\)\) to writing HR 1 of unit 7/);
  await client.close();
});

test('a CRC error fails the request with the reason; the next request works', async () => {
  const { clock, client, line, sent } = setup();
  const read = client.readRegisters('holding', 1, 0, 1);
  await sent(1);
  const bad = frame(1, [3, 2, 0, 42]);
  bad[4] ^= 0x01;
  line().deliver(bad);
  await assert.rejects(read, (err: unknown) => err instanceof ModbusLinkError && err.kind === 'connection' &&
    /: bad reply \(CRC mismatch in a 7-byte reply\) to reading HR 0 from unit 1$/.test(err.message));
  await clock.advance(5);
  const again = client.readRegisters('holding', 1, 0, 1);
  await sent(2);
  line().deliver(frame(1, [3, 2, 0, 42]));
  assert.deepEqual(await again, [42]);
  await client.close();
});

test('an exception reply names the code; a wrong byte count and a foreign function are refused', async () => {
  const { clock, client, line, sent } = setup();
  const read = client.readRegisters('holding', 1, 999, 2);
  await sent(1);
  line().deliver(frame(1, [0x83, 2]));
  await assert.rejects(read, (err: unknown) => err instanceof ModbusExceptionError && err.code === 2 &&
    err.message === 'modbus rtu /dev/ttyMEM0@9600: reading HR 999..1000 from unit 1 refused with exception 2 (illegal data address)');
  await clock.advance(5);
  const short = client.readRegisters('holding', 1, 0, 2);
  await sent(2);
  line().deliver(frame(1, [3, 2, 0, 1]));
  await assert.rejects(short, /bad reply \(reply byte count 2, expected 4\)/);
  await clock.advance(5);
  const other = client.readRegisters('holding', 1, 0, 1);
  await sent(3);
  line().deliver(frame(1, [4, 2, 0, 1]));
  await assert.rejects(other, /bad reply \(reply with function 4, not 3\)/);
  await client.close();
});

test('no reply: a timeout counted from the end of transmission; the late reply is dropped, not taken for the next one', async () => {
  const { clock, client, line, sent } = setup({ timeoutMs: 500 });
  const read = client.readRegisters('holding', 1, 0, 1);
  let outcome: unknown;
  read.catch((err: unknown) => (outcome = err));
  await sent(1);
  await clock.advance(500); // 8 bytes at 9600 baud take 8.3 ms on the wire first
  assert.equal(outcome, undefined, 'not yet: the request was still being sent');
  await clock.advance(9);
  await assert.rejects(read, (err: unknown) => err instanceof ModbusLinkError && err.kind === 'timeout' &&
    err.message === 'modbus rtu /dev/ttyMEM0@9600: timed out after 500 ms reading HR 0 from unit 1');
  line().deliver(frame(1, [3, 2, 0, 99])); // the answer, too late
  assert.equal(client.strayBytes, 7);
  const next = client.readRegisters('holding', 1, 0, 1);
  await clock.advance(silenceMs({ baudRate: 9600, parity: 'none', dataBits: 8, stopBits: 1 }));
  await sent(2);
  line().deliver(frame(1, [3, 2, 0, 5]));
  assert.deepEqual(await next, [5]);
  await client.close();
});

test('a request waits for 3.5 characters of silence after the last byte heard', async () => {
  const { clock, client, line, sent } = setup({ baudRate: 9600 });
  const silence = silenceMs({ baudRate: 9600, parity: 'none', dataBits: 8, stopBits: 1 });
  assert.ok(Math.abs(silence - 3.5 * 10 / 9.6) < 1e-9, `${silence} ms`);
  assert.equal(silenceMs({ baudRate: 38400, parity: 'even', dataBits: 8, stopBits: 1 }), 1.75);
  await client.connect();
  line().deliver([0xff, 0x00]); // noise
  const read = client.readRegisters('input', 2, 0, 1);
  for (let i = 0; i < 5; i++) await settle();
  assert.equal(line().sent.length, 0, 'held back while the line is busy');
  await clock.advance(silence);
  await sent(1);
  line().deliver(frame(2, [4, 2, 0, 1]));
  assert.deepEqual(await read, [1]);
  await client.close();
});

test('the line\'s read latency is added to the silence: a late reply still in the kernel\'s buffer is heard first', async () => {
  const { clock, client, line, sent } = setup({ baudRate: 38400, rxLatencyMs: 5 });
  await client.connect();
  line().deliver(frame(1, [3, 2, 0, 99])); // the end of an answer given up on
  const read = client.readRegisters('holding', 1, 0, 1);
  await clock.advance(1.75);
  assert.equal(line().sent.length, 0, 'not after 3.5 characters alone');
  await clock.advance(5);
  await sent(1);
  line().deliver(frame(1, [3, 2, 0, 5]));
  assert.deepEqual(await read, [5]);
  await client.close();
});

test('a line that never goes quiet fails the request after the timeout, naming why', async () => {
  const { clock, client, line } = setup({ baudRate: 9600, timeoutMs: 100 });
  await client.connect();
  const read = client.readRegisters('holding', 1, 0, 1);
  let outcome: unknown;
  read.catch((err: unknown) => (outcome = err));
  for (let t = 0; t < 120 && outcome === undefined; t++) {
    line().deliver([0x55]); // another master, or a stuck converter
    await clock.advance(1);
  }
  await assert.rejects(read, /modbus rtu \/dev\/ttyMEM0@9600: the line did not go quiet within 100 ms \(another master, or noise\) before reading HR 0 from unit 1/);
  assert.equal(line().sent.length, 0, 'nothing sent into the noise');
  await client.close();
});

test('a stray frame of another unit or a noise byte before the reply is skipped; bytes over 256 are refused and counted', async () => {
  const { clock, client, line, sent, limits } = setup();
  const read = client.readRegisters('holding', 1, 0, 1);
  await sent(1);
  line().deliver(frame(9, [3, 2, 0, 7]), frame(1, [3, 2, 0, 8]));
  assert.deepEqual(await read, [8]);
  assert.equal(client.strayBytes, 7);
  await clock.advance(5);
  const afterNoise = client.readRegisters('holding', 1, 0, 2);
  await sent(2);
  line().deliver([0x00], frame(1, [3, 4, 0, 1, 0, 1]).slice(0, 4)); // a turnaround glitch, then the reply in two pieces
  line().deliver(frame(1, [3, 4, 0, 1, 0, 1]).slice(4));
  assert.deepEqual(await afterNoise, [1, 1]);
  assert.equal(client.strayBytes, 8);
  await clock.advance(5);
  const big = client.readRegisters('holding', 1, 0, 125);
  await sent(3);
  line().deliver([1, 3, 250], new Uint8Array(300));
  await assert.rejects(big, /reply over the 256-byte RTU frame limit \(303 bytes read\) when reading HR 0\.\.124 from unit 1/);
  assert.equal(limits(), 1);
  await client.close();
});

test('one request in flight, writes ahead of reads; a lost line fails the request and is reopened', async () => {
  const { clock, client, line, lines, lost, sent } = setup();
  const first = client.readRegisters('holding', 1, 0, 1);
  const read = client.readRegisters('holding', 1, 5, 1);
  const write = client.writeRegisters(1, 9, [1]);
  await sent(1);
  line().deliver(frame(1, [3, 2, 0, 1]));
  assert.deepEqual(await first, [1]);
  await clock.advance(5);
  assert.deepEqual(await sent(2), frame(1, [6, 0, 9, 0, 1]), 'the write went before the queued read');
  lost[0](new Error('serial /dev/ttyMEM0: read failed (adapter unplugged?): Input/output error (EIO)'));
  await assert.rejects(write, /line lost \(serial \/dev\/ttyMEM0: read failed \(adapter unplugged\?\): Input\/output error \(EIO\)\) while writing HR 9 of unit 1/);
  await sent(1); // the queued read, on a new line
  assert.equal(lines.length, 2);
  assert.equal(client.connections, 2);
  assert.equal(lines[0].closed, true);
  line().deliver(frame(1, [3, 2, 0, 6]));
  assert.deepEqual(await read, [6]);
  await client.close();
  assert.equal(line().closed, true);
  await assert.rejects(client.readRegisters('holding', 1, 0, 1), /link is closed; refused reading HR 0 from unit 1/);
});

test('bad arguments are refused before anything is sent; a broadcast write resolves without a reply', async () => {
  const { clock, client, line, sent } = setup();
  await assert.rejects(client.readRegisters('holding', 1, 0, 126), /modbus rtu \/dev\/ttyMEM0@9600: reading HR 0\.\.125 from unit 1: 126 registers is outside 1\.\.125/);
  await assert.rejects(client.writeRegisters(1, 0, [70000]), /register value 70000 is outside 0\.\.65535/);
  await assert.rejects(client.readRegisters('holding', 0, 0, 1), /unit 0 is the broadcast address, which takes writes only/);
  const broadcast = client.writeRegisters(0, 3, [1]);
  await sent(1);
  await clock.advance(20);
  await broadcast;
  assert.equal(line().sent.length, 1);
  await client.close();
});
