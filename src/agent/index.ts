/** `irisflame agent`: IRIS instance status from kernel events, served to Prometheus. */
export { startAgent, assertAgentCanRun, type RunningAgent, type AgentStartOptions, type DescribeProcess, type ProcessDescription } from './agent.js';
export { InstanceTracker, type InstanceState, type InstanceTransition, type ProcessExit, type ScannedProcess } from './instances.js';
export { startAgentServer, send, type AgentRoute, type RunningServer } from './server.js';
export { AgentHealth, createAgentMetrics } from './metrics.js';
export { DEFAULT_AGENT_OPTIONS, AGENT_BACKENDS, resolveAgentOptions, parseListenAddress, type AgentOptions, type AgentBackend } from './options.js';
