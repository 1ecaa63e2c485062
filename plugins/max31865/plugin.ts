// The max31865 sensor plugin: reads a PT100/PT1000 through a MAX31865 on an SPI adapter, publishes
// the temperature with a heartbeat, OK flag and fault text, and logs the lab's trend (pv, sp, mv).
import { definePlugin } from '../../core/plugin.ts';
import { errorMessage } from '../../core/errors.ts';
import type { SpiBus } from '../../adapters/spi/types.ts';
import { configSchema, withDefaults, type Max31865Config } from './config.ts';
import { Max31865, Max31865FaultError, Max31865NotRespondingError } from './driver.ts';

function numberOrNull(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/** Short readable reason for the fault key: the chip's fault text, or what went wrong on the bus. */
function faultText(err: unknown): string {
  if (err instanceof Max31865FaultError || err instanceof Max31865NotRespondingError) return err.text;
  return `SPI read failed: ${errorMessage(err)}`;
}

export default definePlugin<Max31865Config>({
  type: 'max31865',
  version: '0.1.0',
  description: 'PT100/PT1000 temperature through a MAX31865 RTD converter on SPI, with fault detection and a trend.',
  adapters: { spi: { kind: 'spi', description: 'The SPI device the MAX31865 is on (mode 1).' } },
  configSchema,
  create(ctx) {
    const config = withDefaults(ctx.config);
    const { store, health, scope, log, metrics, clock } = ctx;
    const { keys } = config;
    const bus = ctx.adapters.spi as SpiBus;
    const driver = new Max31865(
      bus,
      { rtdNominal: config.rtd === 'pt1000' ? 1000 : 100, rref: config.rref, wires: config.wires, filterHz: config.filterHz, mode: config.mode },
      clock,
    );
    const readErrors = metrics.counter('fieldgate_max31865_read_errors_total', 'Failed MAX31865 readings (faults and bus errors)', ['plugin']);
    const temperatureGauge = metrics.gauge('fieldgate_max31865_temperature_celsius', 'Last good MAX31865 reading', ['plugin']);
    let lastGood: number | null = null;
    let failing: { since: number; text: string; count: number } | null = null;

    async function poll(): Promise<void> {
      try {
        const reading = await driver.read(scope.signal);
        const t = Math.round((reading.temperature + config.offsetC) * 100) / 100;
        lastGood = t;
        temperatureGauge.set({ plugin: ctx.id }, t);
        await store.setMany({ [keys.temperature]: t, [keys.lastTs]: clock.now() / 1000, [keys.ok]: true, [keys.fault]: null }, { durable: false });
        log.debug(() => `${t} °C (R ${reading.resistance.toFixed(3)} Ω, code ${reading.code})`);
        if (failing) {
          log.info(`reading again (${t} °C) after ${failing.count} failed read(s) over ${((clock.now() - failing.since) / 1000).toFixed(1)} s`);
          failing = null;
        }
      } catch (err) {
        if (scope.signal.aborted) return; // stopping: the sleep inside the read was cancelled
        readErrors.inc({ plugin: ctx.id });
        lastGood = null;
        const text = faultText(err);
        // Logged once per outage (and again only if the reason changes), then retried every poll.
        if (!failing || failing.text !== text) log.warn(`${errorMessage(err)}; retrying every ${config.pollMs} ms`);
        failing = { since: failing?.since ?? clock.now(), text, count: (failing?.count ?? 0) + 1 };
        await store.setMany({ [keys.ok]: false, [keys.fault]: text }, { durable: false });
      }
    }

    // Drift-free loop: a one-shot reading takes ~75 ms, which must not stretch the poll period.
    function loop(): void {
      const started = clock.monotonic();
      scope.run(async () => {
        await poll();
        if (!scope.disposed) scope.setTimeout(loop, Math.max(0, config.pollMs - (clock.monotonic() - started)));
      });
    }

    return {
      start() {
        health.watch({ key: keys.lastTs, maxAgeS: config.staleAfterS, owner: scope.owner });
        log.info(
          `reading ${config.rtd.toUpperCase()} (Rref ${config.rref} Ω, ${config.wires}-wire, ${config.filterHz} Hz, ${config.mode}) ` +
            `on ${bus.description} every ${config.pollMs} ms into "${keys.temperature}"`,
        );
        loop();
        if (config.trend.enabled) {
          scope.every(config.trend.everyMs, () =>
            store.logTrend(
              { ts: clock.now() / 1000, pv: lastGood, sp: numberOrNull(store.get(keys.setpoint)), mv: numberOrNull(store.get(keys.mv)) },
              { durable: false },
            ),
          );
          scope.every(config.trend.pruneEveryMs, () => store.pruneTrend(config.trend.keepS));
        }
      },
      async stop() {
        // Bias off so the RTD does not self-heat while the gateway is down; the bus may be gone already.
        await driver.standby().catch(() => {});
      },
    };
  },
});
