/**
 * The agent's continuous profiling, put together: the sampler (labelled through the agent's process
 * lookup), its /debug/pprof/profile route, the optional pusher, and their health and push counters in the
 * agent's metrics. agent.ts starts it beside the exec snooper; the server serves its route.
 */
import { Gauge, type Registry } from 'prom-client';
import { registerReadCounter, type AgentHealth } from './metrics.js';
import type { AgentBackend, AgentCallGraph } from './options.js';
import type { DwarfState } from './dwarf-sampler.js';
import { pprofRoute } from './pprof-route.js';
import type { DescribeProcess } from './agent.js';
import { ProfilePusher } from './push.js';
import { ContinuousSampler } from './sampler.js';
import type { AgentRoute } from './server.js';

export interface ProfilingOptions {
  frequency: number;
  all: boolean;
  backend: AgentBackend;
  callGraph: AgentCallGraph;
  /** Pyroscope URL to push to, if any. */
  push: string | undefined;
  pushIntervalSeconds?: number;
  node: string;
  describe: DescribeProcess;
  health: AgentHealth;
  registry: Registry;
  log: (line: string) => void;
}

export interface RunningProfiling {
  routes: AgentRoute[];
  sampler: ContinuousSampler;
  pusher: ProfilePusher | undefined;
  /** How user stacks are unwound, and for which processes with DWARF: one phrase for /healthz. */
  callGraphDetail(): string;
  stop(): Promise<void>;
}

/** The tracer name of the sampler in `irisflame_tracer_up` and `irisflame_tracer_restarts_total`. */
const TRACER = 'sampler';
/** The DWARF sampler's perf, there while it runs (its series appear once a process needs DWARF). */
const DWARF_TRACER = 'dwarf_sampler';

export function startProfiling(options: ProfilingOptions): RunningProfiling {
  const { health, log } = options;
  let lastDown: string | undefined;
  let lastDwarf: string | undefined;
  const sampler = new ContinuousSampler({
    frequency: options.frequency,
    all: options.all,
    backend: options.backend,
    callGraph: options.callGraph,
    describe: options.describe,
    onDwarfChange: (state) => {
      // One line per change of what is unwound how, not one per restart of perf.
      const line = `profile call graph: ${describeDwarf(state)}`;
      if (line !== lastDwarf) log(line);
      lastDwarf = line;
    },
    onDwarfUp: (restarted, why) => {
      health.setTracerUp(DWARF_TRACER, true);
      if (!health.tracerRestarts.has(DWARF_TRACER)) health.tracerRestarts.set(DWARF_TRACER, 0);
      if (restarted) health.noteTracerRestart(DWARF_TRACER);
      if (restarted) log(`DWARF sampler restarted${why === undefined ? '' : ` (${why})`}: perf -a --call-graph dwarf at ${options.frequency} Hz`);
    },
    onDwarfDown: (reason) => {
      health.setTracerUp(DWARF_TRACER, false);
      log(`${reason}; retrying (frame pointers for every process meanwhile)`);
    },
    // Stopped because no process needs it: no series rather than a "down" one.
    onDwarfIdle: () => health.tracerUp.delete(DWARF_TRACER),
    onUp: (restarted) => {
      health.setTracerUp(TRACER, true);
      if (restarted) health.noteTracerRestart(TRACER);
      lastDown = undefined;
      const scope = options.all ? 'every process' : 'IRIS processes';
      log(`${restarted ? 'profile sampler restarted' : 'profile sampler running'}: ${sampler.backend} at ${options.frequency} Hz, ${scope}, call graph ${CALL_GRAPH_NAMES[options.callGraph]}`);
    },
    onDown: (reason) => {
      health.setTracerUp(TRACER, false);
      // One line per distinct reason, not one per retry.
      if (reason !== lastDown) log(`${reason}; retrying (no profiles meanwhile)`);
      lastDown = reason;
    },
  });
  registerDwarfMetrics(options.registry, sampler);
  // Not awaited: /metrics is served while bpftrace compiles (seconds on a loaded host).
  void sampler.startInBackground();

  let pusher: ProfilePusher | undefined;
  if (options.push !== undefined) {
    pusher = new ProfilePusher(sampler, { url: options.push, node: options.node, intervalSeconds: options.pushIntervalSeconds });
    pusher.start();
    registerPushMetrics(options.registry, pusher);
    log(`pushing profiles to ${pusher.ingestUrl(undefined, 0, 0).replace(/\?.*$/, '')} every ${pusher.options.intervalSeconds} s`);
  }

  return {
    routes: [pprofRoute(sampler)],
    sampler,
    pusher,
    callGraphDetail: () => (sampler.dwarf === undefined ? 'profiles: frame pointers (--call-graph fp)' : `profiles: ${describeDwarf(sampler.dwarf.state)}`),
    async stop() {
      pusher?.stop();
      await sampler.stop();
    },
  };
}

const CALL_GRAPH_NAMES: Record<AgentCallGraph, string> = {
  auto: 'auto (DWARF for programs built without frame pointers)',
  fp: 'fp (frame pointers only)',
  dwarf: 'dwarf (every sampled process)',
};

/** "dwarf for 3 processes (irisdb: built without frame pointers), frame pointers for the rest". */
export function describeDwarf(state: DwarfState): string {
  if (state.error !== undefined) return `frame pointers for every process (${state.error}; retrying)`;
  if (state.processes === 0) return 'frame pointers (no sampled process needs DWARF now)';
  const plural = state.processes === 1 ? 'process' : 'processes';
  return `dwarf for ${state.processes} ${plural} (${state.programs.join(', ')}), frame pointers for the rest`;
}

/** The DWARF sampler's gauges, read at scrape time. */
export function registerDwarfMetrics(registry: Registry, sampler: ContinuousSampler): void {
  const dwarf = sampler.dwarf;
  if (dwarf === undefined) return;
  new Gauge({
    name: 'irisflame_profile_dwarf_processes',
    help: 'Processes whose profile stacks are unwound with DWARF (built without frame pointers, or --call-graph dwarf).',
    registers: [registry],
    collect() {
      this.set(dwarf.state.processes);
    },
  });
  registerReadCounter(
    registry,
    'irisflame_profile_dwarf_sampler_starts_total',
    'Starts of the DWARF sampler (one whole-node perf --call-graph dwarf): the first, and one after each death, memory bound or idle stop; never per process.',
    () => dwarf.starts,
  );
  registerReadCounter(
    registry,
    'irisflame_profile_dwarf_lost_samples_total',
    "Samples the kernel dropped because the DWARF sampler's perf record ring buffers were full (perf record too slow to drain them).",
    () => dwarf.lostSamples,
  );
}

/** `--push` counters, read at scrape time. */
export function registerPushMetrics(registry: Registry, pusher: ProfilePusher): void {
  const registers = [registry];
  const counter = (name: string, help: string, read: () => number): void => registerReadCounter(registry, name, help, read);
  counter('irisflame_profile_pushes_total', 'Profiles delivered to the --push server (2xx answers).', () => pusher.counters.ok);
  counter('irisflame_profile_push_failures_total', 'Push attempts that failed (error status, refused, timed out); retried with backoff.', () => pusher.counters.failed);
  counter('irisflame_profile_pushes_dropped_total', 'Profiles given up: the queue was full or every attempt failed.', () => pusher.counters.dropped);
  new Gauge({
    name: 'irisflame_profile_push_queue_length',
    help: 'Profiles waiting to be pushed.',
    registers,
    collect() {
      this.set(pusher.queued);
    },
  });
}
