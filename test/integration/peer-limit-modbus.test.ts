// A Modbus TCP peer that answers with a frame no device may send (an MBAP length of 65535, an
// endless stream of junk) is cut off at the header: the request fails naming the link and the
// 260-byte limit, the client has read only what it had when the header arrived, the link is
// closed, the counter in /metrics moves, and the next request reconnects and works.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { systemClock } from '../../core/clock.ts';
import { MetricsRegistry } from '../../core/metrics.ts';
import { peerLimitCounter } from '../../core/peer-limits.ts';
import { SerialModbusClient } from '../../adapters/modbus/client.ts';
import { ModbusLinkError } from '../../adapters/modbus/types.ts';
import { eventually } from '../helpers/eventually.ts';

type Mode = 'huge-length' | 'endless-junk' | 'good';

/** A raw Modbus TCP peer; `mode` decides how it answers the next request. */
class BrokenPeer {
  mode: Mode = 'good';
  /** Connections the client has not closed yet. */
  readonly open = new Set<Socket>();
  readonly #server: Server = createServer((s) => this.#serve(s));
  port = 0;

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.port = (this.#server.address() as { port: number }).port;
  }

  async stop(): Promise<void> {
    for (const s of this.open) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #serve(s: Socket): void {
    this.open.add(s);
    s.on('close', () => this.open.delete(s));
    s.on('error', () => {});
    s.on('data', (req) => {
      const tid = req.readUInt16BE(0);
      const unit = req[6]!;
      if (this.mode === 'good') {
        const count = req.readUInt16BE(10);
        const pdu = Buffer.alloc(2 + count * 2);
        pdu[0] = 3;
        pdu[1] = count * 2;
        for (let i = 0; i < count; i++) pdu.writeUInt16BE(100 + i, 2 + i * 2);
        const head = Buffer.alloc(7);
        head.writeUInt16BE(tid, 0);
        head.writeUInt16BE(pdu.length + 1, 4);
        head[6] = unit;
        s.write(Buffer.concat([head, pdu]));
        return;
      }
      if (this.mode === 'huge-length') {
        const head = Buffer.alloc(7);
        head.writeUInt16BE(tid, 0);
        head.writeUInt16BE(65535, 4);
        head[6] = unit;
        s.write(head);
      }
      // Then junk for as long as the client keeps the connection open.
      const junk = Buffer.alloc(4096, 0xff);
      const pump = () => {
        while (!s.destroyed && s.write(junk));
        if (!s.destroyed) s.once('drain', pump);
      };
      setImmediate(pump);
    });
  }
}

describe('Modbus TCP client against a peer sending oversized frames', () => {
  const peer = new BrokenPeer();
  const metrics = new MetricsRegistry();
  const count = peerLimitCounter(metrics);
  let client: SerialModbusClient;

  before(async () => {
    await peer.start();
    client = new SerialModbusClient({ transport: 'tcp', host: '127.0.0.1', port: peer.port, timeoutMs: 2000, onReplyLimit: () => count('plc') }, systemClock);
  });
  after(async () => {
    await client.close();
    await peer.stop();
  });

  for (const mode of ['huge-length', 'endless-junk'] as const) {
    test(`${mode}: refused at the header, naming the link and the 260-byte limit; the link is closed`, async () => {
      peer.mode = mode;
      const err = await client.readRegisters('holding', 1, 0, 4).then(() => null, (e: unknown) => e);
      assert.ok(err instanceof ModbusLinkError, String(err));
      assert.match(err.message, new RegExp(`^modbus tcp 127\\.0\\.0\\.1:${peer.port}: frame with .* is over the 260-byte limit; refused and the link closed when reading HR 0\\.\\.3 from unit 1$`));
      assert.match(err.message, mode === 'huge-length' ? /MBAP length 65535/ : /protocol id 65535/);
      // What the client held when it stopped reading: the header plus at most the chunk it came in.
      const read = Number(/, (\d+) bytes read,/.exec(err.message)?.[1]);
      assert.ok(read >= 6 && read <= 6 + 65536, `read ${read} bytes`);
      await eventually('the peer to see its connection closed', 3000, () => peer.open.size === 0);
    });
  }

  test('the counter in /metrics names the peer, and the next request reconnects and works', async () => {
    assert.match(await metrics.text(), /fieldgate_peer_reply_oversize_total\{peer="plc"\} 2/);
    peer.mode = 'good';
    assert.deepEqual(await client.readRegisters('holding', 1, 0, 3), [100, 101, 102]);
  });
});
