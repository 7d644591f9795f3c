/**
 * Shared by the flight recorder's live tests (flight-live, flight-faults, the real-Prometheus test): why they
 * cannot run here, the records an agent left in its data dir, `iris ACTION NAME` timed by the shell around the
 * command's own fork and wait, and the duration tolerance the issue sets (10 % or 150 ms).
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'vitest';
import { findExecutable } from '../../src/tools/executables.js';
import type { LifecycleRecordMeta } from '../../src/agent/flight/record-meta.js';
import { waitFor, type AgentProcess } from './support.js';

/** Wait (best effort) until the agent has no record under way, so a test's own lifecycle does not queue behind others. */
export async function waitForIdleRecorder(agent: AgentProcess, timeoutMs = 180_000): Promise<void> {
  await waitFor('no record under way', async () => ((await agent.metrics()).value('irisflame_lifecycle_recordings') === 0 ? true : undefined), timeoutMs).catch(
    () => undefined,
  );
}

const run = promisify(execFile);

/** Why the live flight-recorder tests cannot run here (root for bpftrace; perf; gcc for the simulated IRIS). */
export function flightMissing(extraTools: string[] = []): string | undefined {
  if (process.getuid?.() !== 0) return 'not root (bpftrace needs it)';
  for (const tool of ['bpftrace', 'perf', 'gcc', ...extraTools]) if (findExecutable(tool) === undefined) return `${tool} is not installed`;
  return undefined;
}

/** The records (metadata) in `dataDir`, of `instance` when given, oldest first. */
export function recordsIn(dataDir: string, instance?: string): LifecycleRecordMeta[] {
  if (!existsSync(dataDir)) return [];
  return readdirSync(dataDir)
    .filter((file) => file.endsWith('.json') && !file.startsWith('.'))
    .flatMap((file) => {
      try {
        return [JSON.parse(readFileSync(join(dataDir, file), 'utf8')) as LifecycleRecordMeta];
      } catch {
        return []; // removed by retention while we read
      }
    })
    .filter((meta) => instance === undefined || meta.iris_instance === instance)
    .sort((a, b) => (a.started_at < b.started_at ? -1 : a.started_at > b.started_at ? 1 : a.id.localeCompare(b.id)));
}

/**
 * `iris ACTION NAME` (the simulated IRIS), timed by bash around the command's own fork and wait, not around
 * node's spawn of bash (a loaded host adds ~0.3 s there). Returns the wall time in seconds and the exit code.
 */
export async function timedIris(command: string, action: string, name: string, simulatedMs = 50): Promise<{ wall: number; exitCode: number }> {
  const timed = 'start=$EPOCHREALTIME; "$0" "$1" "$2" >/dev/null 2>&1; code=$?; end=$EPOCHREALTIME; echo "$start $end $code"';
  const { stdout } = await run('bash', ['-c', timed, command, action, name], { env: { ...process.env, IRISSIM_MS: String(simulatedMs) }, timeout: 120_000 });
  const [from, to, code] = stdout.trim().split(' ').map(Number);
  return { wall: to! - from!, exitCode: code! };
}

/**
 * Wait until `instance` has at least `count` records in `dataDir`; the error carries the agent's log. Generous: the
 * agent records every instance on the node (other tests' too), each record with its own perf and bpftrace, and on
 * a host with a load of 20 on 2 cores a record takes 30 s or more to be written.
 */
export async function waitForRecords(dataDir: string, instance: string, count: number, agent: AgentProcess, timeoutMs = 180_000): Promise<LifecycleRecordMeta[]> {
  return waitFor(`${count} record(s) of ${instance}`, () => {
    const list = recordsIn(dataDir, instance);
    return list.length >= count ? list : undefined;
  }, timeoutMs).catch((error: Error) => {
    throw new Error(`${error.message}\nagent: ${agent.stderr().slice(-4000)}`);
  });
}

/** The tolerance for a record's duration against the command's wall time: 10 %, or 150 ms. */
export function expectDurationNear(seconds: number, wall: number): void {
  expect(Math.abs(seconds - wall), `duration ${seconds} s against a wall time of ${wall} s`).toBeLessThanOrEqual(Math.max(0.15, wall * 0.1));
}
