/**
 * The agent's continuous profiling, put together: the sampler (labelled through the agent's process
 * lookup), its /debug/pprof/profile route, the optional pusher, and their health and push counters in the
 * agent's metrics. agent.ts starts it beside the exec snooper; the server serves its route.
 */
import { Gauge, type Registry } from 'prom-client';
import { registerReadCounter, type AgentHealth } from './metrics.js';
import type { AgentBackend } from './options.js';
import { pprofRoute } from './pprof-route.js';
import type { DescribeProcess } from './agent.js';
import { ProfilePusher } from './push.js';
import { ContinuousSampler } from './sampler.js';
import type { AgentRoute } from './server.js';

export interface ProfilingOptions {
  frequency: number;
  all: boolean;
  backend: AgentBackend;
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
  stop(): Promise<void>;
}

/** The tracer name of the sampler in `irisflame_tracer_up` and `irisflame_tracer_restarts_total`. */
const TRACER = 'sampler';

export function startProfiling(options: ProfilingOptions): RunningProfiling {
  const { health, log } = options;
  let lastDown: string | undefined;
  const sampler = new ContinuousSampler({
    frequency: options.frequency,
    all: options.all,
    backend: options.backend,
    describe: options.describe,
    onUp: (restarted) => {
      health.setTracerUp(TRACER, true);
      if (restarted) health.noteTracerRestart(TRACER);
      lastDown = undefined;
      const scope = options.all ? 'every process' : 'IRIS processes';
      log(`${restarted ? 'profile sampler restarted' : 'profile sampler running'}: ${sampler.backend} at ${options.frequency} Hz, ${scope}`);
    },
    onDown: (reason) => {
      health.setTracerUp(TRACER, false);
      // One line per distinct reason, not one per retry.
      if (reason !== lastDown) log(`${reason}; retrying (no profiles meanwhile)`);
      lastDown = reason;
    },
  });
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
    async stop() {
      pusher?.stop();
      await sampler.stop();
    },
  };
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
