// The SpiBus contract (adapters/spi/types.ts), run against the MAX31865 simulator and, when
// FIELDGATE_TEST_SPI names a spidev node with a MAX31865 on it (the lab board), against hardware.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import process from 'node:process';
import { FakeClock } from '../../core/clock-fake.ts';
import { isDeno } from '../../core/runtime-info.ts';
import type { SpiBus } from '../../adapters/spi/types.ts';
import { Max31865Sim } from '../../sim/max31865.ts';

interface Target {
  name: string;
  skip: string | false;
  open(): Promise<SpiBus>;
}

const device = process.env.FIELDGATE_TEST_SPI;
const targets: Target[] = [
  { name: 'simulator', skip: false, open: () => Promise.resolve(new Max31865Sim({ clock: new FakeClock(), temperature: () => 21 })) },
  {
    name: `hardware ${device ?? '(FIELDGATE_TEST_SPI unset)'}`,
    skip: !device ? 'set FIELDGATE_TEST_SPI=/dev/spidev0.0 to run against a MAX31865' : isDeno ? 'spi-device loads on Node only' : false,
    async open() {
      const { openSpiDevice } = await import('../../adapters/spi/real.ts');
      return openSpiDevice({ device: device!, mode: 1, speedHz: 500000 });
    },
  },
];

/** Runs `fn` on a freshly opened bus, restoring the threshold registers the tests write. */
async function withBus(target: Target, fn: (bus: SpiBus) => Promise<void>): Promise<void> {
  const bus = await target.open();
  const saved = (await bus.transfer(Uint8Array.from([0x03, 0, 0, 0, 0]))).subarray(1);
  try {
    await fn(bus);
  } finally {
    await bus.transfer(Uint8Array.from([0x83, ...saved])).catch(() => {});
    await bus.close();
  }
}

for (const target of targets) {
  describe(`SpiBus contract: ${target.name}`, { skip: target.skip }, () => {
    test('a transfer returns as many bytes as it sent, in a fresh Uint8Array', () =>
      withBus(target, async (bus) => {
        for (const n of [1, 2, 3, 9]) {
          const rx = await bus.transfer(new Uint8Array(n));
          assert.ok(rx instanceof Uint8Array);
          assert.equal(rx.length, n);
        }
      }));

    test('an empty transfer rejects with a RangeError', () =>
      withBus(target, async (bus) => {
        await assert.rejects(bus.transfer(new Uint8Array(0)), RangeError);
      }));

    test('a write is seen by the next read (MAX31865 fault threshold registers, auto-increment)', () =>
      withBus(target, async (bus) => {
        await bus.transfer(Uint8Array.from([0x83, 0xa5, 0x5a, 0x12, 0x34]));
        const rx = await bus.transfer(Uint8Array.from([0x03, 0, 0, 0, 0]));
        assert.deepEqual([...rx.subarray(1)], [0xa5, 0x5a, 0x12, 0x34]);
      }));

    test('concurrent transfers run whole and in call order', () =>
      withBus(target, async (bus) => {
        const results = await Promise.all([
          bus.transfer(Uint8Array.from([0x83, 0x11, 0x22])),
          bus.transfer(Uint8Array.from([0x03, 0, 0])),
          bus.transfer(Uint8Array.from([0x83, 0x33, 0x44])),
          bus.transfer(Uint8Array.from([0x03, 0, 0])),
        ]);
        assert.deepEqual([...results[1]!.subarray(1)], [0x11, 0x22]);
        assert.deepEqual([...results[3]!.subarray(1)], [0x33, 0x44]);
      }));

    test('after close, transfers reject with closed: true, and close is idempotent', async () => {
      const bus = await target.open();
      await bus.close();
      await bus.close();
      await assert.rejects(bus.transfer(Uint8Array.from([0x00, 0])), (err: Error & { closed?: boolean }) => err.closed === true);
    });
  });
}
