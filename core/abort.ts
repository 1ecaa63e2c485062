// One AbortSignal that follows several, released when the operation ends. AbortSignal.any() keeps a
// reference in every source signal that Node 20 never drops, so calling it per request with a
// long-lived signal (a plugin's scope, a client's close signal) grows the heap for as long as the
// gateway runs (~1.6 KB per call; bench/soak.ts found it).

export interface LinkedSignal {
  /** Aborted with the reason of the first source that aborts. */
  readonly signal: AbortSignal;
  /** Detaches from every source; call it when the operation is over (in a finally). */
  dispose(): void;
}

export function linkSignals(sources: readonly AbortSignal[]): LinkedSignal {
  const controller = new AbortController();
  const attached: Array<[AbortSignal, () => void]> = [];
  const dispose = (): void => {
    for (const [source, onAbort] of attached) source.removeEventListener('abort', onAbort);
    attached.length = 0;
  };
  for (const source of sources) {
    if (source.aborted) {
      dispose();
      controller.abort(source.reason);
      break;
    }
    const onAbort = (): void => {
      dispose();
      controller.abort(source.reason);
    };
    source.addEventListener('abort', onAbort, { once: true });
    attached.push([source, onAbort]);
  }
  return { signal: controller.signal, dispose };
}
