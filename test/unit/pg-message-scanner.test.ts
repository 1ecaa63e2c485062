// The PostgreSQL backend framing scanner behind the pg byte limits: messages split across chunks and
// several per chunk pass, an oversized message is refused from its header alone, a query's result is
// counted until ReadyForQuery and starts again at zero after it.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PgMessageScanner, pgMessageName } from '../../adapters/postgres/message-scanner.ts';

/** One backend message: type byte, length (counting itself), then `body` bytes. */
function message(type: string, body: number): Uint8Array {
  const m = new Uint8Array(5 + body).fill(0x78);
  m[0] = type.charCodeAt(0);
  new DataView(m.buffer).setUint32(1, 4 + body);
  return m;
}

const concat = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) out.set(p, (at += p.length) - p.length);
  return out;
};

/** A whole query's reply: RowDescription, `rows` DataRows of `rowBody` bytes, CommandComplete, ReadyForQuery. */
const reply = (rows: number, rowBody: number): Uint8Array =>
  concat(message('T', 30), ...Array.from({ length: rows }, () => message('D', rowBody)), message('C', 12), message('Z', 1));

describe('PgMessageScanner', () => {
  test('passes a reply fed one byte at a time, and whole in one chunk', () => {
    const bytes = reply(3, 100);
    const byByte = new PgMessageScanner({ maxMessageBytes: 200, maxResultBytes: 10_000 });
    for (let i = 0; i < bytes.length; i++) assert.equal(byByte.feed(bytes.subarray(i, i + 1)), null, `byte ${i}`);
    assert.equal(byByte.resultBytes, 0, 'ReadyForQuery ends the result');
    const whole = new PgMessageScanner({ maxMessageBytes: 200, maxResultBytes: 10_000 });
    assert.equal(whole.feed(concat(bytes, bytes, bytes)), null);
    assert.equal(whole.resultBytes, 0);
  });

  test('splits at every offset: headers cut in two, several messages in one chunk', () => {
    const bytes = concat(reply(2, 50), message('N', 40), reply(1, 7));
    for (let cut = 1; cut < bytes.length; cut++) {
      const s = new PgMessageScanner({ maxMessageBytes: 100, maxResultBytes: 10_000 });
      assert.equal(s.feed(bytes.subarray(0, cut)), null);
      assert.equal(s.feed(bytes.subarray(cut)), null, `cut at ${cut}`);
      assert.equal(s.resultBytes, 0, `cut at ${cut}`);
    }
  });

  test('refuses an oversized message at its header, before any of its body arrives', () => {
    const s = new PgMessageScanner({ maxMessageBytes: 1024, maxResultBytes: 1 << 30 });
    const big = message('D', 2_000_000);
    assert.equal(s.feed(reply(1, 10)), null);
    assert.equal(s.feed(big.subarray(0, 3)), null, 'half a header is not enough to judge');
    const bad = s.feed(big.subarray(3, 5));
    assert.deepEqual(bad, { setting: 'maxMessageBytes', limit: 1024, what: "DataRow ('D') of 2000005 bytes" });
  });

  test('a message of exactly the limit passes; one byte more does not', () => {
    const ok = new PgMessageScanner({ maxMessageBytes: 105, maxResultBytes: 10_000 });
    assert.equal(ok.feed(message('D', 100)), null);
    const over = new PgMessageScanner({ maxMessageBytes: 105, maxResultBytes: 10_000 });
    assert.equal(over.feed(message('D', 101))?.setting, 'maxMessageBytes');
  });

  test('counts a result until ReadyForQuery, then starts again', () => {
    const s = new PgMessageScanner({ maxMessageBytes: 1000, maxResultBytes: 2000 });
    // Each reply: 35 + n * 505 + 17 + 6 bytes; three rows fit, four do not.
    for (let i = 0; i < 5; i++) assert.equal(s.feed(reply(3, 500)), null, `reply ${i}`);
    const bad = s.feed(reply(4, 500));
    assert.equal(bad?.setting, 'maxResultBytes');
    assert.equal(bad?.limit, 2000);
    assert.match(bad!.what, /^query result of 2055 bytes so far \(at a DataRow \('D'\) of 505 bytes\)$/);
  });

  test('refuses a length field below 4 (not PostgreSQL framing)', () => {
    const s = new PgMessageScanner({ maxMessageBytes: 1000, maxResultBytes: 2000 });
    const m = Uint8Array.of(0x44, 0, 0, 0, 2);
    assert.match(s.feed(m)!.what, /length field of 2 \(below 4/);
  });

  test('names message types', () => {
    assert.equal(pgMessageName(0x4e), "NoticeResponse ('N')");
    assert.equal(pgMessageName(0x71), "message ('q')");
    assert.equal(pgMessageName(0), 'message (type byte 0)');
  });
});
