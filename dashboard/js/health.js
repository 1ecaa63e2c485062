// Gateway reachability and the health table. /health failing twice in a row (or not answering
// within 4 s) means the gateway stopped: the page greys out under the banner, no green stays lit.
/* global fetch, AbortController, setTimeout, clearTimeout, document */
import { $, el } from './dom.js';
import { headers } from './api.js';
import { formatMs, labelOf } from './format.js';
import { page } from './state.js';
import { renderAllTiles } from './tiles.js';

let failures = 0;
let offlineSince = null;

export function setBadge(sel, cls, text) {
  const b = $(sel);
  b.className = `badge ${cls}`;
  b.textContent = text;
}

function setOffline(offline) {
  if (offline && !offlineSince) offlineSince = new Date();
  if (!offline) offlineSince = null;
  page.offline = offline;
  document.body.classList.toggle('offline', offline);
  $('#offline-banner').hidden = !offline;
  $('#offline-since').textContent = offline ? ` since ${offlineSince.toLocaleTimeString()}` : '';
}

const age = (s) => (s === null ? 'never' : s < 10 ? `${s.toFixed(1)} s` : s < 600 ? `${Math.round(s)} s` : `${Math.round(s / 60)} min`);

export async function refreshHealth() {
  try {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), 4000);
    try {
      const r = await fetch('/health', { headers: headers(), signal: controller.signal });
      // 503 is the gateway answering "not healthy": it is still there.
      if (!r.ok && r.status !== 503) throw new Error(`HTTP ${r.status}`);
      page.health = await r.json();
    } finally {
      clearTimeout(timer);
    }
    failures = 0;
    setOffline(false);
  } catch {
    failures++;
    setBadge('#overall', 'bad', 'unreachable');
    if (failures >= 2) setOffline(true);
    return;
  }
  const health = page.health;
  setBadge('#overall', health.status === 'ok' ? 'ok' : 'warn', health.status);
  const row = (cls, item, name, num, text, title) => el('tr', { class: cls, dataset: item ? { item } : {} },
    el('td', { 'data-label': 'item' }, name), el('td', { class: 'num', 'data-label': 'figure' }, num), el('td', { 'data-label': 'state', title }, text));
  const rows = [];
  for (const hb of Object.values(health.heartbeats)) {
    const name = labelOf(hb.key.replace(/_ts$/, '')) === hb.key.replace(/_ts$/, '') ? hb.key : `${labelOf(hb.key.replace(/_ts$/, ''))} updated`;
    rows.push(row(hb.stale ? 'stale' : 'ok', hb.key, name, age(hb.ageS), hb.stale ? `stale (> ${hb.maxAgeS} s)` : 'fresh'));
  }
  for (const p of Object.values(health.plugins)) {
    const cls = p.status === 'running' ? 'ok' : p.status === 'failed' ? 'bad' : 'warn';
    rows.push(row(cls, `plugin:${p.id}`, `plugin ${p.id}`, p.restarts ? `${p.restarts} restarts` : '', p.status + (p.lastError && p.status !== 'running' ? `: ${p.lastError}` : ''), p.lastError ?? ''));
  }
  if (health.store) {
    const s = health.store;
    rows.push(row(s.ok ? 'ok' : 'bad', 'store', 'store', s.journalLagMs ? `${formatMs(s.journalLagMs)} lag` : '', s.ok ? s.mode : `${s.mode}: ${s.lastError ?? 'not ok'}`));
  }
  for (const [name, c] of Object.entries(health.checks ?? {})) rows.push(row(c.ok ? 'ok' : 'bad', `check:${name}`, name, '', c.detail ?? (c.ok ? 'ok' : 'failing')));
  $('#health tbody').replaceChildren(...rows);
  renderAllTiles();
}
