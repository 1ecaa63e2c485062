// The history chart: one series of GET /api/history/<series>, bucketed server-side (`step`, avg per
// bucket, ≤ ~400 points whatever the range) and drawn as inline SVG, with a time-range picker
// (1 h, 8 h, 24 h, 7 d, custom). Hidden on a gateway with no numeric history at all.
/* global document, window, setInterval, URLSearchParams */
import { $, el, svg } from './dom.js';
import { getJson } from './api.js';
import { labelOf } from './format.js';
import { displayOf, page } from './state.js';

const COLORS = ['#f0883e', '#58a6ff', '#a371f7', '#3fb950', '#db61a2', '#e3b341'];
const POINTS = 400;
const chart = { series: null, keys: [], selected: new Set(), rangeS: 3600, custom: null, catalog: [] };

/** Series with at least one numeric field, `dashboard` (the sampled display keys) first. */
function chartable(catalog) {
  const out = catalog.filter((s) => s.fields?.some((f) => f.types.includes('number')));
  return out.sort((a, b) => (a.name === 'dashboard' ? -1 : b.name === 'dashboard' ? 1 : a.name < b.name ? -1 : 1));
}

function numericKeys(series) {
  const keys = series.fields.filter((f) => f.types.includes('number')).map((f) => f.name);
  const order = page.config.chart?.keys ?? [];
  return keys.sort((a, b) => (order.includes(a) ? order.indexOf(a) : 1e9) - (order.includes(b) ? order.indexOf(b) : 1e9) || (a < b ? -1 : 1));
}

/** The first key and up to three more with the same unit: one y axis that means something. */
function defaultSelection(keys) {
  const unit = displayOf(keys[0])?.unit ?? '';
  return new Set(keys.filter((k) => (displayOf(k)?.unit ?? '') === unit).slice(0, 4));
}

export async function refreshCatalog() {
  let catalog;
  try {
    catalog = chartable((await getJson('/api/history')).series ?? []);
  } catch {
    return;
  }
  chart.catalog = catalog;
  if (!catalog.length) return;
  $('#history-panel').hidden = false;
  const select = $('#history-series');
  const names = catalog.map((s) => s.name);
  if ([...select.options].map((o) => o.value).join() !== names.join()) {
    select.replaceChildren(...names.map((n) => el('option', { value: n }, n === 'dashboard' ? 'dashboard values' : n)));
  }
  if (!chart.series || !names.includes(chart.series)) selectSeries(names[0]);
  else {
    const keys = numericKeys(catalog.find((s) => s.name === chart.series));
    if (keys.join() !== chart.keys.join()) {
      chart.keys = keys;
      buildLegend();
    }
  }
  select.value = chart.series;
}

function selectSeries(name) {
  chart.series = name;
  chart.keys = numericKeys(chart.catalog.find((s) => s.name === name));
  chart.selected = defaultSelection(chart.keys);
  buildLegend();
  void draw();
}

function buildLegend() {
  $('#history-keys').replaceChildren(...chart.keys.map((k, i) => {
    const box = el('input', { type: 'checkbox', dataset: { key: k } });
    box.checked = chart.selected.has(k);
    box.addEventListener('change', () => {
      if (box.checked) chart.selected.add(k);
      else chart.selected.delete(k);
      void draw();
    });
    const unit = displayOf(k)?.unit;
    return el('label', { class: 'key' }, box, el('span', { class: 'swatch', style: `background:${COLORS[i % COLORS.length]}` }), `${labelOf(k)}${unit ? ` (${unit})` : ''}`);
  }));
}

function range() {
  if (chart.custom) return chart.custom;
  const to = Date.now() / 1000;
  return { from: to - chart.rangeS, to };
}

/** A round step in seconds for about POINTS buckets. */
function stepFor(spanS) {
  const raw = Math.max(1, spanS / POINTS);
  return [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400].find((s) => s >= raw) ?? Math.ceil(raw);
}

export async function draw() {
  const host = $('#history-chart');
  if (!chart.series) return;
  const keys = chart.keys.filter((k) => chart.selected.has(k));
  const { from, to } = range();
  const step = stepFor(to - from);
  if (!keys.length) {
    host.replaceChildren(el('p', { class: 'muted' }, 'Pick at least one value below the chart.'));
    return;
  }
  let data;
  try {
    const q = new URLSearchParams({ keys: keys.join(','), from: String(Math.floor(from)), to: String(Math.ceil(to)), step: String(step), agg: 'avg' });
    data = await getJson(`/api/history/${encodeURIComponent(chart.series)}?${q}`);
  } catch (err) {
    $('#history-info').textContent = err.message;
    return;
  }
  $('#history-info').textContent = `${data.rows.length} points, ${step < 60 ? `${step} s` : step < 3600 ? `${step / 60} min` : `${step / 3600} h`} each`;
  host.replaceChildren(render(data.rows, keys, { from, to, step }));
}

function niceTicks(lo, hi, n = 4) {
  const span = hi - lo || 1;
  const raw = span / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9; v += step) out.push(Number(v.toFixed(10)));
  return out;
}

function timeLabel(tsS, spanS) {
  const d = new Date(tsS * 1000);
  const hm = d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  return spanS > 86400 ? `${d.toLocaleDateString([], { day: '2-digit', month: '2-digit' })} ${hm}` : hm;
}

function render(rows, keys, { from, to, step }) {
  const W = Math.max(280, $('#history-chart').clientWidth || 600);
  const H = 240;
  const m = { l: 52, r: 10, t: 10, b: 24 };
  const values = rows.flatMap((r) => keys.map((k) => r[k]).filter((v) => typeof v === 'number'));
  if (!values.length) return el('p', { class: 'muted' }, 'No values in this time range.');
  let lo = Math.min(...values);
  let hi = Math.max(...values);
  const pad = (hi - lo) * 0.08 || Math.abs(hi) * 0.05 || 1;
  lo -= pad;
  hi += pad;
  const x = (t) => m.l + ((t - from) / (to - from)) * (W - m.l - m.r);
  const y = (v) => m.t + (1 - (v - lo) / (hi - lo)) * (H - m.t - m.b);
  const parts = [];
  for (const v of niceTicks(lo, hi)) {
    parts.push(svg('line', { class: 'grid', x1: m.l, x2: W - m.r, y1: y(v), y2: y(v) }));
    parts.push(svg('text', { class: 'tick', x: m.l - 6, y: y(v) + 4, 'text-anchor': 'end' }, String(v)));
  }
  const xTicks = Math.max(2, Math.min(6, Math.floor(W / 110)));
  for (let i = 0; i <= xTicks; i++) {
    const t = from + ((to - from) * i) / xTicks;
    parts.push(svg('text', { class: 'tick', x: x(t), y: H - 6, 'text-anchor': i === 0 ? 'start' : i === xTicks ? 'end' : 'middle' }, timeLabel(t, to - from)));
  }
  // A gap much longer than the usual spacing of the rows (a stopped gateway) is drawn as a gap,
  // not as a straight line across it; a series sampled once a minute still draws as a line.
  const spacing = rows.slice(1).map((r, i) => r.ts - rows[i].ts).sort((a, b) => a - b);
  const gap = 3 * Math.max(step, spacing[Math.floor(spacing.length / 2)] ?? step);
  keys.forEach((k) => {
    const color = COLORS[chart.keys.indexOf(k) % COLORS.length];
    let d = '';
    let prev = null;
    for (const r of rows) {
      const v = r[k];
      if (typeof v !== 'number') continue;
      d += `${prev === null || r.ts - prev > gap ? 'M' : 'L'}${x(r.ts + step / 2).toFixed(1)},${y(v).toFixed(1)}`;
      prev = r.ts;
    }
    parts.push(svg('path', { class: 'line', d, stroke: color, 'data-key': k }));
  });
  return svg('svg', { viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: 'img', 'aria-label': `history of ${keys.join(', ')}`, 'data-points': rows.length }, ...parts);
}

export function initHistoryChart() {
  for (const b of document.querySelectorAll('#history-ranges button')) {
    b.addEventListener('click', () => {
      document.querySelectorAll('#history-ranges button').forEach((x) => x.classList.toggle('active', x === b));
      const custom = b.dataset.range === 'custom';
      $('#history-custom').hidden = !custom;
      if (custom) return;
      chart.custom = null;
      chart.rangeS = Number(b.dataset.range);
      void draw();
    });
  }
  $('#history-custom').addEventListener('submit', (e) => {
    e.preventDefault();
    const from = Date.parse($('#history-from').value) / 1000;
    const to = Date.parse($('#history-to').value) / 1000;
    const out = $('#history-info');
    if (!Number.isFinite(from) || !Number.isFinite(to)) out.textContent = 'Enter both times.';
    else if (from >= to) out.textContent = '"from" must be before "to".';
    else {
      chart.custom = { from, to };
      void draw();
    }
  });
  $('#history-series').addEventListener('change', (e) => selectSeries(e.target.value));
  window.addEventListener('resize', () => void draw());
  void refreshCatalog();
  setInterval(refreshCatalog, 15000);
  // Relative ranges follow the clock; a custom range stays put.
  setInterval(() => {
    if (!chart.custom && !$('#history-panel').hidden) void draw();
  }, 10000);
}
