import { test } from 'node:test';
import assert from 'node:assert/strict';
import { circuitStateValue, MetricsRegistry } from '../../core/metrics.ts';
import { memoryLog } from '../../core/log.ts';

test('counters, gauges and histograms appear in the exposition text with their labels', async () => {
  const m = new MetricsRegistry();
  m.counter('modbus_reads_total', 'Modbus reads', ['device']).inc({ device: 'x' }, 3);
  m.gauge('plugin_up', 'Plugin running').set(1);
  const h = m.histogram('poll_seconds', 'Poll duration', [], [0.1, 1]);
  h.observe(0.05);
  h.observe(0.5);
  const text = await m.text();
  assert.match(text, /^# HELP modbus_reads_total Modbus reads$/m);
  assert.match(text, /^# TYPE modbus_reads_total counter$/m);
  assert.match(text, /^modbus_reads_total\{device="x"\} 3$/m);
  assert.match(text, /^plugin_up 1$/m);
  assert.match(text, /^poll_seconds_bucket\{le="0.1"\} 1$/m);
  assert.match(text, /^poll_seconds_bucket\{le="1"\} 2$/m);
  assert.match(text, /^poll_seconds_count 2$/m);
  assert.match(m.contentType, /^text\/plain; version=0\.0\.4/);
});

test('asking twice for a metric returns the same one, so a restarted plugin keeps counting', async () => {
  const m = new MetricsRegistry();
  m.counter('restarts_total', 'Restarts', ['plugin']).inc({ plugin: 'p1' });
  const again = m.counter('restarts_total', 'Restarts', ['plugin']);
  again.inc({ plugin: 'p1' });
  assert.match(await m.text(), /^restarts_total\{plugin="p1"\} 2$/m);
});

test('a name reused with another type, labels or buckets is refused with a clear error', () => {
  const m = new MetricsRegistry();
  m.counter('reads_total', 'Reads', ['device']);
  m.histogram('latency_seconds', 'Latency', [], [1, 2]);
  assert.throws(() => m.gauge('reads_total', 'Reads'), /"reads_total" is already registered as a counter, cannot register it as a gauge/);
  assert.throws(() => m.counter('reads_total', 'Reads', ['plugin']), /already registered with labels \[device\], not \[plugin\]/);
  assert.throws(() => m.histogram('latency_seconds', 'Latency', [], [5]), /already registered with buckets/);
  assert.throws(() => m.counter('bad-name', 'x'), /invalid metric name "bad-name"/);
});

test('each registry is separate from the others and from the global one', async () => {
  const a = new MetricsRegistry();
  const b = new MetricsRegistry();
  a.gauge('only_in_a', 'A').set(7);
  b.gauge('only_in_a', 'B').set(8);
  assert.match(await a.text(), /^only_in_a 7$/m);
  assert.match(await b.text(), /^only_in_a 8$/m);
});

test('prefix is applied once to every name', async () => {
  const m = new MetricsRegistry({ prefix: 'fieldgate_' });
  m.gauge('store_pending_writes', 'Pending').set(4);
  assert.equal(m.gauge('fieldgate_store_pending_writes', 'Pending'), m.gauge('store_pending_writes', 'Pending'));
  const text = await m.text();
  assert.match(text, /^fieldgate_store_pending_writes 4$/m);
  assert.doesNotMatch(text, /fieldgate_fieldgate_/);
});

test('onCollect callbacks set gauges from current state at each scrape and can be unregistered', async () => {
  const m = new MetricsRegistry();
  const circuit = m.gauge('circuit_state', 'Circuit 0 closed, 1 half-open, 2 open', ['device']);
  let state: 'closed' | 'open' = 'closed';
  const off = m.onCollect(() => circuit.set({ device: 'plc' }, circuitStateValue(state)));
  assert.match(await m.text(), /^circuit_state\{device="plc"\} 0$/m);
  state = 'open';
  assert.match(await m.text(), /^circuit_state\{device="plc"\} 2$/m);
  off();
  state = 'closed';
  assert.match(await m.text(), /^circuit_state\{device="plc"\} 2$/m);
});

test('a throwing collect callback is logged and the scrape still answers', async () => {
  const { root, lines } = memoryLog();
  const m = new MetricsRegistry({ log: root.logger('metrics') });
  m.gauge('up', 'Up').set(1);
  m.onCollect(() => {
    throw new Error('provider broke');
  });
  assert.match(await m.text(), /^up 1$/m);
  assert.equal(lines.length, 1);
  assert.deepEqual(lines[0].err, { name: 'Error', message: 'provider broke' });
});

test('default process metrics work on this runtime when asked for', async () => {
  const m = new MetricsRegistry({ defaultMetrics: true });
  const text = await m.text();
  assert.match(text, /^process_resident_memory_bytes \d+/m);
  assert.match(text, /^nodejs_heap_size_used_bytes \d+/m);
});
