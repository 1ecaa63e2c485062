// Prometheus metrics for one runtime instance: a thin get-or-create wrapper over its own prom-client
// Registry (never the global one), so a restarted plugin gets its existing counters back.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Logger } from './log.ts';

export { circuitStateValue } from './circuit-breaker.ts';

export interface MetricsOptions {
  /** Prepended to every metric name created here (not doubled when a name already has it). Default none. */
  prefix?: string;
  /** Also expose prom-client's process_* and nodejs_* metrics. Default false. */
  defaultMetrics?: boolean;
  /** Where a throwing onCollect callback is reported; the scrape goes on without it. */
  log?: Logger;
}

type MetricKind = 'counter' | 'gauge' | 'histogram';
type AnyMetric = Counter<string> | Gauge<string> | Histogram<string>;

interface Entry {
  kind: MetricKind;
  labels: string;
  buckets: string | null;
  metric: AnyMetric;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export class MetricsRegistry {
  /** The underlying prom-client registry, for integrations that need it. */
  readonly registry: Registry = new Registry();
  readonly #prefix: string;
  readonly #log?: Logger;
  readonly #entries = new Map<string, Entry>();
  readonly #hooks = new Set<() => void | Promise<void>>();

  constructor(options: MetricsOptions = {}) {
    this.#prefix = options.prefix ?? '';
    this.#log = options.log;
    if (options.defaultMetrics) collectDefaultMetrics({ register: this.registry });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  counter(name: string, help: string, labelNames: readonly string[] = []): Counter<string> {
    return this.#getOrCreate('counter', name, labelNames, null, (fullName) =>
      new Counter({ name: fullName, help, labelNames: [...labelNames], registers: [this.registry] })) as Counter<string>;
  }

  gauge(name: string, help: string, labelNames: readonly string[] = []): Gauge<string> {
    return this.#getOrCreate('gauge', name, labelNames, null, (fullName) =>
      new Gauge({ name: fullName, help, labelNames: [...labelNames], registers: [this.registry] })) as Gauge<string>;
  }

  histogram(name: string, help: string, labelNames: readonly string[] = [], buckets?: number[]): Histogram<string> {
    return this.#getOrCreate('histogram', name, labelNames, buckets ?? null, (fullName) =>
      new Histogram({
        name: fullName,
        help,
        labelNames: [...labelNames],
        registers: [this.registry],
        ...(buckets ? { buckets: [...buckets] } : {}),
      })) as Histogram<string>;
  }

  /** Registers a callback run before each scrape (e.g. to set gauges from current state). Returns an unregister fn. */
  onCollect(fn: () => void | Promise<void>): () => void {
    // Wrap so registering the same function twice gives two independent registrations.
    const hook = () => fn();
    this.#hooks.add(hook);
    return () => void this.#hooks.delete(hook);
  }

  /** Prometheus text exposition format. */
  async text(): Promise<string> {
    for (const hook of [...this.#hooks]) {
      try {
        await hook();
      } catch (err) {
        this.#log?.warn('metrics collect callback failed; scraping without it', { err });
      }
    }
    return await this.registry.metrics();
  }

  #getOrCreate(
    kind: MetricKind,
    name: string,
    labelNames: readonly string[],
    buckets: number[] | null,
    create: (fullName: string) => AnyMetric,
  ): AnyMetric {
    const fullName = this.#prefix && !name.startsWith(this.#prefix) ? this.#prefix + name : name;
    const labels = [...labelNames].sort().join(',');
    const bucketKey = buckets ? [...buckets].sort((a, b) => a - b).join(',') : null;
    const existing = this.#entries.get(fullName);
    if (existing) {
      if (existing.kind !== kind) {
        throw new Error(`metrics: "${fullName}" is already registered as a ${existing.kind}, cannot register it as a ${kind}; pick another name`);
      }
      if (existing.labels !== labels) {
        throw new Error(`metrics: "${fullName}" is already registered with labels [${existing.labels}], not [${labels}]; use the same labels or another name`);
      }
      if (bucketKey !== null && existing.buckets !== bucketKey) {
        throw new Error(`metrics: histogram "${fullName}" is already registered with buckets [${existing.buckets ?? 'default'}], not [${bucketKey}]`);
      }
      return existing.metric;
    }
    if (!NAME.test(fullName)) throw new Error(`metrics: invalid metric name "${fullName}": use letters, digits, _ and : (not starting with a digit)`);
    for (const l of labelNames) {
      if (!LABEL.test(l) || l.startsWith('__')) throw new Error(`metrics: invalid label name "${l}" on "${fullName}": use letters, digits and _`);
    }
    if (this.registry.getSingleMetric(fullName)) {
      throw new Error(`metrics: "${fullName}" is already registered (default metrics?); pick another name`);
    }
    const metric = create(fullName);
    this.#entries.set(fullName, { kind, labels, buckets: bucketKey, metric });
    return metric;
  }
}
