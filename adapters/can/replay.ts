// A recorded log as a CAN source (candump/python-can `.log`, or Vector/python-can `.asc`): frames are delivered in log order either as fast as possible
// (benchmarks, back-filling history) or paced by their timestamps (real time or scaled), on the
// injected clock so a test can drive it.
import { createReadStream } from 'node:fs';
import type { Clock } from '../../core/clock.ts';
import { CANDUMP_MAX_LINE, type CandumpRecord, parseCandumpLine } from './candump.ts';
import { AscReader } from './asc.ts';
import { type CanChannelStats, type CanFrame, type FiniteCanChannel, type FrameListener, FrameFanout } from './types.ts';

export interface ReplayOptions {
  path: string;
  /** `max`: as fast as possible; a number: playback speed (1 = the log's real time, 10 = ten times faster). */
  speed: 'max' | number;
  /** `log` keeps the logged timestamps; `now` shifts them so the first frame is stamped with the clock's now. */
  timestamps: 'log' | 'now';
  /** Only frames logged on this interface (candump logs of several interfaces); empty = all. */
  iface?: string;
  /** `asc` for Vector ASCII logs; by default from the file name (`.asc`), else candump. */
  format?: 'candump' | 'asc';
  /** Wait for `start()` instead of starting when the first listener is added. */
  manualStart?: boolean;
  /** Told of each line dropped for passing CANDUMP_MAX_LINE (a binary file, a corrupt log), with why. */
  onLineLimit?: (message: string) => void;
}

/** Read size of the log: also the most a line without an end can hold in memory before it is dropped. */
const READ_CHUNK = 64 * 1024;

export class ReplayChannel implements FiniteCanChannel {
  readonly #fanout = new FrameFanout();
  readonly #stats: CanChannelStats = { received: 0, sent: 0, errorFrames: 0, dropped: 0, state: 'active' };
  readonly #abort = new AbortController();
  #started = false;
  #resolveDone!: () => void;
  #rejectDone!: (err: unknown) => void;
  readonly done: Promise<void>;
  /** Lines that were not CAN frames (garbage, longer than CANDUMP_MAX_LINE); counted in `stats().dropped` too. */
  badLines = 0;

  constructor(readonly options: ReplayOptions, readonly clock: Clock) {
    this.done = new Promise((resolve, reject) => {
      this.#resolveDone = resolve;
      this.#rejectDone = reject;
    });
    // Nobody may await `done` (a long-running gateway); its failure is also in the error log of start().
    this.done.catch(() => {});
  }

  get description(): string {
    return `replay ${this.options.path} (${this.options.speed === 'max' ? 'as fast as possible' : `x${this.options.speed}`})`;
  }

  onFrame(listener: FrameListener): () => void {
    const off = this.#fanout.add(listener);
    // A log is read once: it starts when someone listens, so the adapter can open it before the plugin starts.
    if (!this.options.manualStart && !this.#started) queueMicrotask(() => this.start());
    return off;
  }

  /** Starts reading (idempotent); `done` settles when the log ends or reading fails. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#run().then(
      () => {
        if (this.#stats.state === 'active') this.#stats.state = 'ended';
        this.#resolveDone();
      },
      (err: unknown) => {
        if (this.#abort.signal.aborted) this.#resolveDone();
        else this.#rejectDone(new Error(`${this.description}: ${(err as Error).message ?? err}`, { cause: err }));
      },
    );
  }

  send(): Promise<void> {
    this.#stats.dropped++;
    return Promise.reject(new Error(`${this.description}: a replayed log is read-only; sending needs a socketcan or sim channel`));
  }

  stats(): CanChannelStats {
    return { ...this.#stats };
  }

  close(): Promise<void> {
    this.#abort.abort();
    this.#stats.state = 'closed';
    this.#fanout.clear();
    return Promise.resolve();
  }

  async #run(): Promise<void> {
    const { speed, iface, timestamps } = this.options;
    let shift: number | null = timestamps === 'log' ? 0 : null;
    let firstLogTs: number | null = null;
    let startMono = 0;
    let rest = '';
    const stream = createReadStream(this.options.path, { encoding: 'utf8', highWaterMark: READ_CHUNK });
    let lineNo = 0;
    const asc = (this.options.format ?? (/\.asc$/i.test(this.options.path) ? 'asc' : 'candump')) === 'asc' ? new AscReader() : null;
    const parse = (line: string): CandumpRecord | 'skip' | null => (asc ? (line.length > CANDUMP_MAX_LINE ? null : asc.parse(line)) : parseCandumpLine(line));
    const deliver = async (line: string): Promise<void> => {
      if (line.length === 0) return;
      const rec = parse(line);
      if (rec === 'skip') return;
      if (!rec) {
        this.badLines++;
        this.#stats.dropped++;
        return;
      }
      if (iface && rec.iface !== iface) return;
      const frame: CanFrame = rec.frame;
      if (firstLogTs === null) {
        firstLogTs = frame.ts;
        startMono = this.clock.monotonic();
        if (shift === null) shift = this.clock.now() - frame.ts;
      }
      if (speed !== 'max') {
        const due = (frame.ts - firstLogTs) / speed;
        const wait = due - (this.clock.monotonic() - startMono);
        if (wait >= 1) await this.clock.sleep(wait, this.#abort.signal);
      }
      if (shift) frame.ts += shift;
      if (frame.err) this.#stats.errorFrames++;
      this.#stats.received++;
      this.#fanout.emit(frame);
    };
    // A line without an end (a binary file) is dropped once it passes the limit, not accumulated.
    let overlong = false;
    try {
      for await (const chunk of stream) {
        if (this.#abort.signal.aborted) return;
        const lines = (rest + (chunk as string)).split('\n');
        rest = lines.pop() ?? '';
        for (const line of lines) {
          if (this.#abort.signal.aborted) return;
          lineNo++;
          if (overlong) {
            overlong = false;
            continue;
          }
          await deliver(line.trimEnd());
        }
        if (rest.length > CANDUMP_MAX_LINE) {
          if (!overlong) {
            this.badLines++;
            this.#stats.dropped++;
            this.options.onLineLimit?.(`replay ${this.options.path}: line ${lineNo + 1} is longer than the ${CANDUMP_MAX_LINE}-byte limit for a log line (${rest.length} bytes held when it was dropped); skipped up to its end`);
          }
          overlong = true;
          rest = '';
        }
      }
      if (!overlong) await deliver(rest.trimEnd());
    } finally {
      stream.destroy();
    }
  }
}
