// `fieldgate test <scenario.json>...`: runs each scenario and reports TAP (streamed) or JUnit XML.
import { writeFile } from 'node:fs/promises';
import type { AnyAdapterDefinition, AnyPluginDefinition } from '../plugin.ts';
import { progressLine, junitReport, tapReport, tapScenarioEnd, tapScenarioHead, tapStep } from '../scenario/report.ts';
import { removeLiveDataDirs, runScenario, type ScenarioResult } from '../scenario/run.ts';
import type { TestArgs } from './args.ts';

export interface TestTools {
  plugins: AnyPluginDefinition[];
  adapters: AnyAdapterDefinition[];
  env: Record<string, string | undefined>;
  out: (line: string) => void;
  err: (line: string) => void;
}

/** Exit code: 0 when every scenario passed, 1 when one failed or could not run. */
export async function testCommand(args: TestArgs, tools: TestTools): Promise<number> {
  const { out, err } = tools;
  // TAP without --out streams to stdout and is the progress; otherwise progress lines go to
  // stdout (or stderr when the XML itself goes to stdout).
  const streamTap = args.reporter === 'tap' && !args.out;
  const progress = args.reporter === 'junit' && !args.out ? err : out;
  // Interrupted (Ctrl-C, CI cancelling): no temporary data directory left behind, exit 130/143.
  const interrupted = (signal: string, code: number) => () => {
    removeLiveDataDirs();
    err(`fieldgate test: ${signal}: stopped; the report is incomplete`);
    process.exit(code);
  };
  const onInt = interrupted('SIGINT', 130);
  const onTerm = interrupted('SIGTERM', 143);
  process.once('SIGINT', onInt);
  process.once('SIGTERM', onTerm);
  try {
    return await runAll(args, tools, streamTap, progress);
  } finally {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
  }
}

async function runAll(args: TestArgs, tools: TestTools, streamTap: boolean, progress: (line: string) => void): Promise<number> {
  const { out, err } = tools;
  if (streamTap) out('TAP version 14');
  const results: ScenarioResult[] = [];
  for (const [i, file] of args.scenarios.entries()) {
    let announced = false;
    const result = await runScenario(file, {
      plugins: tools.plugins,
      adapters: tools.adapters,
      env: tools.env,
      logLevel: args.logLevel,
      echoLog: args.logLevel ? err : undefined,
      timeoutMs: args.timeoutS * 1000,
      onStart: ({ name, steps }) => {
        announced = true;
        if (streamTap) out(tapScenarioHead(name, file));
        else progress(`${name} (${file}): ${steps} step(s)`);
      },
      onStep: (step, total) => (streamTap ? out(tapStep(step)) : progress(progressLine(step, total))),
    });
    results.push(result);
    if (streamTap) {
      if (!announced) out(tapScenarioHead(result.name, file));
      out(tapScenarioEnd(result, i + 1));
    } else if (result.setupError) {
      progress(`  could not run: ${result.setupError.message}`);
      for (const issue of result.setupError.issues) progress(`    ${issue}`);
    } else {
      progress(`  ${result.ok ? 'passed' : 'FAILED'} in ${(result.realMs / 1000).toFixed(1)} s`);
    }
  }
  if (streamTap) out(`1..${results.length}`);
  else {
    const report = args.reporter === 'junit' ? junitReport(results) : tapReport(results);
    if (args.out) await writeFile(args.out, report);
    else out(report.trimEnd());
  }
  const failed = results.filter((r) => !r.ok);
  const summary = `${results.length - failed.length}/${results.length} scenario(s) passed${failed.length ? `; failed: ${failed.map((r) => r.file).join(', ')}` : ''}`;
  if (streamTap) out(`# ${summary}`);
  else progress(summary);
  return failed.length ? 1 : 0;
}
