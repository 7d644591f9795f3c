/**
 * The flight recorder when perf cannot sample: the agent (CLI, root, bpftrace) runs with a PATH that lacks perf,
 * so every record's perf session fails at once. The test restarts a simulated IRIS instance; the restart must
 * still leave exactly one record, partial and saying why it has no CPU samples, whose capture holds the
 * restart's exec events (from the agent's snooper) and opens in `irisflame timeline` and at /lifecycle/ID.svg.
 * Skips, saying why, without root, bpftrace or gcc.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { findExecutable } from '../../src/tools/executables.js';
import { readTimeline } from '../../src/timeline/render.js';
import type { LifecycleRecordMeta } from '../../src/agent/flight/record-meta.js';
import { IRISFLAME_BIN, REPO_ROOT } from '../support/cli.js';
import { reportSkip } from '../support/references.js';
import { pathWithOnly } from '../record/support.js';
import { installSimulatedIris, startAgentCli, uniqueInstanceName, waitFor, type AgentProcess } from './support.js';

function missing(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root (bpftrace needs it)';
  for (const tool of ['bpftrace', 'gcc']) if (findExecutable(tool) === undefined) return `${tool} is not installed`;
  return undefined;
}

const skip = reportSkip('agent: flight recorder without perf', missing());
const run = promisify(execFile);

describe.skipIf(skip)('the flight recorder on the simulated IRIS, perf missing', () => {
  const dir = mkdtempSync(join(tmpdir(), 'irisflame-flight-nosamples-'));
  const dataDir = join(dir, 'lifecycle');
  const name = uniqueInstanceName('NOS');
  let command = '';
  let agent: AgentProcess;
  let noPerfPath = '';

  beforeAll(async () => {
    command = installSimulatedIris(join(dir, 'root'));
    // The agent (and so its records' perf sessions) sees a PATH with bpftrace but no perf (sh and mount: bpftrace
    // runs under `unshare sh -c 'mount -t tracefs …'` where tracefs is not mounted).
    const path = process.env.PATH;
    noPerfPath = pathWithOnly(['bpftrace', 'setpriv', 'unshare', 'sh', 'mount']);
    process.env.PATH = noPerfPath;
    try {
      agent = await startAgentCli(['--scan-interval', '1', '--data-dir', dataDir]);
    } finally {
      process.env.PATH = path;
    }
  }, 120_000);

  afterAll(async () => {
    await run(command, ['stop', name]).catch(() => undefined);
    await agent?.stop();
    rmSync(dir, { recursive: true, force: true });
    if (noPerfPath !== '') rmSync(noPerfPath, { recursive: true, force: true });
  }, 120_000);

  const records = (): LifecycleRecordMeta[] =>
    existsSync(dataDir)
      ? readdirSync(dataDir)
          .filter((file) => file.endsWith('.json') && !file.startsWith('.'))
          .map((file) => JSON.parse(readFileSync(join(dataDir, file), 'utf8')) as LifecycleRecordMeta)
          .filter((meta) => meta.iris_instance === name)
          .sort((a, b) => (a.started_at < b.started_at ? -1 : 1))
      : [];
  const lifecycle = async (action: string, count: number): Promise<LifecycleRecordMeta> => {
    await run(command, [action, name], { env: { ...process.env, IRISSIM_MS: '50' }, timeout: 60_000 });
    const list = await waitFor(`record ${count} (${action}) of ${name}`, () => (records().length >= count ? records() : undefined), 90_000).catch(
      (error: Error) => {
        throw new Error(`${error.message}\nagent: ${agent.stderr()}`);
      },
    );
    return list[count - 1]!;
  };

  test('a restart without perf leaves one record with its exec events and a note saying why there are no samples', async () => {
    await lifecycle('start', 1);
    const restart = await lifecycle('restart', 2);
    expect(restart).toMatchObject({ kind: 'restart', iris_instance: name, ended_by: 'settled', partial: true, sampling_hz: 0 });
    expect(restart.notes.some((note) => /^no CPU samples: perf failed/.test(note)), restart.notes.join('\n')).toBe(true);
    // Settled records are written one by one: give a stray second record the time to show up, then count.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(records().filter((record) => record.kind === 'restart')).toHaveLength(1);

    const capture = join(dataDir, restart.capture_file);
    const timeline = await readTimeline(capture);
    expect(timeline.report.samples).toBe(0);
    expect(timeline.report.notes.some((note) => /^no CPU samples: perf failed/.test(note)), timeline.report.notes.join('\n')).toBe(true);
    expect(timeline.command?.argv.slice(1)).toEqual(['restart', name]);
    const ours = (argv: string[] | undefined): boolean => argv?.some((arg) => arg === name || arg.includes(`/${name}/`)) === true;
    const lanes = timeline.processes.filter((process) => ours(process.argv));
    const iris = lanes.find((process) => process.comm === 'iris' && process.argv?.[1] === 'restart');
    expect(iris, 'iris restart').toBeDefined();
    // `irisstop quietly restart` names no instance: it is the restart command's child.
    expect(timeline.processes.some((process) => process.comm === 'irisstop' && process.ppid === iris!.pid), 'irisstop').toBe(true);
    expect(lanes.some((process) => process.argv?.includes('-cc') === true), 'the control process').toBe(true);
    // The warm tracer's window is there too: the restart's blocked intervals.
    expect(timeline.offCpu?.offCpuUnavailable).toBeUndefined();
    expect(timeline.offCpu!.blocked.length).toBeGreaterThan(0);

    const svg = join(dir, 'restart.svg');
    await run('node', [IRISFLAME_BIN, 'timeline', capture, '-o', svg], { cwd: REPO_ROOT, timeout: 120_000 });
    expect(readFileSync(svg, 'utf8')).toContain('<svg');
    const page = await fetch(`${agent.url}/lifecycle/${restart.id}.svg`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<svg');

    const metrics = await agent.metrics();
    expect(metrics.value('iris_instance_last_restart_duration_seconds', { iris_instance: name })).toBeCloseTo(restart.duration_seconds, 3);
    // (The agent sees every instance on the machine, other tests' too: only this one's records count here.)
    const lost = agent.stderr().split('\n').filter((line) => line.includes('not written'));
    expect(lost.filter((line) => line.includes(name)), lost.join('\n')).toEqual([]);
  }, 300_000);
});
