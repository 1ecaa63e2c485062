// `fieldgate doctor` against a fake Raspberry Pi root (FIELDGATE_SYSROOT) and against the bundled
// simulators on loopback: a healthy tree passes, each broken item is reported with its fix.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli } from '../../core/cli/main.ts';
import { permits } from '../../core/doctor/access.ts';
import { checkCan } from '../../core/doctor/checks.ts';
import type { DoctorContext } from '../../core/doctor/types.ts';
import { adapterCatalog } from '../../adapters/catalog.ts';
import { pluginCatalog } from '../../plugins/catalog.ts';
import { isDeno } from '../helpers/spawn.ts';
import { Esp32RelaySimulator } from '../../sim/esp32-relay.ts';
import { ModbusTcpServer, RegisterBank } from '../../sim/modbus-server.ts';

const FIXTURE = fileURLToPath(new URL('../fixtures/sysroot/pi4', import.meta.url));

interface Tree {
  root: string;
  dir: string;
  cleanup: () => void;
}

/** A writable copy of the fake Pi: device nodes 0660, and a `fieldgate` user whose unit groups own them. */
function fakePi(options: { groupName?: string } = {}): Tree {
  const dir = mkdtempSync(join(tmpdir(), 'fg-doctor-'));
  const root = join(dir, 'root');
  cpSync(FIXTURE, root, { recursive: true });
  for (const node of ['dev/spidev0.0', 'dev/ttyUSB0', 'dev/gpiochip0', 'sys/class/gpio/export']) chmodSync(join(root, node), 0o660);
  // The copy belongs to whoever runs the tests; name its group `spi`, as udev would on a Pi.
  const gid = statSync(join(root, 'dev/spidev0.0')).gid;
  mkdirSync(join(root, 'etc'), { recursive: true });
  writeFileSync(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/bash\nfieldgate:x:4242:4242::/var/lib/fieldgate:/usr/sbin/nologin\n');
  writeFileSync(join(root, 'etc/group'), `${options.groupName ?? 'spi'}:x:${gid}:\nfieldgate:x:4242:\n`);
  return { root, dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

function manifest(dir: string, adapters: unknown[]): string {
  const file = join(dir, 'm.json');
  writeFileSync(file, JSON.stringify({ name: 'doctor-test', adapters, plugins: [] }));
  return file;
}

const HARDWARE = [
  { id: 'rtd', kind: 'spi', driver: 'real', options: { device: '/dev/spidev0.0', mode: 1, speedHz: 500000 } },
  { id: 'heater', kind: 'gpio', driver: 'real', options: { chip: 'pinctrl-bcm2711', line: 17 } },
  { id: 'meter', kind: 'modbus', driver: 'real', options: { transport: 'rtu', path: '/dev/ttyUSB0' } },
  { id: 'soc', kind: 'value', driver: 'real', options: { path: '/sys/class/thermal/thermal_zone0/temp' } },
];

async function doctor(args: string[], env: Record<string, string>): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const code = await runCli(['doctor', ...args], {
    plugins: pluginCatalog, adapters: adapterCatalog, version: '0.0.0-test', env,
    stdout: (l) => lines.push(l), stderr: (l) => lines.push(l),
  });
  return { code, out: lines.join('\n') };
}

/** The table row for `check` (first one whose check column starts with it). */
function row(out: string, check: string): string {
  const line = out.split('\n').find((l) => l.startsWith(check + ' ') || l.startsWith(check + '\t'));
  assert.ok(line, `no row "${check}" in:\n${out}`);
  return line;
}

function fixOf(out: string, check: string): string {
  const lines = out.split('\n');
  const i = lines.indexOf(row(out, check));
  return lines[i + 1]?.startsWith('    fix: ') ? lines[i + 1] : '';
}

test('a healthy fake Pi passes: spidev, the GPIO line on kernel 6.6 numbering, the serial port, sysfs, data dir and clock', async () => {
  const t = fakePi();
  try {
    const file = manifest(t.dir, HARDWARE);
    const r = await doctor([file, '--data-dir', join(t.dir, 'data')], { FIELDGATE_SYSROOT: t.root });
    // Deno cannot load the native addons these adapters need: the one thing doctor must refuse there.
    assert.equal(r.code, isDeno ? 1 : 0, r.out);
    assert.match(r.out, /access judged for user fieldgate/);
    assert.match(row(r.out, 'spi rtd'), /\/dev\/spidev0\.0\s+ok\s+present \(fake tree\), read-write for fieldgate/);
    assert.match(row(r.out, 'gpio heater'), /pinctrl-bcm2711 line 17\s+ok\s+gpiochip512 "pinctrl-bcm2711" base 512: sysfs gpio529/);
    // libc FFI loads here (koffi on Node, Deno.dlopen on Deno): the line goes through /dev/gpiochip0.
    assert.match(row(r.out, 'backend heater'), /gpio pinctrl-bcm2711\s+ok\s+cdev: \/dev\/gpiochip\* v2 uAPI through (koffi \d|deno-ffi)/);
    assert.match(row(r.out, 'gpio heater device'), /\/dev\/gpiochip0\s+ok\s+present \(fake tree\), read-write for fieldgate/);
    assert.ok(!/addon heater|gpio heater export/.test(r.out), 'no onoff checks when the cdev backend is used');
    assert.match(row(r.out, 'serial meter'), /\/dev\/ttyUSB0\s+ok/);
    // Modbus RTU needs no addon either where libc FFI loads: fieldgate's own master on the termios line.
    assert.match(row(r.out, 'backend meter'), /modbus rtu \/dev\/ttyUSB0\s+ok\s+ffi: termios serial line through (koffi \d|deno-ffi)/);
    assert.ok(!/addon meter/.test(r.out), 'no serialport check when the FFI backend is used');
    assert.match(row(r.out, 'value soc'), /ok\s+reads "48312"/);
    if (isDeno) {
      assert.match(row(r.out, 'addon rtd'), /spi-device\s+FAIL\s+native addons load on Node only; Deno refuses them/);
      assert.match(fixOf(r.out, 'addon rtd'), /run fieldgate with Node on the device/);
      assert.match(r.out, /1 of \d+ check\(s\) FAILED/);
      return;
    }
    assert.match(row(r.out, 'addon rtd'), /spi-device\s+skip/);
    assert.match(row(r.out, 'data dir'), /\sok\s/);
    assert.match(row(r.out, 'clock'), /ok\s+systemd-timesyncd: synchronized/);
    assert.match(r.out, /all \d+ check\(s\) ok/);
  } finally {
    t.cleanup();
  }
});

test('backend "onoff" chosen in the manifest: doctor checks the sysfs export and the addon instead of /dev/gpiochip0', async () => {
  const t = fakePi();
  try {
    const file = manifest(t.dir, [{ id: 'heater', kind: 'gpio', driver: 'real', options: { chip: 'pinctrl-bcm2711', line: 17, backend: 'onoff' } }]);
    const r = await doctor([file, '--data-dir', join(t.dir, 'data')], { FIELDGATE_SYSROOT: t.root });
    assert.match(row(r.out, 'backend heater'), /ok\s+onoff \(chosen by the manifest's "backend"\)/);
    assert.match(row(r.out, 'gpio heater export'), /\sok\s/);
    assert.match(row(r.out, 'addon heater'), isDeno ? /onoff\s+FAIL\s+native addons load on Node only/ : /onoff\s+skip/);
    assert.ok(!/gpio heater device/.test(r.out));
  } finally {
    t.cleanup();
  }
});

test('a broken fake Pi: each missing or forbidden item FAILs with its fix, and the exit code is 1', async () => {
  const t = fakePi({ groupName: 'root' });
  try {
    rmSync(join(t.root, 'dev/spidev0.0'));
    chmodSync(join(t.root, 'dev/ttyUSB0'), 0o600);
    rmSync(join(t.root, 'run/systemd/timesync/synchronized'));
    const broken = HARDWARE.map((a) => (a.id === 'heater' ? { ...a, options: { chip: 'pinctrl-rp1', line: 17 } } : a));
    const file = manifest(t.dir, broken);
    const r = await doctor([file, '--data-dir', join(t.dir, 'data')], { FIELDGATE_SYSROOT: t.root });
    assert.equal(r.code, 1, r.out);

    assert.match(row(r.out, 'spi rtd'), /FAIL\s+missing \(ENOENT\)/);
    assert.match(fixOf(r.out, 'spi rtd'), /dtoverlay=spi0-1cs.*\/boot\/firmware\/config\.txt.*armbianEnv\.txt.*reboot/);
    assert.match(row(r.out, 'gpio heater'), /FAIL\s+no gpiochip "pinctrl-rp1".*gpiochip512 "pinctrl-bcm2711" \(base 512, 58 lines\)/);
    assert.match(fixOf(r.out, 'gpio heater'), /pinctrl-rp1 on a Pi 5/);
    assert.match(row(r.out, 'serial meter'), /FAIL\s+fieldgate cannot read it \(group root\)/);
    assert.match(fixOf(r.out, 'serial meter'), /99-fieldgate\.rules/);
    assert.match(row(r.out, 'clock'), /FAIL\s+systemd-timesyncd has not synchronised yet/);
    assert.match(fixOf(r.out, 'clock'), /timedatectl set-ntp true/);
    assert.match(row(r.out, 'value soc'), /\sok\s/, 'what is fine stays ok');
    // On Deno the spi-device addon cannot load (GPIO needs none: cdev over Deno FFI; nor Modbus RTU: the FFI serial line).
    assert.match(r.out, new RegExp(`${isDeno ? 5 : 4} of \\d+ check\\(s\\) FAILED`));
  } finally {
    t.cleanup();
  }
});

test('--sim skips the hardware; --real keeps one adapter checked', async () => {
  const t = fakePi();
  try {
    rmSync(join(t.root, 'dev/spidev0.0'));
    const file = manifest(t.dir, HARDWARE);
    const sim = await doctor([file, '--sim', '--data-dir', join(t.dir, 'data')], { FIELDGATE_SYSROOT: t.root });
    assert.equal(sim.code, 0, sim.out);
    assert.match(sim.out, /simulated \(not checked\): rtd, heater, meter, soc/);
    const real = await doctor([file, '--sim', '--real', 'rtd', '--data-dir', join(t.dir, 'data')], { FIELDGATE_SYSROOT: t.root });
    assert.equal(real.code, 1);
    assert.match(row(real.out, 'spi rtd'), /FAIL/);
  } finally {
    t.cleanup();
  }
});

test('TCP endpoints: the ESP32 and PLC simulators on loopback are reachable; once stopped they FAIL with a fix', async () => {
  const t = fakePi();
  const esp32 = new Esp32RelaySimulator({ device: 'esp32-lab', port: 0 });
  const plc = new ModbusTcpServer({ host: '127.0.0.1', port: 0, units: new Map([[1, new RegisterBank()]]) });
  try {
    const url = await esp32.start();
    await plc.start();
    const file = manifest(t.dir, [
      { id: 'esp32', kind: 'http', driver: 'real', options: { baseUrl: url } },
      { id: 'plc', kind: 'modbus', driver: 'real', options: { transport: 'tcp', host: '127.0.0.1', port: plc.port } },
    ]);
    const up = await doctor([file, '--data-dir', join(t.dir, 'data'), '--timeout', '1000'], { FIELDGATE_SYSROOT: t.root });
    assert.equal(up.code, 0, up.out);
    assert.match(row(up.out, 'http esp32'), new RegExp(`127\\.0\\.0\\.1:${esp32.port}\\s+ok\\s+the device at ${url.replace(/[./]/g, '\\$&')} accepts connections`));
    assert.match(row(up.out, 'modbus plc'), /ok\s+the Modbus TCP server \(PLC\) at 127\.0\.0\.1 accepts connections/);

    await esp32.close();
    await plc.stop();
    const down = await doctor([file, '--data-dir', join(t.dir, 'data'), '--timeout', '1000'], { FIELDGATE_SYSROOT: t.root });
    assert.equal(down.code, 1);
    assert.match(row(down.out, 'http esp32'), /FAIL\s+ECONNREFUSED/);
    assert.match(row(down.out, 'modbus plc'), /FAIL\s+ECONNREFUSED/);
    assert.match(fixOf(down.out, 'modbus plc'), /nothing listens on port \d+/);
  } finally {
    await esp32.close().catch(() => {});
    await plc.stop().catch(() => {});
    t.cleanup();
  }
});

test('CAN: an interface that is down or missing FAILs with the MCP2515 overlay and networkd fix', async () => {
  const t = fakePi();
  try {
    const ctx: DoctorContext = { sysroot: t.root, identity: null, groupNames: new Map(), timeoutMs: 1000, env: {} };
    assert.equal((await checkCan(ctx, 'can bus', 'can0', 500000)).status, 'ok');
    writeFileSync(join(t.root, 'sys/class/net/can0/operstate'), 'down\n');
    const down = await checkCan(ctx, 'can bus', 'can0', 500000);
    assert.equal(down.status, 'FAIL');
    assert.equal(down.detail, 'interface is down');
    assert.match(down.fix!, /dtoverlay=mcp2515-can0.*80-can\.network.*bitrate 500000/);
    assert.equal((await checkCan(ctx, 'can bus', 'can1')).detail, 'no such interface');
  } finally {
    t.cleanup();
  }
});

test('permission rule: owner, group (including the unit\'s supplementary groups), other', () => {
  const fg = { name: 'fieldgate', uid: 4242, gids: [4242, 995] };
  assert.equal(permits({ mode: 0o660, uid: 0, gid: 995 }, fg, { read: true, write: true }), true);
  assert.equal(permits({ mode: 0o600, uid: 0, gid: 995 }, fg, { read: true, write: false }), false);
  assert.equal(permits({ mode: 0o640, uid: 0, gid: 995 }, fg, { read: false, write: true }), false);
  assert.equal(permits({ mode: 0o600, uid: 4242, gid: 0 }, fg, { read: true, write: true }), true);
  assert.equal(permits({ mode: 0o000, uid: 1, gid: 1 }, { name: 'root', uid: 0, gids: [0] }, { read: true, write: true }), true);
});

test('memory: a 512 MB Pi with room passes with the expected footprint; one with 96 MB free FAILs with a fix', async () => {
  const t = fakePi();
  try {
    const file = manifest(t.dir, HARDWARE);
    const ok = await doctor([file, '--data-dir', join(t.dir, 'data')], { FIELDGATE_SYSROOT: t.root });
    assert.match(row(ok.out, 'memory'), /ok\s+294 MB available of 429 MB; this manifest \(0 plugins\) is expected to take ~\d+ MB, ~\d+ MB while starting/);
    writeFileSync(join(t.root, 'proc/meminfo'), 'MemTotal:  439572 kB\nMemFree:  98304 kB\nMemAvailable:  98304 kB\n');
    const tight = await doctor([file, '--data-dir', join(t.dir, 'data')], { FIELDGATE_SYSROOT: t.root });
    assert.equal(tight.code, 1);
    assert.match(row(tight.out, 'memory'), /FAIL\s+96 MB available of 429 MB/);
    assert.match(fixOf(tight.out, 'memory'), /swap|disable plugins/);
  } finally {
    t.cleanup();
  }
});
