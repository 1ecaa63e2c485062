// The command form: one field per writable key, labelled and with its unit from the display section;
// a fixed set of values (schema `enum`, or display `enum` names) is a selector, never a free number box.
/* global document */
import { $, el } from './dom.js';
import { apiKey, postJson } from './api.js';
import { enumName, fmt, formatKeyValue, labelOf } from './format.js';
import { displayOf, page } from './state.js';

/** The choices of a key: [value, text] pairs, or null for a free field. */
function choices(key, schema) {
  if (Array.isArray(schema.enum)) return schema.enum.map((v) => [v, enumName(key, v) ? `${enumName(key, v)} (${fmt(v)})` : fmt(v)]);
  const names = displayOf(key)?.enum;
  if (schema.type === 'boolean') return [[true, names?.true ?? 'ON'], [false, names?.false ?? 'OFF']];
  if (names && (schema.type === 'integer' || schema.type === 'number')) {
    return Object.entries(names).filter(([v]) => /^-?\d+$/.test(v)).map(([v, n]) => [Number(v), `${n} (${v})`]);
  }
  return null;
}

export function buildCommandForm(onWritten) {
  const form = $('#command-form');
  form.replaceChildren();
  const entries = Object.entries(page.config.commands);
  if (!entries.length) {
    $('#command-panel').hidden = true; // nothing to command on this gateway: no empty panel
    return;
  }
  for (const [key, schema] of entries) {
    const id = `cmd-${key}`;
    const unit = displayOf(key)?.unit;
    const options = choices(key, schema);
    let input;
    if (options) {
      input = el('select', { id, name: key }, el('option', { value: '' }, '—'), ...options.map(([v, text]) => el('option', { value: JSON.stringify(v) }, text)));
      input.dataset.type = 'json';
    } else if (schema.type === 'number' || schema.type === 'integer') {
      input = el('input', { id, name: key, type: 'number', step: schema.type === 'integer' ? '1' : 'any', inputmode: 'decimal', min: schema.minimum, max: schema.maximum });
      input.dataset.type = 'number';
    } else {
      input = el('input', { id, name: key, type: 'text' });
      input.dataset.type = 'string';
    }
    const range = [schema.minimum !== undefined ? `min ${schema.minimum}` : null, schema.maximum !== undefined ? `max ${schema.maximum}` : null].filter(Boolean).join(', ');
    const current = page.values.has(key) ? `now ${formatKeyValue(key, page.values.get(key).value)}` : '';
    const hint = [displayOf(key)?.description ?? (displayOf(key) ? '' : schema.description), range, current].filter(Boolean).join(' · ');
    form.append(el('div', { class: 'field' },
      el('label', { for: id, title: key }, labelOf(key)),
      el('div', { class: 'input' }, input, unit ? el('span', { class: 'unit' }, unit) : null),
      hint ? el('div', { class: 'hint', id: `${id}-hint` }, hint) : null,
      el('div', { class: 'error', id: `${id}-error` })));
  }
  form.append(el('button', { type: 'submit', class: 'primary' }, 'Send'));
  form.onsubmit = (e) => void submit(e, onWritten);
}

async function submit(e, onWritten) {
  e.preventDefault();
  const form = e.target;
  const body = {};
  for (const input of form.querySelectorAll('[name]')) {
    document.getElementById(`${input.id}-error`).textContent = '';
    if (input.value === '') continue;
    const t = input.dataset.type;
    body[input.name] = t === 'number' ? Number(input.value) : t === 'json' ? JSON.parse(input.value) : input.value;
  }
  const result = $('#command-result');
  if (!Object.keys(body).length) {
    result.className = 'result bad';
    result.textContent = 'Fill at least one field.';
    return;
  }
  if (!apiKey() && page.config.keyConfigured) {
    result.className = 'result bad';
    result.textContent = 'Enter the API key first (top right).';
    return;
  }
  const { r, reply } = await postJson('/api/command', body);
  if (r.ok) {
    result.className = 'result ok';
    result.textContent = `Written: ${Object.entries(reply.written).map(([k, v]) => `${labelOf(k)} = ${formatKeyValue(k, v)}`).join(', ')}${reply.durable === false && r.status === 202 ? ' (in memory only: disk failing)' : ''}`;
    for (const input of form.querySelectorAll('[name]')) input.value = '';
    onWritten?.();
  } else {
    result.className = 'result bad';
    result.textContent = r.status === 401 ? 'Refused: missing or wrong API key.' : reply.message ?? `HTTP ${r.status}`;
    for (const [k, msg] of Object.entries(reply.fields ?? {})) {
      const slot = document.getElementById(`cmd-${k}-error`);
      if (slot) slot.textContent = msg;
    }
  }
}
