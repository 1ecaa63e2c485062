// Checks the schema cannot express: unique ids, known types, adapter bindings, dependencies.
import type { Catalog } from './compose.ts';
import { declaredKind } from './external.ts';
import { formatPath, isRecord, type PathSegment } from './paths.ts';

interface Entry {
  index: number;
  id: string;
  raw: Record<string, unknown>;
}

/**
 * Works on data that may have failed the schema, so every access is guarded: whatever is
 * well-formed is checked, and the rest was already reported by the schema.
 * `show` renders a user value for a message (it masks secrets).
 */
export function crossCheck(data: unknown, catalog: Catalog, show: (value: string) => string): string[] {
  if (!isRecord(data)) return [];
  const issues: string[] = [];
  const at = (...segments: PathSegment[]) => formatPath(segments);
  const list = (names: Iterable<string>) => [...names].map(show).join(', ') || '(none)';

  const entries = (key: 'adapters' | 'plugins', what: string): Map<string, Entry> => {
    const byId = new Map<string, Entry>();
    const items = Array.isArray(data[key]) ? data[key] : [];
    items.forEach((raw: unknown, index: number) => {
      if (!isRecord(raw) || typeof raw.id !== 'string') return;
      const first = byId.get(raw.id);
      if (first) issues.push(`${at(key, index, 'id')}: duplicate ${what} id "${show(raw.id)}" (first used by ${at(key, first.index)})`);
      else byId.set(raw.id, { index, id: raw.id, raw });
    });
    return byId;
  };
  const adapters = entries('adapters', 'adapter');
  const plugins = entries('plugins', 'plugin');

  const kinds = new Set(catalog.adapters.map((a) => a.kind));
  const implemented = new Map(catalog.adapters.map((a) => [a.kind, declaredKind(a)]));
  (Array.isArray(data.adapters) ? data.adapters : []).forEach((raw: unknown, i: number) => {
    if (isRecord(raw) && typeof raw.kind === 'string' && !kinds.has(raw.kind)) {
      issues.push(`${at('adapters', i, 'kind')}: unknown adapter kind "${show(raw.kind)}"; known kinds: ${list(kinds)}${externalHint(raw.kind)}`);
    }
  });

  const types = new Map(catalog.plugins.map((p) => [p.type, p]));
  (Array.isArray(data.plugins) ? data.plugins : []).forEach((raw: unknown, i: number) => {
    if (!isRecord(raw) || typeof raw.use !== 'string') return;
    const definition = types.get(raw.use);
    if (!definition) {
      issues.push(`${at('plugins', i, 'use')}: unknown plugin type "${show(raw.use)}"; known types: ${list(types.keys())}${externalHint(raw.use)}`);
      return; // its bindings cannot be judged without the definition
    }
    const required = definition.adapters ?? {};
    const bound = isRecord(raw.adapters) ? raw.adapters : {};
    for (const [binding, target] of Object.entries(bound)) {
      const where = at('plugins', i, 'adapters', binding);
      const need = required[binding];
      if (!need) {
        const names = Object.keys(required);
        issues.push(`${where}: unknown binding "${binding}" (${names.length ? `allowed: ${names.join(', ')}` : `plugin type "${raw.use}" takes no adapters`})`);
        continue;
      }
      if (typeof target !== 'string') continue;
      const adapter = adapters.get(target);
      if (!adapter) {
        issues.push(`${where}: no adapter with id "${show(target)}" (known adapters: ${list(adapters.keys())})`);
      } else if (typeof adapter.raw.kind === 'string' && adapter.raw.kind !== need.kind && implemented.get(adapter.raw.kind) !== need.kind) {
        const declared = implemented.get(adapter.raw.kind);
        const shown = declared && declared !== adapter.raw.kind ? `"${show(adapter.raw.kind)}" (implementing "${declared}")` : `"${show(adapter.raw.kind)}"`;
        issues.push(`${where}: adapter "${show(target)}" is of kind ${shown}, but binding "${binding}" needs kind "${need.kind}"`);
      }
    }
    for (const [binding, need] of Object.entries(required)) {
      if (!need.optional && !(binding in bound)) {
        issues.push(`${at('plugins', i, 'adapters')}: missing required binding "${binding}" (an adapter of kind "${need.kind}")`);
      }
    }
  });

  issues.push(...checkDependencies(plugins, show));
  return issues;
}

/** A name that looks like a file or package but lacks `./` or `npm:` gets told how to write it. */
function externalHint(name: string): string {
  if (!/[/\\]|\.[cm]?[jt]s$/.test(name)) return '';
  return '; a file is named by a path starting with ./ or ../ (relative to the manifest), a package by npm:<name>';
}

function checkDependencies(plugins: Map<string, Entry>, show: (value: string) => string): string[] {
  const issues: string[] = [];
  const edges = new Map<string, string[]>();
  for (const entry of plugins.values()) {
    const deps = Array.isArray(entry.raw.dependsOn) ? entry.raw.dependsOn : [];
    const valid: string[] = [];
    deps.forEach((dep: unknown, j: number) => {
      if (typeof dep !== 'string') return;
      if (plugins.has(dep)) valid.push(dep);
      else {
        const known = [...plugins.keys()].map(show).join(', ');
        issues.push(`${formatPath(['plugins', entry.index, 'dependsOn', j])}: no plugin with id "${show(dep)}" (known plugins: ${known})`);
      }
    });
    edges.set(entry.id, valid);
  }

  // Depth-first search; a back edge closes a cycle. Each cycle is reported once, starting
  // from its member that comes first in the manifest.
  const state = new Map<string, 'active' | 'done'>();
  const stack: string[] = [];
  const seen = new Set<string>();
  const visit = (id: string) => {
    state.set(id, 'active');
    stack.push(id);
    for (const dep of edges.get(id) ?? []) {
      if (state.get(dep) === 'active') {
        const cycle = stack.slice(stack.indexOf(dep));
        const start = cycle.reduce((best, k, n) => (plugins.get(k)!.index < plugins.get(cycle[best])!.index ? n : best), 0);
        const ordered = [...cycle.slice(start), ...cycle.slice(0, start)];
        const key = ordered.join('\u0000');
        if (!seen.has(key)) {
          seen.add(key);
          const first = plugins.get(ordered[0])!;
          issues.push(`${formatPath(['plugins', first.index, 'dependsOn'])}: dependency cycle ${[...ordered, ordered[0]].map(show).join(' -> ')}`);
        }
      } else if (!state.has(dep)) visit(dep);
    }
    stack.pop();
    state.set(id, 'done');
  };
  for (const id of plugins.keys()) if (!state.has(id)) visit(id);
  return issues;
}
