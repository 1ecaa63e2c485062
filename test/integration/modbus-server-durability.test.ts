// Item 3 of the Neasmart issue at the Modbus level: an acknowledged write survives SIGKILL, and a
// failing disk (read-only, full) never fails a Modbus request — the store falls back to memory,
// health says so, and the registers reach the disk once it returns.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { nodeDisk } from '../../core/store/disk.ts';
import { FaultyDisk } from '../../core/store/disk-faulty.ts';
import { spawnTs } from '../helpers/spawn.ts';
import { modbusMaster, type ModbusMaster, startModbusServer } from '../fixtures/modbus-server-runtime.ts';
import { tempDir, waitFor } from '../fixtures/store-helpers.ts';

const CHILD = 'test/fixtures/modbus-server-child.ts';

/** Starts the crash runner and resolves with its port once it listens. */
function startChild(dir: string): Promise<{ child: ChildProcess; port: number }> {
  return new Promise((resolve, reject) => {
    const child = spawnTs(CHILD, [dir]);
    let out = '';
    let err = '';
    const deadline = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the runner did not print its port within 15 s; stderr: ${err}`));
    }, 15_000);
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /port (\d+)\n/.exec(out);
      if (m) {
        clearTimeout(deadline);
        resolve({ child, port: Number(m[1]) });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(deadline);
      reject(new Error(`the runner exited (${code}) before listening; stderr: ${err}`));
    });
  });
}

function kill(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.removeAllListeners('exit');
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

async function client(port: number): Promise<ModbusMaster> {
  const c = modbusMaster();
  await c.connectTCP('127.0.0.1', { port });
  c.setID(240);
  c.setTimeout(1000);
  return c;
}

test('SIGKILL right after a write is acknowledged: the register is there after the restart', async () => {
  const tmp = tempDir('fieldgate-modbus-kill-');
  try {
    const first = await startChild(tmp.dir);
    const c = await client(first.port);
    await c.writeRegisters(300, [1111, 2222]);
    await c.writeCoil(7, true);
    // Acknowledged: kill at once, no flush, no clean stop.
    await kill(first.child);
    c.close(() => {});

    const second = await startChild(tmp.dir);
    const c2 = await client(second.port);
    try {
      assert.deepEqual((await c2.readHoldingRegisters(300, 2)).data, [1111, 2222]);
      assert.equal((await c2.readCoils(7, 1)).data[0], true);
    } finally {
      c2.close(() => {});
      await kill(second.child);
    }
  } finally {
    tmp.remove();
  }
});

test('a read-only disk: requests are still served, health says memory, and the data catches up after heal', async () => {
  const tmp = tempDir('fieldgate-modbus-rofs-');
  const disk = new FaultyDisk(nodeDisk);
  const server = await startModbusServer({ dataDir: tmp.dir, disk, diskRetryMs: 50 });
  let stopped = false;
  try {
    const c = await client(server.port);
    try {
      await c.writeRegister(1, 11);
      disk.fail('EROFS');
      const t0 = performance.now();
      await c.writeRegisters(2, [22, 33]); // answered although the journal cannot be written
      await c.writeCoil(3, true);
      assert.deepEqual((await c.readHoldingRegisters(1, 3)).data, [11, 22, 33]);
      assert.ok(performance.now() - t0 < 2000, 'answers do not wait for the failing disk');
      assert.deepEqual(await server.space.write(240, 'holding', 4, [44]), { durable: false });

      const report = server.runtime.health.report();
      assert.equal(report.store?.mode, 'memory');
      assert.equal(report.status, 'degraded');
      assert.match(report.checks['modbus-server:gw'].detail ?? '', /served from memory.*EROFS/);

      disk.heal();
      await waitFor(() => server.runtime.store.status().mode === 'disk' && server.runtime.store.status().pendingWrites === 0, 'the store to write its backlog after the disk returned');
      assert.deepEqual(await server.space.write(240, 'holding', 5, [55]), { durable: true });
      assert.deepEqual((await c.readHoldingRegisters(1, 5)).data, [11, 22, 33, 44, 55]);
    } finally {
      c.close(() => {});
    }
    await server.stop();
    stopped = true;
    const again = await startModbusServer({ dataDir: tmp.dir });
    try {
      assert.deepEqual(again.space.read(240, 'holding', 1, 5), [11, 22, 33, 44, 55], 'writes made while the disk failed reached it');
      assert.deepEqual(again.space.read(240, 'coil', 3, 1), [1]);
    } finally {
      await again.stop();
    }
  } finally {
    if (!stopped) await server.stop();
    tmp.remove();
  }
});
