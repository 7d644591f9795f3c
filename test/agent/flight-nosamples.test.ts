/**
 * The flight recorder when perf cannot sample: the agent (CLI, root, bpftrace) runs with a PATH that lacks perf,
 * so every record's perf session fails at once. The test restarts a simulated IRIS instance; the restart must
 * still leave exactly one record, partial and saying why it has no CPU samples, whose capture holds the
 * restart's exec events (from the agent's snooper) and opens in `irisflame timeline` and at /lifecycle/ID.svg.
 * Then the bound on records sampling at once: with a perf that never starts sampling (each record holds its
 * slot for perf's 30 s start-up timeout), three instances started one after the other leave three records, the
 * third without samples for the bound's sake. Skips, saying why, without root, bpftrace or gcc.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
import { installSimulatedIris, startAgentCli, OWN_INSTANCES_ONLY, uniqueInstanceName, waitFor, type AgentProcess } from './support.js';

function missing(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root (bpftrace needs it)';
  for (const tool of ['bpftrace', 'gcc']) if (findExecutable(tool) === undefined) return `${tool} is not installed`;
  return undefined;
}

const skip = reportSkip('agent: flight recorder without perf', missing());
const run = promisify(execFile);

const recordsOf = (dataDir: string, names: string[]): LifecycleRecordMeta[] =>
  existsSync(dataDir)
    ? readdirSync(dataDir)
        .filter((file) => file.endsWith('.json') && !file.startsWith('.'))
        .map((file) => JSON.parse(readFileSync(join(dataDir, file), 'utf8')) as LifecycleRecordMeta)
        .filter((meta) => names.includes(meta.iris_instance))
        .sort((a, b) => (a.started_at < b.started_at ? -1 : 1))
    : [];

/** Start an agent whose PATH has bpftrace (and what runs it: unshare, sh, mount for tracefs) plus `extra`. */
async function startAgentWithPath(dataDir: string, extra: (dir: string) => void): Promise<{ agent: AgentProcess; path: string }> {
  const saved = process.env.PATH;
  const path = pathWithOnly(['bpftrace', 'setpriv', 'unshare', 'sh', 'mount']);
  extra(path);
  process.env.PATH = path;
  try {
    return { agent: await startAgentCli(['--scan-interval', '1', '--data-dir', dataDir, ...OWN_INSTANCES_ONLY]), path };
  } finally {
    process.env.PATH = saved;
  }
}

describe.skipIf(skip)('the flight recorder on the simulated IRIS, perf missing', () => {
  const dir = mkdtempSync(join(tmpdir(), 'irisflame-flight-nosamples-'));
  const dataDir = join(dir, 'lifecycle');
  const name = uniqueInstanceName('NOS');
  let command = '';
  let agent: AgentProcess;
  let noPerfPath = '';

  beforeAll(async () => {
    command = installSimulatedIris(join(dir, 'root'));
    // The agent (and so its records' perf sessions) sees a PATH with bpftrace but no perf.
    ({ agent, path: noPerfPath } = await startAgentWithPath(dataDir, () => undefined));
  }, 120_000);

  afterAll(async () => {
    await run(command, ['stop', name]).catch(() => undefined);
    await agent?.stop();
    rmSync(dir, { recursive: true, force: true });
    if (noPerfPath !== '') rmSync(noPerfPath, { recursive: true, force: true });
  }, 120_000);

  const records = (): LifecycleRecordMeta[] => recordsOf(dataDir, [name]);
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

describe.skipIf(skip)('the flight recorder on the simulated IRIS, more records than may sample at once', () => {
  const dir = mkdtempSync(join(tmpdir(), 'irisflame-flight-bound-'));
  const dataDir = join(dir, 'lifecycle');
  const names = ['A', 'B', 'C'].map((letter) => uniqueInstanceName(`BND${letter}`));
  let command = '';
  let agent: AgentProcess;
  let path = '';

  beforeAll(async () => {
    command = installSimulatedIris(join(dir, 'root'));
    const sleep = findExecutable('sleep')!;
    // A perf that answers the feature probes (`record -h`, `version`) and never starts sampling: each record's
    // session holds its sampling slot until perf's start-up timeout (30 s), then fails.
    const fakePerf = ['#!/bin/sh', 'case "$1" in', `  record) [ "$2" = -h ] && exit 129; exec "${sleep}" 600 ;;`, '  version) exit 0 ;;', 'esac', 'exit 1', ''];
    ({ agent, path } = await startAgentWithPath(dataDir, (bin) => writeFileSync(join(bin, 'perf'), fakePerf.join('\n'), { mode: 0o755 })));
  }, 120_000);

  afterAll(async () => {
    await Promise.all(names.map((name) => run(command, ['stop', name]).catch(() => undefined)));
    await agent?.stop();
    rmSync(dir, { recursive: true, force: true });
    if (path !== '') rmSync(path, { recursive: true, force: true });
  }, 120_000);

  test('records beyond MAX_SAMPLING_RECORDS are written without CPU samples, naming the bound', async () => {
    for (const name of names) await run(command, ['start', name], { env: { ...process.env, IRISSIM_MS: '50' }, timeout: 60_000 });
    // The first two wait out perf's 30 s start-up timeout; the third was written once its start settled.
    const list = await waitFor('three start records', () => (recordsOf(dataDir, names).length >= 3 ? recordsOf(dataDir, names) : undefined), 120_000).catch(
      (error: Error) => {
        throw new Error(`${error.message}\nagent: ${agent.stderr()}`);
      },
    );
    expect(list.map((record) => record.kind)).toEqual(['start', 'start', 'start']);
    expect(new Set(list.map((record) => record.iris_instance))).toEqual(new Set(names));
    for (const record of list) expect(record).toMatchObject({ partial: true, sampling_hz: 0 });
    const note = (record: LifecycleRecordMeta): string => record.notes.find((line) => line.startsWith('no CPU samples:')) ?? '';
    // Other tests' instances may take slots too: the last of ours is bound-limited whatever else ran.
    const bound = list.filter((record) => /at most 2 at once, MAX_SAMPLING_RECORDS/.test(note(record)));
    expect(bound.map((record) => record.iris_instance)).toContain(names[2]);
    for (const record of list.filter((r) => !bound.includes(r))) expect(note(record)).toMatch(/perf failed: perf did not start sampling within 30 s/);
    // Each capture opens, with its `iris start` from the snooper.
    for (const record of list) {
      const timeline = await readTimeline(join(dataDir, record.capture_file));
      expect(timeline.report.samples).toBe(0);
      expect(timeline.command?.argv.slice(1)).toEqual(['start', record.iris_instance]);
    }
  }, 300_000);
});
