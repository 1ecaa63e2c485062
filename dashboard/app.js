// The operator dashboard's entry: loads what the server says to show (GET /api/dashboard: title,
// keys, display section, commands, panels) and starts the live feed and the refresh loops. Plain ES
// modules under js/, no build step.
/* global document, setInterval */
import { $ } from './js/dom.js';
import { apiKey, getJson, setApiKey } from './js/api.js';
import { page } from './js/state.js';
import { ago } from './js/format.js';
import { connect, reconnect } from './js/live.js';
import { refreshHealth, setBadge } from './js/health.js';
import { initAlarms, refreshAlarms } from './js/alarms.js';
import { refreshAudit } from './js/audit.js';
import { buildCommandForm } from './js/commands.js';
import { buildExtraPanels } from './js/panels.js';
import { refreshTrend } from './js/trend.js';
import { initHistoryChart } from './js/history-chart.js';

const feed = { onStatus: (cls, text) => setBadge('#link', cls, text), onDrop: () => void refreshHealth(), onAlarm: () => void refreshAlarms() };

function initKeyForm() {
  $('#key-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const v = $('#api-key').value.trim();
    if (v) setApiKey(v);
    $('#api-key').value = '';
    $('#api-key').placeholder = v ? 'key set for this tab' : 'X-API-Key for commands';
    reconnect(feed);
  });
  $('#key-forget').addEventListener('click', () => {
    setApiKey('');
    $('#api-key').placeholder = 'X-API-Key for commands';
  });
  if (apiKey()) $('#api-key').placeholder = 'key set for this tab';
}

async function main() {
  initKeyForm();
  try {
    page.config = { ...page.config, ...(await getJson('/api/dashboard')) };
  } catch {
    // Older server or read-protected: run with the defaults.
  }
  document.title = page.config.title;
  $('#title').textContent = page.config.title;
  buildCommandForm(() => void refreshAudit());
  buildExtraPanels();
  initAlarms();
  initHistoryChart();
  connect(feed);
  void refreshTrend();
  void refreshHealth();
  void refreshAudit();
  void refreshAlarms();
  setInterval(refreshTrend, 10000);
  setInterval(refreshHealth, 3000);
  setInterval(refreshAlarms, 3000);
  setInterval(refreshAudit, 10000);
  setInterval(() => document.querySelectorAll('.tile').forEach((t) => {
    t.querySelector('.age').textContent = ago(page.values.get(t.dataset.key)?.ts);
  }), 1000);
}
void main();
