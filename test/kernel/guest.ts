// Facts about the kernel test guest (scripts/kernel/init.sh): the vcan0 interface and the gpio-sim
// chips it created. Outside the guest every kernel test skips with `kernelSkip`'s reason.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const SIM = '/sys/kernel/config/gpio-sim';

/** False inside the guest, else why the kernel tests cannot run here. */
export const kernelSkip: string | false = (() => {
  if (!existsSync('/sys/class/net/vcan0')) return 'no vcan0 and gpio-sim here: run test/kernel through scripts/kernel/run.sh (a QEMU guest)';
  if (!existsSync(join(SIM, 'fieldgate', 'live'))) return 'no gpio-sim chip "fieldgate": run test/kernel through scripts/kernel/run.sh';
  return false;
})();

export interface SimChip {
  /** gpiochip label the guest set (`fieldgate-sim`). */
  label: string;
  /** `gpiochipN`, the character device name. */
  chipName: string;
  /** sysfs directory of the chip's lines: .../gpio-sim.N/gpiochipM. */
  dir: string;
}

/** The simulated chip named `name` in configfs (`fieldgate` or `decoy`). */
export function simChip(name = 'fieldgate'): SimChip {
  const read = (f: string) => readFileSync(join(SIM, name, f), 'utf8').trim();
  const chipName = read('bank0/chip_name');
  return { label: read('bank0/label'), chipName, dir: join('/sys/devices/platform', read('dev_name'), chipName) };
}

/** Sets the simulated input level of `line` (the pull the "outside world" applies). */
export function setPull(chip: SimChip, line: number, level: 0 | 1): void {
  writeFileSync(join(chip.dir, `sim_gpio${line}`, 'pull'), level ? 'pull-up' : 'pull-down');
}

/** The level an output line drives, as the simulator sees it. */
export function simValue(chip: SimChip, line: number): 0 | 1 {
  return readFileSync(join(chip.dir, `sim_gpio${line}`, 'value'), 'utf8').trim() === '1' ? 1 : 0;
}

/** The legacy sysfs base of every gpiochip, by label. */
export function sysfsBases(): Map<string, number> {
  const out = new Map<string, number>();
  for (const d of readdirSync('/sys/class/gpio').filter((n) => n.startsWith('gpiochip'))) {
    out.set(readFileSync(`/sys/class/gpio/${d}/label`, 'utf8').trim(), Number(readFileSync(`/sys/class/gpio/${d}/base`, 'utf8')));
  }
  return out;
}
