// Read coalescing on the wire: 1,000 tags scattered over 4,000 holding registers of a simulated
// unit on loopback, polled with the bridge's read plan versus one request per tag.
// Usage: node --import tsx bench/modbus.ts  (or deno run -A bench/modbus.ts)
import { systemClock } from '../core/clock.ts';
import { SerialModbusClient } from '../adapters/modbus/client.ts';
import { decode } from '../plugins/modbus-bridge/codec.ts';
import type { TagConfig } from '../plugins/modbus-bridge/config.ts';
import { planReads, type ReadBlock } from '../plugins/modbus-bridge/plan.ts';
import { ModbusTcpServer, RegisterBank } from '../sim/modbus-server.ts';

const TAGS = 1000;
const REGISTERS = 4000;
// Loopback answers in ~40 µs; a PLC on a LAN takes milliseconds (the NJ301 serves Modbus from its
// task), so the run is repeated with a response delay that stands for that turnaround.
const DELAY_MS = Number(process.argv[2] ?? 2);
const CYCLES = 100;

// Deterministic scatter (mulberry32), a fifth of the tags float32.
let seed = 0x5eed;
const random = () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const used = new Uint8Array(REGISTERS);
const tags: TagConfig[] = [];
while (tags.length < TAGS) {
  const float = tags.length % 5 === 0;
  const address = Math.floor(random() * (REGISTERS - 1));
  if (used[address] || (float && used[address + 1])) continue;
  used[address] = 1;
  if (float) used[address + 1] = 1;
  tags.push({ key: `t${tags.length}`, table: 'holding', address, type: float ? 'float32' : 'uint16', wordOrder: 'big', scale: 1, offset: 0, direction: 'read', deadband: 0 });
}

const bank = new RegisterBank({ holding: REGISTERS });
bank.holding.forEach((_, i) => (bank.holding[i] = i));
const server = new ModbusTcpServer({ port: 0, units: new Map([[1, bank]]) });
await server.start();
const client = new SerialModbusClient({ transport: 'tcp', host: server.host, port: server.port, timeoutMs: 2000 }, systemClock);
await client.connect();

async function cycle(blocks: ReadBlock<TagConfig>[]): Promise<number> {
  let decoded = 0;
  for (const block of blocks) {
    const words = await client.readRegisters('holding', 1, block.address, block.count);
    for (const { tag, offset, width } of block.tags) {
      decode(tag, words.slice(offset, offset + width));
      decoded++;
    }
  }
  return decoded;
}

async function measure(label: string, blocks: ReadBlock<TagConfig>[], cycles: number) {
  for (let i = 0; i < Math.min(10, cycles); i++) await cycle(blocks); // warm-up (JIT)
  const times: number[] = [];
  for (let i = 0; i < cycles; i++) {
    const t0 = performance.now();
    const n = await cycle(blocks);
    times.push(performance.now() - t0);
    if (n !== TAGS) throw new Error(`${label}: decoded ${n} tags, expected ${TAGS}`);
  }
  times.sort((a, b) => a - b);
  const mean = times.reduce((a, b) => a + b, 0) / times.length;
  const registers = blocks.reduce((a, b) => a + b.count, 0);
  console.log(`${label.padEnd(34)} ${String(blocks.length).padStart(5)} req/cycle ${String(registers).padStart(6)} registers  mean ${mean.toFixed(2).padStart(8)} ms  p50 ${times[times.length >> 1].toFixed(2)} ms  max ${times[times.length - 1].toFixed(2)} ms`);
  return { requests: blocks.length, mean };
}

const runtime = typeof (globalThis as { Deno?: unknown }).Deno !== 'undefined' ? 'deno' : `node ${process.version}`;
const plan = (maxGap: number) => planReads(tags, { maxGap, maxRegistersPerRequest: 125, maxBitsPerRequest: 2000 });
const perTag = tags.map((tag) => ({ table: 'holding' as const, address: tag.address, count: tag.type === 'float32' ? 2 : 1, tags: [{ tag, offset: 0, width: tag.type === 'float32' ? 2 : 1 }] }));
for (const delay of [0, DELAY_MS]) {
  server.responseDelayMs = delay;
  const cycles = delay === 0 ? CYCLES : 5;
  console.log(`\n${TAGS} tags over ${REGISTERS} holding registers, ${runtime}, loopback TCP, response delay ${delay} ms, ${cycles} cycles`);
  const coalesced = await measure('coalesced (maxGap 32 = default)', plan(32), cycles);
  await measure('coalesced (maxGap 10)', plan(10), cycles);
  await measure('coalesced (maxGap 124, the maximum)', plan(124), cycles);
  await measure('coalesced (maxGap 0)', plan(0), cycles);
  const single = await measure('one request per tag', perTag, cycles);
  console.log(`default plan vs one per tag: requests 1/${(single.requests / coalesced.requests).toFixed(1)}, cycle time 1/${(single.mean / coalesced.mean).toFixed(1)} (target: 1/20 or better)`);
}

await client.close();
await server.stop();
