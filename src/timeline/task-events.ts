/**
 * perf's task events, as `perf script --show-task-events --show-lost-events` prints them between the
 * samples. Only lines containing `PERF_RECORD_` are read here; samples go to the perf collapser.
 */
import type { TaskEvent } from './model.js';

export const TASK_EVENT_MARKER = 'PERF_RECORD_';

export type TaskEventLine =
  | { kind: 'event'; event: TaskEvent }
  | { kind: 'lost'; count: number }
  | { kind: 'other' } // a PERF_RECORD_ line we do not need (MMAP, SWITCH, …)
  | { kind: 'bad' };

// The prefix before the record: `COMM  PID[/TID]  [CPU]  TIME: ` (comm may hold spaces; the cpu may be
// absent, depending on -F). What we need from it: the ids and the time, the last `123.456789:`.
const PREFIX = /(?:(\d+)(?:\/(\d+))?\s+(?:\[\d+\]\s+)?)?(\d+\.\d+):\s*$/;

// irisstop  8043 [000]   452.631236: PERF_RECORD_FORK(8044:8044):(8043:8043)
const FORK = /^PERF_RECORD_FORK\((\d+):(\d+)\):\((\d+):(\d+)\)/;
// irisdb  8044 [001]   452.760847: PERF_RECORD_EXIT(8044:8044):(8043:8043)
const EXIT = /^PERF_RECORD_EXIT\((\d+):(\d+)\):\((\d+):(\d+)\)/;
// irisdb  8044 [000]   452.632720: PERF_RECORD_COMM exec: irisdb:8044/8044
// swapper     0 [000]     0.000000: PERF_RECORD_COMM: kworker/u8:0-ev:12/12   (names may hold ':')
const COMM = /^PERF_RECORD_COMM( exec)?: (.*):(\d+)\/(\d+)\s*$/;
// swapper     0 [000]   670.374230: PERF_RECORD_LOST lost 86
// (PERF_RECORD_LOST_SAMPLES is printed the same way by newer perf.)
const LOST = /^PERF_RECORD_LOST(?:_SAMPLES)?:? lost (\d+)/;

/** Read one line that contains `PERF_RECORD_` (latin1 or UTF-8 text, no newline). */
export function parseTaskEventLine(line: string): TaskEventLine {
  const at = line.indexOf(TASK_EVENT_MARKER);
  if (at === -1) return { kind: 'other' };
  const record = line.slice(at);
  const lost = LOST.exec(record);
  if (lost) return { kind: 'lost', count: Number(lost[1]) };
  const prefix = PREFIX.exec(line.slice(0, at));
  const isTaskRecord = record.startsWith('PERF_RECORD_FORK') || record.startsWith('PERF_RECORD_EXIT') || record.startsWith('PERF_RECORD_COMM');
  if (!isTaskRecord) return { kind: 'other' };
  if (!prefix) return { kind: 'bad' };
  const time = Number(prefix[3]);
  const fork = FORK.exec(record);
  if (fork) {
    return {
      kind: 'event',
      event: { kind: 'fork', time, pid: Number(fork[1]), tid: Number(fork[2]), ppid: Number(fork[3]), ptid: Number(fork[4]) },
    };
  }
  const exit = EXIT.exec(record);
  if (exit) {
    return { kind: 'event', event: { kind: 'exit', time, pid: Number(exit[1]), tid: Number(exit[2]), ppid: Number(exit[3]) } };
  }
  const comm = COMM.exec(record);
  if (comm) {
    const pid = Number(comm[3]);
    const tid = Number(comm[4]);
    const name = comm[2]!;
    return { kind: 'event', event: comm[1] ? { kind: 'exec', time, pid, tid, comm: name } : { kind: 'comm', time, pid, tid, comm: name } };
  }
  return { kind: 'bad' };
}

// perf script's stderr after a lossy recording:
//   Warning:
//   Processed 190656 samples and lost 79.12%!
//   Processed 5326 events and lost 3 chunks!
const LOST_CHUNKS = /Processed \d+ events and lost (\d+) chunks/;

/** Lost chunks perf script reported on stderr (0 when it reported none). */
export function lostChunksInPerfStderr(stderr: string): number {
  const match = LOST_CHUNKS.exec(stderr);
  return match ? Number(match[1]) : 0;
}
