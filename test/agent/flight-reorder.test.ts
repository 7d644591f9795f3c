/**
 * The flight recorder when bpftrace hands over an `iris` command's exec after its child's: it reads its per-CPU
 * buffers in turn, so events of two CPUs come out of order (seen in CI: a restart recorded as a stop and a start
 * "without an iris command"). Real recorder, tracker and perf; the events are hand-made, in the wrong order.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, describe, expect, test } from 'vitest';
import { InstanceTracker } from '../../src/agent/instances.js';
import { monotonicSeconds } from '../../src/agent/proc.js';
import { startFlightRecorder } from '../../src/agent/flight/recorder.js';
import { parseSnoopLine, type SnoopLine } from '../../src/kernel/exec-events.js';
import { OffCpuRing } from '../../src/kernel/offcpu-ring.js';
import { WarmOffCpuStream } from '../../src/kernel/offcpu-tracer.js';
import { flightMissing, recordsIn } from './flight-support.js';
import { waitFor } from './support.js';

const skip = flightMissing();
if (skip !== undefined) console.warn(`flight-reorder: skipped: ${skip}`);

const MGR = '/data/REORDER/mgr';
const IRISDB = '/usr/irissys/bin/irisdb';
const CONTROL_ARGV = ['./irisdb', `-s${MGR}/`, `-w${MGR}/`, '-cc', '-B', '-C/data/REORDER/iris.cpf*REORDER'];
const DAEMON_ARGV = ['./irisdb', `-s${MGR}`, '-cj', '-p13', 'START^CLNDMN'];
const STARTUP_ARGV = ['./irisdb', `-s${MGR}/`, '-U', '-B', '-b1024', '-Erunlevel=sys/complete', 'QUIET^STU'];

/** A snooper line as bpftrace prints it (`E  ns  pid  ppid  argv-bytes  argv  comm`; `X  ns  pid  status`). */
function execLine(time: number, pid: number, ppid: number, argv: string[]): string {
  const bytes = Buffer.from(`${argv.join('\0')}\0`);
  const escaped = [...bytes].map((byte) => (byte === 0 ? '\\x00' : String.fromCharCode(byte))).join('');
  const comm = argv[0]!.slice(argv[0]!.lastIndexOf('/') + 1).slice(0, 15);
  return `E\t${Math.round(time * 1e9)}\t${pid}\t${ppid}\t${bytes.length}\t${escaped}\t${comm}`;
}
const exitLine = (time: number, pid: number, status = 0): string => `X\t${Math.round(time * 1e9)}\t${pid}\t${status}`;

/** The argv of a process of instance `name` instead of REORDER. */
const ofInstance = (argv: string[], name: string): string[] => argv.map((arg) => arg.replaceAll('REORDER', name));

/** Wait for `name`'s records (of `kind` when given) in `dataDir`. */
function recordsOf(dataDir: string, name: string, kind?: string) {
  const list = () => recordsIn(dataDir, name).filter((record) => kind === undefined || record.kind === kind);
  return waitFor(`the records of ${name}`, () => (list().length > 0 ? list() : undefined), 60_000);
}

/** The real recorder and tracker, fed snooper lines as the agent feeds them: the recorder sees the line, the tracker the event, then the recorder again. */
function startRecorder(dataDir: string) {
  const tracker = new InstanceTracker({ watchingSince: 0 });
  const warm = new WarmOffCpuStream(new OffCpuRing());
  warm.ring.down('no tracer in this test');
  const logged: string[] = [];
  const recorder = startFlightRecorder({ warm, dataDir, keep: 5, maxBytes: 64 * 1024 * 1024, maxSeconds: 60, node: 'test', tracker, registry: new Registry(), log: (line) => logged.push(line) });
  const feed = (line: string): void => {
    const event = parseSnoopLine(line) as Extract<SnoopLine, { kind: 'exec' | 'exit' }>;
    recorder.noteEvent(event, line);
    if (event.kind === 'exec') tracker.exec({ ...event.exec, executable: event.exec.argv[0]!.startsWith('/') ? event.exec.argv[0] : IRISDB });
    else tracker.exit(event.exit);
    recorder.afterEvent(event);
  };
  return { recorder, feed, logged, tracker };
}

describe.skipIf(skip !== undefined)('the flight recorder with events read out of order', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'irisflame-flight-reorder-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  test("`iris start` read after its control process's exec: one start record, the command's, not one \"without an iris command\"", async () => {
    const { recorder, feed, logged } = startRecorder(dataDir);
    try {
      // Fake pids far above pid_max's default, so nothing on the host is taken for them.
      const t0 = monotonicSeconds();
      feed(execLine(t0 + 0.05, 4_000_001, 4_000_000, CONTROL_ARGV)); // the child first,
      feed(execLine(t0, 4_000_000, 1, ['/usr/irissys/bin/iris', 'start', 'REORDER'])); // then its parent, iris
      feed(execLine(t0 + 0.1, 4_000_002, 4_000_000, STARTUP_ARGV));
      await new Promise((resolve) => setTimeout(resolve, 1500)); // perf samples at least a second
      feed(exitLine(t0 + 1.5, 4_000_002));
      feed(exitLine(t0 + 1.6, 4_000_000));
      const [record] = await recordsOf(dataDir, 'REORDER');
      expect(record).toMatchObject({ kind: 'start', iris_instance: 'REORDER', command: '/usr/irissys/bin/iris start REORDER', ended_by: 'settled' });
      expect(record!.duration_seconds).toBeCloseTo(1.6, 3);
      expect(record!.notes.join('\n')).not.toMatch(/without an iris command/);
      expect(logged.join('\n')).toMatch(/the start of REORDER \(\/usr\/irissys\/bin\/iris start REORDER\) takes over the record its child began/);
      expect(recordsIn(dataDir, 'REORDER')).toHaveLength(1);
    } finally {
      await recorder.stop();
    }
  }, 120_000);

  test("a control process's exec read only after the start record ended, dated inside it, begins no second record", async () => {
    const { recorder, feed, logged } = startRecorder(dataDir);
    const late = (argv: string[]): string[] => ofInstance(argv, 'LATECC');
    try {
      const t0 = monotonicSeconds();
      feed(execLine(t0, 4_000_100, 1, ['/usr/irissys/bin/iris', 'start', 'LATECC']));
      feed(execLine(t0 + 0.1, 4_000_102, 4_000_100, late(STARTUP_ARGV)));
      await new Promise((resolve) => setTimeout(resolve, 1500));
      feed(exitLine(t0 + 1.5, 4_000_102));
      feed(exitLine(t0 + 1.6, 4_000_100)); // the command's exit: nothing of the instance alive is known, so it has settled
      expect(logged.filter((line) => line.startsWith('flight recorder: recording start of LATECC'))).toHaveLength(1);
      // Only now the control process's exec, though it ran from t0 + 0.05 (another CPU's buffer, read late).
      feed(execLine(t0 + 0.05, 4_000_101, 4_000_100, late(CONTROL_ARGV)));
      expect(logged.filter((line) => line.startsWith('flight recorder: recording start of LATECC')), logged.join('\n')).toHaveLength(1);
      const [record] = await recordsOf(dataDir, 'LATECC');
      expect(record).toMatchObject({ kind: 'start', command: '/usr/irissys/bin/iris start LATECC', ended_by: 'settled' });
      // A control process dated after the record's end is a new lifecycle and is recorded as one.
      feed(execLine(t0 + 1.7, 4_000_103, 1, late(CONTROL_ARGV)));
      expect(logged.filter((line) => line.startsWith('flight recorder: recording start of LATECC'))).toHaveLength(2);
    } finally {
      await recorder.stop();
    }
  }, 120_000);

  test("an exit of the command's pid dated before its exec (an earlier owner's, read late) is not the command's", async () => {
    const { recorder, feed, tracker } = startRecorder(dataDir);
    const named = (argv: string[]): string[] => ofInstance(argv, 'LATEND');
    const stopRecords = () => recordsIn(dataDir, 'LATEND').filter((record) => record.kind === 'stop');
    try {
      const t0 = monotonicSeconds();
      // The instance, up since before the agent (known to the tracker, no record): its control process and a daemon.
      tracker.exec({ pid: 4_000_201, ppid: 1, time: t0 - 5, argv: named(CONTROL_ARGV), executable: IRISDB });
      tracker.exec({ pid: 4_000_202, ppid: 4_000_201, time: t0 - 4, argv: named(DAEMON_ARGV), executable: IRISDB });
      feed(execLine(t0, 4_000_200, 1, ['/usr/irissys/bin/iris', 'stop', 'LATEND']));
      await new Promise((resolve) => setTimeout(resolve, 1500));
      feed(exitLine(t0 - 0.5, 4_000_200)); // the pid's earlier owner, gone before the command's exec
      feed(exitLine(t0 + 1.0, 4_000_201)); // the control process: down
      feed(exitLine(t0 + 1.2, 4_000_202)); // the daemon: nothing of the instance left, but the command still runs
      expect(stopRecords()).toEqual([]);
      feed(exitLine(t0 + 1.6, 4_000_200)); // the command's own exit
      const [record] = await recordsOf(dataDir, 'LATEND', 'stop');
      expect(record).toMatchObject({ command: '/usr/irissys/bin/iris stop LATEND', ended_by: 'settled' });
      expect(record!.duration_seconds).toBeCloseTo(1.6, 3);
    } finally {
      await recorder.stop();
    }
  }, 120_000);
});
