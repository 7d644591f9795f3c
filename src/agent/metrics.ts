/**
 * The agent's Prometheus metrics (prom-client, its own Registry). Instance series are computed from the
 * tracker when scraped, so a scrape always shows the state as of that moment and nothing is pushed into
 * gauges on the event path. Label values are bounded: instance names, install dirs and IRIS program
 * names only; never argv, pids or routines. No label is called `instance` (Prometheus would rename it
 * to `exported_instance`): the instance is `iris_instance`.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { InstanceState, InstanceTracker } from './instances.js';

/** The agent's own counters, kept by agent.ts and read at scrape time. */
export class AgentHealth {
  execEvents = 0;
  exitEvents = 0;
  eventsLost = 0;
  scans = 0;
  /** Instance transitions found by a /proc scan rather than an event. */
  scanRepairs = 0;
  readonly tracerRestarts = new Map<string, number>();
  readonly tracerUp = new Map<string, boolean>();

  constructor(tracers: readonly string[]) {
    for (const tracer of tracers) {
      this.tracerRestarts.set(tracer, 0);
      this.tracerUp.set(tracer, false);
    }
  }

  noteTracerRestart(tracer: string): void {
    this.tracerRestarts.set(tracer, (this.tracerRestarts.get(tracer) ?? 0) + 1);
  }

  setTracerUp(tracer: string, up: boolean): void {
    this.tracerUp.set(tracer, up);
  }
}

/**
 * Tracers whose health series exist from the start: the exec snooper, and the profile sampler once wired. With the
 * flight recorder on, `offcpu` too (the warm off-CPU tracer riding in the snooper's bpftrace, agent.ts).
 */
export const TRACERS = ['exec_snooper', 'sampler'] as const;

export interface AgentMetricsOptions {
  node: string;
  tracker: InstanceTracker;
  health: AgentHealth;
  /** Monotonic seconds (the tracker's clock) to Unix seconds. */
  toUnixSeconds: (monotonic: number) => number;
  version: string;
}

const EVENT_LOOP_MONITORING_MS = 1000;

export function createAgentMetrics(options: AgentMetricsOptions): Registry {
  const { node, tracker, health, toUnixSeconds } = options;
  const registry = new Registry();
  const registers = [registry];
  const instanceLabels = ['node', 'iris_instance'] as const;
  /** Install dir each instance's status series was last exported with. */
  const exportedInstallDir = new Map<string, string>();

  const status = new Gauge({
    name: 'iris_instance_status',
    help: 'IRIS instance up (1) or down (0), from its control process (irisdb -cc); kept at 0 while the agent runs.',
    labelNames: ['node', 'iris_instance', 'install_dir'],
    registers,
    collect() {
      for (const state of tracker.instanceStates()) {
        const installDir = state.installDir ?? '';
        const previous = exportedInstallDir.get(state.name);
        if (previous !== undefined && previous !== installDir) this.remove({ node, iris_instance: state.name, install_dir: previous });
        exportedInstallDir.set(state.name, installDir);
        this.set({ node, iris_instance: state.name, install_dir: installDir }, state.up ? 1 : 0);
      }
    },
  });
  void status;

  /** A series per instance, rebuilt from the tracker at each scrape (a reset counter's inc is a set). */
  const perInstance = (kind: 'counter' | 'gauge', name: string, help: string, read: (state: InstanceState) => number | undefined): void => {
    const config = {
      name,
      help,
      labelNames: instanceLabels,
      registers,
      collect(this: Counter<'node' | 'iris_instance'> | Gauge<'node' | 'iris_instance'>) {
        this.reset();
        for (const state of tracker.instanceStates()) {
          const value = read(state);
          if (value === undefined) continue;
          if (this instanceof Counter) this.inc({ node, iris_instance: state.name }, value);
          else this.set({ node, iris_instance: state.name }, value);
        }
      },
    };
    if (kind === 'counter') new Counter(config);
    else new Gauge(config);
  };
  const counter = (name: string, help: string, read: (state: InstanceState) => number): void => perInstance('counter', name, help, read);
  const instanceGauge = (name: string, help: string, read: (state: InstanceState) => number | undefined): void => perInstance('gauge', name, help, read);
  counter('iris_instance_starts_total', 'Control processes of the instance started while the agent watched.', (s) => s.starts);
  counter('iris_instance_stops_total', 'Control process exits while an irisstop of the instance ran (clean stops).', (s) => s.stops);
  counter('iris_instance_unexpected_exits_total', 'Control process exits with no irisstop running (crashes, kill -9, iris force).', (s) => s.unexpectedExits);

  instanceGauge('iris_instance_last_transition_timestamp_seconds', 'Unix time of the last up/down change (or of the control process start when first seen up).', (s) =>
    s.lastTransition === undefined ? undefined : toUnixSeconds(s.lastTransition),
  );
  instanceGauge(
    'iris_instance_last_start_duration_seconds',
    'Last start: exec of the first process of the instance while it was down to the exit of the startup process (^STU).',
    (s) => s.lastStartDurationSeconds,
  );
  instanceGauge('iris_instance_last_stop_duration_seconds', 'Last stop: lifetime of the irisstop that stopped the instance.', (s) => s.lastStopDurationSeconds);

  new Gauge({
    name: 'iris_instance_processes',
    help: 'Live processes of the instance by program (IRIS program names; anything else they run is "other").',
    labelNames: ['node', 'iris_instance', 'comm'],
    registers,
    collect() {
      for (const [name, perProgram] of tracker.processCounts()) {
        for (const [program, count] of perProgram) this.set({ node, iris_instance: name, comm: program }, count);
      }
    },
  });

  const healthCounter = (name: string, help: string, read: () => number): void => registerReadCounter(registry, name, help, read);
  healthCounter('irisflame_exec_events_total', 'Exec events received from the kernel (every process on the node).', () => health.execEvents);
  healthCounter('irisflame_exit_events_total', 'Exit events received from the kernel (every process on the node).', () => health.exitEvents);
  healthCounter('irisflame_events_lost_total', 'Kernel events bpftrace reported lost (the /proc scan repairs what they hid).', () => health.eventsLost);
  healthCounter('irisflame_proc_scans_total', 'Scans of /proc.', () => health.scans);
  healthCounter('irisflame_scan_repairs_total', 'Instance transitions found by a /proc scan instead of a kernel event.', () => health.scanRepairs);
  new Counter({
    name: 'irisflame_tracer_restarts_total',
    help: 'Restarts of a tracer (exec_snooper, sampler, offcpu: the flight recorder\'s warm tracer, dwarf_sampler: the DWARF perf) after it died (dwarf_sampler: or outgrew its memory bound).',
    labelNames: ['tracer'],
    registers,
    collect() {
      this.reset();
      for (const [tracer, count] of health.tracerRestarts) this.inc({ tracer }, count);
    },
  });
  new Gauge({
    name: 'irisflame_tracer_up',
    help: 'Tracer running (1) or not (0).',
    labelNames: ['tracer'],
    registers,
    collect() {
      for (const [tracer, up] of health.tracerUp) this.set({ tracer }, up ? 1 : 0);
    },
  });
  new Gauge({
    name: 'irisflame_tracked_processes',
    help: 'IRIS processes and their descendants the agent is following.',
    registers,
    collect() {
      this.set(tracker.trackedProcessCount);
    },
  });
  new Gauge({
    name: 'irisflame_build_info',
    help: 'irisflame version and Node.js version of the running agent (value 1).',
    labelNames: ['version', 'nodejs'],
    registers,
  }).set({ version: options.version, nodejs: process.version }, 1);
  // The event-loop-lag histogram samples every 10 ms by default: 100 wake-ups a second, ~0.4% of a core
  // on its own (measured, idle Node 20). Once a second is plenty for an agent.
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: EVENT_LOOP_MONITORING_MS });
  // prom-client's totals of the per-type gauges end in `_total` without being counters, which promtool
  // rejects; the per-type series (nodejs_active_handles{type}, …) carry the same numbers.
  for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) registry.removeSingleMetric(name);
  return registry;
}

/** A counter whose value is read from elsewhere at scrape time (the agent's own tallies). */
export function registerReadCounter(registry: Registry, name: string, help: string, read: () => number): void {
  new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      this.reset();
      this.inc(read());
    },
  });
}
