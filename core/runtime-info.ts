// The one place that knows which JavaScript runtime we are on, so native-only features can refuse
// clearly on Deno instead of failing deep inside a module loader.

export const isDeno = typeof (globalThis as { Deno?: unknown }).Deno !== 'undefined';
export const runtimeName: 'node' | 'deno' = isDeno ? 'deno' : 'node';

/**
 * Throws a clear error when a native Node addon is needed but we run on Deno (which refuses
 * nan-based addons). `what` names the adapter, `module` the addon.
 */
export function requireNodeFor(what: string, module: string): void {
  if (isDeno) {
    throw new Error(
      `${what} needs the native module "${module}", which loads on Node only and not on Deno. ` +
        'Run fieldgate with Node (npx fieldgate / node bin/fieldgate.js), or set this adapter\'s driver to "sim".',
    );
  }
}
