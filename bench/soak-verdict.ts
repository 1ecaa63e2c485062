// The soak's arguments and its verdict over the hourly samples: RSS flat after the first day, the
// store within its budget, history bounded by its retention.

export type SoakOnly = 'lab' | 'cea' | 'both';

export interface SoakArgs {
  /** Which manifest this process runs; `both` runs each in its own child process. */
  only: SoakOnly;
  days: number;
  /** Stop at the first simulated hour after this many real minutes (0: no limit) and judge what ran. */
  maxRealMin: number;
  canFps: number;
  commandEveryS: number;
  historyRetentionH: number;
  segmentMin: number;
  keep: boolean;
  /** Simulated hours after which a heap snapshot is written to the temp dir (leak hunting). */
  heapSnapshotHours: number[];
  /** `--only both`: children run with the systemd unit's V8 flags (as deployed) unless `--node-defaults`. */
  nodeDefaults: boolean;
}

export interface Sample {
  hour: number;
  realS: number;
  rssMB: number;
  heapMB: number;
  /** The larger of the two stores' used bytes. */
  storeBytes: number;
  historyBytes: number;
  historyFiles: number;
}

const FLAGS: Record<string, keyof SoakArgs> = {
  '--days': 'days', '--max-real-min': 'maxRealMin', '--can-fps': 'canFps', '--command-every-s': 'commandEveryS', '--history-retention-h': 'historyRetentionH', '--segment-min': 'segmentMin',
};

export function parseSoakArgs(argv: string[]): SoakArgs {
  const out: SoakArgs = { only: 'both', days: 7, maxRealMin: 0, canFps: 100, commandEveryS: 5, historyRetentionH: 24, segmentMin: 10, keep: false, heapSnapshotHours: [], nodeDefaults: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--heap-snapshot-hours') {
      out.heapSnapshotHours = String(argv[++i] ?? '').split(',').map(Number).filter((h) => Number.isInteger(h) && h > 0);
      continue;
    }
    if (a === '--only') {
      const v = argv[++i];
      if (v !== 'lab' && v !== 'cea' && v !== 'both') throw new Error(`soak: bad argument "--only ${v ?? ''}"; use --only lab, --only cea or --only both`);
      out.only = v;
      continue;
    }
    if (a === '--keep') {
      out.keep = true;
      continue;
    }
    if (a === '--node-defaults') {
      out.nodeDefaults = true;
      continue;
    }
    const key = FLAGS[a];
    const n = Number(argv[i + 1]);
    if (!key || !Number.isFinite(n) || n <= 0) {
      throw new Error(`soak: bad argument "${a} ${argv[i + 1] ?? ''}"; use ${Object.keys(FLAGS).join(', ')} with a positive number, --only lab|cea|both, --heap-snapshot-hours 2,8, --node-defaults or --keep`);
    }
    (out as unknown as Record<string, number>)[key] = n;
    i++;
  }
  return out;
}

export interface Verdict {
  flat: boolean;
  lines: string[];
}

const RSS_BAND_MB = 10;
/** History may exceed its first full-retention figure by this much (segment boundaries, rollups). */
const HISTORY_SLACK = 1.15;

export function verdict(samples: Sample[], o: { budgetBytes: number; historyRetentionH: number; segmentMin: number }): Verdict {
  const lines: string[] = [];
  let flat = true;
  const last = samples.at(-1);
  if (!last) return { flat: false, lines: ['no hourly sample: run at least one simulated hour'] };

  // RSS moves by tens of MB with each GC cycle and segment roll, so compare medians: the last six
  // hours of day 1 against each later day (a run of a day or less: its first half against its second).
  const long = last.hour > 24;
  const refHours = long ? samples.filter((s) => s.hour > 18 && s.hour <= 24) : samples.filter((s) => s.hour <= Math.ceil(last.hour / 2));
  const ref = median(refHours.map((s) => s.rssMB));
  const later = samples.filter((s) => s.hour > (long ? 24 : Math.ceil(last.hour / 2)));
  const days = new Map<number, number[]>();
  for (const s of later) {
    const d = long ? Math.ceil(s.hour / 24) : 2;
    days.set(d, [...(days.get(d) ?? []), s.rssMB]);
  }
  const dayMedians = [...days].map(([d, v]) => ({ d, m: median(v), n: v.length }));
  const rssOk = dayMedians.length > 0 && dayMedians.every((x) => Math.abs(x.m - ref) <= RSS_BAND_MB);
  const lo = later.length ? Math.min(...later.map((s) => s.rssMB)) : NaN;
  const hi = later.length ? Math.max(...later.map((s) => s.rssMB)) : NaN;
  flat &&= rssOk;
  lines.push(`RSS median ${ref.toFixed(0)} MB ${long ? 'over hours 19-24 (end of day 1)' : 'over the first half (the run is a day or shorter)'}; then ${dayMedians.map((x) => `${long ? `day ${x.d}` : 'second half'} ${x.m.toFixed(0)} MB (${x.n} h)`).join(', ') || 'nothing'}: ${rssOk ? 'within' : 'OUTSIDE'} ±${RSS_BAND_MB} MB; hourly samples ${lo.toFixed(0)}-${hi.toFixed(0)} MB, trend ${slopePerDay(later).toFixed(1)} MB/day`);
  const heapRef = median(refHours.map((s) => s.heapMB));
  lines.push(`heap used (after a forced GC when available) median ${heapRef.toFixed(0)} MB at the reference, ${median(later.map((s) => s.heapMB)).toFixed(0)} MB after`);

  const storeMax = Math.max(...samples.map((s) => s.storeBytes));
  const storeOk = o.budgetBytes <= 0 || storeMax <= o.budgetBytes;
  flat &&= storeOk;
  lines.push(`store: at most ${(storeMax / 1024).toFixed(0)} KiB used of a ${(o.budgetBytes / 1024 / 1024).toFixed(0)} MiB budget: ${storeOk ? 'within' : 'OVER'}`);

  // History: once the retention window is full (plus one segment and the hourly prune), it stops growing.
  const fullAt = o.historyRetentionH + Math.ceil(o.segmentMin / 60) + 1;
  const settled = samples.filter((s) => s.hour >= fullAt);
  if (settled.length < 2) {
    lines.push(`history: retention (${o.historyRetentionH} h) not reached before the end (needs ${fullAt + 1} h): growth not judged; last ${(last.historyBytes / 1024 / 1024).toFixed(0)} MB`);
  } else {
    const limit = settled[0]!.historyBytes * HISTORY_SLACK;
    const max = Math.max(...settled.map((s) => s.historyBytes));
    const ok = max <= limit;
    flat &&= ok;
    lines.push(`history: ${(settled[0]!.historyBytes / 1024 / 1024).toFixed(0)} MB when the ${o.historyRetentionH} h retention filled (hour ${settled[0]!.hour}), at most ${(max / 1024 / 1024).toFixed(0)} MB after: ${ok ? 'bounded' : 'STILL GROWING'}`);
  }
  return { flat, lines };
}

function median(v: number[]): number {
  if (!v.length) return NaN;
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

/** Least-squares slope of RSS in MB per simulated day. */
function slopePerDay(s: Sample[]): number {
  if (s.length < 2) return 0;
  const n = s.length;
  const mx = s.reduce((a, x) => a + x.hour, 0) / n;
  const my = s.reduce((a, x) => a + x.rssMB, 0) / n;
  const num = s.reduce((a, x) => a + (x.hour - mx) * (x.rssMB - my), 0);
  const den = s.reduce((a, x) => a + (x.hour - mx) ** 2, 0);
  return den === 0 ? 0 : (num / den) * 24;
}

/**
 * The hourly rows of a soak.ts log, to judge a run stopped before its end (see the CLI below). With
 * `name`, only the rows of that child in a `--only both` log (lines prefixed `lab | ` or `cea | `).
 */
export function parseSoakLog(text: string, name?: 'lab' | 'cea'): Sample[] {
  const out: Sample[] = [];
  for (const raw of text.split('\n')) {
    const prefixed = /^(lab|cea) \| (.*)$/.exec(raw);
    if (name && prefixed?.[1] !== name) continue;
    const line = prefixed ? prefixed[2]! : raw;
    const f = line.trim().split(/\s+/).map(Number);
    // 11 columns, 14 since the memory breakdown (heap_tot, ext_MB, anon_MB: '-' off Linux).
    if ((f.length !== 11 && f.length !== 14) || f.slice(0, 11).some((x) => !Number.isFinite(x))) continue;
    const [hour, realS, rssMB, heapMB, labKiB, ceaKiB, , , historyMB, files] = f as [number, number, number, number, number, number, number, number, number, number];
    out.push({ hour, realS, rssMB, heapMB, storeBytes: Math.max(labKiB, ceaKiB) * 1024, historyBytes: historyMB * 1024 * 1024, historyFiles: files });
  }
  return out;
}

// node --import tsx bench/soak-verdict.ts <soak log> [budget MiB] [history retention h] [segment min]
if (import.meta.url === new URL(`file://${process.argv[1] ?? ''}`).href) {
  const { readFile } = await import('node:fs/promises');
  const [file, budgetMiB = '32', retentionH = '24', segmentMin = '10'] = process.argv.slice(2);
  if (!file) throw new Error('usage: bench/soak-verdict.ts <soak log> [budget MiB] [history retention h] [segment min]');
  const text = await readFile(file, 'utf8');
  const children = (['lab', 'cea'] as const).filter((n) => text.includes(`\n${n} | `));
  for (const name of children.length ? children : [undefined]) {
    const v = verdict(parseSoakLog(text, name), { budgetBytes: Number(budgetMiB) * 1024 * 1024, historyRetentionH: Number(retentionH), segmentMin: Number(segmentMin) });
    for (const line of v.lines) console.log(`${name ? `${name}: ` : ''}${line}`);
    console.log(`${name ? `${name}: ` : ''}${v.flat ? 'VERDICT: flat after day 1' : 'VERDICT: NOT flat (see above)'}`);
  }
}
