// Modbus RTU on a pseudo-terminal pair made by socat (Debian package `socat`): the plugin serves one
// end, once through each serial backend (libc FFI, the default, and the native serialport module); an
// independent master (modbus-serial) and raw frames use the other. Node only: the master is
// modbus-serial on serialport, a native addon Deno refuses (Deno's FFI server: the kernel stage).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { isDeno } from '../../core/runtime-info.ts';
import { encodeRtuFrame } from '../../adapters/modbus/server/rtu.ts';
import { modbusMaster, rtuMasterSession, startModbusServer, type ServerUnderTest } from '../fixtures/modbus-server-runtime.ts';
import { tempDir, type TempDir, waitFor } from '../fixtures/store-helpers.ts';
import { eventually } from '../helpers/eventually.ts';

const hasSocat = !isDeno && spawnSync('socat', ['-V'], { stdio: 'ignore' }).status === 0;
const skip = isDeno
  ? 'RTU needs the native serialport module, which loads on Node only'
  : !hasSocat
  ? 'socat is not installed (Debian: apt-get install socat) — the RTU test needs its pseudo-terminal pair'
  : false;

for (const backend of ['ffi', 'serialport'] as const) {
  describe(`modbus-server RTU, serial backend ${backend}`, () => {
    let tmp: TempDir;
    let socat: ChildProcess | undefined;
    let server: ServerUnderTest | undefined;
    let slavePath = '';
    let masterPath = '';

    before(async () => {
      if (skip) return;
      tmp = tempDir('fieldgate-modbus-rtu-');
      slavePath = join(tmp.root, 'gateway');
      masterPath = join(tmp.root, 'base');
      socat = spawn('socat', [`pty,raw,echo=0,link=${slavePath}`, `pty,raw,echo=0,link=${masterPath}`], { stdio: 'ignore' });
      await waitFor(() => existsSync(slavePath) && existsSync(masterPath), 'socat to create the pty pair');
      server = await startModbusServer({ dataDir: tmp.dir, config: { tcp: { enabled: false }, rtu: { enabled: true, backend, path: slavePath, baudRate: 38400 } } });
    });

    after(async () => {
      await server?.stop();
      if (socat && socat.exitCode === null) {
        const exited = new Promise((r) => socat!.once('exit', r));
        socat.kill('SIGTERM');
        await exited;
      }
      tmp?.remove();
    });

    test(`RTU (${backend}): a master reads and writes, foreign units get no answer, a wrong CRC is dropped silently`, { skip }, async () => {
      const c = modbusMaster();
      await c.connectRTUBuffered(masterPath, { baudRate: 38400 });
      try {
        await rtuMasterSession(c, server!, { answerMs: 500, silentMs: 200 });

        // Raw frames on the master's end: a write with a broken CRC, then a valid read.
        const port = (c as unknown as { _port: { _client: { write(b: Buffer): void; on(e: 'data', l: (b: Buffer) => void): void; removeListener(e: 'data', l: (b: Buffer) => void): void } } })._port._client;
        const heard: number[] = [];
        const listen = (b: Buffer) => heard.push(...b);
        port.on('data', listen);
        const bad = Buffer.from(encodeRtuFrame(240, Uint8Array.of(0x06, 0x00, 0x14, 0x00, 0x63)));
        bad[bad.length - 1] ^= 0x55;
        port.write(bad);
        // The gateway drops the frame at the line's silence, before the valid read goes out (a blind
        // sleep here let both frames reach it as one on a loaded machine).
        await eventually('the bad frame to be dropped', 5000, async () => /modbus_server_rtu_frames_dropped_total [1-9]/.test(await server!.runtime.metrics.text()));
        port.write(Buffer.from(encodeRtuFrame(240, Uint8Array.of(0x03, 0x00, 0x14, 0x00, 0x01))));
        await waitFor(() => heard.length >= 7, 'the answer to the valid read', 2000);
        port.removeListener('data', listen);
        assert.deepEqual(heard, [...encodeRtuFrame(240, Uint8Array.of(0x03, 0x02, 0x00, 0x07))], 'only the valid frame was answered');
        assert.deepEqual(server!.space.read(240, 'holding', 20, 1), [7], 'the bad-CRC write changed nothing');
      } finally {
        await new Promise<void>((r) => c.close(() => r()));
      }
    });
  });
}
