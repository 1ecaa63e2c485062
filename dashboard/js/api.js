// The API key (kept in sessionStorage for this tab only) and the fetch helpers that send it.
/* global sessionStorage, fetch */

const KEY_STORAGE = 'fieldgate.apiKey';

export const apiKey = () => sessionStorage.getItem(KEY_STORAGE) ?? '';
export const setApiKey = (v) => (v ? sessionStorage.setItem(KEY_STORAGE, v) : sessionStorage.removeItem(KEY_STORAGE));

export function headers(extra = {}) {
  const h = { ...extra };
  if (apiKey()) h['X-API-Key'] = apiKey();
  return h;
}

export async function getJson(path) {
  const r = await fetch(path, { headers: headers() });
  if (!r.ok) {
    const body = await r.json().catch(() => ({}));
    throw new Error(`${path}: ${body.message ?? `HTTP ${r.status}`}`);
  }
  return r.json();
}

export async function postJson(url, body) {
  const r = await fetch(url, { method: 'POST', headers: headers({ 'content-type': 'application/json' }), body: JSON.stringify(body ?? {}) });
  return { r, reply: await r.json().catch(() => ({})) };
}
