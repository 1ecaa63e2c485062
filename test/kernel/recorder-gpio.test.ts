// The signal recorder counting production units from rising edges of a real interrupt: a gpio-sim
// input in the QEMU guest, opened by the gpio adapter's default (cdev) backend inside a runtime.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRuntime } from '../../core/host/runtime.ts';
import { memoryLog } from '../../core/log.ts';
import type { AdapterEntry } from '../../core/manifest/types.ts';
import recorderPlugin from '../../plugins/recorder/plugin.ts';
import gpioAdapter from '../../adapters/gpio/adapter.ts';
import type { GpioLine } from '../../adapters/gpio/types.ts';
import { testManifest } from '../helpers/manifest.ts';
import { eventually } from '../helpers/eventually.ts';
import { kernelSkip, setPull, simChip } from './guest.ts';

const PULSES = 1000;

test('the recorder counts 1,000 pulses on a gpio-sim line exactly, by interrupt', { skip: kernelSkip, timeout: 120_000 }, async () => {
  const chip = simChip();
  setPull(chip, 10, 0);
  const config = {
    sampleMs: 200,
    pollMs: 50,
    debounceMs: 0,
    machines: [{ id: 'k1', name: 'Kernel press', idealCycleS: 1, maxCyclesPerMinute: 60000 }],
    sensors: [{ id: 'k1-cycle', machine: 'k1', type: 'cycle' }],
    mappings: [{ sensor: 'k1-cycle', source: 'gpio1', address: 'line' }],
  };
  const adapters = [{ id: 'cycle-in', kind: 'gpio', driver: 'real', options: { chip: 'fieldgate-sim', line: 10, direction: 'in' } }] as AdapterEntry[];
  const { root, lines } = memoryLog('info');
  const manifest = testManifest([{ id: 'recorder', use: 'recorder', adapters: { gpio1: 'cycle-in' }, config }], { adapters });
  const runtime = await createRuntime({ manifest, plugins: [recorderPlugin], adapters: [gpioAdapter], logRoot: root, dataDir: null, sim: false });
  try {
    await runtime.start();
    assert.equal(runtime.supervisor.status('recorder').status, 'running', runtime.supervisor.status('recorder').lastError ?? '');
    const said = lines.map((l) => String(l.msg));
    assert.ok(said.some((m) => /k1-cycle.*counting rising edges by interrupt on gpio1 fieldgate-sim line 10 \(gpiochip\d+, (koffi|deno-ffi)/.test(m)), said.join('\n'));
    // Paced by the line's own rising events: two rising edges inside one IRQ-thread latency are one
    // interrupt on any hardware, and the test is about counting, not about that latency.
    const line = runtime.adapterHandles.get('cycle-in')!.instance as GpioLine;
    let next: (() => void) | undefined;
    line.watch('rising', () => next?.());
    for (let i = 1; i <= PULSES; i++) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const seen = new Promise<void>((resolve, reject) => {
        next = resolve;
        timer = setTimeout(() => reject(new Error(`pulse ${i}: no rising edge within 5 s`)), 5000);
      });
      setPull(chip, 10, 1);
      setPull(chip, 10, 0);
      await seen.finally(() => clearTimeout(timer));
    }
    const units = await eventually(`${PULSES} units in the hour row`, 10_000, () => {
      const n = runtime.store.get('machine_k1_units_hour') as number | undefined;
      return n === PULSES ? n : undefined;
    });
    assert.equal(units, PULSES);
  } finally {
    await runtime.stop();
  }
});
