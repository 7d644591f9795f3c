/**
 * `irisflame agent` put together: the exec snooper (kernel events) and /proc scans feed the instance
 * tracker; the metrics registry reads it at scrape time; the HTTP server serves it. The continuous CPU
 * profiler plugs in at the place marked "profiling" below (its route and its sampler).
 */
import { IrisflameError } from '../errors.js';
import { packageVersion } from '../package-info.js';
import { InstanceTracker, type InstanceTransition } from './instances.js';
import type { ProcessExec } from './process-table.js';
import { AgentHealth, TRACERS, createAgentMetrics } from './metrics.js';
import { superviseExecSnooper, type SupervisedSnooper } from './event-source.js';
import { bootToMonotonicOffset, listProcesses, monotonicSeconds, readExecutable, readProcStat, readProcessDetails } from './proc.js';
import { instanceNameMatcher, parseListenAddress, type AgentOptions } from './options.js';
import { startAgentServer, type AgentRoute } from './server.js';
import { startProfiling, type RunningProfiling } from './profiling.js';
import type { ContinuousSampler } from './sampler.js';
import { loadWebConfig } from './web-config.js';
import { watchWebConfig, type WebConfigWatcher } from './web-config-watch.js';
import { lifecycleRoutes } from './flight/routes.js';
import type { Registry } from 'prom-client';
import type { SnoopedExec } from '../kernel/exec-events.js';
import { startFlightRecorder, type FlightRecorder } from './flight/recorder.js';
import { OffCpuRing } from '../kernel/offcpu-ring.js';
import { WarmOffCpuStream, warmTracerProgram } from '../kernel/offcpu-tracer.js';
import { IRIS_PROCESS_NAMES } from '../iris/processes.js';

/** What other parts of the agent (the profiler) learn about a process, to label its samples. */
export interface ProcessDescription {
  comm: string;
  /** The IRIS instance it belongs to, when it is an IRIS process or a descendant of one. */
  instance: string | undefined;
  /** The ObjectScript routine in its argv (`START^MONITOR`), for IRIS jobs. */
  routine: string | undefined;
}

export type DescribeProcess = (pid: number) => ProcessDescription | undefined;

export interface AgentStartOptions extends AgentOptions {
  /** Progress and problems, one line each (the CLI writes them to stderr). */
  log: (line: string) => void;
  /** Routes added to the server beside /metrics and /healthz. */
  routes?: AgentRoute[];
}

export interface RunningAgent {
  /** `http://127.0.0.1:9464` (the real port when 0 was asked for). */
  url: string;
  tracker: InstanceTracker;
  health: AgentHealth;
  registry: Registry;
  describeProcess: DescribeProcess;
  /** The continuous profiler: sampler, route and pusher. */
  profiling: RunningProfiling;
  /** The exec snooper's bpftrace pid while it runs. */
  readonly tracerPid: number | undefined;
  /** Scan /proc now (also runs every scanIntervalSeconds). */
  scan(): void;
  /** Re-read --web.config.file now (SIGHUP); false when the agent has none. */
  reloadWebConfig(reason: string): boolean;
  /** Stop tracers, close the server. Resolves within ~2 s. */
  /** The flight recorder, unless turned off. */
  flight: FlightRecorder | undefined;
  /** How long a stop may take: ~1.5 s, longer while a lifecycle record is being finished. */
  readonly stopGraceMs: number;
  /** Stop tracers, close the server. Resolves within ~2 s (a lifecycle record under way: up to ~15 s). */
  stop(): Promise<void>;
}

/** The flight recorder's warm off-CPU tracer, in `irisflame_tracer_up{tracer}`. */
const WARM_TRACER = 'offcpu';

/** After "Lost N events", rescan at most this often: the lost events may have hidden an exit. */
const LOST_RESCAN_MS = 250;

export async function startAgent(options: AgentStartOptions): Promise<RunningAgent> {
  const listen = parseListenAddress(options.listen);
  // Before anything starts: a bad web config is a one-line start-up error, not an open listener.
  const webConfig = options.webConfigFile === undefined ? undefined : loadWebConfig(options.webConfigFile);
  const bootOffset = bootToMonotonicOffset();
  const health = new AgentHealth(options.lifecycle ? [...TRACERS, WARM_TRACER] : TRACERS);
  const log = options.log;
  let flight: FlightRecorder | undefined;
  const onTransition = (transition: InstanceTransition): void => {
    flight?.onTransition(transition);
    if (transition.kind !== 'up' && transition.repaired) health.scanRepairs++;
    const what = transition.kind === 'up' ? 'up' : transition.kind === 'stop' ? 'stopped' : 'down (unexpected exit)';
    log(`instance ${transition.instance} ${what}${transition.kind !== 'up' && transition.repaired ? ' (found by the /proc scan)' : ''}`);
  };
  const tracker = new InstanceTracker({ watchingSince: monotonicSeconds(), onTransition });
  const toUnixSeconds = (monotonic: number): number => Date.now() / 1000 - (monotonicSeconds() - monotonic);
  const registry = createAgentMetrics({ node: options.node, tracker, health, toUnixSeconds, version: packageVersion() });
  // The flight recorder's warm off-CPU and file tracer rides in the exec snooper's bpftrace (event-source.ts).
  const warm = options.lifecycle ? new WarmOffCpuStream(new OffCpuRing()) : undefined;
  if (warm !== undefined) {
    warm.ring.down('not started yet');
    flight = startFlightRecorder({
      warm,
      dataDir: options.dataDir,
      keep: options.lifecycleKeep,
      maxBytes: options.lifecycleMaxBytes,
      maxSeconds: options.lifecycleMaxSeconds,
      records: options.lifecycleInstances === undefined ? undefined : instanceNameMatcher(options.lifecycleInstances),
      node: options.node,
      tracker,
      registry,
      log,
    });
  }

  /** The profile sampler, once started below: it looks at each scan's listing too (one read of /proc for both). */
  let sampler: ContinuousSampler | undefined;
  const scan = (): void => {
    health.scans++;
    const listing = listProcesses(bootOffset);
    tracker.scan(listing, monotonicSeconds(), readProcessDetails);
    sampler?.noteProcesses(listing);
  };
  let lostRescan: NodeJS.Timeout | undefined;
  const scanSoon = (): void => {
    lostRescan ??= setTimeout(() => {
      lostRescan = undefined;
      scan();
    }, LOST_RESCAN_MS);
  };

  const describeProcess: DescribeProcess = (pid) => {
    const tracked = tracker.process(pid);
    if (tracked !== undefined) return { comm: tracked.comm, instance: tracked.instance, routine: tracked.routine };
    const stat = readProcStat(pid, bootOffset);
    return stat === undefined ? undefined : { comm: stat.comm, instance: undefined, routine: undefined };
  };

  // ---- profiling: the continuous sampler, its /debug/pprof/profile route and the pusher (profiling.ts) --
  const profiling = startProfiling({
    frequency: options.frequency,
    all: options.all,
    backend: options.backend,
    callGraph: options.callGraph,
    push: options.push,
    pushIntervalSeconds: options.pushIntervalSeconds,
    node: options.node,
    describe: describeProcess,
    health,
    registry,
    log,
  });
  sampler = profiling.sampler;
  const routes: AgentRoute[] = [
    ...(options.routes ?? []),
    ...profiling.routes,
    // The flight recorder's records; `enabled` only changes what the page says when the recorder is off.
    ...lifecycleRoutes({ dataDir: options.dataDir, enabled: options.lifecycle }),
  ];
  const stopProfiling = (): Promise<void> => profiling.stop();
  // ---- end of profiling -----------------------------------------------------------------------------

  scan(); // what ran before the agent: status is right before the first scrape
  const server = await startAgentServer({
    listen,
    registry,
    routes,
    webConfig,
    health: () => {
      const up = health.tracerUp.get('exec_snooper') === true;
      const detail = up ? 'exec snooper running' : 'exec snooper not running; status from /proc scans only';
      return { ok: up, detail: `${detail}; ${profiling.callGraphDetail()}` };
    },
  });

  const snooper: SupervisedSnooper = superviseExecSnooper({
    onEvent: (event, line) => {
      flight?.noteEvent(event, line);
      if (event.kind === 'exec') {
        health.execEvents++;
        tracker.exec(enrich(event.exec, tracker, bootOffset));
        profiling.sampler.noteExec(event.exec.pid, event.exec.comm);
      } else {
        health.exitEvents++;
        tracker.exit(event.exit);
      }
      flight?.afterEvent(event);
    },
    onLost: (count) => {
      health.eventsLost += count;
      scanSoon();
    },
    onAttached: (restart) => {
      health.setTracerUp('exec_snooper', true);
      log(restart ? 'exec snooper restarted' : 'exec snooper attached: following exec/exit events');
      scan(); // whatever happened while it was attaching
    },
    onDown: (reason) => {
      health.setTracerUp('exec_snooper', false);
      log(`${reason}; retrying (status from /proc scans meanwhile)`);
      scan();
    },
    onRestart: () => health.noteTracerRestart('exec_snooper'),
    warm:
      warm === undefined
        ? undefined
        : {
            carrier: () => warmTracerProgram([...IRIS_PROCESS_NAMES]),
            onLine: (line) => warm.onLine(line),
            onUp: (restart) => {
              warm.ring.up();
              health.setTracerUp(WARM_TRACER, true);
              if (restart) health.noteTracerRestart(WARM_TRACER);
              log(`off-CPU tracer ${restart ? 'restarted' : 'attached'}: following IRIS processes' blocked time and file lookups`);
            },
            onDown: (reason) => {
              warm.ring.down(reason);
              health.setTracerUp(WARM_TRACER, false);
              flight?.tracerDied(reason);
              log(`off-CPU tracer down: ${reason}`);
            },
          },
  });
  const scanTimer = setInterval(scan, options.scanIntervalSeconds * 1000);
  const webConfigWatcher: WebConfigWatcher | undefined =
    webConfig === undefined
      ? undefined
      : watchWebConfig({ path: options.webConfigFile!, initial: webConfig, apply: (config) => server.applyWebConfig(config), registry, log });

  let stopping: Promise<void> | undefined;
  return {
    url: server.url,
    tracker,
    health,
    registry,
    describeProcess,
    profiling,
    get tracerPid() {
      return snooper.pid;
    },
    scan,
    reloadWebConfig: (reason) => (webConfigWatcher === undefined ? false : (webConfigWatcher.reload(reason), true)),
    flight,
    get stopGraceMs() {
      return (flight?.active ?? 0) > 0 ? 16_000 : 1_500;
    },
    stop() {
      stopping ??= (async () => {
        clearInterval(scanTimer);
        webConfigWatcher?.stop();
        clearTimeout(lostRescan);
        // The records under way first: they need the snooper's last events and perf to be stopped cleanly.
        await flight?.stop();
        await Promise.all([snooper.stop(), stopProfiling(), server.close()]);
      })();
      return stopping;
    },
  };
}

/**
 * The kernel's start time and the binary's path, read while the process is (usually) still alive; and its
 * whole argv when the snooper's copy was cut (bpftrace 0.17 copies at most 200 bytes: a control process
 * under a long data dir loses its `-C<cpf>*NAME`).
 */
function enrich(exec: SnoopedExec, tracker: InstanceTracker, bootOffset: number): ProcessExec {
  if (!tracker.wouldTrack(exec)) return exec;
  const stat = readProcStat(exec.pid, bootOffset);
  // A stat that began after the exec belongs to a later process with the same pid.
  if (stat === undefined || stat.startTime > exec.time + 0.05) return exec;
  const argv = exec.truncated ? (readProcessDetails(exec.pid)?.argv ?? exec.argv) : exec.argv;
  return { ...exec, argv, startTime: stat.startTime, executable: readExecutable(exec.pid, argv[0]) };
}

/** The agent reads kernel events with bpftrace, which insists on euid 0 (Debian 12's 0.17). */
export function assertAgentCanRun(): void {
  if (process.getuid?.() !== 0) {
    throw new IrisflameError('PREFLIGHT', 'irisflame agent needs root (bpftrace and /proc/PID/exe of every process)', {
      hint: 'run it with sudo, or in a container running as uid 0 with hostPID (see deploy/)',
    });
  }
}
