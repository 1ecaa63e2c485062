// The operator dashboard: live values over /ws, the last hour's PV/SP/MV trend (uPlot), the command
// form (uses the API key the operator enters, kept in sessionStorage for this tab), health, recent
// writes and panels other plugins contribute. Plain ES module, no build step.
/* global document, window, sessionStorage, fetch, location, WebSocket, CSS, requestAnimationFrame, getComputedStyle, setTimeout, setInterval, clearTimeout, AbortController, uPlot */

const KEY_STORAGE = 'fieldgate.apiKey';
const state = new Map(); // key -> {value, ts}
let config = { title: 'fieldgate', keys: [], commands: {}, panels: [], trendKeys: ['pv', 'sp', 'mv'], requireKeyForReads: false };
let health = null;
/** Ids of the active alarms (tiles of a key with a `limit:<key>` alarm turn red). */
let activeAlarmIds = new Set();

const $ = (sel) => document.querySelector(sel);
const el = (tag, attrs = {}, ...children) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v;
    else if (k === 'dataset') Object.assign(e.dataset, v);
    else e.setAttribute(k, v);
  }
  e.append(...children.filter((c) => c !== null && c !== undefined));
  return e;
};

// ---- API key -----------------------------------------------------------------------------------
const apiKey = () => sessionStorage.getItem(KEY_STORAGE) ?? '';
function headers(extra = {}) {
  const h = { ...extra };
  if (apiKey()) h['X-API-Key'] = apiKey();
  return h;
}
async function getJson(path) {
  const r = await fetch(path, { headers: headers() });
  if (!r.ok) throw new Error(`${path}: HTTP ${r.status}`);
  return r.json();
}

$('#key-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const v = $('#api-key').value.trim();
  if (v) sessionStorage.setItem(KEY_STORAGE, v);
  $('#api-key').value = '';
  $('#api-key').placeholder = v ? 'key set for this tab' : 'X-API-Key for commands';
  reconnect();
});
$('#key-forget').addEventListener('click', () => {
  sessionStorage.removeItem(KEY_STORAGE);
  $('#api-key').placeholder = 'X-API-Key for commands';
});
if (apiKey()) $('#api-key').placeholder = 'key set for this tab';

// ---- formatting -------------------------------------------------------------------------------
/** The operator's name for an enum value (`x-enumLabels` beside `enum` in the command schema), else ''. */
function enumLabel(key, v) {
  const schema = config.commands?.[key];
  const i = Array.isArray(schema?.enum) ? schema.enum.indexOf(v) : -1;
  return i >= 0 && Array.isArray(schema['x-enumLabels']) && typeof schema['x-enumLabels'][i] === 'string' ? schema['x-enumLabels'][i] : '';
}

function fmt(v) {
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toFixed(Math.abs(v) >= 100 ? 1 : 2);
  if (typeof v === 'boolean') return v ? 'ON' : 'OFF';
  if (v === null || v === undefined) return '—';
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}
function ago(tsS) {
  if (!tsS) return '';
  const s = Math.max(0, Date.now() / 1000 - tsS);
  return s < 60 ? `${s.toFixed(0)} s ago` : s < 3600 ? `${(s / 60).toFixed(0)} min ago` : `${(s / 3600).toFixed(1)} h ago`;
}

// ---- live values ------------------------------------------------------------------------------
const shownKey = (key) => (config.keys.length ? config.keys.includes(key) : true);

function renderTile(key, changed = false) {
  const entry = state.get(key);
  let tile = document.querySelector(`.tile[data-key="${CSS.escape(key)}"]`);
  if (!tile) {
    tile = el('div', { class: 'tile', dataset: { key } }, el('div', { class: 'name', title: key }, key), el('div', { class: 'value' }), el('div', { class: 'age' }));
    const tiles = $('#values');
    const order = config.keys.length ? config.keys : null;
    const before = order ? [...tiles.children].find((t) => order.indexOf(t.dataset.key) > order.indexOf(key)) : [...tiles.children].find((t) => t.dataset.key > key);
    tiles.insertBefore(tile, before ?? null);
  }
  const value = tile.querySelector('.value');
  const label = enumLabel(key, entry?.value);
  value.textContent = label || fmt(entry?.value);
  value.title = label ? `${label} (${fmt(entry?.value)})` : '';
  value.className = `value ${typeof entry?.value === 'boolean' ? String(entry.value) : ''}`;
  tile.querySelector('.age').textContent = ago(entry?.ts);
  const hb = health?.heartbeats?.[`${key}_ts`] ?? health?.heartbeats?.[key];
  tile.classList.toggle('stale', Boolean(hb?.stale));
  tile.classList.toggle('bad', entry?.value === undefined || state.get(`${key}_ok`)?.value === false || activeAlarmIds.has(`limit:${key}`));
  if (!changed) return;
  tile.classList.add('flash');
  requestAnimationFrame(() => requestAnimationFrame(() => tile.classList.remove('flash')));
}

function applyDelta(d) {
  state.set(d.key, { value: d.value, ts: d.ts });
  if (shownKey(d.key)) renderTile(d.key, true);
}

let ws = null;
let wsBackoff = 500;
function connect() {
  const url = new URL('/ws', location.href);
  url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  url.searchParams.set('topics', 'state/*');
  if (config.requireKeyForReads && apiKey()) url.searchParams.set('apiKey', apiKey());
  const socket = new WebSocket(url);
  ws = socket;
  socket.onopen = () => {
    wsBackoff = 500;
    setBadge('#link', 'ok', 'live');
  };
  socket.onmessage = (e) => {
    const msg = JSON.parse(e.data);
    if (msg.type === 'snapshot') msg.values.forEach(applyDelta);
    else if (msg.type === 'delta' && msg.topic.startsWith('state/')) applyDelta(msg);
    else if (msg.type === 'batch') for (const d of msg.deltas) if (d.topic.startsWith('state/')) applyDelta(d);
  };
  socket.onclose = (e) => {
    if (ws !== socket) return;
    setBadge('#link', 'bad', e.code === 1013 ? 'too slow, reconnecting' : 'offline');
    void refreshHealth(); // a dropped feed is the first sign of a stopped gateway: check at once
    setTimeout(connect, wsBackoff);
    wsBackoff = Math.min(wsBackoff * 2, 10000);
  };
}
function reconnect() {
  const old = ws;
  ws = null;
  old?.close();
  connect();
}

function setBadge(sel, cls, text) {
  const b = $(sel);
  b.className = `badge ${cls}`;
  b.textContent = text;
}

// ---- trend ------------------------------------------------------------------------------------
let plot = null;
const SERIES = {
  pv: { label: 'PV', stroke: getComputedStyle(document.documentElement).getPropertyValue('--pv').trim(), width: 2 },
  sp: { label: 'SP', stroke: getComputedStyle(document.documentElement).getPropertyValue('--sp').trim(), width: 2, dash: [6, 4] },
  mv: { label: 'MV %', stroke: getComputedStyle(document.documentElement).getPropertyValue('--mv').trim(), width: 1.5, scale: '%' },
};

async function refreshTrend() {
  const to = Date.now() / 1000;
  let rows;
  try {
    rows = await getJson(`/api/trend?from=${Math.floor(to - 3600)}&limit=10000`);
  } catch (err) {
    $('#trend-info').textContent = String(err.message);
    return;
  }
  const keys = config.trendKeys.filter((k) => rows.some((r) => r[k] !== null && r[k] !== undefined));
  const data = [rows.map((r) => r.ts), ...keys.map((k) => rows.map((r) => r[k]))];
  $('#trend-info').textContent = rows.length ? `${rows.length} points` : 'no trend data yet';
  const sig = keys.join(',');
  const width = $('#trend').clientWidth || 800;
  if (!plot || plot.sig !== sig) {
    plot?.destroy();
    const axisStyle = { stroke: '#8b98a5', grid: { stroke: '#2b3540', width: 1 }, ticks: { stroke: '#2b3540' } };
    plot = new uPlot({
      width,
      height: 300,
      scales: { x: { time: true }, '%': { range: [0, 100] } },
      series: [{}, ...keys.map((k) => ({ ...SERIES[k], spanGaps: true }))],
      axes: [axisStyle, { ...axisStyle, label: 'PV / SP' }, ...(keys.includes('mv') ? [{ ...axisStyle, scale: '%', side: 1, grid: { show: false }, label: 'MV %' }] : [])],
    }, data, $('#trend'));
    plot.sig = sig;
  } else {
    plot.setData(data);
  }
}
window.addEventListener('resize', () => plot?.setSize({ width: $('#trend').clientWidth, height: 300 }));

// ---- commands ---------------------------------------------------------------------------------
function buildCommandForm() {
  const form = $('#command-form');
  form.replaceChildren();
  const entries = Object.entries(config.commands);
  if (!entries.length) {
    form.append(el('p', { class: 'muted' }, 'No writable keys in the manifest (config.commands).'));
    return;
  }
  for (const [key, schema] of entries) {
    const id = `cmd-${key}`;
    let input;
    if (schema.type === 'boolean') {
      input = el('select', { id, name: key }, el('option', { value: '' }, '—'), el('option', { value: 'true' }, 'ON'), el('option', { value: 'false' }, 'OFF'));
    } else if (Array.isArray(schema.enum)) {
      // A fixed set of values is a choice, labelled when the manifest names them (mode: manual/auto/tune).
      input = el('select', { id, name: key }, el('option', { value: '' }, '—'),
        ...schema.enum.map((v) => el('option', { value: JSON.stringify(v) }, enumLabel(key, v) ? `${enumLabel(key, v)} (${fmt(v)})` : fmt(v))));
    } else if (schema.type === 'number' || schema.type === 'integer') {
      input = el('input', { id, name: key, type: 'number', step: schema.type === 'integer' ? '1' : 'any' });
      if (schema.minimum !== undefined) input.min = schema.minimum;
      if (schema.maximum !== undefined) input.max = schema.maximum;
    } else {
      input = el('input', { id, name: key, type: 'text' });
    }
    input.dataset.type = Array.isArray(schema.enum) ? 'enum' : schema.type ?? 'string';
    const range = [schema.minimum !== undefined ? `min ${schema.minimum}` : null, schema.maximum !== undefined ? `max ${schema.maximum}` : null].filter(Boolean).join(', ');
    const hint = schema.description || range ? el('div', { class: 'hint' }, [schema.description, range].filter(Boolean).join(' · ')) : null;
    form.append(el('div', { class: 'field' }, el('label', { for: id }, key), input, hint, el('div', { class: 'error', id: `${id}-error` })));
  }
  form.append(el('button', { type: 'submit', class: 'primary' }, 'Send'));
}

$('#command-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const body = {};
  for (const input of e.target.querySelectorAll('[name]')) {
    document.getElementById(`${input.id}-error`).textContent = '';
    if (input.value === '') continue;
    const t = input.dataset.type;
    body[input.name] = t === 'boolean' ? input.value === 'true' : t === 'number' || t === 'integer' ? Number(input.value) : t === 'enum' ? JSON.parse(input.value) : input.value;
  }
  const result = $('#command-result');
  if (!Object.keys(body).length) {
    result.className = 'result bad';
    result.textContent = 'Fill at least one field.';
    return;
  }
  if (!apiKey() && config.keyConfigured) {
    result.className = 'result bad';
    result.textContent = 'Enter the API key first (top right).';
    return;
  }
  const r = await fetch('/api/command', { method: 'POST', headers: headers({ 'Content-Type': 'application/json' }), body: JSON.stringify(body) });
  const reply = await r.json().catch(() => ({}));
  if (r.ok) {
    result.className = 'result ok';
    result.textContent = `Written: ${Object.entries(reply.written).map(([k, v]) => `${k} = ${fmt(v)}`).join(', ')}${reply.durable === false && r.status === 202 ? ' (in memory only: disk failing)' : ''}`;
    for (const input of e.target.querySelectorAll('[name]')) input.value = '';
    refreshAudit();
  } else {
    result.className = 'result bad';
    result.textContent = r.status === 401 ? 'Refused: missing or wrong API key.' : reply.message ?? `HTTP ${r.status}`;
    for (const [k, msg] of Object.entries(reply.fields ?? {})) {
      const slot = document.getElementById(`cmd-${k}-error`);
      if (slot) slot.textContent = msg;
    }
  }
});

// ---- health -----------------------------------------------------------------------------------
// ---- gateway reachability: /health failing twice in a row (or no answer within 4 s) = offline --------
let healthFailures = 0;
let offlineSince = null;
function setOffline(offline) {
  if (offline && !offlineSince) offlineSince = new Date();
  if (!offline) offlineSince = null;
  document.body.classList.toggle('offline', offline);
  $('#offline-banner').hidden = !offline;
  $('#offline-since').textContent = offline ? ` since ${offlineSince.toLocaleTimeString()}` : '';
}

/** A duration for people: `0.4 ms`, `12 ms`, `3.2 s`, `4 min`. */
function formatMs(ms) {
  if (!Number.isFinite(ms)) return '';
  if (ms < 10) return `${ms.toFixed(1)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.round(ms / 60000)} min`;
}

async function refreshHealth() {
  try {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), 4000);
    try {
      const r = await fetch('/health', { headers: headers(), signal: controller.signal });
      // 503 is the gateway answering "not healthy": it is still there.
      if (!r.ok && r.status !== 503) throw new Error(`HTTP ${r.status}`);
      health = await r.json();
    } finally {
      clearTimeout(timer);
    }
    healthFailures = 0;
    setOffline(false);
  } catch {
    healthFailures++;
    setBadge('#overall', 'bad', 'unreachable');
    if (healthFailures >= 2) setOffline(true);
    return;
  }
  setBadge('#overall', health.status === 'ok' ? 'ok' : 'warn', health.status);
  const rows = [];
  for (const hb of Object.values(health.heartbeats)) {
    rows.push(el('tr', { class: hb.stale ? 'stale' : 'ok', dataset: { item: hb.key } },
      el('td', {}, hb.key), el('td', { class: 'num' }, hb.ageS === null ? 'never' : `${hb.ageS.toFixed(1)} s`), el('td', {}, hb.stale ? `stale (> ${hb.maxAgeS} s)` : 'fresh')));
  }
  for (const p of Object.values(health.plugins)) {
    const cls = p.status === 'running' ? 'ok' : p.status === 'failed' ? 'bad' : 'warn';
    rows.push(el('tr', { class: cls, dataset: { item: `plugin:${p.id}` } },
      el('td', {}, `plugin ${p.id}`), el('td', { class: 'num' }, p.restarts ? `${p.restarts} restarts` : ''), el('td', { title: p.lastError ?? '' }, p.status + (p.lastError && p.status !== 'running' ? `: ${p.lastError}` : ''))));
  }
  if (health.store) {
    const s = health.store;
    rows.push(el('tr', { class: s.ok ? 'ok' : 'bad', dataset: { item: 'store' } },
      el('td', {}, 'store'), el('td', { class: 'num' }, s.journalLagMs ? `${formatMs(s.journalLagMs)} lag` : ''), el('td', {}, s.ok ? s.mode : `${s.mode}: ${s.lastError ?? 'not ok'}`)));
  }
  for (const [name, c] of Object.entries(health.checks ?? {})) {
    rows.push(el('tr', { class: c.ok ? 'ok' : 'bad' }, el('td', {}, name), el('td'), el('td', {}, c.detail ?? (c.ok ? 'ok' : 'failing'))));
  }
  $('#health tbody').replaceChildren(...rows);
  for (const key of state.keys()) if (shownKey(key)) renderTile(key);
}

// ---- audit and contributed panels ---------------------------------------------------------------
// ---- alarms: active ones first, acknowledge needs the key (the API audits it) ----------------------
async function refreshAlarms() {
  let data;
  try {
    data = await getJson('/api/alarms');
  } catch {
    return;
  }
  $('#alarms-info').textContent = data.active.length ? `${data.active.length} active` : 'none active';
  activeAlarmIds = new Set(data.active.map((a) => a.id));
  for (const key of state.keys()) if (shownKey(key)) renderTile(key);
  const row = (a, active) => el('tr', { class: active ? (a.severity === 'critical' ? 'bad' : 'warn') : 'ok', dataset: { alarm: a.id } },
    el('td', { 'data-label': 'raised' }, new Date(a.raisedAt * 1000).toLocaleTimeString()),
    el('td', { 'data-label': 'alarm' }, a.message),
    el('td', { 'data-label': 'state' }, active ? (a.acknowledgedAt ? `acknowledged ${new Date(a.acknowledgedAt * 1000).toLocaleTimeString()}` : a.severity) : `cleared ${new Date(a.clearedAt * 1000).toLocaleTimeString()}`),
    el('td', { class: 'actions' }, active && !a.acknowledgedAt ? el('button', { type: 'button', dataset: { ack: a.id } }, 'Acknowledge') : ''));
  $('#alarms tbody').replaceChildren(...data.active.map((a) => row(a, true)), ...data.recent.slice(0, 5).map((a) => row(a, false)));
}
$('#alarms').addEventListener('click', async (e) => {
  const id = e.target?.dataset?.ack;
  if (!id) return;
  const r = await fetch(`/api/alarms/${encodeURIComponent(id)}/ack`, { method: 'POST', headers: headers() });
  const result = $('#alarms-result');
  result.className = `result ${r.ok ? 'ok' : 'bad'}`;
  result.textContent = r.ok ? `acknowledged ${id}` : r.status === 401 || r.status === 403 ? 'acknowledging needs the API key (enter it above)' : `not acknowledged: HTTP ${r.status}`;
  await refreshAlarms();
});

async function refreshAudit() {
  let rows;
  try {
    rows = await getJson('/api/audit?limit=8');
  } catch {
    return;
  }
  $('#audit tbody').replaceChildren(...rows.map((r) => el('tr', {},
    el('td', {}, new Date(r.ts * 1000).toLocaleTimeString()), el('td', {}, r.key), el('td', {}, `${fmt(r.old)} → ${fmt(r.new)}`), el('td', { class: 'muted' }, `${r.client}${r.keyId ? ` · ${r.keyId}` : ''}`))));
}

function renderJson(data, rowActions = [], onAction = null) {
  if (Array.isArray(data)) {
    if (!data.length) return el('p', { class: 'muted' }, 'empty');
    // Columns starting with "_" carry ids for the buttons; they are not shown.
    const cols = [...new Set(data.flatMap((r) => (r && typeof r === 'object' ? Object.keys(r) : [])))].filter((c) => !c.startsWith('_')).slice(0, 8);
    const actionsFor = (r) => rowActions.filter((a) => !a.when || a.when.values.includes(String(r?.[a.when.field])));
    const withActions = data.some((r) => actionsFor(r).length);
    return el('table', { class: 'rows' },
      el('thead', {}, el('tr', {}, ...cols.map((c) => el('th', {}, c)), withActions ? el('th', {}, '') : null)),
      el('tbody', {}, ...data.slice(0, 50).map((r) => el('tr', {},
        ...cols.map((c) => el('td', { class: typeof r?.[c] === 'number' ? 'num' : '', 'data-label': c }, fmt(r?.[c]))),
        withActions ? el('td', { class: 'actions' }, ...actionsFor(r).map((a) => {
          const b = el('button', { type: 'button' }, a.label);
          b.addEventListener('click', () => onAction(a, { ...(a.body ?? {}), key: r[a.keyField] }));
          return b;
        })) : null))));
  }
  if (data && typeof data === 'object') return el('table', {}, el('tbody', {}, ...Object.entries(data).map(([k, v]) => el('tr', {}, el('th', {}, k), el('td', {}, fmt(v))))));
  return el('p', {}, fmt(data));
}

/** POSTs an operator action with the tab's API key; says what happened in `out`. */
async function postAction(action, body, out) {
  if (action.confirm && !window.confirm(action.confirm)) return;
  out.className = 'result';
  out.textContent = `${action.label}…`;
  try {
    const r = await fetch(action.url, { method: 'POST', headers: headers({ 'content-type': 'application/json' }), body: JSON.stringify(body ?? {}) });
    const reply = await r.json().catch(() => ({}));
    out.className = `result ${r.ok ? 'ok' : 'bad'}`;
    out.textContent = r.status === 401 ? `${action.label}: the API key is missing or wrong (enter it above)` : `${action.label}: ${reply.message ?? `HTTP ${r.status}`}`;
  } catch (err) {
    out.className = 'result bad';
    out.textContent = `${action.label}: ${err.message}`;
  }
}

function buildExtraPanels() {
  const host = $('#extra-panels');
  host.replaceChildren();
  for (const p of config.panels) {
    const body = el('div', { class: 'scroll' }, el('p', { class: 'muted' }, 'loading…'));
    const out = el('p', { class: 'result', role: 'status' });
    let refresh = async () => {};
    const act = async (a, payload) => {
      await postAction(a, payload, out);
      await refresh();
    };
    const buttons = (p.actions ?? []).map((a) => {
      const b = el('button', { type: 'button' }, a.label);
      b.addEventListener('click', () => act(a, a.body));
      return b;
    });
    host.append(el('section', { class: `panel${p.wide ? ' wide' : ''}`, dataset: { panel: p.title } },
      el('h2', {}, p.title), buttons.length ? el('div', { class: 'panel-actions' }, ...buttons) : null, body, (p.actions?.length || p.rowActions?.length) ? out : null));
    refresh = async () => {
      if (p.keys) {
        body.replaceChildren(renderJson(Object.fromEntries(p.keys.map((k) => [k, state.get(k)?.value]))));
        return;
      }
      try {
        body.replaceChildren(renderJson(await getJson(p.source), p.rowActions ?? [], act));
      } catch (err) {
        body.replaceChildren(el('p', { class: 'muted' }, String(err.message)));
      }
    };
    refresh();
    setInterval(refresh, 5000);
  }
}

// ---- start ------------------------------------------------------------------------------------
async function main() {
  try {
    config = { ...config, ...(await getJson('/api/dashboard')) };
  } catch {
    // Older server or read-protected: run with the defaults.
  }
  document.title = config.title;
  $('#title').textContent = config.title;
  buildCommandForm();
  buildExtraPanels();
  connect();
  refreshTrend();
  refreshHealth();
  refreshAudit();
  setInterval(refreshTrend, 10000);
  setInterval(refreshHealth, 3000);
  void refreshAlarms();
  setInterval(refreshAlarms, 3000);
  setInterval(refreshAudit, 10000);
  setInterval(() => document.querySelectorAll('.tile').forEach((t) => {
    t.querySelector('.age').textContent = ago(state.get(t.dataset.key)?.ts);
  }), 1000);
}
main();
