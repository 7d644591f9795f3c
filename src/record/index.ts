/** `irisflame record`'s library surface: a session, the two backends, and preflight. */
export { startRecordSession, type RecordSession, type RecordSessionOptions, type RecordSessionResult } from './session.js';
export { startPerfRecording, perfRecordArgs, type PerfRecordExtension } from './perf.js';
export { startBpftraceRecording, bpftraceProgram } from './bpftrace.js';
export type { Recording, RecordingResult, RecordPlan, RecordingProgress } from './backend.js';
export { checkPreflight, probeHost, type HostFacts, type PreflightVerdict } from './preflight.js';
export { DEFAULT_RECORD_OPTIONS, resolveRecordOptions, type RecordOptions, type BackendName } from './options.js';
