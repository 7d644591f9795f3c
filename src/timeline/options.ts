/**
 * Options of the lifecycle view (`irisflame timeline`, `record --lifecycle`), with defaults in one place.
 */
import { DEFAULT_IRIS_DIR } from '../iris/processes.js';
import { UsageError } from '../errors.js';

export const LANE_CHOICES = ['active', 'all', 'command'] as const;
export type LaneChoice = (typeof LANE_CHOICES)[number];

export interface TimelineOptions {
  /**
   * Root each IRIS job's samples at its routine (`irisdb START^MONITOR`) instead of its comm (`irisdb`).
   * @default true
   */
  routineRoots: boolean;
  /**
   * Keep only IRIS processes, their descendants, and the processes between them (`sh -c` run by
   * irisstop), in the lanes and in the flame graph.
   * @default false
   */
  iris: boolean;
  /**
   * Where IRIS is installed; processes running from here count as IRIS's.
   * @default '/usr/irissys'
   */
  irisDir: string;
  /**
   * Which processes get a lane: `active` (started, exec'd, exited or sampled during the recording),
   * `all` (also every idle process that merely existed, which on a whole system is hundreds) or `command`
   * (the recorded command and its descendants only, as `active` when no command was recorded; samples of
   * other processes are left out of the flame graph too).
   * @default 'active'
   */
  lanes: LaneChoice;
  /**
   * Title at the top of the SVG.
   * @default 'Process lifecycle'
   */
  title: string;
  /**
   * A second line under the title (e.g. the command that was recorded).
   * @default undefined (the recorded command, when known)
   */
  subtitle?: string;
  /**
   * Width of the SVG, pixels.
   * @default 1200
   */
  width: number;
}

export const DEFAULT_TIMELINE_OPTIONS: Readonly<TimelineOptions> = Object.freeze({
  routineRoots: true,
  iris: false,
  irisDir: DEFAULT_IRIS_DIR,
  lanes: 'active',
  title: 'Process lifecycle',
  subtitle: undefined,
  width: 1200,
});

/** Narrowest width at which the timeline, strip and flame graph still have room for labels. */
export const MIN_TIMELINE_WIDTH = 600;

export function resolveTimelineOptions(options: Partial<TimelineOptions> = {}): TimelineOptions {
  const defined = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
  const resolved: TimelineOptions = { ...DEFAULT_TIMELINE_OPTIONS, ...defined };
  if (!Number.isFinite(resolved.width) || resolved.width < MIN_TIMELINE_WIDTH) {
    throw new UsageError(`--width must be at least ${MIN_TIMELINE_WIDTH} (got ${resolved.width})`);
  }
  if (!LANE_CHOICES.includes(resolved.lanes)) {
    throw new UsageError(`--lanes must be one of ${LANE_CHOICES.join(', ')} (got ${String(resolved.lanes)})`);
  }
  return resolved;
}
