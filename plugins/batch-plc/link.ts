// The batch link between an mo_batch queue and the mixing PLC: each cycle it lists the queue, reads
// back the blocks of the queued batches, loads the ones the PLC does not hold yet (body first, then
// word +0 = n, the layout's start trigger), and hands finished ones back (markFinished, acknowledge
// with +76 = 1, remove). PLC trouble means backoff and a circuit breaker, logged once per outage;
// queue trouble (the odoo-sync plugin restarting, PostgreSQL down) is logged once and waited out.
import { CircuitBreaker, circuitStateValue } from '../../core/circuit-breaker.ts';
import type { Clock } from '../../core/clock.ts';
import { CircuitOpenError, errorMessage } from '../../core/errors.ts';
import type { HealthModel } from '../../core/health.ts';
import type { PluginScope } from '../../core/host/scope.ts';
import type { Logger } from '../../core/log.ts';
import type { MetricsRegistry } from '../../core/metrics.ts';
import { Backoff } from '../../core/retry.ts';
import type { StateStore } from '../../core/store/types.ts';
import type { MoBatchRepository, MoBatchRow } from '../odoo-sync/batch-repo.ts';
import { batchAddress, BATCH_STRIDE, BATCH_WORDS, decodeBatch, encodeBatch, MAX_BATCH_NO, OFFSET, PlcLayoutError } from '../odoo-sync/plc-layout.ts';
import type { BatchPlcConfig } from './config.ts';
import { toPlcBatch } from './rows.ts';
import { PlcRefusedError, type PlcWords } from './words.ts';

export interface LinkDeps {
  id: string;
  config: BatchPlcConfig;
  plc: PlcWords;
  /** The queue, looked up at use time (its provider may restart); undefined while it is not running. */
  queue: () => MoBatchRepository | undefined;
  store: StateStore;
  health: HealthModel;
  metrics: MetricsRegistry;
  scope: PluginScope;
  clock: Clock;
  log: Logger;
}

/** The queue failed (not the PLC): kept apart so a database outage never reads as a PLC outage. */
class QueueError extends Error {
  override name = 'QueueError';
}

const LAST_OK_EVERY_MS = 1000;

export class BatchPlcLink {
  readonly #d: LinkDeps;
  readonly #breaker: CircuitBreaker;
  readonly #backoff: Backoff;
  readonly #events;
  /** Problems with one batch or block, logged once until they clear (key → message). */
  readonly #noted = new Map<string, string>();
  #connected: boolean | null = null;
  #outage: { since: number; failures: number } | null = null;
  #queueProblem: string | null = null;
  #lastOkAt: number | null = null;
  #lastOkWritten = 0;
  #onPlc: number | null = null;
  /**
   * Blocks this link loaded and has not seen finished yet (slot → MO). Read every cycle even when
   * their queue row is gone (the queue cleared while the PLC holds them), so an MO on the PLC is
   * never loaded into a second block and its result is never lost.
   */
  readonly #loaded = new Map<number, string>();
  /** Whether `#loaded` was rebuilt from the PLC (once per start: a restart forgets what it loaded). */
  #recovered = false;

  constructor(deps: LinkDeps) {
    this.#d = deps;
    const { config, clock, metrics, id, plc } = deps;
    this.#backoff = new Backoff(config.backoff);
    const circuit = metrics.gauge('batch_plc_circuit_state', 'PLC link circuit breaker: 0 closed, 1 half-open, 2 open', ['plugin']);
    circuit.set({ plugin: id }, 0);
    this.#breaker = new CircuitBreaker({
      name: plc.description,
      clock,
      failureThreshold: config.circuit.failureThreshold,
      openMs: config.circuit.openMs,
      onStateChange: (state) => {
        circuit.set({ plugin: id }, circuitStateValue(state));
        if (state === 'open') deps.log.warn(`${plc.description}: circuit open after ${this.#breaker.failures} failed cycles; one trial every ${config.circuit.openMs / 1000} s`);
      },
    });
    this.#events = metrics.counter('batch_plc_batches_total', 'Batches handed to / taken back from the PLC', ['plugin', 'event']);
  }

  start(): void {
    const { config, health, scope, id, log, plc } = this.#d;
    health.watch({ key: config.lastOkKey, maxAgeS: config.staleAfterS, owner: scope.owner });
    health.setCheck(`batch-plc:${id}`, () => this.#check(), scope.owner);
    log.info(`${plc.description}: working queue "${config.queue}" every ${config.pollMs} ms (${config.protocol})`);
    scope.loop(() => this.#cycle());
  }

  /** One cycle; returns the delay before the next. Never throws for PLC or queue trouble. */
  async #cycle(): Promise<number> {
    const { config, scope } = this.#d;
    if (this.#breaker.state === 'open') return Math.max(config.pollMs, this.#breaker.retryInMs);
    try {
      const onPlc = await this.#breaker.call(() => this.#work());
      if (scope.disposed) return config.pollMs;
      await this.#succeeded(onPlc);
      return config.pollMs;
    } catch (err) {
      if (scope.disposed) return config.pollMs;
      if (err instanceof QueueError) {
        // The breaker counted it; a queue problem must not open the PLC's circuit.
        this.#breaker.recordSuccess();
        this.#queueTrouble(err.message);
        return config.pollMs;
      }
      if (err instanceof PlcRefusedError) {
        // The PLC answered: the link is up, the request is wrong. Say it once, keep cycling.
        this.#breaker.recordSuccess();
        this.#note(`refused:${err.message}`, `${err.message}; check the PLC's memory map`);
        return config.pollMs;
      }
      if (err instanceof CircuitOpenError) return Math.max(config.pollMs, this.#breaker.retryInMs || config.pollMs);
      await this.#failed(err);
      const open = this.#breaker.retryInMs > 0;
      return open ? Math.max(config.pollMs, this.#breaker.retryInMs) : Math.max(config.pollMs, this.#backoff.next());
    }
  }

  /** Reads the queue, syncs it with the PLC; returns how many queued batches the PLC holds. */
  async #work(): Promise<number> {
    const { plc } = this.#d;
    const repo = this.#d.queue();
    if (!repo) throw new QueueError(`queue "${this.#d.config.queue}" is not available (is the odoo-sync plugin running?)`);
    const rows = await queueCall('listing the queue', () => repo.list());
    this.#queueOk();
    if (!this.#recovered) await this.#recoverLoaded();
    const placeable = rows.filter((r) => {
      if (r.batch_no >= 1 && r.batch_no <= MAX_BATCH_NO) return true;
      this.#note(`range:${r.mo_id}`, `batch ${r.batch_no} (${r.mo_id}) has no block on the PLC (batches 1..${MAX_BATCH_NO}); it stays queued`);
      return false;
    });
    const stray = [...this.#loaded.keys()].filter((n) => !placeable.some((r) => r.batch_no === n));
    if (placeable.length === 0 && stray.length === 0) {
      // Nothing queued: one small read keeps the link's health honest.
      await plc.read(batchAddress(1), 1);
      return 0;
    }
    const blocks = await this.#readBlocks([...placeable.map((r) => r.batch_no), ...stray]);
    const byMo = new Map(rows.map((r) => [r.mo_id, r]));
    for (const n of stray) await this.#stray(repo, n, blocks.get(n)!, byMo);
    let onPlc = 0;
    for (const row of placeable) {
      if (await this.#step(repo, row, blocks.get(row.batch_no)!, byMo)) onPlc++;
    }
    return onPlc;
  }

  /**
   * Rebuilds `#loaded` from every block the PLC holds, so that after a gateway restart an MO still
   * on the PLC (its queue row cleared meanwhile) is neither loaded into a second block nor its result
   * lost. A block finished and already acknowledged was settled before the restart: left out.
   */
  async #recoverLoaded(): Promise<void> {
    const all = Array.from({ length: MAX_BATCH_NO }, (_, i) => i + 1);
    let blocks: Map<number, number[]>;
    try {
      blocks = await this.#readBlocks(all);
    } catch (err) {
      if (!(err instanceof PlcRefusedError)) throw err;
      // A PLC (often a Modbus one) that maps only some blocks: read them one by one, skip the rest.
      blocks = new Map();
      for (const n of all) {
        try {
          blocks.set(n, (await this.#readBlocks([n])).get(n)!);
        } catch (e) {
          if (!(e instanceof PlcRefusedError)) throw e;
        }
      }
    }
    for (const n of all) {
      const words = blocks.get(n);
      if (!words || words[OFFSET.batchNo] !== n) continue;
      let block;
      try {
        block = decodeBatch(words);
      } catch {
        continue;
      }
      if (!block.moId || (block.finished && block.readAcknowledged)) continue;
      this.#loaded.set(n, block.moId);
    }
    this.#recovered = true;
    if (this.#loaded.size) this.#d.log.info(`the PLC holds ${this.#loaded.size} batch(es) from before this start: ${[...this.#loaded].map(([n, mo]) => `${n} ${mo}`).join(', ')}`);
  }

  /** A block this link loaded whose queue row is gone: waits for it, then settles its result. */
  async #stray(repo: MoBatchRepository, n: number, words: number[], byMo: Map<string, MoBatchRow>): Promise<void> {
    if (words[OFFSET.batchNo] !== n) {
      this.#loaded.delete(n);
      return;
    }
    const block = decodeBatch(words);
    if (!block.finished) return;
    await this.#settleForeign(repo, n, block, byMo);
  }

  /**
   * A finished block whose MO is not the queue row of its slot: the result goes to that MO's queue
   * row if it was queued again under another number, else it is recorded from the block (held for
   * the operator); then the block is acknowledged.
   */
  async #settleForeign(repo: MoBatchRepository, n: number, block: ReturnType<typeof decodeBatch>, byMo: Map<string, MoBatchRow>): Promise<void> {
    const { plc, log } = this.#d;
    const base = batchAddress(n);
    const result = { failed: block.failed === true, actualWeight: block.weightFinished ?? null, consumption: block.consumption };
    const requeued = byMo.get(block.moId);
    if (requeued && !requeued.status_manufacturing) {
      log.warn(`${plc.where(base, BATCH_WORDS)}: batch ${n} finished ${block.moId}, which is now queued as batch ${requeued.batch_no}; its result counts for that one (not mixed again)`);
      await queueCall(`marking batch ${requeued.batch_no} finished`, () => repo.markFinished(requeued.batch_no, result));
      // The same row object is stepped later in this cycle: it must not be loaded now.
      requeued.status_manufacturing = true;
    } else {
      log.warn(`${plc.where(base, BATCH_WORDS)}: batch ${n} finished ${block.moId} (${block.failed ? 'failed' : 'ok'}, ${block.weightFinished} kg), which is no longer queued; recording it for the operator and acknowledging it`);
      if (repo.recordOrphan) {
        const orphan = { batchNo: n, moId: block.moId, bomCode: block.bomCode, finishedGoods: block.finishedGoods, quantity: block.quantity, consumption: block.consumption };
        await queueCall(`recording leftover batch ${n}`, () => repo.recordOrphan!(orphan, result));
      }
    }
    await plc.write(base + OFFSET.statusReadData, [1]);
    this.#loaded.delete(n);
  }

  /** One queued batch against its block; true when the PLC holds it afterwards. */
  async #step(repo: MoBatchRepository, row: MoBatchRow, words: number[], byMo: Map<string, MoBatchRow>): Promise<boolean> {
    const { plc, log, id } = this.#d;
    const n = row.batch_no;
    const base = batchAddress(n);
    const at = plc.where(base, BATCH_WORDS);
    if (words[OFFSET.batchNo] === 0) {
      if (row.status_manufacturing) {
        // Finished, acknowledged and cleared, but not yet removed (the queue failed last time).
        await queueCall(`removing batch ${n}`, () => repo.remove(n));
        return false;
      }
      const elsewhere = [...this.#loaded].find(([slot, mo]) => mo === row.mo_id && slot !== n);
      if (elsewhere) {
        this.#note(`twice:${row.mo_id}`, `${row.mo_id} (batch ${n}) is still on the PLC as batch ${elsewhere[0]} (the queue was cleared meanwhile); not loading it twice, its result will count for batch ${n}`);
        return false;
      }
      return await this.#load(row);
    }
    const block = decodeBatch(words);
    if (words[OFFSET.batchNo] !== n) {
      this.#note(`foreign:${n}`, `${at} holds ${words[OFFSET.batchNo]} in word +0, not batch ${n}; not writing over it (clear the block on the PLC)`);
      return false;
    }
    if (block.moId !== row.mo_id) {
      if (block.finished) {
        await this.#settleForeign(repo, n, block, byMo);
      } else {
        this.#note(`busy:${n}`, `${at} still holds ${block.moId} (not finished); ${row.mo_id} waits for the block`);
      }
      return false;
    }
    this.#clear(`foreign:${n}`, `busy:${n}`);
    if (!block.finished) return true;
    // The block's consumption words as the PLC left them at the end: what was actually drawn per silo.
    const result = { failed: block.failed === true, actualWeight: block.weightFinished ?? null, consumption: block.consumption };
    if (!row.status_manufacturing) {
      await queueCall(`marking batch ${n} finished`, () => repo.markFinished(n, result));
      this.#events.inc({ plugin: id, event: result.failed ? 'failed' : 'finished' });
      log.info(`batch ${n} (${row.mo_id}) ${result.failed ? 'FAILED' : 'finished'} on the PLC: ${result.actualWeight} kg`);
    }
    if (!block.readAcknowledged) await plc.write(base + OFFSET.statusReadData, [1]);
    this.#loaded.delete(n);
    await queueCall(`removing batch ${n}`, () => repo.remove(n));
    return false;
  }

  /** Writes a batch into its empty block: body first, word +0 last (the start trigger). */
  async #load(row: MoBatchRow): Promise<boolean> {
    const { plc, log, id } = this.#d;
    let words: number[];
    try {
      words = encodeBatch(toPlcBatch(row));
    } catch (err) {
      if (!(err instanceof PlcLayoutError)) throw err;
      this.#note(`encode:${row.mo_id}`, `not loading batch ${row.batch_no} (${row.mo_id}): ${err.message}`);
      return false;
    }
    const base = batchAddress(row.batch_no);
    await plc.write(base + 1, words.slice(1));
    await plc.write(base, [words[OFFSET.batchNo]]);
    this.#loaded.set(row.batch_no, row.mo_id);
    this.#events.inc({ plugin: id, event: 'loaded' });
    log.info(`batch ${row.batch_no} (${row.mo_id}, ${row.consumption} kg) loaded at ${plc.where(base, BATCH_WORDS)}`);
    return true;
  }

  /** Reads the used words of each batch's block, neighbouring blocks in one request where they fit. */
  async #readBlocks(batchNos: number[]): Promise<Map<number, number[]>> {
    const { plc } = this.#d;
    const sorted = [...new Set(batchNos)].sort((a, b) => a - b);
    const out = new Map<number, number[]>();
    let i = 0;
    while (i < sorted.length) {
      let j = i;
      while (j + 1 < sorted.length && (sorted[j + 1] - sorted[i]) * BATCH_STRIDE + BATCH_WORDS <= plc.maxRead) j++;
      const first = batchAddress(sorted[i]);
      const words = await plc.read(first, (sorted[j] - sorted[i]) * BATCH_STRIDE + BATCH_WORDS);
      for (let k = i; k <= j; k++) {
        const off = batchAddress(sorted[k]) - first;
        out.set(sorted[k], words.slice(off, off + BATCH_WORDS));
      }
      i = j + 1;
    }
    return out;
  }

  async #succeeded(onPlc: number): Promise<void> {
    const { config, store, clock, log, plc } = this.#d;
    const now = clock.now();
    this.#backoff.reset();
    this.#lastOkAt = now;
    const changes: Record<string, unknown> = {};
    if (this.#connected !== true) changes[config.connectedKey] = true;
    if (this.#connected !== true || now - this.#lastOkWritten >= Math.min(LAST_OK_EVERY_MS, (config.staleAfterS * 1000) / 4)) {
      changes[config.lastOkKey] = now / 1000;
      this.#lastOkWritten = now;
    }
    if (onPlc !== this.#onPlc) changes[config.countKey] = onPlc;
    this.#onPlc = onPlc;
    if (this.#outage) {
      log.info(`${plc.description}: answering again after ${((now - this.#outage.since) / 1000).toFixed(1)} s (${this.#outage.failures} failed cycle(s))`);
      this.#outage = null;
    } else if (this.#connected === null) {
      log.info(`${plc.description}: connected`);
    }
    this.#connected = true;
    if (Object.keys(changes).length) await store.setMany(changes, { durable: false });
  }

  async #failed(err: unknown): Promise<void> {
    const { config, store, clock, log, plc } = this.#d;
    if (!this.#outage) {
      this.#outage = { since: clock.now(), failures: 1 };
      log.warn(`${errorMessage(err)}; ${config.connectedKey}=false, batches wait; retrying with backoff (logged once per outage)`);
    } else {
      this.#outage.failures++;
      log.debug(() => `${plc.description}: still failing (${this.#outage?.failures}): ${errorMessage(err)}`);
    }
    if (this.#connected !== false) {
      this.#connected = false;
      await store.set(config.connectedKey, false, { durable: false });
    }
  }

  #queueTrouble(message: string): void {
    if (this.#queueProblem === message) return;
    this.#queueProblem = message;
    this.#d.log.warn(`${message}; the PLC keeps what it has, retrying every ${this.#d.config.pollMs} ms (logged once)`);
  }

  #queueOk(): void {
    if (this.#queueProblem === null) return;
    this.#d.log.info(`queue "${this.#d.config.queue}" is back`);
    this.#queueProblem = null;
  }

  #note(key: string, message: string): void {
    if (this.#noted.get(key) === message) return;
    this.#noted.set(key, message);
    this.#d.log.warn(message);
  }

  #clear(...keys: string[]): void {
    for (const k of keys) this.#noted.delete(k);
  }

  #check(): { ok: boolean; detail: string } {
    const { clock, plc } = this.#d;
    const state = this.#breaker.state;
    const age = this.#lastOkAt === null ? 'never' : `${((clock.now() - this.#lastOkAt) / 1000).toFixed(1)} s ago`;
    const parts = [
      `${plc.description}: ${this.#connected ? 'connected' : 'not connected'}`,
      `circuit ${state}`,
      `last ok ${age}`,
      `${this.#onPlc ?? 0} batch(es) on the PLC`,
      ...(this.#queueProblem ? [this.#queueProblem] : []),
      ...(this.#breaker.lastError ? [`last error: ${this.#breaker.lastError}`] : []),
    ];
    return { ok: this.#connected === true && state === 'closed' && this.#queueProblem === null, detail: parts.join('; ') };
  }
}

async function queueCall<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw new QueueError(`mo_batch queue: ${what} failed: ${errorMessage(err)}`, { cause: err });
  }
}
