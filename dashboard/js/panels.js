// Panels other plugins contribute (GET routes tagged "dashboard", core/http-routes.ts `panel`) and
// panels from the config: JSON shown by kind — a table (arrays, the default), a list (objects), or
// bars (`panel.kind: "bars"` with `label`/`value` fields). Tables scroll inside their panel.
/* global window, setInterval */
import { $, el } from './dom.js';
import { getJson, postJson } from './api.js';
import { cell, formatKeyValue, labelOf } from './format.js';
import { page } from './state.js';

function table(data, rowActions, onAction) {
  if (!data.length) return el('p', { class: 'muted' }, 'empty');
  // Columns starting with "_" carry ids for the buttons; they are not shown.
  const cols = [...new Set(data.flatMap((r) => (r && typeof r === 'object' ? Object.keys(r) : [])))].filter((c) => !c.startsWith('_')).slice(0, 8);
  const actionsFor = (r) => rowActions.filter((a) => !a.when || a.when.values.includes(String(r?.[a.when.field])));
  const withActions = data.some((r) => actionsFor(r).length);
  return el('div', { class: 'scroll' }, el('table', { class: 'rows' },
    el('thead', {}, el('tr', {}, ...cols.map((c) => el('th', {}, c.replace(/_/g, ' '))), withActions ? el('th', {}, '') : null)),
    el('tbody', {}, ...data.slice(0, 50).map((r) => el('tr', {},
      ...cols.map((c) => el('td', { class: typeof r?.[c] === 'number' ? 'num' : '', 'data-label': c.replace(/_/g, ' ') }, cell(r?.[c]))),
      withActions ? el('td', { class: 'actions' }, ...actionsFor(r).map((a) => {
        const b = el('button', { type: 'button' }, a.label);
        b.addEventListener('click', () => onAction(a, { ...(a.body ?? {}), key: r[a.keyField] }));
        return b;
      })) : null)))));
}

/** Horizontal bars: a group per row (`label`), one bar per field in `values` (units per hour per machine). */
const BAR_COLORS = ['#58a6ff', '#f0883e', '#a371f7', '#3fb950', '#db61a2'];
function bars(data, spec) {
  const values = spec.values ?? ['value'];
  const max = Math.max(1e-9, ...data.flatMap((r) => values.map((f) => Number(r[f]) || 0)));
  const name = (f) => spec.names?.[f] ?? f;
  return el('div', { class: 'bars' },
    values.length > 1 ? el('div', { class: 'legend' }, ...values.map((f, i) => el('span', { class: 'key' }, el('span', { class: 'swatch', style: `background:${BAR_COLORS[i % BAR_COLORS.length]}` }), name(f)))) : null,
    ...data.map((r) => el('div', { class: 'bar-group' },
      el('div', { class: 'bar-label' }, cell(r[spec.label ?? 'label'])),
      ...values.map((f, i) => el('div', { class: 'bar-row', title: name(f) },
        el('span', { class: 'bar' }, el('span', { class: 'fill', style: `width:${(100 * (Number(r[f]) || 0)) / max}%;background:${BAR_COLORS[i % BAR_COLORS.length]}` })),
        el('span', { class: 'bar-value num' }, `${cell(r[f])}${spec.unit ? ` ${spec.unit}` : ''}`))))));
}

function render(data, p, onAction) {
  if (Array.isArray(data)) return p.kind === 'bars' ? bars(data, p.bars ?? {}) : table(data, p.rowActions ?? [], onAction);
  if (data && typeof data === 'object') {
    return el('div', { class: 'scroll' }, el('table', { class: 'rows' }, el('tbody', {}, ...Object.entries(data).map(([k, v]) => el('tr', {},
      el('th', {}, labelOf(k)), el('td', { 'data-label': labelOf(k) }, p.keys ? formatKeyValue(k, v) : cell(v)))))));
  }
  return el('p', {}, cell(data));
}

/** POSTs an operator action with the tab's API key; says what happened in `out`. */
async function postAction(action, body, out) {
  if (action.confirm && !window.confirm(action.confirm)) return;
  out.className = 'result';
  out.textContent = `${action.label}…`;
  try {
    const { r, reply } = await postJson(action.url, body);
    out.className = `result ${r.ok ? 'ok' : 'bad'}`;
    out.textContent = r.status === 401 ? `${action.label}: the API key is missing or wrong (enter it above)` : `${action.label}: ${reply.message ?? `HTTP ${r.status}`}`;
  } catch (err) {
    out.className = 'result bad';
    out.textContent = `${action.label}: ${err.message}`;
  }
}

export function buildExtraPanels() {
  const host = $('#extra-panels');
  host.replaceChildren();
  for (const p of page.config.panels) {
    const body = el('div', { class: 'panel-body' }, el('p', { class: 'muted' }, 'loading…'));
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
      el('h2', {}, p.title), p.hint ? el('p', { class: 'hint muted' }, p.hint) : null, buttons.length ? el('div', { class: 'panel-actions' }, ...buttons) : null, body, (p.actions?.length || p.rowActions?.length) ? out : null));
    refresh = async () => {
      if (p.keys) {
        body.replaceChildren(render(Object.fromEntries(p.keys.map((k) => [k, page.values.get(k)?.value])), p, act));
        return;
      }
      try {
        body.replaceChildren(render(await getJson(p.source), p, act));
      } catch (err) {
        body.replaceChildren(el('p', { class: 'muted' }, String(err.message)));
      }
    };
    void refresh();
    setInterval(refresh, 5000);
  }
}
