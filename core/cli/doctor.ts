// `fieldgate doctor <manifest>`: is the hardware and every endpoint this manifest's real adapters
// name present and permitted for the service user? One row per check, a fix under each failure.
import { effectiveDriver } from '../host/runtime.ts';
import type { LoadedManifest } from '../manifest/load.ts';
import { lookupUser, readGroupNames } from '../doctor/access.ts';
import { checkClock, checkDataDir } from '../doctor/checks.ts';
import { checkMemory } from '../doctor/memory.ts';
import { adapterChecks, pluginChecks } from '../doctor/plan.ts';
import type { CheckResult, DoctorContext, Identity } from '../doctor/types.ts';
import { isDeno, runtimeName } from '../runtime-info.ts';
import type { DoctorArgs } from './args.ts';
import { resolveDataDir } from './main.ts';

/** Groups the generated unit grants with SupplementaryGroups=, so they count for the service user. */
const UNIT_GROUPS = ['gpio', 'spi', 'dialout'];

export async function doctor(args: DoctorArgs, loaded: LoadedManifest, io: { out: (l: string) => void; env: Record<string, string | undefined> }): Promise<number> {
  const { manifest } = loaded;
  const ctx: DoctorContext = { sysroot: io.env.FIELDGATE_SYSROOT ?? '', identity: null, groupNames: new Map(), timeoutMs: args.timeoutMs, env: io.env };
  ctx.groupNames = await readGroupNames(ctx);
  try {
    ctx.identity = await serviceIdentity(ctx, args.user);
  } catch (e) {
    io.out(`fieldgate ${(e as Error).message}`);
    return 2;
  }

  const checks = manifest.adapters.filter((a) => effectiveDriver(a, args) === 'real').flatMap((a) => adapterChecks(ctx, a));
  checks.push(...pluginChecks(ctx, manifest));
  const dataDir = resolveDataDir({ command: 'run', manifest: args.manifest, sim: args.sim, real: args.real, dataDir: args.dataDir }, loaded, io.env);
  const plugins = manifest.plugins.filter((p) => p.enabled).length;
  checks.push(() => checkDataDir(ctx, dataDir), () => checkClock(ctx), () => checkMemory(ctx, plugins, isDeno));
  // Independent probes run together, so unreachable endpoints cost one timeout, not one each.
  const rows = (await Promise.all(checks.map((c) => c().catch((e: unknown): CheckResult => ({ check: 'doctor', target: '?', status: 'FAIL', detail: `check crashed: ${String(e)}` }))))).flat();

  const simulated = manifest.adapters.filter((a) => effectiveDriver(a, args) === 'sim').map((a) => a.id);
  io.out(`fieldgate doctor: ${manifest.name} on ${runtimeName}, access judged for ${ctx.identity ? `user ${ctx.identity.name}` : 'the current user'}` +
    `${ctx.sysroot ? `, root ${ctx.sysroot}` : ''}${simulated.length ? `; simulated (not checked): ${simulated.join(', ')}` : ''}`);
  io.out(formatTable(rows));
  const failed = rows.filter((r) => r.status === 'FAIL').length;
  io.out(failed ? `${failed} of ${rows.length} check(s) FAILED` : `all ${rows.filter((r) => r.status === 'ok').length} check(s) ok${rows.some((r) => r.status === 'skip') ? ' (some skipped)' : ''}`);
  return failed ? 1 : 0;
}

// --user NAME, else the `fieldgate` service user if it exists, else the current process (access(2)).
async function serviceIdentity(ctx: DoctorContext, requested: string | undefined): Promise<Identity | null> {
  const name = requested ?? 'fieldgate';
  const user = await lookupUser(ctx, name);
  if (!user) {
    if (requested) throw new Error(`doctor: no user "${requested}" in ${ctx.sysroot}/etc/passwd`);
    return null;
  }
  const granted = [...ctx.groupNames].filter(([, g]) => UNIT_GROUPS.includes(g)).map(([gid]) => gid);
  return { ...user, gids: [...new Set([...user.gids, ...granted])] };
}

export function formatTable(rows: CheckResult[]): string {
  const head = ['check', 'target', 'result', 'detail'];
  const cells = rows.map((r) => [r.check, r.target, r.status, r.detail]);
  const width = head.map((h, i) => Math.min(40, Math.max(h.length, ...cells.map((c) => c[i].length))));
  const line = (c: string[]) => c.map((v, i) => (i === c.length - 1 ? v : v.padEnd(width[i]))).join('  ');
  const out = [line(head)];
  rows.forEach((r, i) => {
    out.push(line(cells[i]));
    if (r.status === 'FAIL' && r.fix) out.push(`    fix: ${r.fix}`);
  });
  return out.join('\n');
}
