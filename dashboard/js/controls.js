// Controls on a tile (display `control`): −/+ for a number, a selector for an enum key. Each POSTs
// `{[field]: value}` to the control's route with the operator's key; the API checks and audits it,
// and the tile shows the new value when the gateway publishes it (never optimistically).
import { el } from './dom.js';
import { postJson } from './api.js';
import { page } from './state.js';

async function send(tile, control, value) {
  const out = tile.querySelector('.control-result');
  out.textContent = '…';
  const { r, reply } = await postJson(control.url, { [control.field]: value }).catch((err) => ({ r: { ok: false, status: 0 }, reply: { message: err.message } }));
  out.className = `control-result ${r.ok ? 'ok' : 'bad'}`;
  out.textContent = r.ok ? 'sent' : r.status === 401 ? 'needs the API key' : reply.message ?? `HTTP ${r.status}`;
  if (!r.ok) out.title = JSON.stringify(reply.fields ?? {});
}

/** The control row for a tile, or null when the key has none. */
export function tileControl(key, d, tile) {
  const control = d?.control;
  if (!control) return null;
  if (d.enum) {
    const select = el('select', { 'aria-label': `${d.label ?? key}: choose`, dataset: { control: key } },
      el('option', { value: '' }, 'set…'), ...Object.entries(d.enum).map(([v, n]) => el('option', { value: v }, n)));
    select.addEventListener('change', () => {
      if (select.value === '') return;
      const v = /^-?\d+$/.test(select.value) ? Number(select.value) : select.value === 'true' ? true : select.value === 'false' ? false : select.value;
      select.value = '';
      void send(tile, control, v);
    });
    return el('div', { class: 'controls' }, select, el('span', { class: 'control-result' }));
  }
  const step = control.step ?? 1;
  const button = (sign, text) => {
    const b = el('button', { type: 'button', 'aria-label': `${sign > 0 ? 'raise' : 'lower'} ${d.label ?? key} by ${step}`, dataset: { control: key, step: String(sign * step) } }, text);
    b.addEventListener('click', () => {
      const now = page.values.get(key)?.value;
      if (typeof now !== 'number') return;
      let v = Math.round((now + sign * step) / step) * step;
      if (control.min !== undefined) v = Math.max(control.min, v);
      if (control.max !== undefined) v = Math.min(control.max, v);
      void send(tile, control, Number(v.toFixed(6)));
    });
    return b;
  };
  return el('div', { class: 'controls' }, button(-1, '−'), button(1, '+'), el('span', { class: 'control-result' }));
}
