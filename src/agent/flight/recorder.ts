/**
 * The flight recorder: the agent's exec/exit stream and the instance tracker's transitions decide when an
 * IRIS lifecycle begins and ends; each one is recorded with `record --lifecycle`'s capture
 * (timeline/record.ts, driven without a command: exec events come from the agent's own snooper) and
 * stored in the data dir (store.ts). One record per lifecycle and per instance at a time:
 *
 * - `iris start|stop|restart|force NAME`: kind start, stop (stop and force) or restart; ends when the
 *   command has exited and the instance is settled (up with ^STU gone, or down with all its processes gone).
 * - `irisstop` (no `iris` command around it): kind stop, its instance known once a child names its manager dir.
 * - a control process starting with no command recorded (systemd): kind start; ends when ^STU has exited.
 * - the control process exiting unexpectedly: kind crash; the capture starts with the last RING_SECONDS
 *   of exec/exit events (a count-capped ring) and of the warm tracer's blocked intervals, CPU waits and file
 *   lookups (kernel/offcpu-ring.ts, bounded by age, count and bytes), and ends when the instance's processes
 *   are gone or after POST_DEATH_SECONDS.
 * Blocked intervals, CPU waits and file lookups come from the agent's warm tracer (`warm`), which runs all
 * along, so every record has them from before its trigger; only perf (99 Hz samples) starts at the trigger.
 * Every record ends at `maxSeconds` at the latest (ended_by bound), or when the agent stops (partial). A tracer
 * that dies mid-record makes it partial, not shorter.
 * A record whose perf cannot sample (not installed, failed, nothing collected, or MAX_SAMPLING_RECORDS others
 * sampling) is still written, with everything but CPU samples (partial, a note says why).
 * An `iris` command whose exec is read after its child's (per-CPU buffers) takes over the record the child began.
 *
 * Over 400 lines on purpose: one state machine whose closures share the records, the ring and the sampling
 * slots; split, that state would be passed around between files.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Registry } from 'prom-client';
import { startLifecycleSession } from '../../timeline/record.js';
import { commandCriticalPath, describeCommandPath } from '../../timeline/command-path.js';
import type { Timeline } from '../../timeline/model.js';
import type { SnoopLine } from '../../kernel/exec-events.js';
import type { InstanceTracker, InstanceTransition } from '../instances.js';
import { processLabel } from '../process-table.js';
import { instanceOfIrisCommand } from '../../iris/instance-argv.js';
import { monotonicSeconds, readProcStat } from '../proc.js';
import { CRITICAL_PATH_REASONS, type CriticalPathSummary, type EndedBy, type LifecycleKind, type LifecycleRecordMeta } from './record-meta.js';
import { applyRetention, ensureDataDir, recordId, storeRecord } from './store.js';
import { createFlightMetrics } from './metrics.js';
import type { WarmOffCpuStream } from '../../kernel/offcpu-tracer.js';
import { flatCopy } from '../../kernel/offcpu-ring.js';

/** CPU samples per second while recording (the continuous sampler keeps its own 19 Hz). */
export const FLIGHT_SAMPLING_HZ = 99;
/** The crash ring: events of the last RING_SECONDS, at most RING_EVENTS of them. */
export const RING_SECONDS = 30;
const RING_EVENTS = 20_000;
/** After a death: record until the instance's processes are gone, at most this long. */
export const POST_DEATH_SECONDS = 5;
/** Events from this long before a command's exec are taken from the ring (they are read in batches). */
const EXEC_SLACK_SECONDS = 1;
const STARTED_WITHOUT_COMMAND = 'started without an iris command the agent saw (systemd, a script)';
const SETTLE_CHECK_MS = 200;
/** How often the warm tracer's ring drops what is past its 30 s while the tracer prints nothing new. */
const RING_EXPIRE_MS = 5_000;
/**
 * At most this many records sample CPU at once. Each runs its own perf (every CPU at FLIGHT_SAMPLING_HZ, then
 * perf script): a dozen instances cycling together started a dozen and swamped a 2-core host
 * (bench/agent-lifecycle.mjs). Records beyond it keep their exec/exit events and warm window, without samples.
 */
export const MAX_SAMPLING_RECORDS = 2;
/** SIGTERM: how long stop() waits for records under way to be written. */
const STOP_WAIT_MS = 15_000;
/** How long a command's pid must be gone from /proc, with no exit event, before its exit is taken as lost. */
const LOST_EXIT_GRACE_SECONDS = 5;

export interface FlightRecorderOptions {
  dataDir: string;
  keep: number;
  maxBytes: number;
  maxSeconds: number;
  /** Which instances are recorded (`--lifecycle-instances`); all when undefined. */
  records?: (instance: string) => boolean;
  node: string;
  tracker: InstanceTracker;
  registry: Registry;
  log: (line: string) => void;
  /** The agent's warm off-CPU tracer's stream (its ring): each record takes its window from there. */
  warm: WarmOffCpuStream;
}

export interface FlightRecorder {
  /** Every exec/exit the agent's snooper reads, before the tracker sees it. */
  noteEvent(event: Extract<SnoopLine, { kind: 'exec' | 'exit' }>, line: string): void;
  /** The same event, once the tracker has taken it (attribution known): triggers and settling. */
  afterEvent(event: Extract<SnoopLine, { kind: 'exec' | 'exit' }>): void;
  onTransition(transition: InstanceTransition): void;
  /** The warm tracer (the bpftrace that also snoops execs) died: records under way end early, saying why. */
  tracerDied(reason: string): void;
  /** Recordings under way (tests, metrics). */
  readonly active: number;
  /** Finish the records under way as partial (ended_by agent-stopping) and write them; bounded wait. */
  stop(): Promise<void>;
}

interface ActiveRecord {
  instance: string;
  kind: LifecycleKind;
  /** Monotonic seconds the lifecycle began (command exec, control exec, or the death). */
  begin: number;
  /** Monotonic seconds the capture starts (events from the rings from here on). */
  from?: number;
  commandPid?: number;
  commandArgv?: string[];
  commandExit?: { time: number; status: number | undefined };
  /** When the command's pid was first found gone from /proc with no exit event seen (noteLostCommandExit). */
  commandGoneAt?: number;
  death?: { time: number; status: number | undefined; alive: Array<{ pid: number; comm: string; label: string }>; ringFrom: number };
  lines: string[];
  /**
   * Whose exec/exit events go into `lines`: the command, its descendants and the instance's processes. Set by
   * begin(). Another instance restarting at the same moment stays out of this one's capture.
   */
  pids?: Set<number>;
  notes: string[];
  /** Why the off-CPU tracer died mid-record (the record goes on without it, partial). */
  tracerDied?: string;
  /** Why the record has no CPU samples (perf failed or was not started). */
  noSamples?: string;
  endedBy?: EndedBy;
  end?: number;
  stopSession?: () => void;
  onTracerDied?: (reason: string) => void;
  timeline?: Timeline;
  done?: Promise<void>;
}

const IRIS_VERBS: Record<string, LifecycleKind> = { start: 'start', stop: 'stop', force: 'stop', restart: 'restart' };

export function startFlightRecorder(options: FlightRecorderOptions): FlightRecorder {
  const { tracker, log } = options;
  const metrics = createFlightMetrics(options.registry, options.node);
  const ring: Array<{ time: number; line: string; who: EventPids }> = [];
  /** The line of the event being handed to the tracker: it goes to the records it belongs to afterwards. */
  let lineInFlight: string | undefined;
  /** Recording, by instance: at most one each. */
  const records = new Map<string, ActiveRecord>();
  /** Ended, being written (perf script, the timeline): a new lifecycle of the instance may begin meanwhile. */
  const finishing = new Set<ActiveRecord>();
  const updateActive = (): void => metrics.setActive(records.size + finishing.size);
  /**
   * Each instance's latest ended record (monotonic seconds). A control process's or irisstop's exec read only after
   * that record ended but dated inside it (bpftrace reads its per-CPU buffers in turn; more so under load) is part of
   * it when the record's kind covers it, not a new lifecycle: seen in CI as a second "start" record of 0.000 s.
   */
  const lastEnded = new Map<string, { kinds: readonly LifecycleKind[]; begin: number; end: number }>();
  const partOfEnded = (instance: string, time: number, kind: LifecycleKind): boolean => {
    const ended = lastEnded.get(instance);
    return ended !== undefined && ended.kinds.includes(kind) && time >= ended.begin && time <= ended.end;
  };
  /** irisstop runs not yet attributed to an instance: pid → exec time. */
  const pendingStoppers = new Map<number, { time: number; argv: string[] }>();
  /**
   * The exit being handed to the tracker: a crash transition fires inside tracker.exit(), so this is the
   * control process's own exit status (undefined when the death came from an exec or a /proc scan).
   */
  let exitInFlight: number | undefined;
  let stopping = false;
  /** Records whose perf is sampling or being read (perf script): at most MAX_SAMPLING_RECORDS. */
  let sampling = 0;
  let dirReady: Promise<void> | undefined;

  /**
   * Settling and arming are looked at every SETTLE_CHECK_MS only while a record is under way: idle, no 200 ms timer
   * wakes the agent (one alone cost ~0.1% of a core; docs/agent.md, "Overhead").
   */
  let settleTimer: NodeJS.Timeout | undefined;
  const watchRecords = (): void => {
    if (records.size > 0 && settleTimer === undefined && !stopping) {
      settleTimer = setInterval(() => {
        checkSettled(monotonicSeconds());
        // The warm tracer prints every blocked interval only while armed (kernel/offcpu-program.ts `warm`).
        if (records.size > 0) options.warm.arm();
        watchRecords();
      }, SETTLE_CHECK_MS);
      settleTimer.unref();
    } else if (records.size === 0 && settleTimer !== undefined) {
      clearInterval(settleTimer);
      settleTimer = undefined;
    }
  };
  // The off-CPU ring ages out on new lines only: without this, a burst stays held while the tracer is quiet.
  const expireTimer = setInterval(() => options.warm.ring.expire(), RING_EXPIRE_MS);
  expireTimer.unref();

  /** The ring's exec/exit lines from `from` on that belong to the record (a crash's: all of the node's). */
  const linesFromRing = (record: ActiveRecord, from: number): string[] =>
    ring.filter((entry) => entry.time >= from && (record.kind === 'crash' || belongs(record, entry.who))).map((entry) => entry.line);

  const begin = (record: ActiveRecord, fromTime: number): void => {
    if (stopping || records.has(record.instance) || options.records?.(record.instance) === false) return;
    record.from = fromTime;
    options.warm.arm();
    record.pids = new Set([...(record.commandPid === undefined ? [] : [record.commandPid]), ...tracker.processesOf(record.instance).map((p) => p.pid)]);
    // A crash's window is kept whole: the dead instance's processes are no longer known to the tracker.
    record.lines = linesFromRing(record, fromTime);
    records.set(record.instance, record);
    updateActive();
    watchRecords();
    log(`flight recorder: recording ${record.kind} of ${record.instance}${record.commandArgv ? ` (${record.commandArgv.join(' ')})` : ''}`);
    record.done = capture(record).finally(() => {
      if (records.get(record.instance) === record) records.delete(record.instance);
      finishing.delete(record);
      updateActive();
      watchRecords();
    });
  };

  const capture = async (record: ActiveRecord): Promise<void> => {
    const workDir = mkdtempSync(join(tmpdir(), 'irisflame-flight-'));
    const capturePath = join(workDir, 'capture.lifecycle.txt.gz');
    /** Past the recording: a failure from here on is the data dir's (full, read-only), counted as a write error. */
    let writing = false;
    const withoutSamples =
      sampling >= MAX_SAMPLING_RECORDS
        ? `${sampling} other records were sampling CPU (at most ${MAX_SAMPLING_RECORDS} at once, MAX_SAMPLING_RECORDS)`
        : undefined;
    let holdsSampling = withoutSamples === undefined;
    if (holdsSampling) sampling++;
    const releaseSampling = (): void => {
      if (holdsSampling) sampling--;
      holdsSampling = false;
    };
    try {
      const session = startLifecycleSession({
        record: { frequency: FLIGHT_SAMPLING_HZ, seconds: options.maxSeconds + 5, iris: true, open: false },
        flamegraph: {},
        timeline: { iris: true, title: `${record.kind} of ${record.instance}` },
        log: (line) => {
          if (/^(warning|irisflame)/.test(line)) log(`flight recorder (${record.instance}): ${line}`);
        },
        agent: {
          execLines: () => record.lines,
          followPids: [...(record.commandPid === undefined ? [] : [record.commandPid]), ...tracker.processesOf(record.instance).map((p) => p.pid)],
          capturePath,
          // Read when the capture is written: by then the command has exited, or an iris command has taken over.
          get recordedCommand() {
            return record.commandArgv === undefined ? undefined : { argv: record.commandArgv, exitCode: exitCodeOf(record.commandExit?.status) };
          },
          notes: () => record.notes,
          onTimeline: (timeline) => (record.timeline = timeline),
          withoutSamples,
          onNoSamples: (reason) => {
            record.noSamples = reason;
            releaseSampling();
            log(`flight recorder (${record.instance}): no CPU samples (${reason}); recording the rest`);
          },
          offCpuWindow: async () => {
            // What bpftrace wrote before now has been read (or the tracer is down: the ring says so).
            await options.warm.sync();
            const to = record.end ?? monotonicSeconds();
            return options.warm.ring.take(Math.round((record.from ?? record.begin) * 1e9), Math.round(to * 1e9));
          },
        },
      });
      // The record goes on (perf and, once the snooper is back, exec/exit events still run) and ends as it would
      // have: its duration and kind stay right, and the lifecycle's second half is not taken for a start of its own.
      // The note goes into the capture's header too (read when the session writes it), so the file says it.
      record.onTracerDied = (reason) => {
        if (record.tracerDied !== undefined) return;
        record.tracerDied = reason;
        record.notes.push(`partial: ${reason} ${(monotonicSeconds() - record.begin).toFixed(1)} s into the record; blocked intervals and file lookups end there`);
        metrics.tracerFailed();
        log(`flight recorder (${record.instance}): ${reason}; recording goes on without blocked intervals and file lookups`);
      };
      record.stopSession = () => session.stop();
      if (record.endedBy !== undefined) session.stop(); // ended while perf was starting
      await session.done;
      releaseSampling();
      writing = true;
      await (dirReady ??= ensureDataDir(options.dataDir));
      const meta = await storeRecord(options.dataDir, capturePath, describe(record));
      await applyRetention(options.dataDir, record.instance, { keep: options.keep, maxBytes: options.maxBytes });
      metrics.recorded('written');
      metrics.observe(meta);
      log(`flight recorder: ${meta.id} written (${meta.duration_seconds.toFixed(3)} s, ended by ${meta.ended_by})`);
    } catch (error) {
      dirReady = undefined;
      metrics.recorded('failed');
      if (writing) metrics.writeError();
      log(`flight recorder: ${record.kind} of ${record.instance} not written: ${(error as Error).message.split('\n')[0]}`);
    } finally {
      releaseSampling();
      rmSync(workDir, { recursive: true, force: true });
    }
  };

  /** Whether an exec/exit event is this record's (see ActiveRecord.pids); an exec joins it by parent or attribution. */
  const belongs = (record: ActiveRecord, who: EventPids): boolean => {
    const pids = record.pids!;
    if (who.ppid === undefined) return pids.has(who.pid);
    if (!pids.has(who.pid) && !pids.has(who.ppid) && tracker.process(who.pid)?.instance !== record.instance) return false;
    pids.add(who.pid);
    return true;
  };

  const finish = (record: ActiveRecord, endedBy: EndedBy, time: number): void => {
    if (record.endedBy !== undefined) return;
    record.endedBy = endedBy;
    record.end = time;
    // What its control processes and irisstops belong to: a restart covers both.
    const kinds: LifecycleKind[] = record.kind === 'restart' ? ['start', 'stop'] : [record.kind];
    lastEnded.set(record.instance, { kinds, begin: record.begin, end: time });
    // Into the capture's header as well as the metadata: the file alone must say it is partial.
    if (endedBy === 'agent-stopping') record.notes.push('partial: the agent was stopping; the capture ends there');
    if (records.get(record.instance) === record) records.delete(record.instance);
    finishing.add(record);
    watchRecords();
    record.stopSession?.();
  };

  const describe = (record: ActiveRecord): LifecycleRecordMeta => {
    const startedAt = new Date(Date.now() - (monotonicSeconds() - record.begin) * 1000);
    const id = recordId(startedAt, record.instance, record.kind);
    const end = record.commandExit?.time ?? record.end ?? monotonicSeconds();
    const partial = record.endedBy === 'agent-stopping' || record.endedBy === 'tracer-failed' || record.tracerDied !== undefined || record.noSamples !== undefined;
    const fromWarm = `exec/exit events, blocked intervals, CPU waits and file lookups come from the agent's warm tracer${record.tracerDied !== undefined ? ' until it died' : ', from before the trigger'}`;
    const notes = [
      ...record.notes,
      record.noSamples !== undefined
        ? `no CPU samples: ${record.noSamples}; ${fromWarm}`
        : `CPU samples at ${FLIGHT_SAMPLING_HZ} Hz from when the recording's perf had started (about a second after the trigger); ${fromWarm}`,
      ...(record.endedBy === 'bound' ? [`ended at the ${options.maxSeconds} s bound before the instance settled`] : []),
    ];
    const state = tracker.instance(record.instance);
    const meta: LifecycleRecordMeta = {
      id,
      iris_instance: record.instance,
      install_dir: state?.installDir,
      kind: record.kind,
      started_at: startedAt.toISOString(),
      duration_seconds: Math.max(0, end - record.begin),
      ended_by: record.endedBy ?? 'settled',
      partial,
      command: record.commandArgv?.join(' '),
      critical_path: summarize(record, notes),
      sampling_hz: record.noSamples === undefined ? FLIGHT_SAMPLING_HZ : 0,
      capture_file: '',
      capture_bytes: 0,
      notes,
    };
    if (record.death !== undefined) {
      const status = record.death.status;
      if (status !== undefined && (status & 0x7f) !== 0) meta.signal = signalName(status & 0x7f);
      else if (status !== undefined) meta.exit_code = (status >> 8) & 0xff;
      else notes.push('how the control process died is unknown: its exit was found by a /proc scan, not seen');
      meta.alive_at_death = record.death.alive;
      meta.pre_window_seconds = Math.max(0, record.death.time - record.death.ringFrom);
    }
    return meta;
  };

  const summarize = (record: ActiveRecord, notes: string[]): CriticalPathSummary | undefined => {
    const timeline = record.timeline;
    if (timeline === undefined) return undefined;
    const commandPath = commandCriticalPath(timeline);
    const path = commandPath.path;
    if (path === undefined) {
      notes.push(commandPath.note);
      return undefined;
    }
    const byReason: CriticalPathSummary['by_reason'] = {};
    const processes = new Set<number>();
    for (const segment of path.segments) {
      const reason = (CRITICAL_PATH_REASONS as readonly string[]).includes(segment.kind) ? (segment.kind as (typeof CRITICAL_PATH_REASONS)[number]) : 'other';
      byReason[reason] = (byReason[reason] ?? 0) + segment.end - segment.start;
      processes.add(segment.process);
    }
    return { seconds: path.end - path.start, by_reason: byReason, processes: processes.size, summary: describeCommandPath(timeline, commandPath) };
  };

  const settled = (record: ActiveRecord, now: number): boolean => {
    const state = tracker.instance(record.instance);
    const alive = tracker.processesOf(record.instance).filter((process) => process.pid !== record.commandPid);
    if (record.kind === 'crash') return alive.length === 0 || now - record.begin >= POST_DEATH_SECONDS;
    if (record.commandPid !== undefined && record.commandExit === undefined) return false;
    if (state?.up === true) return !tracker.startInProgress(record.instance);
    return alive.length === 0;
  };

  /**
   * The command's exit can be missed while the snooper is restarted (a killed bpftrace): without this the record
   * would wait for its bound. Gone from /proc and still no exit event LOST_EXIT_GRACE_SECONDS later (under load the
   * snooper's lines lag by a second or more) means lost; its end is then when the agent first found it gone.
   */
  const noteLostCommandExit = (record: ActiveRecord, now: number): void => {
    if (record.commandPid === undefined || record.commandExit !== undefined) return;
    if (record.commandGoneAt === undefined) {
      if (readProcStat(record.commandPid, 0) === undefined) record.commandGoneAt = now;
      return;
    }
    if (now - record.commandGoneAt < LOST_EXIT_GRACE_SECONDS) return;
    record.commandExit = { time: record.commandGoneAt, status: undefined };
    record.notes.push(`the command's exit was not seen (the tracer was down); it ends where the agent found it gone`);
  };

  const checkSettled = (now: number): void => {
    for (const record of [...records.values()]) {
      noteLostCommandExit(record, now);
      if (now - record.begin >= options.maxSeconds) finish(record, 'bound', now);
      // `now` is the time of the event being read, and bpftrace reads its per-CPU buffers in turn: an event read
      // late may predate the command's exit, even the record's begin (a restart recorded as 0 s in CI).
      else if (settled(record, now)) finish(record, 'settled', Math.max(now, record.begin, record.commandExit?.time ?? -Infinity));
    }
  };

  /**
   * An `iris VERB NAME` exec read after its own children's (bpftrace reads its per-CPU buffers in turn, so events
   * of different CPUs come out of order, by more under load): the record its irisstop or control process began is
   * the command's. Without this a restart became a stop and a start "without an iris command".
   */
  const adopt = (record: ActiveRecord, kind: LifecycleKind, pid: number, time: number, argv: string[]): void => {
    record.kind = kind;
    record.begin = time;
    record.commandPid = pid;
    record.commandArgv = argv;
    record.commandExit = undefined;
    record.commandGoneAt = undefined;
    record.notes = record.notes.filter((note) => note !== STARTED_WITHOUT_COMMAND);
    record.pids!.add(pid);
    record.from = Math.min(record.from ?? time, time - EXEC_SLACK_SECONDS);
    // Again from the ring, in the order read: the command's own exec (and anything before the first trigger).
    record.lines = linesFromRing(record, record.from);
    log(`flight recorder: the ${kind} of ${record.instance} (${argv.join(' ')}) takes over the record its child began (events read out of order)`);
  };

  const triggerOnExec = (pid: number, time: number, argv: string[]): void => {
    const process = tracker.process(pid);
    if (process === undefined) return;
    const verb = IRIS_VERBS[argv[1] ?? ''];
    if (process.program === 'iris' && verb !== undefined && process.namedInstance !== undefined) {
      const earlier = records.get(process.namedInstance);
      if (earlier !== undefined && earlier.begin >= time && earlier.kind !== 'crash' && instanceOfIrisCommand(earlier.commandArgv ?? []) === undefined) {
        adopt(earlier, verb, pid, time, argv);
      } else {
        begin({ instance: process.namedInstance, kind: verb, begin: time, commandPid: pid, commandArgv: argv, lines: [], notes: [] }, time - EXEC_SLACK_SECONDS);
      }
    } else if (process.isStopper) {
      pendingStoppers.set(pid, { time, argv });
    } else if (process.control !== undefined && !records.has(process.control.instance) && !partOfEnded(process.control.instance, time, 'start')) {
      begin({ instance: process.control.instance, kind: 'start', begin: time, lines: [], notes: [STARTED_WITHOUT_COMMAND] }, time - EXEC_SLACK_SECONDS);
    }
    // An irisstop's instance is known once a child names its manager dir; a stop inside a recorded command is part of it.
    for (const [stopperPid, stopper] of pendingStoppers) {
      const instance = tracker.process(stopperPid)?.instance;
      if (instance === undefined) continue;
      pendingStoppers.delete(stopperPid);
      if (records.has(instance) || partOfEnded(instance, stopper.time, 'stop')) continue;
      begin({ instance, kind: 'stop', begin: stopper.time, commandPid: stopperPid, commandArgv: stopper.argv, lines: [], notes: [] }, stopper.time - EXEC_SLACK_SECONDS);
    }
  };

  return {
    noteEvent(event, line) {
      const time = event.kind === 'exec' ? event.exec.time : event.exit.time;
      // A copy: `line` is a slice of bpftrace's whole output chunk (warm tracer bursts included), which the ring
      // would otherwise keep alive for RING_SECONDS through any one of its lines. Of the event, only the pids
      // (numbers) are kept: its argv strings are slices of the same chunk.
      line = flatCopy(line);
      ring.push({ time, line, who: whoOf(event) });
      if (ring.length > RING_EVENTS || ring[0]!.time < time - RING_SECONDS) {
        let drop = Math.max(0, ring.length - RING_EVENTS);
        while (drop < ring.length && ring[drop]!.time < time - RING_SECONDS) drop++;
        ring.splice(0, drop);
      }
      lineInFlight = line;
      exitInFlight = event.kind === 'exit' ? event.exit.status : undefined;
    },
    afterEvent(event) {
      exitInFlight = undefined;
      // Attribution is known now; a record this event begins takes it from the ring instead.
      for (const record of records.values()) if (record.endedBy === undefined && belongs(record, whoOf(event))) record.lines.push(lineInFlight!);
      if (event.kind === 'exec') triggerOnExec(event.exec.pid, event.exec.time, event.exec.argv);
      else {
        pendingStoppers.delete(event.exit.pid);
        for (const record of records.values()) {
          // Dated before the command's exec: an earlier owner of the pid, its exit read late (pids wrap quickly on a
          // node that forks a lot; a restart was recorded as 0 s in CI).
          if (record.commandPid === event.exit.pid && record.commandExit === undefined && event.exit.time >= record.begin) {
            record.commandExit = { time: event.exit.time, status: event.exit.status };
          }
        }
      }
      checkSettled(event.kind === 'exec' ? event.exec.time : event.exit.time);
    },
    onTransition(transition) {
      if (transition.kind !== 'unexpected-exit' || records.has(transition.instance)) return;
      const ringFrom = ring.find((entry) => entry.time >= transition.time - RING_SECONDS)?.time ?? transition.time;
      const alive = tracker
        .processesOf(transition.instance)
        .map((process) => ({ pid: process.pid, comm: process.comm, label: process.routine ?? processLabel(process.program) }));
      const status = transition.repaired ? undefined : exitInFlight;
      begin(
        { instance: transition.instance, kind: 'crash', begin: transition.time, death: { time: transition.time, status, alive, ringFrom }, lines: [], notes: [] },
        ringFrom,
      );
    },
    tracerDied(reason) {
      for (const record of [...records.values()]) record.onTracerDied?.(reason);
    },
    get active() {
      return records.size + finishing.size;
    },
    async stop() {
      stopping = true;
      clearInterval(settleTimer);
      clearInterval(expireTimer);
      const now = monotonicSeconds();
      for (const record of [...records.values()]) finish(record, 'agent-stopping', now);
      const pending = [...finishing];
      await Promise.race([Promise.all(pending.map((record) => record.done)), new Promise((resolve) => setTimeout(resolve, STOP_WAIT_MS).unref())]);
    },
  };
}

/** What belongs() needs of an exec/exit event: its pid, and for an exec its parent's. */
interface EventPids {
  pid: number;
  ppid?: number;
}

function whoOf(event: Extract<SnoopLine, { kind: 'exec' | 'exit' }>): EventPids {
  return event.kind === 'exit' ? { pid: event.exit.pid } : { pid: event.exec.pid, ppid: event.exec.ppid };
}

function exitCodeOf(status: number | undefined): number | undefined {
  if (status === undefined) return undefined;
  return (status & 0x7f) !== 0 ? 128 + (status & 0x7f) : (status >> 8) & 0xff;
}

function signalName(signal: number): string {
  const found = Object.entries(constants.signals).find(([, value]) => value === signal);
  return found?.[0] ?? `signal ${signal}`;
}
