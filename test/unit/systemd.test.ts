// The systemd unit `fieldgate systemd` prints, checked by systemd-analyze when present, and the
// sd_notify sequence (READY, WATCHDOG only while live, STOPPING) as systemd would receive it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock } from '../../core/clock-fake.ts';
import { renderUnit } from '../../core/cli/systemd.ts';
import { SystemdNotifier, storeLiveness, watchdogIntervalMs } from '../../core/notify.ts';
import type { StoreStatus } from '../../core/store/types.ts';
import { isDeno, repoRoot, runTs, spawnTs } from '../helpers/spawn.ts';

const CLI = 'bin/fieldgate.ts';

function which(cmd: string): string | null {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

const spec = {
  name: 'plc-remote-lab',
  description: 'gateway plc-remote-lab',
  user: 'fieldgate',
  node: '/usr/bin/node',
  entry: '/opt/fieldgate/dist/bin/fieldgate.js',
  manifestPath: '/etc/fieldgate/plc-remote-lab.json',
  dataDir: '/var/lib/fieldgate/plc-remote-lab',
  runFlags: [],
  watchdogSec: 30,
  stopTimeoutSec: 17,
};

test('the unit restarts always, notifies with a watchdog, runs the build as the service user and reads secrets from an env file', () => {
  const unit = renderUnit(spec);
  const lines = unit.split('\n');
  for (const line of [
    'After=network-online.target time-sync.target', 'Wants=network-online.target', 'StartLimitIntervalSec=0',
    'Type=notify', 'NotifyAccess=all', 'WatchdogSec=30', 'Restart=always', 'RestartSec=2',
    'User=fieldgate', 'SupplementaryGroups=gpio spi dialout', 'StateDirectory=fieldgate',
    'EnvironmentFile=-/etc/fieldgate/plc-remote-lab.env', 'StandardOutput=journal', 'SyslogIdentifier=fieldgate-plc-remote-lab',
    'ExecStart=/usr/bin/node --max-semi-space-size=1 --liftoff-only /opt/fieldgate/dist/bin/fieldgate.js run /etc/fieldgate/plc-remote-lab.json --data-dir /var/lib/fieldgate/plc-remote-lab',
    'ProtectHome=yes', 'WantedBy=multi-user.target',
  ]) assert.ok(lines.includes(line), `missing "${line}" in:\n${unit}`);
  assert.ok(!unit.includes('ReadWritePaths'), 'data under StateDirectory needs no ReadWritePaths');
});

test('paths with spaces, $ and % are quoted for systemd; a data dir outside /var/lib/fieldgate is made writable', () => {
  const unit = renderUnit({ ...spec, manifestPath: '/home/pi/my lab/m$1.json', dataDir: '/srv/data 100%', runFlags: ['--sim'] });
  assert.match(unit, /^ExecStart=\/usr\/bin\/node --max-semi-space-size=1 --liftoff-only \S+ run "\/home\/pi\/my lab\/m\$\$1\.json" --data-dir "\/srv\/data 100%%" --sim$/m);
  assert.match(unit, /^ReadWritePaths="\/srv\/data 100%%"$/m);
  assert.match(unit, /^ProtectHome=read-only$/m);
});

test('fieldgate systemd prints the unit for a manifest; --write writes it; bad arguments exit 2', async () => {
  const r = await runTs(CLI, ['systemd', 'manifests/example.json', '--user', 'gw', '--node', '/usr/bin/node']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^User=gw$/m);
  assert.match(r.stdout, new RegExp(`^ExecStart=/usr/bin/node --max-semi-space-size=1 --liftoff-only ${repoRoot}dist/bin/fieldgate\\.js run ${repoRoot}manifests/example\\.json --data-dir /var/lib/fieldgate/example$`, 'm'));
  const dir = mkdtempSync(join(tmpdir(), 'fg-unit-'));
  try {
    const file = join(dir, 'fieldgate-example.service');
    const w = await runTs(CLI, ['systemd', 'manifests/example.json', '--write', file]);
    assert.equal(w.code, 0, w.stderr);
    assert.match(w.stdout, /systemctl enable --now fieldgate-example\.service/);
    assert.match(readFileSync(file, 'utf8'), /^Type=notify$/m);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const bad = await runTs(CLI, ['systemd', 'manifests/example.json', '--node', 'node']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--node must be an absolute path/);
});

test('systemd-analyze verify accepts the generated unit', { skip: which('systemd-analyze') ? false : 'systemd-analyze not installed (apt-get install systemd)' }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-verify-'));
  try {
    const file = join(dir, 'fieldgate-example.service');
    // Real, executable paths: verify checks that ExecStart's program exists.
    const node = which('node') ?? '/usr/bin/node';
    const w = await runTs(CLI, ['systemd', 'manifests/example.json', '--node', node, '--entry', join(repoRoot, 'bin/fieldgate.js'), '--write', file]);
    assert.equal(w.code, 0, w.stderr);
    const v = spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8' });
    // verify exits 0 on unknown keys and bad values too, so its complaints about our file count as failures.
    const complaints = v.stderr.split('\n').filter((l) => l.includes(file) || l.includes('fieldgate-example'));
    assert.equal(v.status, 0, v.stderr);
    assert.deepEqual(complaints, []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('WATCHDOG_USEC gives the ping period (half of WatchdogSec); WATCHDOG_PID for another process disables it', () => {
  assert.equal(watchdogIntervalMs({ WATCHDOG_USEC: '30000000' }, 42), 15000);
  assert.equal(watchdogIntervalMs({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '42' }, 42), 15000);
  assert.equal(watchdogIntervalMs({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '7' }, 42), null);
  assert.equal(watchdogIntervalMs({}, 42), null);
});

function storeStatus(over: Partial<StoreStatus>): StoreStatus {
  return {
    mode: 'disk', ok: true, dataDir: '/var/lib/fieldgate/x', lastError: null, pendingWrites: 0, journalLagMs: 0, journalBytes: 0, lastSnapshotAt: null,
    recovery: { journalRecordsReplayed: 0, tornRecordsSkipped: 0, corruptSnapshotMovedTo: null },
    ...over,
  } as StoreStatus;
}

test('the watchdog pings while live, stops while the store is wedged, resumes, and STOPPING=1 ends it', async () => {
  const clock = new FakeClock();
  const sent: string[] = [];
  const notifier = new SystemdNotifier({ send: async (f) => void sent.push(f.join(' ')), clock, intervalMs: 15000 });
  let status = storeStatus({});
  notifier.startWatchdog(storeLiveness(() => status, 31000));
  await notifier.ready('ready: 4/4 plugins running');
  await clock.advance(30000);
  assert.deepEqual(sent, ['WATCHDOG=1', 'READY=1 STATUS=ready: 4/4 plugins running', 'WATCHDOG=1', 'WATCHDOG=1']);

  // A plugin backing off is not the watchdog's business; a store whose writes hang is.
  sent.length = 0;
  status = storeStatus({ pendingWrites: 3, journalLagMs: 45000 });
  await clock.advance(45000);
  assert.deepEqual(sent, [], 'no WATCHDOG=1 while the store is wedged');
  status = storeStatus({ mode: 'memory', ok: false, pendingWrites: 0 });
  await clock.advance(15000);
  assert.deepEqual(sent, ['WATCHDOG=1'], 'memory fallback is degraded but live');

  sent.length = 0;
  await notifier.stopping('SIGTERM: stopping plugins');
  await clock.advance(60000);
  assert.deepEqual(sent, ['STOPPING=1 STATUS=SIGTERM: stopping plugins']);
});

const deno = join(repoRoot, 'node_modules', '.bin', 'deno');
const canReceive = which('systemd-notify') && existsSync(deno);

test('under a fake NOTIFY_SOCKET the real CLI sends READY=1 after start, WATCHDOG=1 periodically and STOPPING=1 on SIGTERM',
  { skip: canReceive ? false : 'needs systemd-notify (apt-get install systemd) and the deno dev dependency', timeout: 60000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fg-notify-'));
    const socket = join(dir, 'notify.sock');
    // Node has no unix datagram sockets; Deno's (unstable) listenDatagram plays systemd's side.
    const receiver = spawn(deno, ['eval', '--unstable-net', `
      const l = Deno.listenDatagram({ transport: 'unixpacket', path: ${JSON.stringify(socket)} });
      console.log('listening');
      for await (const [d] of l) console.log(JSON.stringify(new TextDecoder().decode(d)));`], { stdio: ['ignore', 'pipe', 'inherit'] });
    const messages: string[] = [];
    let buffered = '';
    const listening = new Promise<void>((resolve) => {
      receiver.stdout!.setEncoding('utf8').on('data', (d: string) => {
        buffered += d;
        const lines = buffered.split('\n');
        buffered = lines.pop()!;
        for (const l of lines) {
          if (l === 'listening') resolve();
          else if (l) messages.push(JSON.parse(l) as string);
        }
      });
    });
    const child = spawnTs(CLI, ['run', 'manifests/example.json', '--sim', '--data-dir', join(dir, 'data')], {
      env: { NOTIFY_SOCKET: socket, WATCHDOG_USEC: '600000', API_PORT: '0', POLL_MS: '100' },
    });
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    try {
      await listening;
      const has = (field: string) => messages.some((m) => m.split('\n').includes(field));
      const waitFor = async (field: string) => {
        for (let i = 0; i < 400 && !has(field); i++) await new Promise((r) => setTimeout(r, 50));
        assert.ok(has(field), `no ${field}; got ${JSON.stringify(messages)}`);
      };
      await waitFor('READY=1');
      const ready = messages.find((m) => m.includes('READY=1'))!;
      assert.match(ready, /^MAINPID=\d+$/m);
      assert.match(ready, /^STATUS=ready: 2\/2 plugins running/m);
      const before = messages.filter((m) => m.includes('WATCHDOG=1')).length;
      await new Promise((r) => setTimeout(r, 1200));
      assert.ok(messages.filter((m) => m.includes('WATCHDOG=1')).length >= before + 2, 'WATCHDOG=1 every 300 ms');
      child.kill('SIGTERM');
      await waitFor('STOPPING=1');
      const code = await exited;
      // Deno's child_process reports the parent's signal instead of the child's exit code (see cli.test.ts).
      if (!isDeno) assert.equal(code, 0);
    } finally {
      child.kill('SIGKILL');
      receiver.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });


