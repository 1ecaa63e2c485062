// Finds the global sysfs GPIO number of (chip, offset). Since kernel 6.6 the gpiochip bases are
// dynamic (512, 571, ...), so BCM 17 is no longer gpio17: the number is `base + offset` of the
// chip found by its label (or its /dev/gpiochipN name), never assumed.
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';

export interface SysfsChip {
  /** Directory name under class/gpio, e.g. `gpiochip512`. */
  dir: string;
  label: string;
  base: number;
  ngpio: number;
}

export interface ResolvedLine {
  chip: SysfsChip;
  offset: number;
  /** Global number to export through /sys/class/gpio (what onoff takes). */
  number: number;
}

/** The sysfs mount point: `FIELDGATE_SYSFS_ROOT` (tests point it at a fake tree), default `/sys`. */
export function sysfsRoot(env: Record<string, string | undefined> = readEnv()): string {
  return env.FIELDGATE_SYSFS_ROOT || '/sys';
}

function readEnv(): Record<string, string | undefined> {
  return typeof process !== 'undefined' ? process.env : {};
}

export async function listChips(root = sysfsRoot()): Promise<SysfsChip[]> {
  const classDir = join(root, 'class', 'gpio');
  let names: string[];
  try {
    names = await readdir(classDir);
  } catch (err) {
    throw new Error(
      `gpio: cannot read ${classDir} (${(err as { code?: string }).code ?? err}); this kernel has no sysfs GPIO (CONFIG_GPIO_SYSFS) or sysfs is not mounted`,
      { cause: err },
    );
  }
  const chips: SysfsChip[] = [];
  for (const dir of names.filter((n) => /^gpiochip\d+$/.test(n)).sort(byNumber)) {
    const read = (file: string) => readFile(join(classDir, dir, file), 'utf8').then((t) => t.trim(), () => '');
    const [label, base, ngpio] = await Promise.all([read('label'), read('base'), read('ngpio')]);
    if (base === '' || !Number.isInteger(Number(base))) continue;
    chips.push({ dir, label, base: Number(base), ngpio: Number(ngpio) || 0 });
  }
  return chips;
}

/** Resolves `chip` (label, `/dev/gpiochipN`, `gpiochipN` or sysfs dir) and `offset` to a sysfs GPIO number. */
export async function resolveLine(chip: string, offset: number, root = sysfsRoot()): Promise<ResolvedLine> {
  const chips = await listChips(root);
  const found =
    chips.find((c) => c.label === chip) ??
    (await findByCharDevice(chips, chip, root)) ??
    chips.find((c) => c.dir === chip);
  if (!found) {
    const list = chips.map((c) => `${c.dir} "${c.label}" (base ${c.base}, ${c.ngpio} lines)`).join(', ') || 'none';
    throw new Error(`gpio: no gpiochip "${chip}" under ${join(root, 'class', 'gpio')}; chips found: ${list}. Set the adapter's "chip" to one of these labels`);
  }
  if (!Number.isInteger(offset) || offset < 0 || (found.ngpio > 0 && offset >= found.ngpio)) {
    throw new Error(`gpio: line ${offset} is out of range for ${found.dir} "${found.label}" (lines 0..${found.ngpio - 1})`);
  }
  return { chip: found, offset, number: found.base + offset };
}

// A sysfs class entry and the /dev/gpiochipN character device share the parent device directory:
// class/gpio/gpiochip512/device/gpiochip0 exists when gpiochip512 is /dev/gpiochip0.
async function findByCharDevice(chips: SysfsChip[], chip: string, root: string): Promise<SysfsChip | undefined> {
  const m = /^(?:\/dev\/)?(gpiochip\d+)$/.exec(chip);
  if (!m) return undefined;
  for (const c of chips) {
    const isDir = await stat(join(root, 'class', 'gpio', c.dir, 'device', m[1])).then((s) => s.isDirectory(), () => false);
    if (isDir) return c;
  }
  return undefined;
}

function byNumber(a: string, b: string): number {
  return Number(a.replace(/\D/g, '')) - Number(b.replace(/\D/g, ''));
}
