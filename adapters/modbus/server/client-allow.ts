// Which client addresses a Modbus TCP server accepts: a list of IPv4/IPv6 addresses and CIDR
// ranges (`10.0.0.5`, `192.168.1.0/24`, `::1`, `fd00::/8`). Modbus has no authentication, so on a
// plant network the address of the master (or its RS-485/TCP converter) is the only gate.
import { isIP } from 'node:net';

interface Range {
  text: string;
  v6: boolean;
  bits: bigint;
  prefix: number;
}

/** Parses the entries (each may hold several, comma- or space-separated, as an environment variable does). */
export function parseAllowList(entries: readonly string[], where: string): ClientAllowList {
  const ranges: Range[] = [];
  entries.flatMap((e) => e.split(/[\s,]+/)).filter(Boolean).forEach((text) => {
    const [addr, len, extra] = text.split('/');
    const family = isIP(addr ?? '');
    if (!family || extra !== undefined) throw new Error(`${where}: "${text}" is not an IP address or CIDR range (e.g. 10.0.0.5 or 192.168.1.0/24)`);
    const max = family === 4 ? 32 : 128;
    const prefix = len === undefined ? max : Number(len);
    if (!Number.isInteger(prefix) || prefix < 0 || prefix > max || (len !== undefined && !/^\d+$/.test(len))) {
      throw new Error(`${where}: "${text}" has a prefix length outside 0..${max}`);
    }
    ranges.push({ text, v6: family === 6, bits: toBits(addr!), prefix });
  });
  return new ClientAllowList(ranges);
}

export class ClientAllowList {
  constructor(readonly ranges: readonly Range[]) {}

  /** True when no list is configured: every address is accepted. */
  get open(): boolean {
    return this.ranges.length === 0;
  }

  get description(): string {
    return this.ranges.map((r) => r.text).join(', ');
  }

  allows(address: string | undefined): boolean {
    if (this.open) return true;
    if (!address) return false;
    // An IPv4 client on a dual-stack socket shows as ::ffff:a.b.c.d.
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    const addr = mapped ? mapped[1]! : address.replace(/%.*$/, '');
    const family = isIP(addr);
    if (!family) return false;
    const bits = toBits(addr);
    return this.ranges.some((r) => r.v6 === (family === 6) && sameNetwork(bits, r.bits, r.prefix, r.v6 ? 128 : 32));
  }
}

function sameNetwork(a: bigint, b: bigint, prefix: number, width: number): boolean {
  const shift = BigInt(width - prefix);
  return a >> shift === b >> shift;
}

function toBits(addr: string): bigint {
  if (isIP(addr) === 4) return addr.split('.').reduce((acc, octet) => (acc << 8n) | BigInt(Number(octet)), 0n);
  // IPv6: expand `::`, and an embedded IPv4 tail into two groups.
  let text = addr.replace(/%.*$/, '');
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const n = toBits(v4[1]!);
    text = text.slice(0, -v4[1]!.length) + `${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`;
  }
  const [head, tail] = text.split('::');
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}
