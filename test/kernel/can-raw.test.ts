// The FFI SocketCAN backend on a real kernel (vcan0 in the QEMU guest), with can-utils' cansend and
// candump as the independent peer: frames both ways, extended ids, RTR, error frames, and the
// interface going down and up (reported by the channel, which recovers without being reopened).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { RawCanChannel } from '../../adapters/can/raw-socket.ts';
import { openSocketCan } from '../../adapters/can/backend.ts';
import type { CanFrame } from '../../adapters/can/types.ts';
import { eventually } from '../helpers/eventually.ts';
import { kernelSkip } from './guest.ts';

const skip = kernelSkip || (spawnSync('cansend', ['--help']).error ? 'cansend not found (apt-get install -y can-utils)' : false);

/** Starts `candump -L vcan0` and collects its lines (`(ts) vcan0 123#DEADBEEF`). */
function candump() {
  const child = spawn('candump', ['-L', 'vcan0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: string[] = [];
  let buf = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (d: string) => {
    buf += d;
    const parts = buf.split('\n');
    buf = parts.pop() ?? '';
    lines.push(...parts.map((l) => l.replace(/^\(\S+\) vcan0 /, '')));
  });
  return { lines, stop: () => child.kill() };
}

function cansend(frame: string): void {
  const r = spawnSync('cansend', ['vcan0', frame], { encoding: 'utf8' });
  assert.equal(r.status, 0, `cansend vcan0 ${frame}: ${r.stderr}`);
}

function ip(...args: string[]): void {
  const r = spawnSync('ip', ['link', 'set', 'vcan0', ...args], { encoding: 'utf8' });
  assert.equal(r.status, 0, `ip link set vcan0 ${args.join(' ')}: ${r.stderr}`);
}

test('frames the adapter sends reach candump, standard and extended ids, data and RTR intact', { skip }, async () => {
  const ch = await RawCanChannel.open('vcan0');
  const dump = candump();
  try {
    // candump is ready once it has seen a frame: cansend one until it shows up.
    await eventually('candump listening', 5000, () => (cansend('7FF#'), dump.lines.includes('7FF#')));
    await ch.send({ id: 0x123, ext: false, data: Uint8Array.of(0xde, 0xad, 0xbe, 0xef) });
    await ch.send({ id: 0x18fef100, ext: true, data: Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8) });
    await ch.send({ id: 0x10, ext: false, rtr: true, data: new Uint8Array(0) });
    await ch.send({ id: 0x1, ext: true, data: new Uint8Array(0) });
    await eventually('four frames in candump', 5000, () => dump.lines.length >= 5);
    assert.deepEqual(dump.lines.slice(-4), ['123#DEADBEEF', '18FEF100#0102030405060708', '010#R', '00000001#']);
    assert.equal(ch.stats().sent, 4);
    await assert.rejects(ch.send({ id: 0x800, ext: false, data: new Uint8Array(0) }), /id 2048 does not fit a standard \(11-bit\) identifier/);
    await assert.rejects(ch.send({ id: 1, ext: false, data: new Uint8Array(9) }), /9 data bytes; a classic CAN frame carries at most 8/);
  } finally {
    dump.stop();
    await ch.close();
  }
});

test('frames from cansend arrive with their id, extended flag and bytes; error frames are counted', { skip }, async () => {
  const ch = await openSocketCan('vcan0', 'auto');
  assert.match(ch.description, /^socketcan vcan0 \((koffi|deno-ffi)/, 'auto picks the FFI backend where it loads');
  const got: CanFrame[] = [];
  ch.onFrame((f) => got.push(f));
  try {
    cansend('321#0011223344');
    cansend('1ABCDEF0#CAFE');
    cansend('00000042#R');
    await eventually('three frames', 5000, () => got.length >= 3);
    assert.deepEqual(got.map((f) => [f.id, f.ext, Boolean(f.rtr), [...f.data]]), [
      [0x321, false, false, [0, 0x11, 0x22, 0x33, 0x44]],
      [0x1abcdef0, true, false, [0xca, 0xfe]],
      [0x42, true, true, []],
    ]);
    assert.ok(Math.abs(got[0].ts - Date.now()) < 5000);
    // vcan has no controller to raise errors; a raw socket may still send an error frame to the others.
    const peer = await RawCanChannel.open('vcan0');
    await peer.send({ id: 0x004, ext: false, err: true, data: Uint8Array.of(0, 0x10, 0, 0, 0, 0, 0, 0) });
    await eventually('the error frame', 5000, () => got.find((f) => f.err));
    const err = got.find((f) => f.err)!;
    assert.equal(err.id, 0x004, 'CAN_ERR_CTRL class');
    assert.equal(err.data[1], 0x10, 'CAN_ERR_CTRL_RX_PASSIVE');
    assert.equal(ch.stats().errorFrames, 1);
    await peer.close();
  } finally {
    await ch.close();
  }
  await assert.rejects(ch.send({ id: 1, ext: false, data: new Uint8Array(0) }), /channel is closed/);
});

test('vcan0 going down is reported and sends fail clearly; after up, frames flow on the same channel', { skip }, async () => {
  const ch = await RawCanChannel.open('vcan0');
  const states: string[] = [];
  ch.onStateChange((s, reason) => states.push(`${s}: ${reason}`));
  const got: CanFrame[] = [];
  ch.onFrame((f) => got.push(f));
  try {
    ip('down');
    await assert.rejects(ch.send({ id: 1, ext: false, data: new Uint8Array(0) }), /can vcan0: send failed; bring it up: .*\(ENETDOWN\)/);
    await eventually('state down', 5000, () => ch.stats().state === 'down');
    assert.match(states[0], /^down: vcan0 (is|went) down/);
    ip('up');
    await eventually('state active again', 5000, () => ch.stats().state === 'active');
    assert.match(states.at(-1)!, /^active: vcan0 is up again/);
    cansend('555#01');
    await eventually('a frame after recovery', 5000, () => got.find((f) => f.id === 0x555));
    await ch.send({ id: 0x556, ext: false, data: Uint8Array.of(2) });
    assert.equal(ch.stats().dropped, 1, 'the one send while down');
  } finally {
    spawnSync('ip', ['link', 'set', 'vcan0', 'up']);
    await ch.close();
  }
  await assert.rejects(RawCanChannel.open('nosuch0'), /can nosuch0: no such interface; bring it up: .*\(ENODEV\)/);
});
