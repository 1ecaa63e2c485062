// WebSocket live-feed benchmark: 1,000 clients subscribed to `state/*` while 20 state keys are
// updated at 20 Hz each through the store (`setMany`, non-durable like the value poller), so the
// real path store -> bus -> LiveHub -> sockets is measured. Then one extra client stalls (stops
// reading) for `--minutes` while the others keep receiving, and the gateway's RSS is sampled.
//
// Usage: node --import tsx bench/ws.ts [--clients 1000] [--seconds 30] [--minutes 5] [--warmup 5] [--stagger] [--no-restall] [--ping-ms N]
//        deno run -A bench/ws.ts [same flags]
//
// Two processes: this one is the gateway (runtime + http-api plugin + store + the 20 Hz producer);
// it measures RSS, event-loop delay, its own CPU and the hub's counters. The 1,000 sockets live in
// a child (`node --import tsx bench/ws.ts --client ...`, always Node) that measures delivery counts
// and end-to-end latency: each value carries the sender's wall-clock stamp `t` (taken just before
// `setMany`) and `s` (the tick's scheduled time), both from performance.now() calibrated against
// Date.now() in each process, compared with the same clock at the client's 'message' event.
// The two processes share this machine's CPUs, as a real deployment with clients elsewhere would not.
//
// The stalled client connects from 127.0.0.2 (still loopback) so the hub's log lines, which name
// the client address only, identify it. When the hub closes it (1013) or drops it (no pong), the
// child resumes reading it to see which close code arrives; unless --no-restall, a new stalled
// client replaces it 2 s later, so one stalled client is present for the whole window.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const argv = process.argv.slice(2);
const flag = (name: string) => argv.includes(`--${name}`);
const opt = (name: string, dflt: number) => {
  const i = argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(argv[i + 1]) : dflt;
  if (!Number.isFinite(v) || v < 0) throw new Error(`--${name} wants a number`);
  return v;
};

const KEYS = 20;
const HZ = 20;
const PERIOD_MS = 1000 / HZ;
const TOPIC = 'state/*';
const STALLED_ADDRESS = '127.0.0.2';

/** Wall-clock ms with sub-ms resolution, calibrated against Date.now() so two processes agree. */
function makeClock(): () => number {
  let sum = 0;
  let n = 0;
  const until = Date.now() + 30;
  while (Date.now() < until) {
    sum += Date.now() + 0.5 - performance.now(); // Date.now() truncates: +0.5 ms on average
    n++;
  }
  const base = sum / n;
  return () => performance.now() + base;
}

/** Fixed-bucket latency histogram: 0.05 ms buckets up to 20 s, then one overflow bucket. */
class Hist {
  static readonly STEP = 0.05;
  readonly b = new Uint32Array(400_001);
  n = 0;
  max = 0;
  add(ms: number): void {
    const i = ms <= 0 ? 0 : Math.min(this.b.length - 1, Math.floor(ms / Hist.STEP));
    this.b[i]!++;
    this.n++;
    if (ms > this.max) this.max = ms;
  }
  q(p: number): number {
    if (this.n === 0) return NaN;
    const want = Math.ceil(p * this.n);
    let acc = 0;
    for (let i = 0; i < this.b.length; i++) {
      acc += this.b[i]!;
      if (acc >= want) return (i + 1) * Hist.STEP;
    }
    return this.max;
  }
  reset(): void {
    this.b.fill(0);
    this.n = 0;
    this.max = 0;
  }
}

if (flag('client')) await clientMain();
else await serverMain();

// ------------------------------------------------------------------------------------------------
// Client process (Node): opens the sockets, counts and times deliveries, obeys commands on stdin.
// ------------------------------------------------------------------------------------------------
async function clientMain(): Promise<void> {
  const { WebSocket } = await import('ws');
  const url = argv[argv.indexOf('--url') + 1]!;
  const clients = opt('clients', 1000);
  const restall = !flag('no-restall');
  const now = makeClock();
  const out = (o: object) => process.stdout.write(JSON.stringify(o) + '\n');

  const sendLat = new Hist();
  const schedLat = new Hist();
  const perClient = new Uint32Array(clients);
  let deltas = 0;
  let closesUnexpected = 0;
  const closeCodes: Record<string, number> = {};
  let cpu = process.cpuUsage();
  let windowStart = now();
  const sockets: InstanceType<typeof WebSocket>[] = [];

  const onDelta = (idx: number, text: string) => {
    const t = now();
    type D = { type: string; value?: { t: number; s: number } };
    const m = JSON.parse(text) as D & { deltas?: D[] };
    // The hub sends one frame per event-loop turn: a plain delta, or a batch of them.
    for (const d of m.type === 'batch' ? m.deltas ?? [] : [m]) {
      if (d.type !== 'delta' || !d.value) continue;
      deltas++;
      perClient[idx]!++;
      sendLat.add(t - d.value.t);
      schedLat.add(t - d.value.s);
    }
  };

  const open = (idx: number) =>
    new Promise<void>((resolve, reject) => {
      const ws = new WebSocket(`${url}?topics=${encodeURIComponent(TOPIC)}`);
      const timer = setTimeout(() => reject(new Error(`client ${idx}: no snapshot within 30 s`)), 30_000);
      ws.on('message', (data: Buffer) => {
        const text = data.toString('utf8');
        if (text.startsWith('{"type":"snapshot"')) {
          clearTimeout(timer);
          resolve();
          return;
        }
        onDelta(idx, text);
      });
      ws.on('close', (code: number) => {
        clearTimeout(timer);
        if (!stopping) {
          closesUnexpected++;
          closeCodes[code] = (closeCodes[code] ?? 0) + 1;
          reject(new Error(`client ${idx} closed ${code} before its snapshot`));
        }
      });
      ws.on('error', () => {});
      sockets.push(ws);
    });

  let stopping = false;
  const t0 = now();
  for (let i = 0; i < clients; i += 50) {
    await Promise.all(Array.from({ length: Math.min(50, clients - i) }, (_, j) => open(i + j)));
  }
  out({ ev: 'ready', clients: sockets.length, connectMs: Math.round(now() - t0) });

  // The stalled client: subscribes, takes its snapshot, then stops reading (socket paused).
  let stalled: { ws: InstanceType<typeof WebSocket>; since: number; after: number; closed: boolean } | null = null;
  const stall = (localAddress: string | undefined = STALLED_ADDRESS) => {
    const ws = new WebSocket(`${url}?topics=${encodeURIComponent(TOPIC)}`, localAddress ? { localAddress } : {});
    const s = { ws, since: 0, after: 0, closed: false };
    stalled = s;
    ws.on('message', (data: Buffer) => {
      if (s.since === 0 && data.toString('utf8').startsWith('{"type":"snapshot"')) {
        ws.pause();
        s.since = now();
        out({ ev: 'stalled', address: localAddress ?? '127.0.0.1' });
      } else if (s.since !== 0) {
        s.after++;
      }
    });
    ws.on('error', (err: Error) => {
      if (localAddress && s.since === 0 && !s.closed) {
        s.closed = true;
        out({ ev: 'note', msg: `stalled client cannot bind ${localAddress} (${err.message}); using 127.0.0.1` });
        stall(undefined);
      }
    });
    ws.on('close', (code: number, reason: Buffer) => {
      if (s.closed) return;
      s.closed = true;
      out({ ev: 'stalled-closed', code, reason: reason.toString(), stalledMs: Math.round(now() - s.since), readAfterResume: s.after });
      if (restall && !stopping) setTimeout(() => !stopping && stall(), 2000);
    });
  };

  const rl = createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    const cmd = JSON.parse(line) as { cmd: string };
    if (cmd.cmd === 'report') {
      const el = (now() - windowStart) / 1000;
      let min = Infinity;
      let zero = 0;
      for (const c of perClient) {
        if (c < min) min = c;
        if (c === 0) zero++;
      }
      const c = process.cpuUsage(cpu);
      out({
        ev: 'report', seconds: el, deltas, perSecond: deltas / el, minPerClient: min, clientsWithZero: zero,
        send: { p50: sendLat.q(0.5), p99: sendLat.q(0.99), p999: sendLat.q(0.999), max: sendLat.max },
        sched: { p50: schedLat.q(0.5), p99: schedLat.q(0.99), p999: schedLat.q(0.999), max: schedLat.max },
        cpuPct: ((c.user + c.system) / 1000 / (el * 1000)) * 100, closesUnexpected, closeCodes,
        open: sockets.filter((w) => w.readyState === WebSocket.OPEN).length,
      });
    } else if (cmd.cmd === 'reset') {
      sendLat.reset();
      schedLat.reset();
      perClient.fill(0);
      deltas = 0;
      cpu = process.cpuUsage();
      windowStart = now();
    } else if (cmd.cmd === 'stall') {
      stall();
    } else if (cmd.cmd === 'release') {
      // The hub has given up on the stalled client: read again to see how the connection ends.
      const s = stalled;
      if (s && !s.closed) {
        s.ws.resume();
        setTimeout(() => {
          if (!s.closed) {
            s.closed = true;
            out({ ev: 'stalled-closed', code: null, reason: 'no close within 10 s of resuming; terminated', stalledMs: Math.round(now() - s.since), readAfterResume: s.after });
            s.ws.terminate();
            if (restall && !stopping) setTimeout(() => !stopping && stall(), 2000);
          }
        }, 10_000);
      }
    } else if (cmd.cmd === 'exit') {
      stopping = true;
      for (const w of sockets) w.terminate();
      (stalled as { ws: InstanceType<typeof WebSocket> } | null)?.ws.terminate();
      rl.close();
      setTimeout(() => process.exit(0), 100);
    }
  });
  // Never outlive the gateway.
  process.stdin.on('end', () => process.exit(0));
}

// ------------------------------------------------------------------------------------------------
// Gateway process: runtime, producer, measurements.
// ------------------------------------------------------------------------------------------------
async function serverMain(): Promise<void> {
  const { createRuntime } = await import('../core/host/runtime.ts');
  const { LogRoot } = await import('../core/log.ts');
  const httpApi = (await import('../plugins/http-api/plugin.ts')).default;
  const { testManifest } = await import('../test/helpers/manifest.ts');

  const CLIENTS = opt('clients', 1000);
  const WARMUP_S = opt('warmup', 5);
  const SECONDS = opt('seconds', 30);
  const MINUTES = opt('minutes', 5);
  const STAGGER = flag('stagger');
  const isDeno = typeof (globalThis as { Deno?: unknown }).Deno !== 'undefined';
  const runtimeName = isDeno ? `Deno ${(globalThis as unknown as { Deno: { version: { deno: string } } }).Deno.version.deno}` : `Node ${process.version}`;
  const now = makeClock();
  const rss = () => process.memoryUsage().rss / 1048576;
  const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
  const fmt = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');

  // Hard stop: the whole run is bounded even if something hangs.
  const budgetMs = (WARMUP_S + SECONDS + MINUTES * 60 + 180) * 1000;
  const hardStop = setTimeout(() => {
    console.error(`ws bench: over its time budget (${budgetMs / 1000} s); aborting`);
    child?.kill('SIGKILL');
    process.exit(2);
  }, budgetMs);

  // Hub log lines (conflation, 1013 closes, pong drops), timestamped, by client address.
  const wsEvents: Array<{ at: number; msg: string }> = [];
  let onWsLog: (msg: string) => void = () => {};
  const logRoot = new LogRoot({
    level: 'info',
    write: (line) => {
      const rec = JSON.parse(line) as { msg?: string; level?: string };
      if (typeof rec.msg === 'string' && rec.msg.startsWith('ws client ')) {
        wsEvents.push({ at: now(), msg: rec.msg });
        onWsLog(rec.msg);
      } else if (rec.level === 'error' || rec.level === 'warn') {
        console.error(line);
      }
    },
  });

  const dataDir = await mkdtemp(join(tmpdir(), 'fieldgate-bench-ws-'));
  const manifest = testManifest([{
    id: 'api',
    use: 'http-api',
    config: {
      port: 0,
      rateLimit: { max: 100_000_000, timeWindowMs: 60_000 },
      // Only maxClients is raised (default 500) to admit 1,000 + the stalled one; the backpressure
      // thresholds stay at their defaults: softBytes 64 KiB, hardBytes 1 MiB, stallMs 30 s, ping 30 s.
      // --ping-ms N changes the heartbeat period (default 30 s) to let the conflation/1013 path show
      // before the heartbeat drops a stalled client; say so next to any figure taken with it.
      ws: { maxClients: CLIENTS + 100, ...(argv.includes('--ping-ms') ? { pingIntervalMs: opt('ping-ms', 30_000) } : {}) },
      dashboard: { enabled: false },
    },
  }]);
  const runtime = await createRuntime({ manifest, plugins: [httpApi], adapters: [], logRoot, dataDir });
  await runtime.start();
  const url = runtime.routes.address!.replace(/^http/, 'ws') + '/ws';
  const store = runtime.store;
  const keys = Array.from({ length: KEYS }, (_, i) => `bench_${String(i).padStart(2, '0')}`);
  await store.setMany(Object.fromEntries(keys.map((k) => [k, { v: 0, t: 0, s: 0 }])), { durable: false });

  const counter = async (name: string) => {
    const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+]+)$`, 'm').exec(await runtime.metrics.text());
    return m ? Number(m[1]) : NaN;
  };

  let eld: { reset(): void; percentile(p: number): number; max: number; enable(): void } | null = null;
  try {
    const { monitorEventLoopDelay } = await import('node:perf_hooks');
    eld = monitorEventLoopDelay({ resolution: 10 });
    eld.enable();
  } catch {
    eld = null;
  }

  // --- the client process -------------------------------------------------------------------
  const self = fileURLToPath(import.meta.url);
  let child: ChildProcess | null = spawn('node', ['--import', 'tsx', self, '--client', '--url', url, '--clients', String(CLIENTS), ...(flag('no-restall') ? ['--no-restall'] : [])], {
    stdio: ['pipe', 'pipe', 'inherit'],
    cwd: join(self, '..', '..'),
  });
  const waiters: Array<{ ev: string; resolve: (m: Record<string, unknown>) => void }> = [];
  const stalledLog: Array<Record<string, unknown> & { at: number }> = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    let m: Record<string, unknown>;
    try {
      m = JSON.parse(line) as Record<string, unknown>;
    } catch {
      console.log(`[client] ${line}`);
      return;
    }
    if (m.ev === 'stalled' || m.ev === 'stalled-closed' || m.ev === 'note') stalledLog.push({ ...m, at: now() });
    if (m.ev === 'note') console.log(`[client] ${String(m.msg)}`);
    const i = waiters.findIndex((w) => w.ev === m.ev);
    if (i >= 0) waiters.splice(i, 1)[0]!.resolve(m);
  });
  let childExited = false;
  child.on('exit', (code) => {
    childExited = true;
    for (const w of waiters.splice(0)) w.resolve({ ev: 'exit', code });
  });
  const cmd = (o: object) => child!.stdin!.write(JSON.stringify(o) + '\n');
  const wait = (ev: string, ms: number) =>
    Promise.race([
      new Promise<Record<string, unknown>>((resolve) => waiters.push({ ev, resolve })),
      sleep(ms).then(() => {
        throw new Error(`client process: no "${ev}" within ${ms} ms`);
      }),
    ]);
  const report = async () => {
    cmd({ cmd: 'report' });
    return (await wait('report', 30_000)) as unknown as ClientReport;
  };

  // --- the producer: 20 keys at 20 Hz through the store -----------------------------------------
  // Burst (default): one setMany of the 20 keys every 50 ms, as a poller writes a register block.
  // --stagger: each key on its own 50 ms schedule, phases spread over the period, one set() each.
  // A tick more than one period late is skipped (counted), as a poller would, not replayed.
  const slots = STAGGER ? keys.map((k, i) => ({ keys: [k], offset: (i * PERIOD_MS) / KEYS, tick: 0 })) : [{ keys, offset: 0, tick: 0 }];
  let produced = 0;
  let skipped = 0;
  let seq = 0;
  let producing = true;
  let writeErrors = 0;
  /** Time the synchronous part of set/setMany takes: store write, bus publish, hub encode + every socket.send. */
  const fanout = new Hist();
  const p0 = now() + 100;
  const produce = () => {
    if (!producing) return;
    const t = now();
    let next = Infinity;
    for (const slot of slots) {
      let due = p0 + slot.offset + slot.tick * PERIOD_MS;
      while (due <= t) {
        if (t - due > PERIOD_MS) {
          skipped += slot.keys.length;
        } else {
          const s = Math.round(due * 1000) / 1000;
          const stamp = Math.round(now() * 1000) / 1000;
          const entries: Record<string, unknown> = {};
          for (const k of slot.keys) entries[k] = { v: seq++, t: stamp, s };
          const w = slot.keys.length === 1 ? store.set(slot.keys[0]!, entries[slot.keys[0]!], { durable: false }) : store.setMany(entries, { durable: false });
          w.catch(() => writeErrors++);
          fanout.add(now() - stamp);
          produced += slot.keys.length;
        }
        slot.tick++;
        due = p0 + slot.offset + slot.tick * PERIOD_MS;
      }
      next = Math.min(next, due);
    }
    setTimeout(produce, Math.max(0, next - now()));
  };

  const lines: string[] = [];
  const say = (s: string) => {
    console.log(s);
    lines.push(s);
  };

  try {
    const ready = await wait('ready', 120_000);
    say(`${runtimeName} gateway, ${ready.clients} clients in a separate Node process (connected in ${ready.connectMs} ms), ${KEYS} keys x ${HZ} Hz (${STAGGER ? 'staggered set()' : 'one setMany per 50 ms'}), url ${url}`);
    produce();

    // --- phase 1: fan-out throughput and latency ----------------------------------------------
    await sleep(WARMUP_S * 1000);
    cmd({ cmd: 'reset' });
    eld?.reset();
    fanout.reset();
    const sent0 = await counter('fieldgate_http_ws_messages_sent_total');
    const prod0 = produced;
    const skip0 = skipped;
    const cpu0 = process.cpuUsage();
    const t1 = now();
    await sleep(SECONDS * 1000);
    const r = await report();
    const el = (now() - t1) / 1000;
    const cpu1 = process.cpuUsage(cpu0);
    const sent1 = await counter('fieldgate_http_ws_messages_sent_total');
    const conflatedNormal = wsEvents.filter((e) => !e.msg.includes(STALLED_ADDRESS) && e.msg.includes('latest value')).length;
    say(`phase 1 (${fmt(el, 0)} s after ${WARMUP_S} s warm-up):`);
    say(`  gateway: updates ${fmt((produced - prod0) / el, 0)}/s (target ${KEYS * HZ}/s; ${skipped - skip0} skipped as late), hub sent ${fmt((sent1 - sent0) / el, 0)} msg/s, CPU ${fmt(((cpu1.user + cpu1.system) / 1000 / (el * 1000)) * 100, 0)}% of one core, event-loop delay p99 ${eld ? fmt(eld.percentile(99) / 1e6, 1) : 'n/a'} ms max ${eld ? fmt(eld.max / 1e6, 1) : 'n/a'} ms, RSS ${fmt(rss())} MB`);
    say(`  gateway: synchronous set/setMany + fan-out per call p50 ${fmt(fanout.q(0.5), 2)} ms p99 ${fmt(fanout.q(0.99), 2)} ms max ${fmt(fanout.max, 1)} ms`);
    say(`  clients: delivered ${fmt(r.perSecond, 0)} msg/s (${r.deltas} in ${fmt(r.seconds, 1)} s; min per client ${r.minPerClient}, clients with none ${r.clientsWithZero}), CPU ${fmt(r.cpuPct, 0)}% of one core`);
    say(`  latency from send stamp: p50 ${fmt(r.send.p50, 2)} ms  p99 ${fmt(r.send.p99, 2)} ms  p99.9 ${fmt(r.send.p999, 2)} ms  max ${fmt(r.send.max, 1)} ms  (target p99 <= 50 ms: ${r.send.p99 <= 50 ? 'met' : 'MISSED'})`);
    say(`  latency from scheduled tick: p50 ${fmt(r.sched.p50, 2)} ms  p99 ${fmt(r.sched.p99, 2)} ms  max ${fmt(r.sched.max, 1)} ms`);
    say(`  normal clients conflated by the hub: ${conflatedNormal} log events; unexpected closes ${r.closesUnexpected} ${JSON.stringify(r.closeCodes)}`);

    // --- phase 2: one stalled client for MINUTES ----------------------------------------------
    if (MINUTES > 0) {
      const samples: number[] = [];
      for (let i = 0; i < 5; i++) {
        samples.push(rss());
        await sleep(1000);
      }
      const rss0 = samples.sort((a, b) => a - b)[2]!;
      const ws0 = wsEvents.length;
      const slow0 = await counter('fieldgate_http_ws_slow_clients_closed_total');
      const confl0 = await counter('fieldgate_http_ws_messages_conflated_total');
      onWsLog = (msg) => {
        if (msg.includes(STALLED_ADDRESS) && (msg.includes('closing with 1013') || msg.includes('dropping'))) cmd({ cmd: 'release' });
      };
      cmd({ cmd: 'reset' });
      cmd({ cmd: 'stall' });
      const tS = now();
      say(`phase 2: one client stalled (paused socket, from ${STALLED_ADDRESS}) for ${MINUTES} min${flag('no-restall') ? '' : ', replaced 2 s after each close'}; baseline RSS ${fmt(rss0)} MB (median of 5 s)`);
      let rssMax = rss0;
      let worstP99 = 0;
      let minDelivered = Infinity;
      const end = tS + MINUTES * 60_000;
      let nextReport = tS + 30_000;
      while (now() < end && !childExited) {
        await sleep(Math.min(5000, Math.max(0, end - now())));
        const m = rss();
        if (m > rssMax) rssMax = m;
        if (now() >= nextReport || now() >= end) {
          nextReport += 30_000;
          const w = await report();
          cmd({ cmd: 'reset' });
          worstP99 = Math.max(worstP99, w.send.p99);
          minDelivered = Math.min(minDelivered, w.minPerClient);
          say(`  t+${fmt((now() - tS) / 1000, 0).padStart(3)} s  RSS ${fmt(m)} MB (+${fmt(m - rss0)})  others: ${fmt(w.perSecond, 0)} msg/s, p50 ${fmt(w.send.p50, 2)} p99 ${fmt(w.send.p99, 2)} ms, min per client ${w.minPerClient}, open ${w.open}`);
        }
      }
      const rssEnd = rss();
      say(`  stalled-client events (gateway log, times from the stall):`);
      for (const e of wsEvents.slice(ws0)) {
        if (e.msg.includes(STALLED_ADDRESS)) say(`    t+${fmt((e.at - tS) / 1000, 1)} s  ${e.msg}`);
      }
      for (const e of stalledLog.filter((e) => e.at >= tS)) {
        if (e.ev === 'stalled-closed') say(`    t+${fmt((e.at - tS) / 1000, 1)} s  client saw close code ${String(e.code)} "${String(e.reason)}" after ${e.stalledMs} ms stalled; ${e.readAfterResume} messages read after resuming`);
      }
      const others = wsEvents.slice(ws0).filter((e) => !e.msg.includes(STALLED_ADDRESS)).length;
      say(`  hub counters during the stall: slow clients closed ${(await counter('fieldgate_http_ws_slow_clients_closed_total')) - slow0}, messages conflated ${(await counter('fieldgate_http_ws_messages_conflated_total')) - confl0}; ws log events for other clients ${others}`);
      say(`  RSS: baseline ${fmt(rss0)} MB, end ${fmt(rssEnd)} MB, max ${fmt(rssMax)} MB -> growth ${fmt(rssEnd - rss0)} MB at the end, ${fmt(rssMax - rss0)} MB at most (target <= 8 MB: ${rssMax - rss0 <= 8 ? 'met' : 'MISSED'})`);
      say(`  others during the stall: worst 30 s window p99 ${fmt(worstP99, 2)} ms, fewest messages to one client in a window ${minDelivered}`);
    }
    say(`producer write errors: ${writeErrors}`);
  } finally {
    producing = false;
    if (child && !childExited) {
      cmd({ cmd: 'exit' });
      await Promise.race([new Promise((r) => child!.once('exit', r)), sleep(5000)]);
      if (!childExited) child.kill('SIGKILL');
    }
    child = null;
    eld = null;
    await runtime.stop();
    await rm(dataDir, { recursive: true, force: true });
    clearTimeout(hardStop);
  }
}

interface ClientReport {
  seconds: number;
  deltas: number;
  perSecond: number;
  minPerClient: number;
  clientsWithZero: number;
  send: { p50: number; p99: number; p999: number; max: number };
  sched: { p50: number; p99: number; p999: number; max: number };
  cpuPct: number;
  closesUnexpected: number;
  closeCodes: Record<string, number>;
  open: number;
}
