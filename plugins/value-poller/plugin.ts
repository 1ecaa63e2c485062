// Built-in example plugin: polls a `value` adapter, publishes the reading and its heartbeat in the
// state store, and optionally logs it as the trend's PV. Enough to show the runtime without hardware.
import { definePlugin } from '../../core/plugin.ts';
import { errorMessage } from '../../core/errors.ts';
import type { ValueSource } from '../../adapters/value/types.ts';

export interface ValuePollerConfig {
  /** State key for the value; `<key>_ts` holds the time of the last good read, `<key>_ok` whether it succeeded. */
  key: string;
  intervalMs: number;
  /** Health reports the value stale when no good read happened for this long. */
  maxAgeS: number;
  unit: string;
  /** Also log each reading as `pv` in the trend table (pruned after `trendKeepS`). */
  trend: boolean;
  trendKeepS: number;
}

export default definePlugin<ValuePollerConfig>({
  type: 'value-poller',
  version: '0.1.0',
  description: 'Polls a value source and publishes it as a state key with a heartbeat.',
  adapters: { source: { kind: 'value', description: 'Where the value is read from.' } },
  configSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['key'],
    properties: {
      key: { type: 'string', pattern: '^[a-z][a-z0-9_]*$', description: 'State key to publish.' },
      intervalMs: { type: 'integer', minimum: 50, maximum: 3600000, default: 2000 },
      maxAgeS: { type: 'number', exclusiveMinimum: 0, default: 10 },
      unit: { type: 'string', default: '' },
      trend: { type: 'boolean', default: false },
      trendKeepS: { type: 'integer', minimum: 60, default: 3600 },
    },
  },
  create({ config, adapters, store, health, scope, log, metrics, clock }) {
    const source = adapters.source as ValueSource;
    const readErrors = metrics.counter('fieldgate_value_read_errors_total', 'Failed value reads', ['key']);
    let failing = false;
    return {
      start() {
        health.watch({ key: `${config.key}_ts`, maxAgeS: config.maxAgeS, owner: scope.owner });
        log.info(`polling ${source.description} every ${config.intervalMs} ms into "${config.key}"`);
        scope.every(config.intervalMs, async () => {
          try {
            const value = await source.read();
            const now = clock.now() / 1000;
            await store.setMany({ [config.key]: value, [`${config.key}_ts`]: now, [`${config.key}_ok`]: true }, { durable: false });
            if (config.trend) await store.logTrend({ ts: now, pv: value }, { durable: false });
            log.debug(() => `${config.key}=${value}${config.unit ? ` ${config.unit}` : ''}`);
            if (failing) log.info(`${source.description}: reading again`);
            failing = false;
          } catch (err) {
            readErrors.inc({ key: config.key });
            if (!failing) log.warn(`${errorMessage(err)}; retrying every ${config.intervalMs} ms`);
            failing = true;
            await store.set(`${config.key}_ok`, false, { durable: false });
          }
        }, { immediate: true });
        if (config.trend) scope.every(60_000, () => store.pruneTrend(config.trendKeepS));
      },
    };
  },
});
