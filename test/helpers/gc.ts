// A function that forces a full GC, or null where the runtime offers none: `--expose-gc` when given,
// otherwise switched on late through node:v8 and fetched from a fresh vm context (Node and Deno).
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export function gcOrNull(): (() => void) | null {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (exposed) return exposed;
  try {
    setFlagsFromString('--expose-gc');
    const fn = runInNewContext('gc') as unknown;
    return typeof fn === 'function' ? (fn as () => void) : null;
  } catch {
    return null;
  }
}
