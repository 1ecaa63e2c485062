// Can the service user open this node? Judged from the node's mode, owner and group against the
// user's uid and groups (read from /etc/passwd and /etc/group), so `sudo fieldgate doctor` answers
// for the `fieldgate` user rather than for root.
import { constants } from 'node:fs';
import { access, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { DoctorContext, Identity } from './types.ts';

export interface NodeCheck {
  exists: boolean;
  /** False in a fake tree, where a regular file stands in for the device. */
  isCharDevice: boolean;
  readable: boolean;
  writable: boolean;
  /** Name of the node's group, e.g. `spi`, to tell the user which group to join. */
  group: string | null;
  error?: string;
}

/** Pure permission rule (as the kernel applies it, without ACLs or capabilities). */
export function permits(node: { mode: number; uid: number; gid: number }, who: Identity, want: { read: boolean; write: boolean }): boolean {
  if (who.uid === 0) return true;
  const shift = node.uid === who.uid ? 6 : who.gids.includes(node.gid) ? 3 : 0;
  const bits = (node.mode >> shift) & 7;
  return (!want.read || (bits & 4) !== 0) && (!want.write || (bits & 2) !== 0);
}

/** A path on the inspected machine: /dev, /sys, /run, /etc and /proc move under the sysroot. */
export function hostPath(ctx: DoctorContext, path: string): string {
  if (!ctx.sysroot || !/^\/(dev|sys|run|etc|proc)(\/|$)/.test(path)) return path;
  return join(ctx.sysroot, path);
}

export async function inspectNode(ctx: DoctorContext, path: string): Promise<NodeCheck> {
  const real = hostPath(ctx, path);
  let st;
  try {
    st = await stat(real);
  } catch (e) {
    return { exists: false, isCharDevice: false, readable: false, writable: false, group: null, error: (e as { code?: string }).code ?? String(e) };
  }
  const group = ctx.groupNames.get(st.gid) ?? String(st.gid);
  if (ctx.identity) {
    const node = { mode: st.mode, uid: st.uid, gid: st.gid };
    return {
      exists: true,
      isCharDevice: st.isCharacterDevice(),
      readable: permits(node, ctx.identity, { read: true, write: false }),
      writable: permits(node, ctx.identity, { read: false, write: true }),
      group,
    };
  }
  const can = (mode: number) => access(real, mode).then(() => true, () => false);
  return { exists: true, isCharDevice: st.isCharacterDevice(), readable: await can(constants.R_OK), writable: await can(constants.W_OK), group };
}

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
}

async function readTable(ctx: DoctorContext, file: string): Promise<string[][]> {
  const text = await readFile(hostPath(ctx, file), 'utf8').catch(() => '');
  return text.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(':'));
}

/** gid → group name from (sysroot)/etc/group. */
export async function readGroupNames(ctx: DoctorContext): Promise<Map<number, string>> {
  return new Map((await readTable(ctx, '/etc/group')).map((f) => [Number(f[2]), f[0]] as [number, string]));
}

/** The named user's uid and groups from (sysroot)/etc/passwd and /etc/group, or null if unknown. */
export async function lookupUser(ctx: DoctorContext, name: string): Promise<Identity | null> {
  const entry: PasswdEntry | undefined = (await readTable(ctx, '/etc/passwd'))
    .map((f) => ({ name: f[0], uid: Number(f[2]), gid: Number(f[3]) }))
    .find((p) => p.name === name);
  if (!entry) return null;
  const groups = await readTable(ctx, '/etc/group');
  const supplementary = groups.filter((f) => (f[3] ?? '').split(',').includes(name)).map((f) => Number(f[2]));
  return { name, uid: entry.uid, gids: [entry.gid, ...supplementary] };
}
