// Byte limits on files a gateway reads: a candump log with a line that never ends (a binary file,
// a corrupt log) keeps its frames and holds at most one read chunk of the bad line; a DBC and a
// manifest past their size limits are refused naming the file and the limit, also when the path
// is a device that never ends.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../../core/clock.ts';
import { UnreadableFileError } from '../../core/errors.ts';
import { loadManifest, MANIFEST_MAX_BYTES } from '../../core/manifest/load.ts';
import { ReplayChannel } from '../../adapters/can/replay.ts';
import { DBC_MAX_BYTES, loadDbc, loadDbcSync } from '../../adapters/can/dbc/load.ts';
import type { CanFrame } from '../../adapters/can/types.ts';
import { adapters, plugins } from '../fixtures/manifests/catalog.ts';

const GOOD = ['(1734001123.000100) can0 123#AAFF0410', '(1734001123.000200) can0 18FF5001#01', '(1734001123.000300) can0 7FF#'];

describe('file byte limits', () => {
  let dir = '';
  before(() => (dir = mkdtempSync(join(tmpdir(), 'fieldgate-limits-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('candump: a 32 MB line without an end is dropped holding at most one chunk; the frames around it arrive', async () => {
    const path = join(dir, 'corrupt.log');
    writeFileSync(path, `${GOOD[0]}\n${GOOD[1]}\n`);
    const junk = Buffer.alloc(1024 * 1024, 0x41);
    for (let i = 0; i < 32; i++) appendFileSync(path, junk);
    appendFileSync(path, `\n${GOOD[2]}\n`);
    const limits: string[] = [];
    const replay = new ReplayChannel({ path, speed: 'max', timestamps: 'log', onLineLimit: (m) => limits.push(m) }, systemClock);
    const got: CanFrame[] = [];
    replay.onFrame((f) => got.push(f));
    await replay.done;
    assert.deepEqual(got.map((f) => f.id), [0x123, 0x18ff5001, 0x7ff]);
    assert.equal(replay.badLines, 1);
    assert.equal(limits.length, 1);
    assert.match(limits[0]!, new RegExp(`^replay ${path.replace(/[.]/g, '\\.')}: line 3 is longer than the 512-byte limit for a log line \\((\\d+) bytes held when it was dropped\\)`));
    const held = Number(/\((\d+) bytes held/.exec(limits[0]!)![1]);
    assert.ok(held <= 64 * 1024 + 512, `held ${held} bytes of the bad line`);
  });

  test('DBC: a file past the limit is refused naming it and the limit, before it is read', async () => {
    const path = join(dir, 'huge.dbc');
    writeFileSync(path, 'VERSION ""\n');
    truncateSync(path, DBC_MAX_BYTES + 1); // sparse: no disk used
    const expected = new RegExp(`DBC "${path.replace(/[.]/g, '\\.')}" is ${DBC_MAX_BYTES + 1} bytes, above the ${DBC_MAX_BYTES}-byte limit`);
    await assert.rejects(loadDbc(path), expected);
    assert.throws(() => loadDbcSync(path), expected);
  });

  test('manifest: a file past 1 MB is refused naming it and the limit', async () => {
    const path = join(dir, 'big.json');
    const text = JSON.stringify({ name: 'gw', adapters: [], plugins: [], pad: 'x'.repeat(MANIFEST_MAX_BYTES) });
    writeFileSync(path, text);
    await assert.rejects(loadManifest(path, { plugins, adapters, env: {} }), (err: unknown) =>
      err instanceof UnreadableFileError && err.message.startsWith(`${path}: the manifest is ${text.length} bytes, over the ${MANIFEST_MAX_BYTES}-byte limit`));
  });

  test('manifest: a path to a device that never ends is refused at the limit, not read forever', { skip: process.platform === 'win32' ? 'no /dev/zero' : false }, async () => {
    await assert.rejects(loadManifest('/dev/zero', { plugins, adapters, env: {} }), (err: unknown) =>
      err instanceof UnreadableFileError && err.message.startsWith(`/dev/zero: the manifest is more than ${MANIFEST_MAX_BYTES} bytes, over the ${MANIFEST_MAX_BYTES}-byte limit`));
  });
});
