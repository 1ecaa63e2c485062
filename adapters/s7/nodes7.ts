// The slice of nodes7 (pure JS, node:net; runs on Node and Deno) the client uses, typed here because
// the package ships no types, plus the two things it lacks: a complete teardown and per-item errors.
import { errorMessage } from '../../core/errors.ts';

type Callback = (err?: unknown) => void;
type Timer = ReturnType<typeof setTimeout> | undefined;

interface Nodes7Item {
  useraddr: string;
  errCode?: string;
  valid?: boolean;
  writeResponse?: number;
  itemReference?: Nodes7Item[];
  requestReference?: Nodes7Item[];
}

export interface NodeS7 {
  isoConnectionState: number;
  /** The PDU size agreed with the PLC at setup (signed int16 from the wire). */
  maxPDU: number;
  isoclient?: { on(event: 'close', fn: () => void): void; destroyed?: boolean };
  globalReadBlockList: Nodes7Item[];
  writePacketArray: Array<{ itemList: Nodes7Item[] }>;
  initiateConnection(params: { host: string; port: number; rack: number; slot: number; timeout: number }, cb: Callback): void;
  addItems(items: string[]): void;
  removeItems(items?: string[]): void;
  readAllItems(cb: (anythingBad: boolean, values: Record<string, unknown>) => void): void;
  writeItems(items: string[], values: unknown[], cb: (anythingBad: boolean) => void): number;
  connectionCleanup(): void;
  clearReadPacketTimeouts(): void;
  clearWritePacketTimeouts(): void;
  reconnectTimer: Timer;
  rereadTimer: Timer;
  connectTimeout: Timer;
  PDUTimeout: Timer;
  resetTimeout: Timer;
  dropConnectionTimer: Timer;
  dropConnectionCallback: unknown;
  connectCallback: unknown;
  readDoneCallback: unknown;
  writeDoneCallback: unknown;
}

type NodeS7Constructor = new (opts: { silent: boolean; debug?: boolean }) => NodeS7;

export async function createNodeS7(): Promise<NodeS7> {
  const mod = (await import('nodes7')) as unknown as { default: NodeS7Constructor };
  return new mod.default({ silent: true });
}

const noop = () => {};

/**
 * Closes the socket and cancels every timer nodes7 may hold (its own reconnect, re-read and reset
 * timers): a disposed instance never reconnects behind our back nor keeps a process alive.
 */
export function disposeNodeS7(c: NodeS7): void {
  c.connectCallback = noop;
  c.readDoneCallback = noop;
  c.writeDoneCallback = noop;
  c.dropConnectionCallback = null;
  try {
    c.connectionCleanup();
  } catch {
    // never connected
  }
  for (const t of [c.reconnectTimer, c.rereadTimer, c.connectTimeout, c.PDUTimeout, c.resetTimeout, c.dropConnectionTimer]) clearTimeout(t);
  c.reconnectTimer = c.rereadTimer = c.connectTimeout = c.PDUTimeout = c.resetTimeout = c.dropConnectionTimer = undefined;
  c.isoConnectionState = 0;
}

/** Why nodes7 marked a read item bad: `refused` (the PLC answered a return code) or `link` (timeout, malformed). */
export function readItemFailure(c: NodeS7, useraddr: string): { kind: 'refused' | 'link'; code?: number; detail: string } {
  for (const block of c.globalReadBlockList ?? []) {
    if (!block.itemReference?.some((i) => i.useraddr === useraddr)) continue;
    for (const req of block.requestReference ?? []) {
      if (req.valid !== false || !req.errCode) continue;
      const m = /Invalid Response Code - (\d+)/.exec(req.errCode);
      if (m) return { kind: 'refused', code: Number(m[1]), detail: describeReturnCode(Number(m[1])) };
      return { kind: 'link', detail: req.errCode };
    }
  }
  return { kind: 'link', detail: 'bad quality' };
}

/** The PLC's write return code for an item (0xff = success), if nodes7 got an answer. */
export function writeItemCode(c: NodeS7, useraddr: string): number | undefined {
  // The answer lands on the request items of the write packets, not on the items we queued.
  for (const packet of c.writePacketArray ?? []) {
    const item = packet.itemList.find((i) => i.useraddr === useraddr);
    if (item?.writeResponse !== undefined) return item.writeResponse;
  }
  return undefined;
}

export function describeReturnCode(code: number): string {
  const text: Record<number, string> = {
    0x01: 'hardware fault',
    0x03: 'access to the object not allowed (PUT/GET disabled or optimised DB?)',
    0x05: 'invalid address (outside the area or DB)',
    0x06: 'data type not supported',
    0x07: 'data type inconsistent',
    0x0a: 'object does not exist (no such DB)',
  };
  return `return code 0x${code.toString(16).padStart(2, '0')}: ${text[code] ?? 'unknown'}`;
}

export function connectCause(err: unknown): string {
  if (typeof err === 'string') return err;
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' ? code : errorMessage(err);
}
