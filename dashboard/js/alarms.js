// The alarm board: active alarms first with the time raised, acknowledge (needs the key; the API
// audits it), then the recently cleared ones.
/* global fetch */
import { $, el } from './dom.js';
import { getJson, headers } from './api.js';
import { page } from './state.js';
import { renderAllTiles } from './tiles.js';

const time = (s) => new Date(s * 1000).toLocaleTimeString();

export async function refreshAlarms() {
  let data;
  try {
    data = await getJson('/api/alarms');
  } catch {
    return;
  }
  $('#alarms-info').textContent = data.active.length ? `${data.active.length} active` : 'none active';
  $('#alarms-panel').classList.toggle('alarming', data.active.some((a) => !a.acknowledgedAt));
  page.activeAlarmIds = new Set(data.active.map((a) => a.id));
  renderAllTiles();
  const row = (a, active) => el('tr', { class: active ? (a.severity === 'critical' ? 'bad' : 'warn') : 'ok', dataset: { alarm: a.id } },
    el('td', { 'data-label': 'raised' }, time(a.raisedAt)),
    el('td', { 'data-label': 'alarm' }, a.message),
    el('td', { 'data-label': 'state' }, active ? (a.acknowledgedAt ? `acknowledged ${time(a.acknowledgedAt)}` : a.severity) : `cleared ${time(a.clearedAt)}`),
    el('td', { class: 'actions' }, active && !a.acknowledgedAt ? el('button', { type: 'button', dataset: { ack: a.id } }, 'Acknowledge') : ''));
  const rows = [...data.active.map((a) => row(a, true)), ...data.recent.slice(0, 5).map((a) => row(a, false))];
  $('#alarms tbody').replaceChildren(...(rows.length ? rows : [el('tr', {}, el('td', { colspan: '4', class: 'muted' }, 'No alarms.'))]));
}

export function initAlarms() {
  $('#alarms').addEventListener('click', async (e) => {
    const id = e.target?.dataset?.ack;
    if (!id) return;
    const r = await fetch(`/api/alarms/${encodeURIComponent(id)}/ack`, { method: 'POST', headers: headers() });
    const result = $('#alarms-result');
    result.className = `result ${r.ok ? 'ok' : 'bad'}`;
    result.textContent = r.ok ? `acknowledged ${id}` : r.status === 401 || r.status === 403 ? 'acknowledging needs the API key (enter it above)' : `not acknowledged: HTTP ${r.status}`;
    await refreshAlarms();
  });
}
