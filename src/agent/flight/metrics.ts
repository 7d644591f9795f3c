/**
 * The flight recorder's series: its own health (records written or failed, write errors, tracer failures,
 * recordings under way) and what the records measured (restart duration, start/stop histograms, the last
 * critical path by reason). Labels are bounded: node, iris_instance, result, reason (CRITICAL_PATH_REASONS).
 *
 * iris_instance_last_start/stop_duration_seconds come from the instance tracker (metrics.ts), not from
 * here: the tracker's start runs from the first process of the start to the exit of ^STU and its stop is
 * irisstop's lifetime; a record's duration is the whole command's wall time (`iris start`, `iris stop`), a
 * little longer. The histograms below observe the records' durations.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { CRITICAL_PATH_REASONS, type LifecycleRecordMeta } from './record-meta.js';

/** From a fraction of a second (the simulated IRIS) to the default 600 s bound. */
const DURATION_BUCKETS = [0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600];

export interface FlightMetrics {
  recorded(result: 'written' | 'failed'): void;
  writeError(): void;
  /** A record's off-CPU tracer died before it was stopped (the record goes on, partial). */
  tracerFailed(): void;
  setActive(count: number): void;
  observe(meta: LifecycleRecordMeta): void;
}

export function createFlightMetrics(registry: Registry, node: string): FlightMetrics {
  const registers = [registry];
  const records = new Counter({
    name: 'irisflame_lifecycle_records_total',
    help: 'Lifecycle records finished by the flight recorder, by result (written to the data dir, or failed).',
    labelNames: ['result'],
    registers,
  });
  for (const result of ['written', 'failed']) records.inc({ result }, 0);
  const writeErrors = new Counter({
    name: 'irisflame_lifecycle_write_errors_total',
    help: 'Failures to write a record or apply retention in the data dir (full disk, unwritable dir).',
    registers,
  });
  const tracerFailures = new Counter({
    name: 'irisflame_lifecycle_tracer_failures_total',
    help: 'Records whose off-CPU tracer (bpftrace) died mid-record: kept, partial, without blocked intervals from then on.',
    registers,
  });
  const active = new Gauge({ name: 'irisflame_lifecycle_recordings', help: 'Lifecycle recordings under way.', registers });
  const labels = ['node', 'iris_instance'] as const;
  const lastRestart = new Gauge({
    name: 'iris_instance_last_restart_duration_seconds',
    help: 'Wall time of the last recorded `iris restart` of the instance (the command, start to exit).',
    labelNames: labels,
    registers,
  });
  const startHistogram = new Histogram({
    name: 'iris_instance_start_duration_seconds',
    help: 'Recorded starts: the start command\'s wall time (or, started without a command, to the end of ^STU).',
    labelNames: labels,
    buckets: DURATION_BUCKETS,
    registers,
  });
  const stopHistogram = new Histogram({
    name: 'iris_instance_stop_duration_seconds',
    help: 'Recorded stops: the stop command\'s wall time (iris stop, iris force, irisstop).',
    labelNames: labels,
    buckets: DURATION_BUCKETS,
    registers,
  });
  const criticalPath = new Gauge({
    name: 'iris_instance_last_critical_path_seconds',
    help: 'Seconds of the last recorded lifecycle\'s critical path, by reason (running, cpu-wait, disk, lock, child, sleep, io, poll, other).',
    labelNames: ['node', 'iris_instance', 'reason'],
    registers,
  });
  return {
    recorded: (result) => records.inc({ result }),
    writeError: () => writeErrors.inc(),
    tracerFailed: () => tracerFailures.inc(),
    setActive: (count) => active.set(count),
    observe(meta) {
      const series = { node, iris_instance: meta.iris_instance };
      if (meta.kind === 'restart') lastRestart.set(series, meta.duration_seconds);
      if (meta.kind === 'start') startHistogram.observe(series, meta.duration_seconds);
      if (meta.kind === 'stop') stopHistogram.observe(series, meta.duration_seconds);
      if (meta.critical_path === undefined) return;
      for (const reason of CRITICAL_PATH_REASONS) criticalPath.set({ ...series, reason }, meta.critical_path.by_reason[reason] ?? 0);
    },
  };
}
