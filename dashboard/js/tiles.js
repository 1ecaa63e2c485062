// Live value tiles, grouped as the manifest's display section says (`group`), each with its label,
// formatted value and unit, age, and colour: red outside its limits or when its `_ok` key is false,
// amber when stale (heartbeat or the key's staleAfterS), grey while the gateway is not answering.
/* global document, CSS, requestAnimationFrame */
import { $, el, svg } from './dom.js';
import { ago, labelOf, reading } from './format.js';
import { displayOf, page, shownKey } from './state.js';
import { tileControl } from './controls.js';

function orderOf(key) {
  const keys = page.config.keys.length ? page.config.keys : Object.keys(page.config.display ?? {});
  const i = keys.indexOf(key);
  return i < 0 ? Number.MAX_SAFE_INTEGER : i;
}

function groupBox(name) {
  const host = $('#values');
  let box = host.querySelector(`.group[data-group="${CSS.escape(name)}"]`);
  if (box) return box.querySelector('.tiles');
  box = el('div', { class: 'group', dataset: { group: name } }, name ? el('h3', {}, name) : null, el('div', { class: 'tiles' }));
  // Groups keep the order of their first key in the manifest.
  box.dataset.order = String(orderOf(firstKeyOf(name)));
  const before = [...host.children].find((g) => Number(g.dataset.order) > Number(box.dataset.order));
  host.insertBefore(box, before ?? null);
  return box.querySelector('.tiles');
}

function firstKeyOf(group) {
  const keys = page.config.keys.length ? page.config.keys : Object.keys(page.config.display ?? {});
  return keys.find((k) => (displayOf(k)?.group ?? '') === group) ?? '';
}

/** The last values each numeric key received on this page, for its sparkline. */
const recent = new Map();
const SPARK_POINTS = 60;

function remember(key, v) {
  if (typeof v !== 'number' || !Number.isFinite(v)) return;
  const list = recent.get(key) ?? [];
  list.push(v);
  if (list.length > SPARK_POINTS) list.shift();
  recent.set(key, list);
}

function sparkline(tile, key) {
  const list = recent.get(key) ?? [];
  let host = tile.querySelector('.spark');
  if (list.length < 8) return; // a few points make a tick, not a trend
  const lo = Math.min(...list);
  const hi = Math.max(...list);
  const pts = list.map((v, i) => `${((i / (SPARK_POINTS - 1)) * 100).toFixed(1)},${(hi === lo ? 10 : 18 - ((v - lo) / (hi - lo)) * 16).toFixed(1)}`).join(' ');
  if (!host) {
    host = svg('svg', { class: 'spark', viewBox: '0 0 100 20', preserveAspectRatio: 'none', 'aria-hidden': 'true' }, svg('polyline', { points: pts }));
    tile.querySelector('.reading').after(host);
  } else host.firstChild.setAttribute('points', pts);
}

/** The label without its group's name in front ("Dry bulb" under "Flower back"). */
function shortLabel(key) {
  const label = labelOf(key);
  const group = displayOf(key)?.group;
  if (!group || !label.startsWith(`${group} `) || label.length <= group.length + 1) return label;
  const rest = label.slice(group.length + 1);
  return rest[0].toUpperCase() + rest.slice(1);
}

function isStale(key, entry) {
  const hb = page.health?.heartbeats?.[`${key}_ts`] ?? page.health?.heartbeats?.[key];
  if (hb?.stale) return true;
  const check = displayOf(key)?.staleWith;
  if (check && page.health?.checks?.[check]?.ok === false) return true;
  const maxAge = displayOf(key)?.staleAfterS;
  return Boolean(maxAge && entry?.ts && Date.now() / 1000 - entry.ts > maxAge);
}

export function renderTile(key, changed = false) {
  if (!shownKey(key)) return;
  const entry = page.values.get(key);
  let tile = document.querySelector(`.tile[data-key="${CSS.escape(key)}"]`);
  if (!tile) {
    const d = displayOf(key);
    tile = el('div', { class: 'tile', dataset: { key }, title: d?.description ? `${key}: ${d.description}` : key },
      el('div', { class: 'name' }, shortLabel(key)),
      el('div', { class: 'reading' }, el('span', { class: 'value' }), el('span', { class: 'unit' })),
      el('div', { class: 'age' }));
    const control = tileControl(key, d, tile);
    if (control) tile.append(control);
    const tiles = groupBox(d?.group ?? '');
    const before = [...tiles.children].find((t) => orderOf(t.dataset.key) > orderOf(key) || (orderOf(t.dataset.key) === orderOf(key) && t.dataset.key > key));
    tiles.insertBefore(tile, before ?? null);
  }
  const r = reading(key, entry?.value);
  const value = tile.querySelector('.value');
  value.textContent = r.text;
  value.className = `value ${typeof entry?.value === 'boolean' ? String(entry.value) : ''}`;
  tile.querySelector('.unit').textContent = r.unit;
  tile.querySelector('.age').textContent = ago(entry?.ts);
  tile.classList.toggle('stale', isStale(key, entry));
  tile.classList.toggle('bad', entry?.value === undefined || page.values.get(`${key}_ok`)?.value === false || page.activeAlarmIds.has(`limit:${key}`));
  if (!changed) return;
  remember(key, entry?.value);
  sparkline(tile, key);
  tile.classList.add('flash');
  requestAnimationFrame(() => requestAnimationFrame(() => tile.classList.remove('flash')));
}

export function renderAllTiles() {
  for (const key of page.values.keys()) renderTile(key);
}
