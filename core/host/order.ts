// Start order from `dependsOn`: dependencies first, manifest order otherwise.
import type { PluginEntry } from '../manifest/types.ts';

export function startOrder(plugins: readonly PluginEntry[]): string[] {
  const byId = new Map(plugins.map((p) => [p.id, p]));
  const order: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (id: string, path: string[]): void => {
    const s = state.get(id);
    if (s === 'done') return;
    if (s === 'visiting') throw new Error(`plugin dependency cycle: ${[...path, id].join(' -> ')}`);
    state.set(id, 'visiting');
    for (const dep of byId.get(id)?.dependsOn ?? []) {
      if (byId.has(dep)) visit(dep, [...path, id]);
    }
    state.set(id, 'done');
    order.push(id);
  };
  for (const p of plugins) visit(p.id, []);
  return order;
}
