// Plugin `recorder`: the production recorder of the seed's signal-recorder system. Samples power
// and cycle signals from S7 PLCs, Modbus devices and GPIO inputs, counts units (edges or PLC
// counters), stores raw signals in history `signaldatas` and hourly production with OEE.
import type { RouteRegistry } from '../../core/http-routes.ts';
import { definePlugin, type AdapterRequirement } from '../../core/plugin.ts';
import { Tokens } from '../../core/tokens.ts';
import { BINDINGS, checkConfig, configSchema, type RecorderConfig, resolveConfig } from './config.ts';
import { Recorder } from './recorder.ts';
import { recorderRoutes } from './routes.ts';
import { sourceFor, type SignalSource } from './sources.ts';
import { RecorderRepo } from './store.ts';

const DESCRIPTIONS = { s7: 'A Siemens S7 PLC', modbus: 'A Modbus device', gpio: 'One GPIO input line (edges by interrupt)' };

export default definePlugin<Partial<RecorderConfig>>({
  type: 'recorder',
  version: '0.1.0',
  description: 'Production recorder: raw signals every few seconds, unit counting by rising edges or PLC counters, hourly production records with energy and OEE.',
  adapters: Object.fromEntries(Object.entries(BINDINGS).map(([name, kind]): [string, AdapterRequirement] => [name, { kind, optional: true, description: DESCRIPTIONS[kind] }])),
  configSchema,
  validateConfig: (raw) => checkConfig(resolveConfig(raw)),
  async create({ id, config: raw, container, adapters, store, history, bus, health, scope, log }) {
    const config = resolveConfig(raw);
    const issues = checkConfig(config);
    const unbound = [...new Set(config.mappings.map((m) => m.source))].filter((b) => !adapters[b]);
    for (const b of unbound) issues.push(`mappings: source "${b}" is not bound; add "adapters": {"${b}": "<adapter id of kind ${BINDINGS[b]}>"} to the plugin`);
    if (issues.length) throw new Error(`recorder "${id}": invalid config:\n  ${issues.map((i) => `config.${i}`).join('\n  ')}`);
    const sources = new Map<string, SignalSource>();
    for (const binding of new Set(config.mappings.map((m) => m.source))) {
      const units = new Map(config.mappings.filter((m) => m.source === binding).map((m) => [m.address, m.unit ?? 1]));
      sources.set(binding, sourceFor(BINDINGS[binding], adapters[binding], units));
    }
    const routes = container.resolve<RouteRegistry>(Tokens.HttpRoutes);
    const clock = scope.clock;
    const repo = new RecorderRepo(store, id);

    return {
      async start() {
        await repo.init();
        const recorder = new Recorder({ id, config, sources, repo, store, history, bus, health, scope, clock, log });
        scope.defer(() => recorder.persist());
        await recorder.baseline();
        recorder.start();
        for (const r of recorderRoutes({ config, recorder, repo, clock })) scope.defer(routes.add(id, r));
        log.info(`recording ${config.machines.length} machine(s), ${config.mappings.length} signal(s); samples every ${config.sampleMs} ms into history "signaldatas"`);
      },
    };
  },
});
