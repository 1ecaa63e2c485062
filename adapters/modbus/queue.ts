// One request in flight per link: a FIFO per priority, writes ahead of reads, so a setpoint change
// never waits behind a poll cycle of many read blocks.

type Job = { run: () => Promise<unknown>; resolve: (v: unknown) => void; reject: (e: unknown) => void };

export class RequestQueue {
  readonly #writes: Job[] = [];
  readonly #reads: Job[] = [];
  #busy = false;

  /** Requests waiting (not counting the one in flight). */
  get pending(): number {
    return this.#writes.length + this.#reads.length;
  }

  push<T>(kind: 'read' | 'write', run: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      (kind === 'write' ? this.#writes : this.#reads).push({ run, resolve: resolve as (v: unknown) => void, reject });
      this.#pump();
    });
  }

  /** Rejects every waiting request (the one in flight settles on its own). */
  rejectAll(err: unknown): void {
    for (const job of [...this.#writes.splice(0), ...this.#reads.splice(0)]) job.reject(err);
  }

  #pump(): void {
    if (this.#busy) return;
    const job = this.#writes.shift() ?? this.#reads.shift();
    if (!job) return;
    this.#busy = true;
    void job.run().then(job.resolve, job.reject).finally(() => {
      this.#busy = false;
      this.#pump();
    });
  }
}
