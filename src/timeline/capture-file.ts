/**
 * irisflame's lifecycle capture file: what `record --lifecycle` saves and `timeline FILE` reads back.
 * It is plain `perf script --show-task-events --show-lost-events` output with irisflame's own facts in
 * `#` lines at the top, so stackcollapse-perf.pl, `irisflame collapse` and any perf-script reader still
 * accept it (they skip `#` lines):
 *
 *     # irisflame-lifecycle 2 clock=monotonic [frequency=99] [lead=snoop]
 *     # irisflame-command 3 ["iris","stop","IRIS"]
 *     # irisflame-lost 2
 *     # irisflame-snoop E<TAB>568541922730<TAB>9115<TAB>9114<TAB>62<TAB>./irisdb\x00-s/data/IRIS/mgr/\x00-cV\x00<TAB>irisdb
 *     # irisflame-snoop X<TAB>570354910307<TAB>9137<TAB>768
 *     # irisflame-offcpu B<TAB>570354910307<TAB>1699000000<TAB>9115<TAB>9115<TAB>1<TAB>61<TAB>iris<TAB>entry_SYSCALL_64_after_hwframe;…;schedule<TAB>main;Restart;wait4
 *     # irisflame-offcpu F<TAB>570354910307<TAB>9115<TAB>9115<TAB>openat<TAB>-2<TAB>/data/IRIS/iris.lck
 *     irisdb 9115/9115 [000] 568.545: 10101010 cpu-clock:ppp:
 *     …
 *
 * Version 2 added the off-CPU tracer's `# irisflame-offcpu` lines (src/kernel/offcpu-lines.ts); version 1
 * files are the same without them, and read the same way.
 */
import type { RecordedCommand } from './model.js';
import { SNOOP_LINE_PREFIX } from '../kernel/exec-events.js';
import { OFFCPU_LINE_PREFIX } from '../kernel/offcpu-lines.js';

export const CAPTURE_MARKER = '# irisflame-';
/** The first line's prefix; the version follows it. */
export const CAPTURE_HEADER = '# irisflame-lifecycle ';
export const CAPTURE_VERSION = 2;
const COMMAND_PREFIX = '# irisflame-command ';
const LOST_PREFIX = '# irisflame-lost ';
const NOTE_PREFIX = '# irisflame-note ';

export type CaptureLine =
  | { kind: 'snoop'; text: string }
  | { kind: 'command'; command: RecordedCommand }
  | { kind: 'lost'; count: number }
  | { kind: 'note'; text: string }
  | { kind: 'offcpu'; text: string }
  | { kind: 'header'; version: number; clock: string | undefined; frequency: number | undefined; lead: string | undefined }
  | { kind: 'bad' };

/** Read one `# irisflame-…` line. */
export function parseCaptureLine(line: string): CaptureLine {
  if (line.startsWith(SNOOP_LINE_PREFIX)) return { kind: 'snoop', text: line.slice(SNOOP_LINE_PREFIX.length) };
  if (line.startsWith(OFFCPU_LINE_PREFIX)) return { kind: 'offcpu', text: line.slice(OFFCPU_LINE_PREFIX.length) };
  if (line.startsWith(CAPTURE_HEADER)) {
    const version = Number(/^\S+ \S+ (\d+)/.exec(line)?.[1]);
    const clock = /clock=(\S+)/.exec(line)?.[1];
    const frequency = Number(/frequency=(\d+)/.exec(line)?.[1] ?? Number.NaN);
    const lead = /lead=(\S+)/.exec(line)?.[1];
    return Number.isInteger(version) ? { kind: 'header', version, clock, frequency: frequency > 0 ? frequency : undefined, lead } : { kind: 'bad' };
  }
  if (line.startsWith(COMMAND_PREFIX)) {
    const rest = line.slice(COMMAND_PREFIX.length);
    const space = rest.indexOf(' ');
    if (space === -1) return { kind: 'bad' };
    const code = rest.slice(0, space);
    try {
      const argv: unknown = JSON.parse(rest.slice(space + 1));
      if (!Array.isArray(argv) || !argv.every((item) => typeof item === 'string')) return { kind: 'bad' };
      return { kind: 'command', command: { argv, exitCode: code === '-' ? undefined : Number(code) } };
    } catch {
      return { kind: 'bad' };
    }
  }
  if (line.startsWith(LOST_PREFIX)) {
    const count = Number(line.slice(LOST_PREFIX.length));
    return Number.isFinite(count) ? { kind: 'lost', count } : { kind: 'bad' };
  }
  if (line.startsWith(NOTE_PREFIX)) return { kind: 'note', text: line.slice(NOTE_PREFIX.length) };
  return { kind: 'bad' };
}

export interface CaptureHeaderFacts {
  command: RecordedCommand | undefined;
  lostChunks: number;
  notes: string[];
  /** The exec snooper's raw output lines. */
  snoopLines: string[];
  /** The off-CPU tracer's capture lines (`# irisflame-offcpu …`, already prefixed), if it ran. */
  offCpuLines?: string[];
  /** perf record's -F: each sample stands for 1/frequency s on a CPU (the view's on-CPU estimate). */
  frequency?: number;
  /**
   * The snooper's (and off-CPU tracer's) lines start before perf's events (the agent's flight recorder takes
   * them from its rings): processes the snooper saw before perf started get lanes from its exec/exit events
   * (`lead=snoop` in the first line; build.ts).
   */
  leadFromSnooper?: boolean;
}

/** The `#` lines to put before perf script's output. */
export function formatCaptureHeader(facts: CaptureHeaderFacts): string {
  const lines = [
    `${CAPTURE_HEADER}${CAPTURE_VERSION} clock=monotonic${facts.frequency === undefined ? '' : ` frequency=${facts.frequency}`}${facts.leadFromSnooper ? ' lead=snoop' : ''}`,
  ];
  if (facts.command) {
    const code = facts.command.exitCode === undefined ? '-' : String(facts.command.exitCode);
    lines.push(`${COMMAND_PREFIX}${code} ${JSON.stringify(facts.command.argv)}`);
  }
  if (facts.lostChunks > 0) lines.push(`${LOST_PREFIX}${facts.lostChunks}`);
  for (const note of facts.notes) lines.push(`${NOTE_PREFIX}${note.replace(/\n/g, ' ')}`);
  for (const snoop of facts.snoopLines) {
    if (snoop.startsWith('E\t') || snoop.startsWith('X\t')) lines.push(`${SNOOP_LINE_PREFIX}${snoop}`);
  }
  for (const line of facts.offCpuLines ?? []) if (line.startsWith(OFFCPU_LINE_PREFIX)) lines.push(line.replace(/[\r\n]/g, ' '));
  return lines.join('\n') + '\n';
}
