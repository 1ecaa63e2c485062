// The S7 address parser: the syntax the recorder's mappings use, and errors that name the address and the problem.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeS7Value, encodeS7Value, formatS7Address, parseS7Address, S7AddressError } from '../../adapters/s7/address.ts';

test('parses DB, I/Q/M and peripheral addresses', () => {
  const vectors: Array<[string, object]> = [
    ['DB1,REAL0', { area: 'DB', db: 1, type: 'REAL', byte: 0 }],
    ['DB1,INT12', { area: 'DB', db: 1, type: 'INT', byte: 12 }],
    ['DB1,X14.0', { area: 'DB', db: 1, type: 'X', byte: 14, bit: 0 }],
    ['DB2,DINT4', { area: 'DB', db: 2, type: 'DINT', byte: 4 }],
    ['DB1,WORD2', { area: 'DB', db: 1, type: 'WORD', byte: 2 }],
    ['db3,r8', { area: 'DB', db: 3, type: 'REAL', byte: 8 }],
    ['DB1.DBX14.7', { area: 'DB', db: 1, type: 'X', byte: 14, bit: 7 }],
    ['DB1.DBW2', { area: 'DB', db: 1, type: 'WORD', byte: 2 }],
    ['I0.0', { area: 'I', type: 'X', byte: 0, bit: 0 }],
    ['Q0.0', { area: 'Q', type: 'X', byte: 0, bit: 0 }],
    ['M10.1', { area: 'M', type: 'X', byte: 10, bit: 1 }],
    ['MW4', { area: 'M', type: 'WORD', byte: 4 }],
    ['MD8', { area: 'M', type: 'DWORD', byte: 8 }],
    ['MB1', { area: 'M', type: 'BYTE', byte: 1 }],
    ['IW2', { area: 'I', type: 'WORD', byte: 2 }],
    ['MDI8', { area: 'M', type: 'DINT', byte: 8 }],
    ['MR12', { area: 'M', type: 'REAL', byte: 12 }],
    ['PIW30', { area: 'PI', type: 'WORD', byte: 30 }],
    ['E1.2', { area: 'I', type: 'X', byte: 1, bit: 2 }],
  ];
  for (const [text, want] of vectors) assert.deepEqual(parseS7Address(text), { text, ...want }, text);
});

test('formats the canonical (nodes7) spelling', () => {
  for (const [text, canon] of [['db1,r0', 'DB1,REAL0'], ['DB1.DBX3.1', 'DB1,X3.1'], ['MW4', 'MW4'], ['PIW30', 'PIW30'], ['I0.5', 'I0.5'], ['MDI8', 'MDI8']]) {
    assert.equal(formatS7Address(parseS7Address(text)), canon);
  }
});

test('refuses bad addresses, naming the address and what is wrong', () => {
  const cases: Array<[string, RegExp]> = [
    ['', /empty/],
    ['DB1,X14.8', /bit must be 0\.\.7, got 8/],
    ['DB1,X14', /needs the bit number/],
    ['DB1,FOO3', /unknown type "FOO"/],
    ['DB0,INT0', /DB number must be 1\.\.65535/],
    ['DB1,INT12.3', /arrays/],
    ['DB1,', /missing the type/],
    ['DB1,REAL', /missing the byte offset/],
    ['DB1,S10.20', /STRING is not supported/],
    ['I0', /needs the bit number/],
    ['MW4.1', /bit number is only valid for bit addresses/],
    ['PI0.0', /peripheral inputs have no bit access/],
    ['PQW2', /peripheral outputs/],
    ['Z9', /not an S7 address/],
    ['I9999999.0', /byte offset must be/],
  ];
  for (const [text, why] of cases) {
    assert.throws(() => parseS7Address(text), (err: unknown) => {
      assert.ok(err instanceof S7AddressError, text);
      assert.equal(err.address, text);
      assert.match(err.message, new RegExp(`S7 address "${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"`));
      assert.match(err.message, why, text);
      return true;
    });
  }
});

test('codec: big-endian values and bits that leave their neighbours alone', () => {
  const bytes = new Uint8Array(8);
  encodeS7Value(parseS7Address('DB1,REAL0'), 12.5, bytes);
  assert.deepEqual([...bytes.subarray(0, 4)], [0x41, 0x48, 0, 0]);
  assert.equal(decodeS7Value(parseS7Address('DB1,REAL0'), bytes), 12.5);
  encodeS7Value(parseS7Address('DB1,DINT4'), -2, bytes, 4);
  assert.equal(decodeS7Value(parseS7Address('DB1,DINT4'), bytes, 4), -2);
  const b = new Uint8Array([0b1000_0001]);
  encodeS7Value(parseS7Address('I0.3'), true, b);
  encodeS7Value(parseS7Address('I0.0'), false, b);
  assert.equal(b[0], 0b1000_1000);
});
