/**
 * Options of `irisflame agent`, with their defaults in one place (the CLI's help text reads them here).
 * The profile options (frequency, all, push, backend) belong to the continuous sampler that plugs into
 * the agent (see agent.ts, "profiling"); they are defined here so the command line is complete.
 */
import { hostname } from 'node:os';
import { UsageError } from '../errors.js';
import { AGENT_CALL_GRAPHS, type AgentCallGraph } from './dwarf-targets.js';

export { AGENT_CALL_GRAPHS, type AgentCallGraph };

export const AGENT_BACKENDS = ['auto', 'bpftrace', 'perf'] as const;
export type AgentBackend = (typeof AGENT_BACKENDS)[number];

export interface AgentOptions {
  /**
   * Where the HTTP server listens, `HOST:PORT` (`[::1]:9464` for IPv6). Port 0 picks a free port.
   * @default '127.0.0.1:9464' (loopback only: other addresses only when asked)
   */
  listen: string;
  /**
   * The `node` label of every series.
   * @default $NODE_NAME, else the host name
   */
  node: string;
  /**
   * Seconds between /proc scans, which catch what ran before the agent and repair missed events.
   * @default 10
   */
  scanIntervalSeconds: number;
  /**
   * Profile samples per second per CPU (a prime, as Parca Agent's 19, to avoid lockstep with timers).
   * @default 19
   */
  frequency: number;
  /**
   * Profile every process on the node, not only IRIS's.
   * @default false
   */
  all: boolean;
  /**
   * A Grafana Pyroscope server to push profiles to (its `/ingest`).
   * @default undefined (pull only)
   */
  push: string | undefined;
  /**
   * Seconds between pushes with `push`.
   * @default 15
   */
  pushIntervalSeconds: number;
  /**
   * Profile sampler: bpftrace (stacks counted in the kernel), perf, or auto (bpftrace if it runs, else perf).
   * @default 'auto'
   */
  backend: AgentBackend;
  /**
   * How user stacks are unwound: `auto` DWARF (a second, per-process perf) for programs built without frame
   * pointers and frame pointers for the rest; `fp` frame pointers only; `dwarf` DWARF for every sampled process.
   * @default 'auto'
   */
  callGraph: AgentCallGraph;

  // ---- securing the listener (web-config.ts) ----------------------------------------------------------
  /**
   * exporter-toolkit's web configuration file (TLS, basic auth), re-read when it changes and on SIGHUP.
   * @default undefined (plain HTTP, no authentication)
   */
  webConfigFile: string | undefined;
  /**
   * The flight recorder (flight/recorder.ts): record every IRIS start, stop, restart and crash the agent sees.
   * @default true (`--no-lifecycle` turns it off)
   */
  lifecycle: boolean;
  /**
   * Where the flight recorder keeps its records (created if missing; served under /lifecycle/).
   * @default '/var/lib/irisflame/lifecycle'
   */
  dataDir: string;
  /**
   * Longest recording, seconds: a lifecycle not settled by then ends with ended_by `bound`.
   * @default 600
   */
  lifecycleMaxSeconds: number;
  /**
   * Records kept per instance, oldest removed first.
   * @default 20
   */
  lifecycleKeep: number;
  /**
   * Bytes of records kept per instance, oldest removed first.
   * @default 200 MB (200 * 1024 * 1024)
   */
  lifecycleMaxBytes: number;
  /**
   * Record only the instances whose name matches this regular expression, anchored at both ends as Prometheus
   * anchors its regexes (`TEST.*`, `PROD|DR`). Status and profiles still cover every instance.
   * @default undefined (every instance)
   */
  lifecycleInstances: string | undefined;
}

export const DEFAULT_LISTEN = '127.0.0.1:9464';

export const DEFAULT_AGENT_OPTIONS: Omit<AgentOptions, 'node'> = {
  listen: DEFAULT_LISTEN,
  scanIntervalSeconds: 10,
  frequency: 19,
  all: false,
  push: undefined,
  pushIntervalSeconds: 15,
  backend: 'auto',
  callGraph: 'auto',
  webConfigFile: undefined,
  lifecycle: true,
  dataDir: '/var/lib/irisflame/lifecycle',
  lifecycleMaxSeconds: 600,
  lifecycleKeep: 20,
  lifecycleMaxBytes: 200 * 1024 * 1024,
  lifecycleInstances: undefined,
};

export function defaultNodeName(): string {
  const fromEnv = process.env.NODE_NAME;
  return fromEnv !== undefined && fromEnv !== '' ? fromEnv : hostname();
}

/** `--lifecycle-instances REGEX` as a test of an instance's name; a bad expression is a usage error. */
export function instanceNameMatcher(source: string): (instance: string) => boolean {
  let pattern: RegExp;
  try {
    pattern = new RegExp(`^(?:${source})$`, 'i');
  } catch (error) {
    throw new UsageError(`--lifecycle-instances: not a regular expression: ${source} (${(error as Error).message})`);
  }
  return (instance) => pattern.test(instance);
}

export function resolveAgentOptions(given: Partial<AgentOptions>): AgentOptions {
  const options: AgentOptions = { ...DEFAULT_AGENT_OPTIONS, node: defaultNodeName(), ...withoutUndefined(given) };
  parseListenAddress(options.listen);
  if (!(options.scanIntervalSeconds >= 0.1 && options.scanIntervalSeconds <= 3600)) {
    throw new UsageError(`--scan-interval must be between 0.1 and 3600 seconds, not ${options.scanIntervalSeconds}`);
  }
  if (!(Number.isInteger(options.frequency) && options.frequency >= 1 && options.frequency <= 1000)) {
    throw new UsageError(`--frequency must be a whole number from 1 to 1000, not ${options.frequency}`);
  }
  if (!AGENT_BACKENDS.includes(options.backend)) throw new UsageError(`--backend must be one of ${AGENT_BACKENDS.join(', ')}`);
  if (!AGENT_CALL_GRAPHS.includes(options.callGraph)) throw new UsageError(`--call-graph must be one of ${AGENT_CALL_GRAPHS.join(', ')}`);
  if (options.node.trim() === '') throw new UsageError('--node must not be empty');
  if (!(options.pushIntervalSeconds >= 1 && options.pushIntervalSeconds <= 3600)) {
    throw new UsageError(`--push-interval must be between 1 and 3600 seconds, not ${options.pushIntervalSeconds}`);
  }
  if (options.dataDir.trim() === '') throw new UsageError('--data-dir must not be empty');
  if (!(options.lifecycleMaxSeconds >= 1 && options.lifecycleMaxSeconds <= 86_400)) {
    throw new UsageError(`--lifecycle-max-seconds must be between 1 and 86400, not ${options.lifecycleMaxSeconds}`);
  }
  if (!(Number.isInteger(options.lifecycleKeep) && options.lifecycleKeep >= 1 && options.lifecycleKeep <= 10_000)) {
    throw new UsageError(`--lifecycle-keep must be a whole number from 1 to 10000, not ${options.lifecycleKeep}`);
  }
  if (!(options.lifecycleMaxBytes >= 1024 * 1024)) {
    throw new UsageError(`--lifecycle-max-bytes must be at least 1 MB (1048576), not ${options.lifecycleMaxBytes}`);
  }
  if (options.lifecycleInstances !== undefined) instanceNameMatcher(options.lifecycleInstances);
  if (options.push !== undefined) {
    let url: URL | undefined;
    try {
      url = new URL(options.push);
    } catch {
      url = undefined;
    }
    if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
      throw new UsageError(`--push must be an http(s) URL, not ${JSON.stringify(options.push)}`);
    }
  }
  return options;
}

export interface ListenAddress {
  host: string;
  port: number;
}

/** `127.0.0.1:9464`, `[::1]:9464`, `0.0.0.0:9464`, `localhost:0`. */
export function parseListenAddress(listen: string): ListenAddress {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(listen);
  const port = match === null ? NaN : Number(match[3]);
  if (match === null || port > 65535) {
    throw new UsageError(`--listen must be HOST:PORT (e.g. 127.0.0.1:9464 or [::1]:9464), not ${JSON.stringify(listen)}`);
  }
  return { host: match[1] ?? match[2]!, port };
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as Partial<T>;
}
