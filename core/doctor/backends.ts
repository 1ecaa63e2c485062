// Which backend a GPIO or CAN adapter will use on this machine (the libc FFI drivers where koffi or
// Deno.dlopen load, else the native addons), and the checks that backend needs: the /dev/gpiochipN
// node for the character device, the sysfs export file and the onoff addon for the sysfs path.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { resolveLine } from '../../adapters/gpio/resolve.ts';
import { errorMessage } from '../errors.ts';
import { checkDeviceNode, checkGpioLine, checkNativeModule } from './checks.ts';
import { hostPath } from './access.ts';
import type { CheckResult, DoctorContext } from './types.ts';

/** The libc FFI binding's name (`koffi 3.3.4`, `deno-ffi`), or why it does not load here. */
export async function ffiBackend(): Promise<{ ok: true; name: string } | { ok: false; reason: string }> {
  try {
    const { loadLibc } = await import('../../adapters/ffi/libc.ts');
    return { ok: true, name: (await loadLibc()).backend };
  } catch (e) {
    return { ok: false, reason: errorMessage(e) };
  }
}

type Choice = { use: 'ffi'; row: CheckResult } | { use: 'addon'; row: CheckResult };

async function choose(check: string, target: string, wanted: string, ffiName: string, addon: string, what: string): Promise<Choice> {
  if (wanted === addon) return { use: 'addon', row: { check, target, status: 'ok', detail: `${addon} (chosen by the manifest's "backend")` } };
  const ffi = await ffiBackend();
  if (ffi.ok) return { use: 'ffi', row: { check, target, status: 'ok', detail: `${ffiName}: ${what} through ${ffi.name} (nothing to compile)` } };
  if (wanted !== 'auto') {
    return { use: 'ffi', row: { check, target, status: 'FAIL', detail: `backend "${wanted}" needs libc FFI: ${ffi.reason}`, fix: `cd /opt/fieldgate && npm ci (koffi ships prebuilt binaries), or set "backend": "${addon}"` } };
  }
  return { use: 'addon', row: { check, target, status: 'ok', detail: `${addon} (libc FFI unavailable: ${ffi.reason})` } };
}

/** GPIO: the backend row, the line resolved by label, then what that backend opens. */
export async function checkGpio(ctx: DoctorContext, id: string, options: Record<string, unknown>): Promise<CheckResult[]> {
  const chip = String(options.chip);
  const line = Number(options.line);
  const choice = await choose(`backend ${id}`, `gpio ${chip}`, String(options.backend ?? 'auto'), 'cdev', 'onoff', '/dev/gpiochip* v2 uAPI');
  if (choice.use === 'addon') {
    return [choice.row, ...(await checkGpioLine(ctx, `gpio ${id}`, chip, line)), await checkNativeModule(ctx, `addon ${id}`, 'onoff')];
  }
  const rows: CheckResult[] = [choice.row];
  const lineRows = await checkGpioLine(ctx, `gpio ${id}`, chip, line);
  rows.push(lineRows[0]); // the sysfs export row belongs to onoff
  if (lineRows[0].status !== 'ok') return rows;
  const dev = await charDeviceOf(ctx, chip, line);
  if (!dev) {
    rows.push({ check: `gpio ${id} device`, target: chip, status: 'skip', detail: 'cannot tell which /dev/gpiochipN it is (no sysfs device link)' });
    return rows;
  }
  rows.push(await checkDeviceNode(ctx, { check: `gpio ${id} device`, path: dev, missingFix: 'this kernel lacks CONFIG_GPIO_CDEV; use "backend": "onoff"' }));
  return rows;
}

// class/gpio/gpiochip512/device/gpiochip0 exists when gpiochip512 is /dev/gpiochip0.
async function charDeviceOf(ctx: DoctorContext, chip: string, line: number): Promise<string | null> {
  const m = /^(?:\/dev\/)?(gpiochip\d+)$/.exec(chip);
  try {
    const resolved = await resolveLine(chip, line, hostPath(ctx, '/sys'));
    const names = await readdir(join(hostPath(ctx, '/sys'), 'class', 'gpio', resolved.chip.dir, 'device'));
    const name = names.find((n) => /^gpiochip\d+$/.test(n));
    return name ? `/dev/${name}` : m ? `/dev/${m[1]}` : null;
  } catch {
    return m ? `/dev/${m[1]}` : null;
  }
}

/** CAN: which backend opens the interface, and the addon check only when it is the addon. */
export async function checkCanBackend(ctx: DoctorContext, id: string, options: Record<string, unknown>): Promise<CheckResult[]> {
  if (options.source === 'replay') return [];
  const iface = String(options.interface ?? 'can0');
  const choice = await choose(`backend ${id}`, `can ${iface}`, String(options.backend ?? 'auto'), 'ffi', 'socketcan', 'raw AF_CAN socket');
  return choice.use === 'addon' ? [choice.row, await checkNativeModule(ctx, `addon ${id}`, 'socketcan')] : [choice.row];
}

/** Modbus RTU: our master on the FFI serial line, or modbus-serial with the serialport addon. */
export async function checkModbusBackend(ctx: DoctorContext, id: string, options: Record<string, unknown>): Promise<CheckResult[]> {
  const path = String(options.path);
  const choice = await choose(`backend ${id}`, `modbus rtu ${path}`, String(options.backend ?? 'auto'), 'ffi', 'serialport', 'termios serial line');
  return choice.use === 'addon' ? [choice.row, await checkNativeModule(ctx, `addon ${id}`, 'serialport')] : [choice.row];
}
