// Contract of the ModbusClient over real loopback TCP against the NJ301 simulator, and against a
// real device when FIELDGATE_TEST_MODBUS=host:port names one (FIELDGATE_TEST_MODBUS_UNIT, default 1).
// On hardware only harmless requests run: reads, an out-of-range read, and HR0 (gw_tx_seq) rewritten.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { systemClock } from '../../core/clock.ts';
import { SerialModbusClient } from '../../adapters/modbus/client.ts';
import { ModbusExceptionError, ModbusLinkError } from '../../adapters/modbus/types.ts';
import { NJ301_MAP, Nj301Simulator } from '../../sim/nj301.ts';

interface Target {
  name: string;
  host: string;
  port: number;
  unit: number;
  sim?: Nj301Simulator;
}

async function targets(): Promise<Target[]> {
  const list: Target[] = [];
  const sim = new Nj301Simulator({ clock: systemClock });
  await sim.start();
  list.push({ name: 'NJ301 simulator', host: sim.host, port: sim.port, unit: sim.unit, sim });
  const real = process.env.FIELDGATE_TEST_MODBUS;
  if (real) {
    const [host, port] = real.split(':');
    list.push({ name: `device ${real}`, host, port: Number(port || 502), unit: Number(process.env.FIELDGATE_TEST_MODBUS_UNIT ?? 1) });
  }
  return list;
}

const all = await targets();
if (!process.env.FIELDGATE_TEST_MODBUS) test('contract against real hardware', { skip: 'set FIELDGATE_TEST_MODBUS=host:port to run it' }, () => {});

for (const target of all) {
  describe(`ModbusClient contract: ${target.name}`, () => {
    let client: SerialModbusClient;
    before(() => {
      client = new SerialModbusClient({ transport: 'tcp', host: target.host, port: target.port, timeoutMs: 1000 }, systemClock);
    });
    after(async () => {
      await client.close();
      await target.sim?.stop();
    });

    test('reads the lab block HR 0..16 and the status block HR 100..120', async () => {
      await client.connect();
      assert.equal(client.connected, true);
      assert.equal((await client.readRegisters('holding', target.unit, 0, 17)).length, 17);
      const status = await client.readRegisters('holding', target.unit, 100, 21);
      assert.equal(status.length, 21);
      assert.ok(status.every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffff));
    });

    test('a write of HR0 reads back, and the PLC echoes it as ack_seq in HR100', async () => {
      const [seq] = await client.readRegisters('holding', target.unit, NJ301_MAP.gwTxSeq, 1);
      const next = (seq + 1) & 0xffff;
      await client.writeRegisters(target.unit, NJ301_MAP.gwTxSeq, [next]);
      assert.deepEqual(await client.readRegisters('holding', target.unit, NJ301_MAP.gwTxSeq, 1), [next]);
      const deadline = Date.now() + 2000;
      while ((await client.readRegisters('holding', target.unit, NJ301_MAP.ackSeq, 1))[0] !== next) {
        assert.ok(Date.now() < deadline, 'ack_seq did not follow gw_tx_seq within 2 s');
        await new Promise((r) => setTimeout(r, 20));
      }
    });

    test('an address past the register array is refused with exception 2, named', async () => {
      await assert.rejects(client.readRegisters('holding', target.unit, 1020, 10), (err: unknown) => {
        assert.ok(err instanceof ModbusExceptionError);
        assert.equal(err.code, 2);
        assert.match(err.message, new RegExp(`^modbus tcp ${target.host}:${target.port}: reading HR 1020\\.\\.1029 from unit ${target.unit} refused with exception 2 \\(illegal data address\\)$`));
        return true;
      });
      // The link stays usable after an exception.
      assert.equal((await client.readRegisters('holding', target.unit, 0, 1)).length, 1);
    });

    if (!target.sim) return;
    const sim = target.sim;

    test('32-bit REALs are high word first: the simulator setpoint reads back through the wire', async () => {
      sim.setReal(NJ301_MAP.setpoint, 61.5);
      const [hi, lo] = await client.readRegisters('holding', sim.unit, NJ301_MAP.setpoint, 2);
      const v = new DataView(new ArrayBuffer(4));
      v.setUint16(0, hi);
      v.setUint16(2, lo);
      assert.equal(v.getFloat32(0), 61.5);
    });

    test('coils and discrete inputs: FC15/FC5 writes, FC1/FC2 reads of exact length', async () => {
      await client.writeCoils(sim.unit, 3, [true, false, true]);
      await client.writeCoils(sim.unit, 10, [true]);
      assert.deepEqual(await client.readBits('coil', sim.unit, 2, 3), [false, true, false]);
      assert.deepEqual(await client.readBits('coil', sim.unit, 10, 1), [true]);
      sim.bank.discrete[5] = 1;
      assert.deepEqual(await client.readBits('discrete', sim.unit, 4, 3), [false, true, false]);
      assert.deepEqual(sim.requests.slice(-5).map((r) => r.fc), [15, 5, 1, 1, 2]);
    });

    test('illegal function, illegal value and unknown unit are exceptions with their meaning', async () => {
      sim.fault({ kind: 'exception', code: 1, fc: 4, times: 1 });
      await assert.rejects(client.readRegisters('input', sim.unit, 0, 1), /refused with exception 1 \(illegal function\)/);
      await assert.rejects(client.readRegisters('holding', sim.unit, 0, 126), /exception 3 \(illegal data value\)/);
      await assert.rejects(client.readRegisters('holding', 9, 0, 1), /from unit 9 refused with exception 11 \(gateway target device failed to respond\)/);
    });

    test('a request without answer times out with the link and the request named, then the link recovers', async () => {
      const slow = new SerialModbusClient({ transport: 'tcp', host: sim.host, port: sim.port, timeoutMs: 200 }, systemClock);
      try {
        sim.fault({ kind: 'timeout', times: 1 });
        const started = Date.now();
        await assert.rejects(slow.readRegisters('holding', sim.unit, 0, 17), (err: unknown) => {
          assert.ok(err instanceof ModbusLinkError);
          assert.equal(err.kind, 'timeout');
          assert.equal(err.message, `modbus tcp ${sim.address}: timed out after 200 ms reading HR 0..16 from unit 1`);
          return true;
        });
        assert.ok(Date.now() - started < 1000);
        assert.equal((await slow.readRegisters('holding', sim.unit, 0, 17)).length, 17);
      } finally {
        await slow.close();
      }
    });

    test('one request in flight per link, writes ahead of queued reads', async () => {
      const before = sim.requests.length;
      const reads = [0, 20, 40].map((a) => client.readRegisters('holding', sim.unit, a, 2));
      const write = client.writeRegisters(sim.unit, 500, [7]);
      await Promise.all([...reads, write]);
      const seen = sim.requests.slice(before).map((r) => `${r.fc}:${r.address}`);
      // The first read was already on the wire; the write overtook the two still queued.
      assert.deepEqual(seen, ['3:0', '6:500', '3:20', '3:40']);
    });

    test('the PLC dropping off the network: connection errors, then automatic reconnection on the same port', async () => {
      await sim.stop();
      await assert.rejects(client.readRegisters('holding', sim.unit, 0, 1), (err: unknown) => {
        assert.ok(err instanceof ModbusLinkError, String(err));
        assert.match(err.message, new RegExp(`^modbus tcp ${sim.address}: `));
        return true;
      });
      assert.equal(client.connected, false);
      await sim.start();
      assert.equal((await client.readRegisters('holding', sim.unit, 0, 1)).length, 1);
      assert.equal(client.connected, true);
    });

    test('close() rejects later requests with a clear message', async () => {
      const c = new SerialModbusClient({ transport: 'tcp', host: sim.host, port: sim.port }, systemClock);
      await c.connect();
      await c.close();
      await assert.rejects(c.readRegisters('holding', 1, 0, 1), /link is closed; refused reading HR 0 from unit 1/);
    });
  });
}
