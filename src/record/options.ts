/**
 * Options of `irisflame record`, with their defaults in one place. The flamegraph options travel
 * beside these untouched (see src/flamegraph/options.ts); these say what to sample and for how long.
 */
import { DEFAULT_IRIS_DIR } from '../iris/processes.js';
import { UsageError } from '../errors.js';

export const BACKEND_NAMES = ['auto', 'perf', 'bpftrace'] as const;
export type BackendChoice = (typeof BACKEND_NAMES)[number];
/** A backend that actually runs (`auto` resolved). */
export type BackendName = Exclude<BackendChoice, 'auto'>;

export const CALL_GRAPH_MODES = ['auto', 'fp', 'dwarf'] as const;
export type CallGraphMode = (typeof CALL_GRAPH_MODES)[number];
/** What perf is actually told (`auto` resolved, see call-graph.ts). */
export type PerfCallGraph = Exclude<CallGraphMode, 'auto'>;

export interface RecordOptions {
  /**
   * Which sampler to run: `perf` (perf record + perf script), `bpftrace` (stacks counted in the kernel),
   * or `auto` (perf when it is installed and can open its event, else bpftrace).
   * @default 'perf'
   */
  backend: BackendChoice;
  /**
   * How long to sample, seconds. Ignored when a command is given: then the recording lasts as long as it.
   * @default 60
   */
  seconds: number;
  /**
   * Samples per second per CPU. 99 rather than 100 so sampling does not run in lockstep with timers.
   * @default 99
   */
  frequency: number;
  /**
   * Sample only these processes (perf `-p`, a bpftrace `pid ==` predicate). Empty means the whole system.
   * @default []
   */
  pids: number[];
  /**
   * Keep only samples whose process name matches this regular expression.
   * @default undefined (every process)
   */
  comm?: string;
  /**
   * Keep only IRIS processes (see src/iris/processes.ts).
   * @default false
   */
  iris: boolean;
  /**
   * Where IRIS is installed; processes running from here count as IRIS's.
   * @default '/usr/irissys'
   */
  irisDir: string;
  /**
   * How perf unwinds user stacks: frame pointers (cheap), or copies of the stack unwound with DWARF
   * (works without frame pointers; much more data), or `auto`: dwarf when a program of interest is built
   * without frame pointers, else fp (see call-graph.ts). bpftrace always walks frame pointers.
   * On the command line `dwarf,BYTES` (perf's syntax) also sets `dwarfStackBytes`.
   * @default 'auto'
   */
  callGraph: CallGraphMode;
  /**
   * With DWARF unwinding: bytes of user stack perf copies per sample (a multiple of 8, at most 65528).
   * Fewer bytes mean a smaller perf.data and a faster perf script, and deep stacks cut sooner.
   * @default undefined (DWARF_STACK_BYTES, 8 KiB: see call-graph.ts)
   */
  dwarfStackBytes?: number;
  /**
   * The SVG to write; the folded stacks go beside it with `.folded` in place of `.svg`.
   * @default undefined (irisflame-YYYYMMDD-HHMMSS.svg in the current directory)
   */
  output?: string;
  /**
   * Keep perf.data beside the SVG (perf backend only) instead of deleting it with the temporary dir.
   * @default false
   */
  keepPerfData: boolean;
  /**
   * Open the SVG when done (xdg-open), or print its file:// URL where nothing can open it.
   * @default false
   */
  open: boolean;
  /**
   * A command (and its arguments) to run: the whole system is sampled for exactly its lifetime, and
   * irisflame exits with its status.
   * @default [] (no command: record for `seconds`)
   */
  command: string[];
  /**
   * Show elapsed/remaining time on stderr. Only ever shown when stderr is a terminal.
   * @default true
   */
  progress: boolean;
}

export const DEFAULT_RECORD_OPTIONS: Readonly<RecordOptions> = Object.freeze({
  backend: 'perf',
  seconds: 60,
  frequency: 99,
  pids: [],
  comm: undefined,
  iris: false,
  irisDir: DEFAULT_IRIS_DIR,
  callGraph: 'auto',
  output: undefined,
  keepPerfData: false,
  open: false,
  command: [],
  progress: true,
} satisfies RecordOptions);

/** perf's own bounds for the stack copy (`--call-graph dwarf,SIZE`): a multiple of 8 below 64 KiB. */
const MAX_DWARF_STACK_BYTES = 65528;

/** `auto`, `fp`, `dwarf` or perf's `dwarf,BYTES`, checked; the size goes to dwarfStackBytes. */
function parseCallGraph(value: string, stackBytes: number | undefined): Pick<RecordOptions, 'callGraph' | 'dwarfStackBytes'> {
  const match = /^dwarf,(\d+)$/.exec(value);
  const mode = match ? 'dwarf' : value;
  const bytes = match ? Number(match[1]) : stackBytes;
  if (!(CALL_GRAPH_MODES as readonly string[]).includes(mode)) {
    throw new UsageError(`unknown call graph mode "${value}"`, { hint: 'choose auto, fp, dwarf or dwarf,BYTES (e.g. dwarf,4096)' });
  }
  if (bytes !== undefined && (!Number.isInteger(bytes) || bytes < 8 || bytes > MAX_DWARF_STACK_BYTES || bytes % 8 !== 0)) {
    throw new UsageError(`--call-graph dwarf,BYTES takes a multiple of 8 from 8 to ${MAX_DWARF_STACK_BYTES} (got ${String(bytes)})`);
  }
  return { callGraph: mode as CallGraphMode, dwarfStackBytes: bytes };
}

/** perf refuses frequencies above kernel.perf_event_max_sample_rate anyway; this catches typos early. */
const MAX_FREQUENCY = 100_000;

/** Fill in defaults and reject values that cannot work, each with one line saying why. */
export function resolveRecordOptions(options: Partial<RecordOptions> = {}): RecordOptions {
  const defined = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
  const resolved: RecordOptions = { ...DEFAULT_RECORD_OPTIONS, ...defined };
  if (!(BACKEND_NAMES as readonly string[]).includes(resolved.backend)) {
    throw new UsageError(`unknown backend "${resolved.backend}"`, { hint: `choose one of: ${BACKEND_NAMES.join(', ')}` });
  }
  Object.assign(resolved, parseCallGraph(resolved.callGraph, resolved.dwarfStackBytes));
  if (!Number.isFinite(resolved.seconds) || resolved.seconds <= 0) {
    throw new UsageError(`--seconds must be a number greater than 0 (got ${String(resolved.seconds)})`);
  }
  if (!Number.isInteger(resolved.frequency) || resolved.frequency < 1 || resolved.frequency > MAX_FREQUENCY) {
    throw new UsageError(`--frequency must be a whole number from 1 to ${MAX_FREQUENCY} (got ${String(resolved.frequency)})`);
  }
  for (const pid of resolved.pids) {
    if (!Number.isInteger(pid) || pid < 1) throw new UsageError(`--pid takes process ids (got ${String(pid)})`);
  }
  if (resolved.comm !== undefined) {
    try {
      new RegExp(resolved.comm);
    } catch (error) {
      throw new UsageError(`--comm is not a valid regular expression: ${resolved.comm}`, { cause: error });
    }
  }
  if (resolved.output !== undefined && !resolved.output.endsWith('.svg')) {
    throw new UsageError(`--output must name an .svg file (got ${resolved.output})`, {
      hint: 'the folded stacks are written beside it, with .folded in place of .svg',
    });
  }
  return resolved;
}
