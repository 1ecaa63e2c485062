// The MAX31865 driver against the chip simulator: the bytes it writes, the conversion wait, and a
// readable fault for each wiring fault the simulator can inject.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../core/clock-fake.ts';
import { Max31865, Max31865FaultError, Max31865NotRespondingError, type Max31865Settings } from '../../plugins/max31865/driver.ts';
import { Max31865Sim, type Max31865FaultKind } from '../../sim/max31865.ts';

function setup(settings: Partial<Max31865Settings> = {}, temperature = 23.5) {
  const clock = new FakeClock();
  const full: Max31865Settings = { rtdNominal: 100, rref: 430, wires: 3, filterHz: 50, mode: 'one-shot', ...settings };
  const chip = new Max31865Sim({ clock, temperature: () => temperature, rtdNominal: full.rtdNominal, rref: full.rref, wires: full.wires });
  const driver = new Max31865(chip, full, clock);
  return { clock, chip, driver };
}

/** Settles a promise while fake time runs, without leaving a rejection unhandled in between. */
async function during<T>(clock: FakeClock, ms: number, work: Promise<T>): Promise<{ value?: T; error?: unknown }> {
  const outcome = work.then((value) => ({ value }), (error: unknown) => ({ error }));
  await clock.advance(ms);
  return outcome;
}

const configWrites = (chip: Max31865Sim) => chip.writes().filter((w) => w.register === 0).map((w) => w.value);

test('the simulator speaks the register protocol: write = address | 0x80, auto-increment, read-only RTD and status', async () => {
  const { chip } = setup();
  await chip.transfer(Uint8Array.from([0x83, 0x12, 0x34, 0x05, 0x06]));
  assert.deepEqual([...(await chip.transfer(Uint8Array.from([0x03, 0, 0, 0, 0])))].slice(1), [0x12, 0x34, 0x05, 0x06]);
  await chip.transfer(Uint8Array.from([0x81, 0xaa, 0xbb])); // RTD registers are read-only
  await chip.transfer(Uint8Array.from([0x87, 0xff])); // so is the fault status
  const regs = chip.registers();
  assert.deepEqual([regs[1], regs[2], regs[7]], [0, 0, 0]);
  // Reading the whole file in one transfer wraps nowhere and returns config first.
  const all = await chip.transfer(new Uint8Array(9));
  assert.deepEqual([...all.subarray(1)], [...chip.registers()]);
  await assert.rejects(chip.transfer(new Uint8Array(0)), RangeError);
});

test('a one-shot result is only valid after the conversion time (62.5 ms at 50 Hz), and the one-shot bit self-clears', async () => {
  const { chip, clock } = setup({}, 100);
  await chip.transfer(Uint8Array.from([0x80, 0x91])); // bias, 3-wire, 50 Hz
  await chip.transfer(Uint8Array.from([0x80, 0xb1])); // + one-shot
  assert.equal(chip.registers()[0], 0x91);
  const word = async () => {
    const rx = await chip.transfer(Uint8Array.from([0x01, 0, 0]));
    return (rx[1]! << 8) | rx[2]!;
  };
  assert.equal(await word(), 0, 'nothing converted yet');
  await clock.advance(62);
  assert.equal(await word(), 0, 'still converting at 62 ms');
  await clock.advance(1);
  assert.equal(await word(), chip.codeFor(100) << 1);
  assert.equal(chip.codeFor(100), Math.round((138.5055 / 430) * 32768));
});

test('one-shot read: clears faults, sets thresholds, biases, waits, converts, reads, and turns the bias off', async () => {
  const { chip, clock, driver } = setup({}, 23.5);
  const { value, error } = await during(clock, 200, driver.read());
  assert.equal(error, undefined);
  assert.ok(Math.abs(value!.temperature - 23.5) < 0.03, `read ${value!.temperature}`);
  // 3-wire (0x10) + 50 Hz (0x01): clear faults, bias on, one-shot, bias off.
  assert.deepEqual(configWrites(chip), [0x13, 0x91, 0xb1, 0x11]);
  const thresholds = chip.registers().subarray(3, 7);
  assert.ok(((thresholds[0]! << 8) | thresholds[1]!) > chip.codeFor(850) << 1, 'high threshold above 850 °C');
  assert.ok(((thresholds[2]! << 8) | thresholds[3]!) < chip.codeFor(-200) << 1, 'low threshold below -200 °C');
  const w = chip.writes();
  const oneShot = w.find((x) => x.register === 0 && x.value === 0xb1)!;
  const biasOn = w.find((x) => x.register === 0 && x.value === 0x91)!;
  const biasOff = w.findLast((x) => x.register === 0)!;
  assert.ok(oneShot.at - biasOn.at >= 10, 'bias settles before the conversion');
  assert.ok(biasOff.at - oneShot.at >= 62.5, 'the RTD word was read after the conversion ended');
});

test('2-wire, 60 Hz, PT1000 with Rref 4300 and a temperature below 0 °C', async () => {
  const { chip, clock, driver } = setup({ rtdNominal: 1000, rref: 4300, wires: 2, filterHz: 60 }, -120.4);
  const { value } = await during(clock, 200, driver.read());
  assert.ok(Math.abs(value!.temperature - -120.4) < 0.03, `read ${value!.temperature}`);
  assert.deepEqual(configWrites(chip), [0x02, 0x80, 0xa0, 0x00]);
});

test('auto-convert mode starts conversion once and then follows the temperature without one-shots', async () => {
  let t = 40;
  const clock = new FakeClock();
  const chip = new Max31865Sim({ clock, temperature: () => t });
  const driver = new Max31865(chip, { rtdNominal: 100, rref: 430, wires: 4, filterHz: 50, mode: 'auto' }, clock);
  assert.ok(Math.abs((await during(clock, 100, driver.read())).value!.temperature - 40) < 0.03);
  t = 41;
  await clock.advance(20);
  assert.ok(Math.abs((await during(clock, 10, driver.read())).value!.temperature - 41) < 0.03);
  assert.deepEqual(configWrites(chip), [0x83, 0xc1]);
  assert.equal(chip.registers()[0], 0xc1);
});

const expected: Record<Max31865FaultKind, { bits: number; text: RegExp }> = {
  open: { bits: 0x20 | 0x80, text: /^RTD open circuit \(REFIN- > 0\.85 VBIAS\)/ },
  short: { bits: 0x40, text: /below the low fault threshold \(shorted RTD\?\)/ },
  'force-open': { bits: 0x10 | 0x08 | 0x80, text: /^FORCE- open \(REFIN- < 0\.85 VBIAS\); FORCE- open \(RTDIN- < 0\.85 VBIAS\)/ },
  overvoltage: { bits: 0x04, text: /^over\/under-voltage/ },
};

for (const [kind, want] of Object.entries(expected) as Array<[Max31865FaultKind, (typeof expected)[Max31865FaultKind]]>) {
  test(`fault "${kind}": the fault bit leads to a detection cycle, status 0x${want.bits.toString(16)} is decoded and cleared; repair → readings again`, async () => {
    const { chip, clock, driver } = setup({}, 30);
    assert.ok((await during(clock, 200, driver.read())).value);
    chip.injectFault(kind);
    const { error } = await during(clock, 200, driver.read());
    assert.ok(error instanceof Max31865FaultError, `got ${String(error)}`);
    assert.equal(error.status, want.bits);
    assert.match(error.text, want.text);
    assert.match(error.message, /fault status 0x/);
    assert.ok(configWrites(chip).some((v) => (v & 0x0c) === 0x04), 'ran the automatic fault-detection cycle');
    chip.clearFault();
    const again = await during(clock, 200, driver.read());
    assert.equal(again.error, undefined);
    assert.ok(Math.abs(again.value!.temperature - 30) < 0.03);
    assert.equal(chip.registers()[7], 0, 'latched faults were cleared');
  });
}

test('a chip that does not answer (MISO reads 0xFF) is reported as not responding, not as a fault list', async () => {
  const { chip, clock, driver } = setup();
  chip.setDisconnected(true);
  const { error } = await during(clock, 200, driver.read());
  assert.ok(error instanceof Max31865NotRespondingError, `got ${String(error)}`);
  assert.match(error.message, /read back 0xFF.*SPI mode 1/);
  chip.setDisconnected(false);
  assert.ok((await during(clock, 200, driver.read())).value);
});
