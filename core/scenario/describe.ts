// One line per scenario step for progress and reports: what it does, in the scenario's own terms.
import type { Assertion, Comparison, Step } from './schema.ts';

export function describeStep(step: Step): string {
  if ('wait' in step) return `wait ${step.wait} s`;
  if ('command' in step) return `command ${JSON.stringify(step.command)}${step.status ? ` → ${step.status}` : ''}`;
  if ('http' in step) return `${step.http.method ?? 'GET'} ${step.http.path}${step.status ? ` → ${step.status}` : ''}`;
  if ('fault' in step) {
    if ('disk' in step) return step.fault === 'recover' ? `disk ${step.disk} recovers` : `disk ${step.disk} ${step.fault}`;
    const extra = step.fault === 'slow' ? ` (${step.ms} ms)` : step.fault === 'silent' ? ` (${step.box})` : '';
    return step.fault === 'recover' ? `device ${step.device} recovers` : `device ${step.device} ${step.fault}${extra}`;
  }
  const timing = `${step.within ? ` within ${step.within} s` : ''}${step.for ? ` for ${step.for} s` : ''}`;
  return `expect ${describeAssertion(step.expect)}${timing}`;
}

export function describeAssertion(a: Assertion): string {
  if ('state' in a) return `state ${a.state}${a.exists !== undefined ? (a.exists ? ' present' : ' absent') : ''}${cmp(a)}`;
  if ('heartbeat' in a) return `heartbeat ${a.heartbeat} ${a.stale ? 'stale' : 'fresh'}`;
  if ('plugin' in a) return `plugin ${a.plugin} ${[a.status].flat().join(' or ')}`;
  if ('health' in a) return `health ${a.health}`;
  if ('store' in a) return `store ${a.store}`;
  if ('rows' in a) return `history ${a.rows} rows${cmp(a, ' >= 1')}`;
  if ('history' in a) return `history store ${a.history}`;
  if ('sql' in a) return `${a.sql}${cmp(a)}`;
  if ('alarm' in a) return `alarm ${a.alarm} ${a.active ? 'active' : 'not active'}`;
  if ('published' in a) return `published on ${a.published}${cmp(a, ' >= 1')}`;
  if ('mqtt' in a) return `MQTT messages on ${a.mqtt}${cmp(a, ' >= 1')}`;
  if ('log' in a) return `log /${a.log}/${cmp(a, ' >= 1')}`;
  return `GET ${a.get} → ${a.status}`;
}

function cmp(c: Comparison, fallback = ''): string {
  const parts: string[] = [];
  if ('equals' in c) parts.push(`= ${JSON.stringify(c.equals)}`);
  if (c.approx !== undefined) parts.push(`≈ ${c.approx}${c.tolerance !== undefined ? ` ± ${c.tolerance}` : ''}`);
  if (c.min !== undefined) parts.push(`>= ${c.min}`);
  if (c.max !== undefined) parts.push(`<= ${c.max}`);
  return parts.length ? ` ${parts.join(' and ')}` : fallback;
}
