// The live feed over /ws: a snapshot, then deltas; reconnects with backoff, and a dropped feed
// triggers an immediate health check (the first sign of a stopped gateway).
/* global location, WebSocket, setTimeout */
import { apiKey } from './api.js';
import { page } from './state.js';
import { renderTile } from './tiles.js';

let ws = null;
let backoff = 500;

function applyDelta(d) {
  page.values.set(d.key, { value: d.value, ts: d.ts });
  renderTile(d.key, true);
}

export function connect({ onStatus, onDrop }) {
  const url = new URL('/ws', location.href);
  url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  url.searchParams.set('topics', 'state/*');
  if (page.config.requireKeyForReads && apiKey()) url.searchParams.set('apiKey', apiKey());
  const socket = new WebSocket(url);
  ws = socket;
  socket.onopen = () => {
    backoff = 500;
    onStatus('ok', 'live');
  };
  socket.onmessage = (e) => {
    const msg = JSON.parse(e.data);
    if (msg.type === 'snapshot') msg.values.forEach(applyDelta);
    else if (msg.type === 'delta' && msg.topic.startsWith('state/')) applyDelta(msg);
    else if (msg.type === 'batch') for (const d of msg.deltas) if (d.topic.startsWith('state/')) applyDelta(d);
  };
  socket.onclose = (e) => {
    if (ws !== socket) return;
    onStatus('bad', e.code === 1013 ? 'too slow, reconnecting' : 'offline');
    onDrop();
    setTimeout(() => connect({ onStatus, onDrop }), backoff);
    backoff = Math.min(backoff * 2, 10000);
  };
}

export function reconnect(handlers) {
  const old = ws;
  ws = null;
  old?.close();
  connect(handlers);
}
