/**
 * The export stage: folded-stack samples to pprof, for `irisflame export` and the agent's profiles.
 */
export * from './pprof.js';
export { exportInput, DEFAULT_EXPORT_OPTIONS, type ExportOptions, type ExportedProfile } from './from-input.js';
