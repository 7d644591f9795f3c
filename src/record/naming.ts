/**
 * Names of what a recording writes, and the words on the graph: the title says what was recorded
 * (host, backend, frequency, duration, filters), the subtitle when.
 */
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import type { BackendName } from './options.js';

export interface OutputPaths {
  svg: string;
  folded: string;
  /** Where perf.data goes with --keep-perf-data. */
  perfData: string;
}

/** `irisflame-YYYYMMDD-HHMMSS.svg` in local time, as a person reading `ls` expects. */
export function defaultSvgName(now: Date): string {
  const pad = (value: number): string => String(value).padStart(2, '0');
  const date = `${now.getFullYear()}${pad(now.getMonth() + 1)}${pad(now.getDate())}`;
  const time = `${pad(now.getHours())}${pad(now.getMinutes())}${pad(now.getSeconds())}`;
  return `irisflame-${date}-${time}.svg`;
}

/** NAME.svg → NAME.folded and NAME.perf.data beside it. */
export function outputPaths(svg: string | undefined, now: Date, cwd: string = process.cwd()): OutputPaths {
  const svgPath = resolve(cwd, svg ?? defaultSvgName(now));
  const base = svgPath.endsWith('.svg') ? svgPath.slice(0, -'.svg'.length) : svgPath;
  return { svg: svgPath, folded: `${base}.folded`, perfData: `${base}.perf.data` };
}

export interface TitleFacts {
  backend: BackendName;
  frequency: number;
  /** Seconds actually recorded. */
  seconds: number;
  pids: number[];
  comm?: string;
  iris: boolean;
  /** The command profiled after `--`, if any. */
  command: string[];
  host?: string;
}

/** "CPU on vm: perf at 99 Hz for 60 s, IRIS processes only". */
export function recordingTitle(facts: TitleFacts): string {
  const parts = [`${facts.backend} at ${facts.frequency} Hz for ${formatSeconds(facts.seconds)}`];
  if (facts.command.length > 0) parts.push(`while running ${facts.command.join(' ')}`);
  if (facts.pids.length > 0) parts.push(`pid ${facts.pids.join(', ')}`);
  if (facts.iris) parts.push('IRIS processes only');
  if (facts.comm !== undefined) parts.push(`comm ~ /${facts.comm}/`);
  return `CPU on ${facts.host ?? hostname()}: ${parts.join(', ')}`;
}

/** "recorded 2026-11-25 20:31:07 UTC". */
export function recordingSubtitle(start: Date): string {
  return `recorded ${start.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

export function formatSeconds(seconds: number): string {
  if (seconds >= 10) return `${Math.round(seconds)} s`;
  return `${seconds.toFixed(1)} s`;
}
