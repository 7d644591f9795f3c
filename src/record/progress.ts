/**
 * The progress line while recording: elapsed and remaining time, and samples so far where the backend
 * can count them (bpftrace) or the size of perf.data where it cannot (perf). Only on a terminal: logs and
 * pipes get nothing, not a stream of carriage returns.
 */
import cliProgress from 'cli-progress';
import type { RecordingProgress } from './backend.js';

const REFRESH_MS = 500;

export interface ProgressDisplay {
  stop(): void;
}

export interface ProgressSource {
  /** Planned length in seconds; undefined while a command runs (no end known). */
  seconds: number | undefined;
  startedAt: number;
  read(): RecordingProgress;
}

export function showProgress(stream: NodeJS.WriteStream, source: ProgressSource): ProgressDisplay {
  if (!stream.isTTY) return { stop() {} };
  const timed = source.seconds !== undefined;
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: timed
        ? 'recording [{bar}] {elapsed} of {planned} | {remaining} left | {what}  (Ctrl-C: stop early)'
        : 'recording {elapsed} until the command exits | {what}  (Ctrl-C: stop early)',
      barsize: 24,
      hideCursor: true,
      clearOnComplete: true,
      fps: 1000 / REFRESH_MS,
    },
    cliProgress.Presets.shades_classic,
  );
  const total = Math.max(1, Math.round((source.seconds ?? 1) * 10));
  const payload = (): Record<string, string> => {
    const elapsed = (Date.now() - source.startedAt) / 1000;
    return {
      elapsed: clock(elapsed),
      planned: clock(source.seconds ?? 0),
      remaining: clock(Math.max(0, (source.seconds ?? 0) - elapsed)),
      what: describe(source.read()),
    };
  };
  bar.start(total, 0, payload());
  const timer = setInterval(() => {
    const elapsedTenths = Math.round((Date.now() - source.startedAt) / 100);
    bar.update(Math.min(total, elapsedTenths), payload());
  }, REFRESH_MS);
  timer.unref();
  let stopped = false;
  return {
    stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      bar.stop();
    },
  };
}

function describe(progress: RecordingProgress): string {
  if (progress.samples !== undefined) return `${progress.samples.toLocaleString('en-US')} samples`;
  if (progress.bytes !== undefined) return `perf.data ${(progress.bytes / 1e6).toFixed(1)} MB`;
  return 'sampling';
}

function clock(seconds: number): string {
  const whole = Math.floor(seconds);
  const minutes = Math.floor(whole / 60);
  return `${minutes}:${String(whole % 60).padStart(2, '0')}`;
}
