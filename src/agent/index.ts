/** `irisflame agent`: IRIS instance status from kernel events, served to Prometheus; continuous CPU profiles. */
export { startAgent, assertAgentCanRun, type RunningAgent, type AgentStartOptions, type DescribeProcess, type ProcessDescription } from './agent.js';
export { InstanceTracker, type InstanceState, type InstanceTransition, type ProcessExit, type ScannedProcess } from './instances.js';
export { startAgentServer, send, type AgentRoute, type RunningServer } from './server.js';
export { AgentHealth, createAgentMetrics } from './metrics.js';
export { DEFAULT_AGENT_OPTIONS, AGENT_BACKENDS, resolveAgentOptions, parseListenAddress, type AgentOptions, type AgentBackend } from './options.js';
export { ContinuousSampler, DEFAULT_SAMPLER_OPTIONS, type SamplerOptions, type SamplerBackend } from './sampler.js';
export { SampleRing, type SampleBucket, type SampleWindow } from './sample-ring.js';
export { pprofRoute, parseSeconds, CPU_PROFILE_PATH, DEFAULT_PROFILE_SECONDS, MAX_PROFILE_SECONDS, type ProfileSource } from './pprof-route.js';
export { ProfilePusher, DEFAULT_PUSH_OPTIONS, type PushOptions, type PushCounters } from './push.js';
export { startProfiling, registerPushMetrics, type ProfilingOptions, type RunningProfiling } from './profiling.js';
