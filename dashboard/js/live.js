// The live feed over /ws: a snapshot, then deltas; reconnects with backoff, and a dropped feed
// triggers an immediate health check (the first sign of a stopped gateway); alarm events refresh the board.
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

export function connect({ onStatus, onDrop, onAlarm }) {
  const url = new URL('/ws', location.href);
  url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  url.searchParams.set('topics', 'state/*,alarm/*');
  if (page.config.requireKeyForReads && apiKey()) url.searchParams.set('apiKey', apiKey());
  const socket = new WebSocket(url);
  ws = socket;
  socket.onopen = () => {
    backoff = 500;
    onStatus('ok', 'live');
  };
  socket.onmessage = (e) => {
    const msg = JSON.parse(e.data);
    const deltas = msg.type === 'delta' ? [msg] : msg.type === 'batch' ? msg.deltas : [];
    if (msg.type === 'snapshot') msg.values.filter((d) => d.topic?.startsWith('state/') ?? true).forEach(applyDelta);
    for (const d of deltas) if (d.topic.startsWith('state/')) applyDelta(d);
    // An alarm raised, acknowledged or cleared: the board is re-read at once, not at the next poll.
    if (deltas.some((d) => d.topic.startsWith('alarm/'))) onAlarm?.();
  };
  socket.onclose = (e) => {
    if (ws !== socket) return;
    onStatus('bad', e.code === 1013 ? 'too slow, reconnecting' : 'offline');
    onDrop();
    setTimeout(() => connect({ onStatus, onDrop, onAlarm }), backoff);
    backoff = Math.min(backoff * 2, 10000);
  };
}

export function reconnect(handlers) {
  const old = ws;
  ws = null;
  old?.close();
  connect(handlers);
}
