// An S7 peer that negotiates a PDU size no CPU uses is refused at connect, naming the PLC and the
// range, and counted: nodes7 would otherwise plan its reads with it (a size near 0 without end).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { systemClock } from '../../core/clock.ts';
import { Nodes7Client, S7_PDU_RANGE } from '../../adapters/s7/client.ts';
import { S7LinkError } from '../../adapters/s7/errors.ts';
import { S7Server } from '../../sim/s7-server.ts';

for (const [pduSize, seen] of [[32, 32], [239, 239]] as const) {
  test(`a PLC agreeing a PDU of ${pduSize} is refused at connect, naming it and the ${S7_PDU_RANGE.min}..${S7_PDU_RANGE.max} range`, async () => {
    const plc = new S7Server({ dbs: { 1: 16 }, pduSize });
    await plc.start();
    let limits = 0;
    const client = new Nodes7Client({ host: plc.host, port: plc.port, clock: systemClock, timeoutMs: 1000, reconnect: { initialMs: 1, maxMs: 1 }, onReplyLimit: () => limits++ });
    try {
      const err = await client.read(['DB1,INT0']).then(() => null, (e: unknown) => e);
      assert.ok(err instanceof S7LinkError, String(err));
      assert.match(err.message, new RegExp(`^s7 127\\.0\\.0\\.1:${plc.port}.*: the PLC negotiated a PDU size of ${seen} bytes, outside 240\\.\\.960; refused the link`));
      assert.equal(limits, 1);
      assert.equal(client.connected, false);
    } finally {
      await client.close();
      await plc.stop();
    }
  });
}

test('the CPUs\' usual PDU sizes are accepted', async () => {
  const plc = new S7Server({ dbs: { 1: 16 }, pduSize: 240 });
  await plc.start();
  plc.memory.set('DB1,INT0', 7);
  const client = new Nodes7Client({ host: plc.host, port: plc.port, clock: systemClock, timeoutMs: 1000 });
  try {
    assert.deepEqual(await client.read(['DB1,INT0']), { 'DB1,INT0': 7 });
  } finally {
    await client.close();
    await plc.stop();
  }
});
