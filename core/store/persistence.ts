// Gets mutations from memory to disk: group commit into the journal, lazy flush of non-durable
// writes, snapshots that rotate and drop the journal, and the disk -> memory -> disk fallback.
import type { Clock, TimerHandle } from '../clock.ts';
import { errorMessage } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Disk } from './disk.ts';
import { encodeLine } from './journal-format.ts';
import { type JournalFileInfo, JournalWriter } from './journal.ts';
import { writeSnapshot } from './snapshot.ts';
import type { WriteResult } from './types.ts';

export interface PersistenceOptions {
  disk: Disk;
  /** null: nothing is ever written (pure in-memory store). */
  dir: string | null;
  clock: Clock;
  log: Logger;
  commitDelayMs: number;
  lazyFlushMs: number;
  snapshotIntervalMs: number;
  snapshotJournalBytes: number;
  diskRetryMs: number;
  /** Last sequence number already applied, and the one the snapshot on disk holds. */
  seq: number;
  snapshotSeq: number;
  /** The database as an SQLite image with `seq` recorded inside it. */
  exportDb(seq: number): Uint8Array;
}

type State = 'none' | 'disk' | 'memory' | 'recovering' | 'closed';
type Waiter = (result: WriteResult) => void;

const DURABLE: WriteResult = Object.freeze({ durable: true });
const NOT_DURABLE: WriteResult = Object.freeze({ durable: false });
const NOT_DURABLE_P = Promise.resolve(NOT_DURABLE);
/** A queue this large is committed at once instead of waiting for the lazy timer (bounds memory). */
const URGENT_QUEUE_CHARS = 1 << 20;
const encoder = new TextEncoder();

export class Persistence {
  readonly #o: PersistenceOptions;
  readonly #journal: JournalWriter | null;
  #state: State;
  #seq: number;
  #snapshotSeq: number;
  lastSnapshotAt: number | null = null;
  lastError: string | null = null;

  // Mutations applied in memory and waiting for the next commit.
  #queue: string[] = [];
  #queueChars = 0;
  #queueSince = 0;
  #waiters: Waiter[] = [];
  #durableSince: number | null = null;
  #urgent = false;
  #inFlight: { count: number; since: number; done: Promise<void> } | null = null;
  // Mutations applied while the disk is down; the catch-up snapshot covers them.
  #memUnsaved = 0;
  #memSince = 0;

  #lazyTimer: TimerHandle | undefined;
  #windowTimer: ReturnType<typeof setTimeout> | undefined;
  #microtaskArmed = false;
  #retryTimer: TimerHandle | undefined;
  #snapshotTimer: TimerHandle | undefined;
  #snapshotChain: Promise<void> = Promise.resolve();
  #autoSnapshotQueued = false;

  constructor(options: PersistenceOptions) {
    this.#o = options;
    this.#seq = options.seq;
    this.#snapshotSeq = options.snapshotSeq;
    this.#journal = options.dir === null ? null : new JournalWriter(options.disk, options.dir);
    this.#state = options.dir === null ? 'none' : 'disk';
  }

  /** Opens the journal for appending; a disk that refuses starts the store in memory mode. */
  async start(journals: readonly JournalFileInfo[], writeError: unknown): Promise<void> {
    if (!this.#journal) return;
    try {
      if (writeError) throw writeError;
      await this.#journal.start(journals);
    } catch (err) {
      this.#toMemory('opening the journal', err, 0, null);
    }
    this.#snapshotTimer = this.#o.clock.setInterval(() => {
      if (this.#seq !== this.#snapshotSeq) this.#autoSnapshot();
    }, this.#o.snapshotIntervalMs);
  }

  nextSeq(): number {
    return ++this.#seq;
  }

  get mode(): 'disk' | 'memory' {
    return this.#state === 'disk' ? 'disk' : 'memory';
  }

  /** True while writes really go to disk (false without a data dir or in fallback). */
  get onDisk(): boolean {
    return this.#state === 'disk';
  }

  get journalBytes(): number {
    return this.#journal?.bytes ?? 0;
  }

  get pendingWrites(): number {
    return this.#queue.length + (this.#inFlight?.count ?? 0) + this.#memUnsaved;
  }

  get journalLagMs(): number {
    let oldest = Infinity;
    if (this.#inFlight) oldest = this.#inFlight.since;
    if (this.#queue.length) oldest = Math.min(oldest, this.#queueSince);
    if (this.#memUnsaved) oldest = Math.min(oldest, this.#memSince);
    return oldest === Infinity ? 0 : Math.max(0, this.#o.clock.monotonic() - oldest);
  }

  /**
   * Queues one serialised mutation (already applied in memory). A durable write resolves after
   * the fsync of the commit that carries it; otherwise it resolves at once with durable: false.
   */
  record(json: string, durable: boolean): Promise<WriteResult> {
    const state = this.#state;
    if (state === 'none') return NOT_DURABLE_P;
    if (state === 'memory') {
      if (this.#memUnsaved++ === 0) this.#memSince = this.#o.clock.monotonic();
      return NOT_DURABLE_P;
    }
    if (this.#queue.length === 0) this.#queueSince = this.#o.clock.monotonic();
    this.#queue.push(json);
    this.#queueChars += json.length;
    if (!durable) {
      this.#kick();
      return NOT_DURABLE_P;
    }
    this.#durableSince ??= performance.now();
    return new Promise<WriteResult>((resolve) => {
      this.#waiters.push(resolve);
      this.#kick();
    });
  }

  /** Resolves once everything recorded so far is fsynced (or the store is in memory fallback). */
  async flush(): Promise<void> {
    if (this.#state === 'none' || this.#state === 'memory' || this.#state === 'closed') return;
    if (this.#queue.length || this.#waiters.length) {
      await new Promise<void>((resolve) => {
        this.#waiters.push(() => resolve());
        this.#urgent = true;
        this.#kick();
      });
    } else if (this.#inFlight) {
      await this.#inFlight.done;
    }
  }

  /** Writes a full snapshot and drops the journal before it; in memory mode this is the catch-up attempt. */
  snapshot(): Promise<void> {
    const run = this.#snapshotChain.then(() => this.#snapshotOnce());
    this.#snapshotChain = run;
    return run;
  }

  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    this.#o.clock.clearInterval(this.#snapshotTimer);
    if (this.#state !== 'none') {
      await this.flush();
      await this.snapshot();
      if (this.#state === 'memory') {
        this.#o.log.error(`store closing with ${this.#memUnsaved} write(s) that never reached the disk in ${this.#o.dir}: ${this.lastError}`);
      }
      await this.#journal?.close();
    }
    this.#o.clock.clearTimeout(this.#retryTimer);
    this.#clearCommitTimer();
    this.#state = 'closed';
  }

  // Decides when the next commit runs: at once for flush() or a large queue, after the
  // group-commit window for durable writes, within lazyFlushMs for the rest.
  #kick(): void {
    if (this.#state !== 'disk' || this.#inFlight) return;
    if (!this.#queue.length && !this.#waiters.length) return;
    if (this.#urgent || this.#queueChars >= URGENT_QUEUE_CHARS || (this.#durableSince !== null && this.#o.commitDelayMs <= 0)) {
      if (this.#microtaskArmed) return;
      // Still after the caller's synchronous code, so a burst of writes shares one commit.
      this.#microtaskArmed = true;
      queueMicrotask(() => {
        if (!this.#microtaskArmed) return;
        this.#microtaskArmed = false;
        void this.#commit();
      });
      return;
    }
    if (this.#durableSince !== null) {
      if (this.#windowTimer !== undefined) return;
      // The window batches fsyncs, a property of the real disk rather than of simulated time, so it
      // runs on real timers: a durable write under a FakeClock resolves without advancing the clock.
      const delay = Math.max(0, this.#durableSince + this.#o.commitDelayMs - performance.now());
      this.#windowTimer = setTimeout(() => {
        this.#windowTimer = undefined;
        void this.#commit();
      }, delay);
      return;
    }
    if (this.#lazyTimer !== undefined) return;
    const delay = this.#queueSince + this.#o.lazyFlushMs - this.#o.clock.monotonic();
    this.#lazyTimer = this.#o.clock.setTimeout(() => {
      this.#lazyTimer = undefined;
      void this.#commit();
    }, Math.max(0, delay));
  }

  #clearCommitTimer(): void {
    this.#o.clock.clearTimeout(this.#lazyTimer);
    this.#lazyTimer = undefined;
    clearTimeout(this.#windowTimer);
    this.#windowTimer = undefined;
    this.#microtaskArmed = false;
  }

  async #commit(): Promise<void> {
    this.#clearCommitTimer();
    if (this.#state !== 'disk' || this.#inFlight || !this.#journal) return;
    if (!this.#queue.length && !this.#waiters.length) return;
    const lines = this.#queue;
    const waiters = this.#waiters;
    const since = this.#queueSince;
    this.#queue = [];
    this.#waiters = [];
    this.#queueChars = 0;
    this.#durableSince = null;
    this.#urgent = false;
    let text = '';
    for (const json of lines) text += encodeLine(json);
    let done!: () => void;
    this.#inFlight = { count: lines.length, since, done: new Promise<void>((r) => (done = r)) };
    let result = DURABLE;
    try {
      if (text) await this.#journal.append(encoder.encode(text));
    } catch (err) {
      result = NOT_DURABLE;
      this.#inFlight = null;
      this.#toMemory('journal write', err, lines.length, since);
    }
    this.#inFlight = null;
    for (const w of waiters) w(result);
    done();
    if (result.durable && this.#journal.bytes >= this.#o.snapshotJournalBytes) this.#autoSnapshot();
    this.#kick();
  }

  #autoSnapshot(): void {
    if (this.#autoSnapshotQueued || this.#state !== 'disk') return;
    this.#autoSnapshotQueued = true;
    // snapshot() never rejects: failures switch to memory mode and are reported in status.
    void this.snapshot().finally(() => (this.#autoSnapshotQueued = false));
  }

  async #snapshotOnce(): Promise<void> {
    const journal = this.#journal;
    if (!journal || this.#state === 'closed' || this.#state === 'none') return;
    const catchingUp = this.#state === 'memory';
    if (catchingUp) {
      this.#o.clock.clearTimeout(this.#retryTimer);
      this.#retryTimer = undefined;
      // Writes from here on queue for the new journal; they commit once the snapshot is down.
      this.#state = 'recovering';
    }
    const dir = this.#o.dir as string;
    try {
      // Rotate first: every record in older files then has a seq the export below includes.
      const gen = await journal.rotate();
      const seq = this.#seq;
      const bytes = this.#o.exportDb(seq);
      await writeSnapshot(this.#o.disk, dir, bytes);
      await journal.dropBefore(gen);
      this.#snapshotSeq = seq;
      this.lastSnapshotAt = this.#o.clock.now();
      this.#o.log.debug(() => `store snapshot of ${bytes.length} bytes at seq ${seq} in ${dir}`);
      if (catchingUp) {
        this.#o.log.info(`store disk in ${dir} works again: wrote a full snapshot (${this.#memUnsaved} write(s) made while it was down) and a new journal`);
        this.#state = 'disk';
        this.#memUnsaved = 0;
        this.lastError = null;
      }
      this.#kick();
    } catch (err) {
      this.#toMemory(catchingUp ? 'disk retry' : 'snapshot', err, 0, null);
    }
  }

  /** `lost` mutations (queued since `lostSince`) failed to reach the disk, besides whatever is queued. */
  #toMemory(what: string, err: unknown, lost: number, lostSince: number | null): void {
    if (this.#state === 'closed') return;
    const wasDown = this.#state !== 'disk';
    let oldest = lost ? (lostSince ?? this.#o.clock.monotonic()) : Infinity;
    if (this.#queue.length) oldest = Math.min(oldest, this.#queueSince);
    const dropped = lost + this.#queue.length;
    if (dropped) {
      if (this.#memUnsaved === 0) this.#memSince = oldest;
      this.#memUnsaved += dropped;
    }
    const waiters = this.#waiters;
    this.#queue = [];
    this.#queueChars = 0;
    this.#waiters = [];
    this.#durableSince = null;
    this.#urgent = false;
    this.#clearCommitTimer();
    this.#state = 'memory';
    const missing = (err as { code?: unknown } | null)?.code === 'ENOENT' ? ' (the data dir or a file in it is missing: recreate or remount it)' : '';
    this.lastError = `${what} in ${this.#o.dir} failed: ${errorMessage(err)}${missing}`;
    for (const w of waiters) w(NOT_DURABLE);
    const msg = `store ${this.lastError}; serving from memory, retrying the disk every ${this.#o.diskRetryMs} ms`;
    if (wasDown) this.#o.log.warn(msg);
    else this.#o.log.error(msg, { dir: this.#o.dir });
    this.#retryTimer ??= this.#o.clock.setTimeout(() => {
      this.#retryTimer = undefined;
      void this.snapshot();
    }, this.#o.diskRetryMs);
  }
}
