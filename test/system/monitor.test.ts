// `fieldgate monitor live` and `monitor can` against a running gateway (the CAN pipeline on its
// simulators): both keep showing new values for 10 s, whatever frame types the hub sends (batch
// frames carry most state updates and every can/# delta).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { spawnTs } from '../helpers/spawn.ts';
import { eventually } from '../helpers/eventually.ts';

const CLI = 'bin/fieldgate.ts';
const WATCH_MS = 10_000;

interface Running {
  child: ChildProcess;
  out: () => string;
  err: () => string;
}

function start(args: string[], env: NodeJS.ProcessEnv = {}): Running {
  const child = spawnTs(CLI, args, { env });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  return { child, out: () => out, err: () => err };
}

async function stop(r: Running): Promise<void> {
  if (r.child.exitCode !== null || r.child.signalCode !== null) return;
  const closed = new Promise<void>((resolve) => r.child.once('close', () => resolve()));
  r.child.kill('SIGTERM');
  await closed;
}

/** The live tables a non-TTY `monitor live` printed: one `key → value` map per redraw. */
function liveTables(out: string): Map<string, string>[] {
  const tables: Map<string, string>[] = [];
  let rows = new Map<string, string>();
  for (const line of out.split('\n')) {
    if (/^\d+ key\(s\)$/.test(line)) {
      tables.push(rows);
      rows = new Map();
    } else if (!/^(key\s|-+\s)/.test(line) && line.trim()) {
      const [key, value] = line.split(/\s{2,}/);
      if (key && value !== undefined) rows.set(key, value);
    }
  }
  return tables;
}

test('monitor live and monitor can keep moving for 10 s against a running CAN pipeline', { timeout: 90_000 }, async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'fg-monitor-'));
  const gateway = start(['run', 'manifests/cea-can-pipeline.json', '--sim', '--data-dir', dataDir], { API_PORT: '0', SIM_TIME_SCALE: '60' });
  const monitors: Running[] = [];
  try {
    const url = await eventually('the gateway to be ready with its API address', 30_000, () => gateway.out().match(/ready: .*API at (http:\/\/127\.0\.0\.1:\d+)/)?.[1]);
    const live = start(['monitor', 'live', url, '--interval', '500']);
    const can = start(['monitor', 'can', url, '--interval', '1000']);
    monitors.push(live, can);
    await eventually('both monitors to connect', 20_000, () => /connected to/.test(live.err()) && /connected to/.test(can.err()));

    // Sample what each monitor has printed at 2 s steps over the watch window.
    const samples: { tables: number; canLines: number; last: Map<string, string> | undefined }[] = [];
    const t0 = Date.now();
    for (let step = 1; step <= WATCH_MS / 2000; step++) {
      await eventually(`${step * 2} s of monitoring`, WATCH_MS + 5000, () => Date.now() - t0 >= step * 2000);
      const tables = liveTables(live.out());
      samples.push({ tables: tables.length, canLines: can.out().split('\n').filter((l) => /^\d\d:\d\d:\d\d\.\d{3} /.test(l)).length, last: tables.at(-1) });
    }

    for (let i = 1; i < samples.length; i++) {
      const [a, b] = [samples[i - 1], samples[i]];
      assert.ok(b.tables > a.tables, `monitor live redrew between ${2 * i} s and ${2 * i + 2} s (${a.tables} → ${b.tables}); stderr: ${live.err()}`);
      assert.ok(b.canLines > a.canLines, `monitor can printed new frames between ${2 * i} s and ${2 * i + 2} s (${a.canLines} → ${b.canLines}); stderr: ${can.err()}`);
      const changed = [...(b.last ?? [])].filter(([k, v]) => a.last?.get(k) !== v);
      assert.ok(changed.length > 0, `live values changed between ${2 * i} s and ${2 * i + 2} s`);
    }
    const keys = [...(samples.at(-1)!.last ?? new Map()).keys()];
    assert.ok(keys.some((k) => k.startsWith('sensor:')), `live sensor keys shown, got ${keys.join(', ')}`);
    assert.match(can.out(), /^counts: \d+ type\(s\), \d+ frame\(s\): /m, 'monitor can prints counts per message type');
  } finally {
    for (const m of monitors) await stop(m);
    await stop(gateway);
    rmSync(dataDir, { recursive: true, force: true });
  }
});
