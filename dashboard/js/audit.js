// Recent writes (GET /api/audit): who changed which key from what to what.
import { $, el } from './dom.js';
import { getJson } from './api.js';
import { formatKeyValue, labelOf } from './format.js';

export async function refreshAudit() {
  let rows;
  try {
    rows = await getJson('/api/audit?limit=8');
  } catch {
    return;
  }
  $('#audit tbody').replaceChildren(...rows.map((r) => el('tr', {},
    el('td', { 'data-label': 'time' }, new Date(r.ts * 1000).toLocaleTimeString()),
    el('td', { 'data-label': 'key', title: r.key }, labelOf(r.key)),
    el('td', { 'data-label': 'change' }, `${formatKeyValue(r.key, r.old)} → ${formatKeyValue(r.key, r.new)}`),
    el('td', { class: 'muted', 'data-label': 'by' }, `${r.client}${r.keyId ? ` · ${r.keyId}` : ''}`))));
}
