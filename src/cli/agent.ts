/**
 * `irisflame agent`: the long-running node agent. Flags map onto AgentOptions (src/agent/options.ts);
 * src/agent/agent.ts does the work. SIGTERM and SIGINT stop it, tracers included, within 2 s.
 */
import type { Argv, CommandModule, Options } from 'yargs';
import { AGENT_BACKENDS, AGENT_CALL_GRAPHS, DEFAULT_AGENT_OPTIONS as D, type AgentOptions } from '../agent/options.js';

const PROFILE = 'Profiles:';
const SECURITY = 'Securing the listener:';
const FLIGHT = 'Flight recorder:';

export const AGENT_YARGS_OPTIONS = {
  listen: { type: 'string', default: D.listen, describe: 'HOST:PORT to serve /metrics, /healthz (and /debug/pprof/profile) on' },
  node: { type: 'string', describe: 'the node label of every series (default $NODE_NAME, else the host name)' },
  'scan-interval': { type: 'number', default: D.scanIntervalSeconds, describe: 'seconds between /proc scans that repair missed events' },
  frequency: { alias: 'F', type: 'number', group: PROFILE, default: D.frequency, describe: 'profile samples per second per CPU' },
  all: { type: 'boolean', group: PROFILE, default: D.all, describe: 'profile every process on the node, not only IRIS' },
  push: { type: 'string', group: PROFILE, describe: 'also push profiles to this Grafana Pyroscope URL (/ingest)' },
  'push-interval': { type: 'number', group: PROFILE, default: D.pushIntervalSeconds, describe: 'seconds between pushes' },
  backend: { type: 'string', group: PROFILE, choices: [...AGENT_BACKENDS], default: D.backend, describe: 'profile sampler' },
  'call-graph': {
    type: 'string',
    group: PROFILE,
    choices: [...AGENT_CALL_GRAPHS],
    default: D.callGraph,
    describe: 'user stacks: auto (DWARF for programs built without frame pointers), fp, or dwarf for every sampled process',
  },
  // ---- securing the listener ----
  'web.config.file': { type: 'string', group: SECURITY, describe: "exporter-toolkit's web config YAML (TLS, basic auth), as node_exporter's; re-read on change and SIGHUP" },
  lifecycle: { type: 'boolean', group: FLIGHT, default: D.lifecycle, describe: 'record every IRIS start, stop, restart and crash (--no-lifecycle: off)' },
  'data-dir': { type: 'string', group: FLIGHT, default: D.dataDir, describe: 'where lifecycle records are kept (served at /lifecycle/)' },
  'lifecycle-max-seconds': { type: 'number', group: FLIGHT, default: D.lifecycleMaxSeconds, describe: 'longest recording, seconds' },
  'lifecycle-keep': { type: 'number', group: FLIGHT, default: D.lifecycleKeep, describe: 'records kept per instance' },
  'lifecycle-max-bytes': { type: 'number', group: FLIGHT, default: D.lifecycleMaxBytes, describe: 'bytes of records kept per instance' },
  'lifecycle-instances': { type: 'string', group: FLIGHT, describe: 'record only instances whose name matches this regex (anchored, case-insensitive; default all)' },
} satisfies Record<string, Options>;

export const agentCommand: CommandModule = {
  command: 'agent [options]',
  describe: 'node agent: IRIS instance status from kernel events for Prometheus, continuous CPU profiles for Parca/Pyroscope (root)',
  builder: (yargs: Argv) =>
    yargs
      // --web.config.file is one flag (node_exporter's spelling), not web → config → file.
      .parserConfiguration({ 'dot-notation': false })
      .options(AGENT_YARGS_OPTIONS)
      .example('$0', 'serve http://127.0.0.1:9464/metrics')
      .example('$0 --listen 0.0.0.0:9464 --node $(hostname)', 'for a Prometheus on another host'),
  handler: async (argv) => {
    const { resolveAgentOptions } = await import('../agent/options.js');
    const { startAgent, assertAgentCanRun } = await import('../agent/agent.js');
    const options = resolveAgentOptions(agentOptionsFromArgv(argv as Record<string, unknown>));
    assertAgentCanRun();
    const log = (line: string): void => {
      process.stderr.write(`irisflame agent: ${line}\n`);
    };
    const agent = await startAgent({ ...options, log });
    log(`listening on ${agent.url} (node ${options.node})`);
    await new Promise<void>((resolve) => {
      let stopping = false;
      const onSignal = (signal: NodeJS.Signals): void => {
        // The handlers stay: a second SIGTERM (a supervisor repeating itself) must not kill the agent by the default
        // action while a lifecycle record is being written; the exit timer below bounds the stop anyway.
        if (stopping) return log(`${signal}: already stopping`);
        stopping = true;
        log(`${signal}: stopping`);
        // Whatever happens, gone within 2 s: tracers get ~1 s to exit, then the exit hook kills them; a lifecycle
        // record under way gets longer to be written as partial (agent.stopGraceMs).
        setTimeout(() => process.exit(0), agent.stopGraceMs).unref();
        void agent.stop().then(resolve, resolve);
      };
      process.on('SIGTERM', onSignal);
      process.on('SIGINT', onSignal);
      // SIGHUP re-reads --web.config.file (as node_exporter); without a handler it would end the agent.
      process.on('SIGHUP', () => {
        if (!agent.reloadWebConfig('SIGHUP')) log('SIGHUP: no --web.config.file to reload');
      });
    });
  },
};

export function agentOptionsFromArgv(argv: Record<string, unknown>): Partial<AgentOptions> {
  return {
    listen: last(argv.listen) as string,
    node: last(argv.node) as string | undefined,
    scanIntervalSeconds: last(argv['scan-interval']) as number,
    frequency: last(argv.frequency) as number,
    all: last(argv.all) as boolean,
    push: last(argv.push) as string | undefined,
    pushIntervalSeconds: last(argv['push-interval']) as number,
    backend: last(argv.backend) as AgentOptions['backend'],
    callGraph: last(argv['call-graph']) as AgentOptions['callGraph'],
    // ---- securing the listener ----
    webConfigFile: last(argv['web.config.file']) as string | undefined,
    lifecycle: last(argv.lifecycle) as boolean | undefined,
    dataDir: last(argv['data-dir']) as string | undefined,
    lifecycleMaxSeconds: last(argv['lifecycle-max-seconds']) as number | undefined,
    lifecycleKeep: last(argv['lifecycle-keep']) as number | undefined,
    lifecycleMaxBytes: last(argv['lifecycle-max-bytes']) as number | undefined,
    lifecycleInstances: last(argv['lifecycle-instances']) as string | undefined,
  };
}

function last(value: unknown): unknown {
  return Array.isArray(value) ? value[value.length - 1] : value;
}
