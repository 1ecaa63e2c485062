// The individual doctor checks: device nodes, GPIO lines, TCP endpoints, the data dir, the clock and
// native addons. Each returns a row; none throws.
import { execFile } from 'node:child_process';
import { access, readFile, rm, stat, statfs, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { resolveLine } from '../../adapters/gpio/resolve.ts';
import { errorMessage } from '../errors.ts';
import { isDeno } from '../runtime-info.ts';
import { hostPath, inspectNode } from './access.ts';
import type { CheckResult, DoctorContext } from './types.ts';

const UDEV_FIX = 'install deploy/99-fieldgate.rules into /etc/udev/rules.d/, then `udevadm control --reload && udevadm trigger`';

function who(ctx: DoctorContext): string {
  return ctx.identity?.name ?? 'this user';
}

/** A device node the service opens read-write: spidev, ttyUSB, gpiochip. */
export async function checkDeviceNode(
  ctx: DoctorContext,
  row: { check: string; path: string; missingFix: string },
): Promise<CheckResult> {
  const base = { check: row.check, target: row.path };
  const node = await inspectNode(ctx, row.path);
  if (!node.exists) return { ...base, status: 'FAIL', detail: `missing (${node.error})`, fix: row.missingFix };
  if (!node.readable || !node.writable) {
    const group = node.group && node.group !== 'root' && !/^\d+$/.test(node.group) ? node.group : null;
    return {
      ...base,
      status: 'FAIL',
      detail: `${who(ctx)} cannot ${node.readable ? 'write' : 'read'} it (group ${node.group ?? '?'})`,
      fix: group ? `add the user to group ${group}: \`usermod -aG ${group} ${ctx.identity?.name ?? '$USER'}\` (or ${UDEV_FIX})` : UDEV_FIX,
    };
  }
  const kind = node.isCharDevice ? 'character device' : ctx.sysroot ? 'present (fake tree)' : 'present but not a character device';
  return { ...base, status: 'ok', detail: `${kind}, read-write for ${who(ctx)}` };
}

export async function checkGpioLine(ctx: DoctorContext, check: string, chip: string, line: number): Promise<CheckResult[]> {
  const base = { check, target: `${chip} line ${line}` };
  const sys = hostPath(ctx, '/sys');
  let resolved;
  try {
    resolved = await resolveLine(chip, line, sys);
  } catch (e) {
    return [{
      ...base,
      status: 'FAIL',
      detail: errorMessage(e).replace(/^gpio: /, ''),
      fix: 'set the adapter\'s "chip" to a label listed above (`cat /sys/class/gpio/gpiochip*/label`; pinctrl-bcm2711 on a Pi 4, pinctrl-rp1 on a Pi 5) and "line" to the offset within it (the BCM number on a Pi)',
    }];
  }
  const rows: CheckResult[] = [{ ...base, status: 'ok', detail: `${resolved.chip.dir} "${resolved.chip.label}" base ${resolved.chip.base}: sysfs gpio${resolved.number}` }];
  // onoff exports the line through sysfs, which needs write access to the export file.
  rows.push(await checkDeviceNode(ctx, { check: `${check} export`, path: '/sys/class/gpio/export', missingFix: 'this kernel lacks CONFIG_GPIO_SYSFS (sysfs GPIO); use a kernel that has it, or a gpiochip character-device backend' }));
  return rows;
}

/** A TCP endpoint answers a connect within the timeout. */
export function checkTcp(ctx: DoctorContext, check: string, host: string, port: number, what: string): Promise<CheckResult> {
  const target = `${host}:${port}`;
  return new Promise((resolve) => {
    const started = performance.now();
    const socket = connect({ host, port });
    const done = (result: CheckResult) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => done({
      check, target, status: 'FAIL', detail: `no answer within ${ctx.timeoutMs} ms`,
      fix: `check that ${what} is powered and on this network (ping ${host}); check the address in /etc/fieldgate/<name>.env`,
    }), ctx.timeoutMs);
    socket.once('connect', () => done({ check, target, status: 'ok', detail: `${what} accepts connections (${Math.round(performance.now() - started)} ms)` }));
    socket.once('error', (e: Error & { code?: string }) => done({
      check, target, status: 'FAIL', detail: `${e.code ?? e.message}`,
      fix: e.code === 'ECONNREFUSED'
        ? `${what} is reachable but nothing listens on port ${port}: check the port and that its server is enabled`
        : `check that ${what} is powered and on this network (ping ${host}); check the address in /etc/fieldgate/<name>.env`,
    }));
  });
}

/** host and port of a URL (http, https, postgres, redis, mqtt...), or null if it is not one. */
export function urlEndpoint(text: string): { host: string; port: number } | null {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return null;
  }
  const defaults: Record<string, number> = { 'http:': 80, 'https:': 443, 'ws:': 80, 'wss:': 443, 'postgres:': 5432, 'postgresql:': 5432, 'redis:': 6379, 'rediss:': 6379, 'mqtt:': 1883, 'mqtts:': 8883 };
  const port = url.port ? Number(url.port) : defaults[url.protocol];
  if (!url.hostname || !port) return null;
  return { host: url.hostname.replace(/^\[|\]$/g, ''), port };
}

const MIN_FREE_BYTES = 200 * 1024 * 1024;

/** The data dir (or the nearest existing parent it would be created in) takes a synced write, with room to spare. */
export async function checkDataDir(ctx: DoctorContext, dir: string): Promise<CheckResult[]> {
  const base = { check: 'data dir', target: dir };
  let existing = dir;
  while (!(await stat(existing).then((s) => s.isDirectory(), () => false))) {
    const up = dirname(existing);
    if (up === existing) break;
    existing = up;
  }
  const rows: CheckResult[] = [];
  const probeDir = existing === dir ? dir : existing;
  const probe = join(probeDir, `.fieldgate-doctor-${process.pid}`);
  try {
    await writeFile(probe, 'probe', { flush: true });
    await rm(probe, { force: true });
    rows.push({ ...base, status: 'ok', detail: existing === dir ? 'writable' : `will be created in ${existing} (writable)` });
  } catch (e) {
    rows.push({
      ...base, status: 'FAIL', detail: `cannot write in ${probeDir}: ${(e as { code?: string }).code ?? errorMessage(e)}`,
      fix: `run under the systemd unit (StateDirectory=fieldgate creates /var/lib/fieldgate for the service user), or \`install -d -o fieldgate -g fieldgate ${dir}\``,
    });
  }
  try {
    const fs = await statfs(existing);
    const free = fs.bavail * fs.bsize;
    const freeMb = Math.round(free / 1024 / 1024);
    rows.push(free >= MIN_FREE_BYTES
      ? { check: 'free space', target: existing, status: 'ok', detail: `${freeMb} MB free` }
      : { check: 'free space', target: existing, status: 'FAIL', detail: `${freeMb} MB free (< ${MIN_FREE_BYTES / 1024 / 1024} MB)`, fix: 'free space on the data filesystem (journalctl --vacuum-size=50M, apt clean) or lower history retention' });
  } catch (e) {
    rows.push({ check: 'free space', target: existing, status: 'skip', detail: `statfs unavailable: ${errorMessage(e)}` });
  }
  return rows;
}

const CLOCK_FIX = 'enable NTP: `timedatectl set-ntp true` (systemd-timesyncd) and make sure an NTP server is reachable; boards without an RTC boot with a stale clock';

/** Clock synchronised: timedatectl on the machine, else systemd-timesyncd's flag file; skip if neither tells. */
export async function checkClock(ctx: DoctorContext): Promise<CheckResult> {
  const base = { check: 'clock', target: 'NTP' };
  if (new Date().getUTCFullYear() < 2024) return { ...base, status: 'FAIL', detail: `the clock says ${new Date().toISOString()}`, fix: CLOCK_FIX };
  // With a sysroot we inspect that tree, so the host's timedatectl is not asked.
  if (!ctx.sysroot) {
    const answer = await new Promise<string | null>((resolve) => {
      execFile('timedatectl', ['show', '-p', 'NTPSynchronized', '--value'], { timeout: 3000 }, (err, stdout) => resolve(err ? null : String(stdout).trim()));
    });
    if (answer === 'yes') return { ...base, status: 'ok', detail: 'timedatectl: NTPSynchronized=yes' };
    if (answer === 'no') return { ...base, status: 'FAIL', detail: 'timedatectl: NTPSynchronized=no', fix: CLOCK_FIX };
  }
  const flag = hostPath(ctx, '/run/systemd/timesync/synchronized');
  if (await access(flag).then(() => true, () => false)) return { ...base, status: 'ok', detail: 'systemd-timesyncd: synchronized' };
  if (ctx.sysroot || (await access('/run/systemd/timesync').then(() => true, () => false))) {
    return { ...base, status: 'FAIL', detail: 'systemd-timesyncd has not synchronised yet', fix: CLOCK_FIX };
  }
  return { ...base, status: 'skip', detail: 'cannot tell: no timedatectl answer and no systemd-timesyncd (chrony/ntpd: check `chronyc tracking`)' };
}

/** A native addon loads (npm 11 does not build install scripts unless approved). */
export async function checkNativeModule(ctx: DoctorContext, check: string, module: string): Promise<CheckResult> {
  const base = { check, target: module };
  if (isDeno) {
    return { ...base, status: 'FAIL', detail: 'native addons load on Node only; Deno refuses them', fix: 'run fieldgate with Node on the device (the systemd unit does), or set the adapter\'s driver to "sim"' };
  }
  if (ctx.sysroot) return { ...base, status: 'skip', detail: 'FIELDGATE_SYSROOT set: the tree is checked, not this installation' };
  try {
    createRequire(import.meta.url)(module);
    return { ...base, status: 'ok', detail: 'loads' };
  } catch (e) {
    const missing = (e as { code?: string }).code === 'MODULE_NOT_FOUND' && errorMessage(e).includes(`'${module}'`);
    return {
      ...base, status: 'FAIL', detail: missing ? 'not installed' : `does not load: ${errorMessage(e).split('\n')[0]}`,
      fix: missing
        ? `cd /opt/fieldgate && npm install ${module}`
        : `build it (npm >= 11 skips install scripts unless approved): cd /opt/fieldgate && npm install-scripts approve ${module} && npm rebuild ${module} (needs build-essential python3)`,
    };
  }
}

/** A file the adapter reads (value adapter: /sys/class/thermal/... ). */
export async function checkReadable(ctx: DoctorContext, check: string, path: string): Promise<CheckResult> {
  const real = hostPath(ctx, path);
  const text = await readFile(real, 'utf8').then((t) => t.trim(), (e: { code?: string }) => new Error(e.code ?? String(e)));
  if (text instanceof Error) return { check, target: path, status: 'FAIL', detail: `cannot read: ${text.message}`, fix: 'check the adapter\'s "path" (ls the directory) and its permissions' };
  return { check, target: path, status: 'ok', detail: `reads "${text.slice(0, 24)}"` };
}

/** A CAN interface exists and is up; its bitrate when `ip` can tell (not in a fake tree). */
export async function checkCan(ctx: DoctorContext, check: string, iface: string, bitrate?: number): Promise<CheckResult> {
  const base = { check, target: iface };
  const fix = `load the MCP2515 overlay (dtoverlay=mcp2515-can0,oscillator=16000000,interrupt=25) and install deploy/80-can.network (bitrate ${bitrate ?? 500000}); or \`ip link set ${iface} up type can bitrate ${bitrate ?? 500000}\``;
  const oper = await readFile(hostPath(ctx, `/sys/class/net/${iface}/operstate`), 'utf8').then((t) => t.trim(), () => null);
  if (oper === null) return { ...base, status: 'FAIL', detail: 'no such interface', fix };
  if (oper !== 'up' && oper !== 'unknown') return { ...base, status: 'FAIL', detail: `interface is ${oper}`, fix };
  if (ctx.sysroot || !bitrate) return { ...base, status: 'ok', detail: `up` };
  const actual = await new Promise<number | null>((resolve) => {
    execFile('ip', ['-details', '-json', 'link', 'show', iface], { timeout: 3000 }, (err, stdout) => {
      if (err) return resolve(null);
      try {
        resolve((JSON.parse(String(stdout)) as { linkinfo?: { info_data?: { bittiming?: { bitrate?: number } } } }[])[0]?.linkinfo?.info_data?.bittiming?.bitrate ?? null);
      } catch {
        resolve(null);
      }
    });
  });
  if (actual !== null && actual !== bitrate) return { ...base, status: 'FAIL', detail: `up at ${actual} bit/s, manifest wants ${bitrate}`, fix };
  return { ...base, status: 'ok', detail: actual ? `up at ${actual} bit/s` : 'up' };
}
