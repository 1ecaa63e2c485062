// Scenario reports for CI: TAP 14 (one subtest per scenario, streamed step by step) and JUnit XML
// (one testsuite per scenario, one testcase per step), each failure with step, expected and seen.
import type { ScenarioResult, StepResult } from './run.ts';

const s = (ms: number) => (ms / 1000).toFixed(ms < 10_000 ? 2 : 1);

/** The TAP point of one step, indented as a subtest, with a YAML block when it failed. */
export function tapStep(r: StepResult): string {
  const head = `    ${r.status === 'failed' ? 'not ok' : 'ok'} ${r.index + 1} - [t=${r.at.toFixed(1)} s] ${tapEscape(r.title)}${r.status === 'skipped' ? ' # SKIP an earlier step failed' : ''}`;
  const note = r.note ? `\n    # ${r.note.replace(/\n/g, ' ')}` : '';
  if (r.status !== 'failed' || !r.failure) return head + note;
  const f = r.failure;
  const yaml = ['      ---', `      step: ${r.index + 1}`, `      message: ${yamlString(f.message)}`];
  if (f.expected !== undefined) yaml.push(`      expected: ${yamlString(f.expected)}`);
  if (f.seen !== undefined) yaml.push(`      seen: ${yamlString(f.seen)}`);
  yaml.push(`      at: ${yamlString(`${r.at.toFixed(1)} s virtual after start, failed after ${s(r.virtualMs)} s virtual / ${s(r.realMs)} s real`)}`);
  if (f.log?.length) yaml.push('      log:', ...f.log.map((l) => `        - ${yamlString(l)}`));
  yaml.push('      ...');
  return [head, ...yaml].join('\n');
}

export function tapScenarioHead(name: string, file: string): string {
  return `# Subtest: ${tapEscape(name)} (${file})`;
}

/** The closing lines of one scenario: its plan, and its own point at the top level. */
export function tapScenarioEnd(r: ScenarioResult, n: number): string {
  const lines: string[] = [];
  if (r.setupError) {
    lines.push(`    not ok 1 - ${tapEscape(r.setupError.message)}`, '      ---', `      message: ${yamlString(r.setupError.message)}`);
    if (r.setupError.issues.length) lines.push('      issues:', ...r.setupError.issues.map((i) => `        - ${yamlString(i)}`));
    lines.push('      ...', '    1..1');
  } else {
    lines.push(`    1..${r.steps.length}`);
  }
  const failed = r.steps.find((x) => x.status === 'failed');
  const why = r.setupError ? ' (could not run)' : failed ? ` (step ${failed.index + 1} failed)` : '';
  lines.push(`${r.ok ? 'ok' : 'not ok'} ${n} - ${tapEscape(r.name)}${why} # time=${Math.round(r.realMs)}ms`);
  return lines.join('\n');
}

export function tapReport(results: readonly ScenarioResult[]): string {
  const out = ['TAP version 14'];
  results.forEach((r, i) => {
    out.push(tapScenarioHead(r.name, r.file));
    for (const step of r.steps) out.push(tapStep(step));
    out.push(tapScenarioEnd(r, i + 1));
  });
  out.push(`1..${results.length}`);
  return out.join('\n') + '\n';
}

export function junitReport(results: readonly ScenarioResult[]): string {
  const total = results.reduce((n, r) => n + Math.max(1, r.steps.length), 0);
  const failures = results.reduce((n, r) => n + (r.setupError ? 1 : r.steps.filter((x) => x.status === 'failed').length), 0);
  const time = results.reduce((t, r) => t + r.realMs, 0);
  const out = ['<?xml version="1.0" encoding="UTF-8"?>', `<testsuites name="fieldgate scenarios" tests="${total}" failures="${failures}" time="${s(time)}">`];
  for (const r of results) {
    const cases = r.setupError ? 1 : r.steps.length;
    const fails = r.setupError ? 1 : r.steps.filter((x) => x.status === 'failed').length;
    const skipped = r.steps.filter((x) => x.status === 'skipped').length;
    out.push(`  <testsuite name="${xml(r.name)}" file="${xml(r.file)}" tests="${cases}" failures="${fails}" skipped="${skipped}" time="${s(r.realMs)}">`);
    if (r.setupError) {
      const body = [r.setupError.message, ...r.setupError.issues.map((i) => `  ${i}`)].join('\n');
      out.push(`    <testcase name="start the scenario" classname="${xml(r.name)}" time="0">`, `      <failure message="${xml(r.setupError.message)}">${xml(body)}</failure>`, '    </testcase>');
    }
    for (const step of r.steps) {
      const name = `${step.index + 1}. ${step.title}`;
      const open = `    <testcase name="${xml(name)}" classname="${xml(r.name)}" time="${s(step.realMs)}">`;
      if (step.status === 'passed' && step.note) out.push(open, `      <system-out>${xml(step.note)}</system-out>`, '    </testcase>');
      else if (step.status === 'passed') out.push(`${open.slice(0, -1)}/>`);
      else if (step.status === 'skipped') out.push(open, '      <skipped message="an earlier step failed"/>', '    </testcase>');
      else {
        const f = step.failure!;
        const body = [
          `step ${step.index + 1}: ${step.title}`,
          `at ${step.at.toFixed(1)} s (virtual) after start`,
          f.expected !== undefined ? `expected: ${f.expected}` : null,
          f.seen !== undefined ? `seen: ${f.seen}` : null,
          f.log?.length ? `gateway log:\n${f.log.map((l) => `  ${l}`).join('\n')}` : null,
        ].filter((x) => x !== null).join('\n');
        out.push(open, `      <failure message="${xml(f.message)}">${xml(body)}</failure>`, '    </testcase>');
      }
    }
    out.push('  </testsuite>');
  }
  out.push('</testsuites>');
  return out.join('\n') + '\n';
}

/** A human progress line per step (when the report goes to a file). */
export function progressLine(r: StepResult, total: number): string {
  const mark = r.status === 'passed' ? 'ok  ' : r.status === 'failed' ? 'FAIL' : 'skip';
  const detail = r.status === 'failed' && r.failure ? `\n         ${r.failure.message}` : '';
  const note = r.note ? `\n         ${r.note}` : '';
  return `  [${r.index + 1}/${total}] t=${r.at.toFixed(1).padStart(6)} s  ${mark} ${r.title}${r.status === 'skipped' ? '' : ` (${s(r.realMs)} s real)`}${note}${detail}`;
}

function tapEscape(text: string): string {
  // `#` starts a directive in TAP; newlines would end the line.
  return text.replace(/\\/g, '\\\\').replace(/#/g, '\\#').replace(/\n/g, ' ');
}

function yamlString(text: string): string {
  return JSON.stringify(text);
}

// XML 1.0 forbids most control characters even escaped; they become U+FFFD.
function xml(text: string): string {
  return text
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '\ufffd')
    .replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}
