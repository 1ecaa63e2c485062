// What the page knows: the server's dashboard description, live values, the last health report and
// the active alarms. One shared object; modules read it and re-render what they own.

export const page = {
  config: { title: 'fieldgate', keys: [], commands: {}, panels: [], trendKeys: ['pv', 'sp', 'mv'], display: {}, requireKeyForReads: false, chart: { keys: [] } },
  /** key -> {value, ts} */
  values: new Map(),
  health: null,
  /** Ids of active alarms (`limit:<key>` turns that key's tile red). */
  activeAlarmIds: new Set(),
  offline: false,
};

export const displayOf = (key) => page.config.display?.[key];
export const shownKey = (key) => (page.config.keys.length ? page.config.keys.includes(key) : !key.includes(':ts') && !key.endsWith('_ts'));
