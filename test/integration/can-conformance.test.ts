// Conformance against tools fieldgate did not write: Debian's python3-canmatrix writes a DBC with
// value tables, comments, cycle times, float32, extended ids and simple and extended multiplexing,
// and packs frames with known values; python3-can's CanutilsLogWriter logs them (` R`/` T` line
// ends, a remote and an error frame) and its ASCWriter the same frames as a Vector .asc. fieldgate
// reads all three files, and every decoded value must match.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FakeClock } from '../../core/clock-fake.ts';
import { ReplayChannel } from '../../adapters/can/replay.ts';
import type { CanFrame } from '../../adapters/can/types.ts';
import { DbcDecoder } from '../../adapters/can/dbc/decode.ts';
import { loadDbc } from '../../adapters/can/dbc/load.ts';

const SCRIPT = fileURLToPath(new URL('../conformance/can_tools.py', import.meta.url));
// Debian's packages live in the system interpreter; a pyenv shim on PATH would not see them.
const PYTHON = process.env.FIELDGATE_PYTHON ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');

const skip: string | false = (() => {
  const r = spawnSync(PYTHON, ['-c', 'import can, canmatrix'], { encoding: 'utf8' });
  return r.status === 0 ? false : `python3-can and python3-canmatrix not importable by ${PYTHON} (apt-get install -y python3-can python3-canmatrix): ${(r.stderr ?? r.error?.message ?? '').trim().split('\n').pop()}`;
})();

interface Expected {
  python_can: string;
  frames: Array<{ id: number; ext: boolean; values: Record<string, string>; labels: Record<string, string> }>;
}

test('a canmatrix DBC and a python-can log decode to exactly the values the tools encoded', { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-can-conf-'));
  try {
    const r = spawnSync(PYTHON, [SCRIPT, dir, '200'], { encoding: 'utf8' });
    assert.equal(r.status, 0, `the fixture script failed: ${r.stderr}`);
    const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as Expected;
    const { dbc } = await loadDbc(join(dir, 'tools.dbc'));

    // What the DBC says besides bit positions.
    const climate = dbc.messages.find((m) => m.name === 'Climate')!;
    assert.equal(climate.cycleTimeMs, 100);
    assert.equal(climate.comment, 'Climate box\nsecond line with a "quote"');
    assert.equal(climate.signals.find((s) => s.name === 'Temp')!.comment, 'dry bulb\nPT100');
    assert.deepEqual([...dbc.valueTables.get('OnOff')!], [[0, 'Off'], [1, 'On']]);
    assert.equal(dbc.messages.find((m) => m.name === 'Lab')!.cycleTimeMs, 1000);
    assert.deepEqual(dbc.messages.find((m) => m.name === 'Extended')!.signals.find((s) => s.name === 'Gamma')!.muxedBy, { signal: 'SubPage', ranges: [[5, 7]] });

    const clock = new FakeClock(Date.UTC(2026, 0, 1));
    const read = async (file: string): Promise<CanFrame[]> => {
      const replay = new ReplayChannel({ path: join(dir, file), speed: 'max', timestamps: 'log', manualStart: true }, clock);
      const frames: CanFrame[] = [];
      replay.onFrame((f) => frames.push(f));
      replay.start();
      await replay.done;
      assert.equal(replay.badLines, 0, `every line python-can wrote to ${file} is read`);
      return frames;
    };
    const check = (frames: CanFrame[], file: string): void => {
      const decoder = new DbcDecoder(dbc);
      let compared = 0;
      let k = 0;
      for (const frame of frames) {
        const d = decoder.decode(frame);
        if (!d.ok) continue;
        const want = expected.frames[k++];
        assert.equal(frame.id, want.id);
        assert.equal(frame.ext, want.ext);
        assert.deepEqual(Object.keys(d.values).sort(), Object.keys(want.values).sort(), `${file} frame ${k}: the signals present (multiplexing)`);
        for (const [name, text] of Object.entries(want.values)) {
          const exact = Number(text);
          assert.ok(Math.abs(d.values[name] - exact) <= 1e-9 * Math.max(1, Math.abs(exact)), `${file} frame ${k} ${d.message.name}.${name}: fieldgate ${d.values[name]}, canmatrix ${text}`);
          compared++;
        }
        assert.deepEqual(d.labels ?? {}, want.labels, `${file} frame ${k}: enum labels`);
      }
      assert.equal(k, expected.frames.length, `${file}: every data frame decoded`);
      assert.ok(compared > 1500, `${file}: ${compared} values compared`);
      assert.deepEqual(decoder.counts, { decoded: expected.frames.length, unknownId: 1, wrongDlc: 0, errorFrames: 1, remote: 1 }, file);
    };
    const log = await read('python-can.log');
    check(log, 'python-can.log');
    const asc = await read('python-can.asc');
    check(asc, 'python-can.asc');
    // The .asc keeps times relative to its trigger block: the spacing matches the .log's to the µs.
    for (let i = 1; i < log.length; i++) assert.ok(Math.abs((asc[i].ts - asc[0].ts) - (log[i].ts - log[0].ts)) < 0.002, `frame ${i} time`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
