// Tiny DOM helpers shared by the dashboard modules.
/* global document */

export const $ = (sel, root = document) => root.querySelector(sel);

/** `el('div', {class: 'x', dataset: {key}}, child, 'text')`; null/undefined children are skipped. */
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null) continue;
    if (k === 'class') e.className = v;
    else if (k === 'dataset') Object.assign(e.dataset, v);
    else e.setAttribute(k, v);
  }
  e.append(...children.filter((c) => c !== null && c !== undefined && c !== false));
  return e;
}

/** An SVG element (the history chart and sparklines draw inline SVG, no library). */
export function svg(tag, attrs = {}, ...children) {
  const e = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null) e.setAttribute(k, String(v));
  e.append(...children.filter((c) => c !== null && c !== undefined));
  return e;
}
