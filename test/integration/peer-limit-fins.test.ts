// A FINS/UDP peer answering with a datagram bigger than any FINS frame: the request fails at once
// (after its retry) naming the PLC and the 2012-byte limit, each datagram is counted, and a good
// answer afterwards is read as usual.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { systemClock } from '../../core/clock.ts';
import { FINS_MAX_FRAME, UdpFinsClient } from '../../adapters/fins/client.ts';
import { FinsLinkError } from '../../adapters/fins/types.ts';

let peer: dgram.Socket;
let port = 0;
let oversized = true;
let limits = 0;
let client: UdpFinsClient;

before(async () => {
  peer = dgram.createSocket('udp4');
  peer.on('message', (req, from) => {
    // A response frame: the request's header with the response bit, swapped addresses, same SID.
    const head = Buffer.from(req.subarray(0, 12));
    head[0] = 0xc0;
    const words = req.readUInt16BE(16);
    const body = oversized ? Buffer.alloc(4000 - 12) : Buffer.alloc(2 + words * 2);
    if (!oversized) for (let i = 0; i < words; i++) body.writeUInt16BE(500 + i, 2 + i * 2);
    peer.send(Buffer.concat([head, body]), from.port, from.address);
  });
  await new Promise<void>((resolve) => peer.bind(0, '127.0.0.1', resolve));
  port = peer.address().port;
  client = new UdpFinsClient({ host: '127.0.0.1', port, timeoutMs: 2000, retries: 1, onReplyLimit: () => limits++ }, systemClock);
});
after(async () => {
  await client.close();
  peer.close();
});

test('an oversized datagram fails the request at once, naming the PLC and the limit', async () => {
  const started = Date.now();
  const err = await client.readWords('DM', 0, 2).then(() => null, (e: unknown) => e);
  assert.ok(err instanceof FinsLinkError, String(err));
  assert.equal(err.kind, 'malformed');
  assert.match(err.message, new RegExp(`^fins 127\\.0\\.0\\.1:${port} node 2: reply of 4000 bytes is over the ${FINS_MAX_FRAME}-byte FINS frame limit; refused, answering reading D0\\.\\.D1$`));
  assert.equal(limits, 2, 'the first attempt and its retry');
  assert.ok(Date.now() - started < 2000, 'failed on the reply, not at the deadline');
});

test('a good reply afterwards is read', async () => {
  oversized = false;
  assert.deepEqual(await client.readWords('DM', 0, 2), [500, 501]);
});
