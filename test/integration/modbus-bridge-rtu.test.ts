// The modbus-bridge plugin, unchanged, over Modbus RTU: the `modbus` adapter on the real driver with
// `backend: "auto"` (fieldgate's RTU master on the FFI serial line) against Debian's python3-pymodbus
// as RTU slave on a socat pty pair — on Node and on Deno, where the serialport addon never loads.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRuntime, type Runtime } from '../../core/host/runtime.ts';
import { memoryLog } from '../../core/log.ts';
import { parseManifest } from '../../core/manifest/load.ts';
import { libcLoadError } from '../../adapters/ffi/libc.ts';
import modbusAdapter from '../../adapters/modbus/adapter.ts';
import bridgePlugin from '../../plugins/modbus-bridge/plugin.ts';
import { eventually } from '../helpers/eventually.ts';
import { type PymodbusRtuSlave, pymodbusRtuSkip, startPymodbusRtuSlave } from '../helpers/pymodbus-rtu.ts';

const ffiError = await libcLoadError();
const skip = pymodbusRtuSkip || (ffiError ? `libc FFI does not load here: ${ffiError.message}` : false);

describe('modbus-bridge over RTU against pymodbus', { skip }, () => {
  let slave: PymodbusRtuSlave;
  let runtime: Runtime;

  before(async () => {
    slave = await startPymodbusRtuSlave(19200);
    const { manifest } = parseManifest(JSON.stringify({
      name: 'modbus-rtu-test',
      adapters: [{ id: 'meter', kind: 'modbus', driver: 'real', options: { transport: 'rtu', backend: 'auto', path: slave.masterPath, baudRate: 19200, parity: 'none', timeoutMs: 1000 } }],
      plugins: [{
        id: 'bridge',
        use: 'modbus-bridge',
        adapters: { link: 'meter' },
        config: {
          pollMs: 50,
          map: [
            { key: 'ir5', table: 'input', address: 5, type: 'uint16' },
            { key: 'di3', table: 'discrete', address: 3, type: 'bool' },
            { key: 'limit', table: 'holding', address: 20, type: 'uint16', owner: 'gateway' },
          ],
        },
      }],
    }), 'test.json', { plugins: [bridgePlugin], adapters: [modbusAdapter], env: {} });
    runtime = await createRuntime({ manifest, plugins: [bridgePlugin], adapters: [modbusAdapter], logRoot: memoryLog('silent').root, dataDir: null, sim: false });
    await runtime.start();
  });
  after(async () => {
    await runtime?.stop();
    await slave?.stop();
  });

  test('values read over RTU appear in the store; a value set in the store lands in the slave', async () => {
    const { store } = runtime;
    await eventually('plc_connected', 5000, () => store.get('plc_connected') === true);
    assert.equal(store.get('ir5'), 1005);
    assert.equal(store.get('di3'), true);
    await store.set('limit', 4321);
    await eventually('HR 20 = 4321 in the slave', 5000, async () => (await slave.get('hr', 20, 1))[0] === 4321);
  });
});
