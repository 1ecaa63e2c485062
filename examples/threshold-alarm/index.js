// Example external fieldgate plugin: watches one state key and sets a boolean alarm key when the
// value crosses a threshold, with hysteresis so a value hovering at the limit does not chatter.
// Plain JavaScript with no dependencies, so it runs on Node and Deno without a build step; the
// types come from fieldgate through JSDoc (`import('fieldgate')` is erased, nothing is loaded).

/**
 * @typedef {object} ThresholdAlarmConfig
 * @property {string} key State key to watch (a number).
 * @property {number} threshold Alarm limit.
 * @property {'above' | 'below'} direction Alarm when the value is above (or below) the threshold.
 * @property {number} hysteresis The alarm clears only this far back on the safe side of the threshold.
 * @property {string} alarmKey State key set to true/false; defaults to `<key>_alarm`.
 */

/** @type {import('fieldgate').PluginDefinition<ThresholdAlarmConfig>} */
const plugin = {
  type: 'threshold-alarm',
  version: '1.0.0',
  // The fieldgate plugin contract this was written for; fieldgate refuses a plugin for another one.
  contract: 1,
  description: 'Sets an alarm key when a state key crosses a threshold.',
  configSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['key', 'threshold'],
    properties: {
      key: { type: 'string', pattern: '^[a-z][a-z0-9_]*$', description: 'State key to watch.' },
      threshold: { type: 'number', description: 'Alarm limit.' },
      direction: { enum: ['above', 'below'], default: 'above', description: 'Alarm when the value is above (or below) the threshold.' },
      hysteresis: { type: 'number', minimum: 0, default: 0, description: 'The alarm clears only this far back on the safe side.' },
      alarmKey: { type: 'string', pattern: '^[a-z][a-z0-9_]*$', description: 'State key for the alarm (default `<key>_alarm`).' },
    },
  },
  create({ config, store, bus, scope, log }) {
    const alarmKey = config.alarmKey ?? `${config.key}_alarm`;
    const sign = config.direction === 'below' ? -1 : 1;
    /** @type {boolean | undefined} */
    let active;

    /** @param {unknown} value */
    const evaluate = async (value) => {
      if (typeof value !== 'number' || !Number.isFinite(value)) return;
      // Distance past the threshold on the alarm side: > 0 raises, < -hysteresis clears.
      const past = sign * (value - config.threshold);
      const next = active ? past >= -config.hysteresis : past > 0;
      if (next === active) return;
      active = next;
      if (next) log.warn(`${config.key}=${value} is ${config.direction} ${config.threshold}: ${alarmKey} raised`);
      else if (active !== undefined) log.info(`${config.key}=${value}: ${alarmKey} cleared`);
      await store.set(alarmKey, next);
    };

    return {
      async start() {
        log.info(`watching ${config.key} (${config.direction} ${config.threshold}) into ${alarmKey}`);
        active = store.get(alarmKey);
        /** @param {import('fieldgate').StateChange} change */
        const onChange = (change) => (change.key === config.key ? evaluate(change.value) : undefined);
        scope.defer(bus.subscribe('state/+', onChange));
        await evaluate(store.get(config.key));
      },
    };
  },
};

export default plugin;
