// Does the manifest fit in this device's memory? Compares /proc/meminfo with the footprint measured
// for the seed manifests (bench/RESULTS.md, "Footprint"): about 90-105 MB settled on Node and a start
// peak near 150 MB (Deno: ~135 MB settled, ~170 MB peak). The estimate is per runtime plus a margin per
// plugin; it is a planning figure, not a promise.
import { readFile } from 'node:fs/promises';
import { hostPath } from './access.ts';
import type { CheckResult, DoctorContext } from './types.ts';

const MB = 1024 * 1024;

export interface Footprint {
  settledMb: number;
  peakMb: number;
}

/** The expected RSS of a manifest with `plugins` enabled plugins on this runtime. */
export function expectedFootprint(plugins: number, deno: boolean): Footprint {
  const extra = 3 * Math.max(0, plugins - 4);
  return deno ? { settledMb: 135 + extra, peakMb: 170 + extra } : { settledMb: 100 + extra, peakMb: 150 + extra };
}

/** MemTotal and MemAvailable in bytes from (sysroot)/proc/meminfo, or null where there is none. */
export async function readMemInfo(ctx: DoctorContext): Promise<{ total: number; available: number } | null> {
  const text = await readFile(hostPath(ctx, '/proc/meminfo'), 'utf8').catch(() => null);
  if (text === null) return null;
  const field = (name: string) => {
    const m = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text);
    return m ? Number(m[1]) * 1024 : null;
  };
  const total = field('MemTotal');
  const available = field('MemAvailable') ?? field('MemFree');
  return total === null || available === null ? null : { total, available };
}

export async function checkMemory(ctx: DoctorContext, plugins: number, deno: boolean): Promise<CheckResult> {
  const base = { check: 'memory', target: '/proc/meminfo' };
  const info = await readMemInfo(ctx);
  const want = expectedFootprint(plugins, deno);
  if (!info) return { ...base, status: 'skip', detail: 'no /proc/meminfo on this system' };
  const avail = Math.round(info.available / MB);
  const total = Math.round(info.total / MB);
  const expect = `this manifest (${plugins} plugins) is expected to take ~${want.settledMb} MB, ~${want.peakMb} MB while starting`;
  if (avail < want.peakMb) {
    return {
      ...base, status: 'FAIL', detail: `${avail} MB available of ${total} MB; ${expect}`,
      fix: 'stop other services or add swap (e.g. zram: `apt install zram-tools`); disable plugins this device does not need; see bench/RESULTS.md "Footprint"',
    };
  }
  return { ...base, status: 'ok', detail: `${avail} MB available of ${total} MB; ${expect}` };
}
