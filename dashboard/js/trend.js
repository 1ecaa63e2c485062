// The PV/SP/MV trend of the last hour (GET /api/trend, uPlot from node_modules). The panel stays
// hidden on a gateway that keeps no trend: no empty chart.
/* global document, window, getComputedStyle, uPlot */
import { $ } from './dom.js';
import { getJson } from './api.js';
import { page } from './state.js';

let plot = null;
const color = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();
const SERIES = {
  pv: () => ({ label: 'PV', stroke: color('--pv'), width: 2 }),
  sp: () => ({ label: 'SP', stroke: color('--sp'), width: 2, dash: [6, 4] }),
  mv: () => ({ label: 'MV %', stroke: color('--mv'), width: 1.5, scale: '%' }),
};

export async function refreshTrend() {
  if (!page.config.trendKeys.length) return;
  const to = Date.now() / 1000;
  let rows;
  try {
    rows = await getJson(`/api/trend?from=${Math.floor(to - 3600)}&limit=10000`);
  } catch (err) {
    $('#trend-info').textContent = String(err.message);
    return;
  }
  const keys = page.config.trendKeys.filter((k) => rows.some((r) => r[k] !== null && r[k] !== undefined));
  if (rows.length < 2 || !keys.length) return; // stays hidden until there is a line to draw
  $('#trend-panel').hidden = false;
  const data = [rows.map((r) => r.ts), ...keys.map((k) => rows.map((r) => r[k]))];
  $('#trend-info').textContent = `${rows.length} points`;
  const sig = keys.join(',');
  const width = $('#trend').clientWidth || 800;
  if (typeof uPlot === 'undefined') return;
  if (!plot || plot.sig !== sig) {
    plot?.destroy();
    const axisStyle = { stroke: '#8b98a5', grid: { stroke: '#2b3540', width: 1 }, ticks: { stroke: '#2b3540' } };
    plot = new uPlot({
      width,
      height: 260,
      scales: { x: { time: true }, '%': { range: [0, 100] } },
      series: [{}, ...keys.map((k) => ({ ...SERIES[k](), spanGaps: true }))],
      axes: [axisStyle, { ...axisStyle, label: 'PV / SP' }, ...(keys.includes('mv') ? [{ ...axisStyle, scale: '%', side: 1, grid: { show: false }, label: 'MV %' }] : [])],
    }, data, $('#trend'));
    plot.sig = sig;
  } else {
    plot.setData(data);
  }
}
window.addEventListener('resize', () => plot?.setSize({ width: $('#trend').clientWidth, height: 260 }));
