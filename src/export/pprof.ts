/**
 * Folded-stack samples to a pprof CPU profile (github.com/google/pprof, proto/profile.proto), the format
 * `go tool pprof`, Parca, Grafana Pyroscope and Alloy read. Shaped like the Go runtime's own CPU profiles
 * (runtime/pprof/proto.go): sample types `samples/count` and `cpu/nanoseconds`, period type
 * `cpu/nanoseconds`, period 1e9/Hz, values `[n, n·period]`, gzipped.
 *
 * Parca validates more strictly than pprof (pkg/normalizer/validate.go): mapping, location and function
 * ids run 1..n in table order and `string_table[0]` is "". Ids are handed out here in that order, so
 * every profile this writes passes both.
 */
import { gzipSync } from 'node:zlib';
import { Function as PprofFunction, Label, Line, Location, Mapping, Profile, Sample, StringTable, ValueType } from 'pprof-format';
import { frameKind, stripAnnotation, type FrameKind } from '../flamegraph/kind.js';

/** One aggregated sample: a stack and the process it was taken in. */
export interface ProfileSample {
  /** Frames root first, as collapse folds them, without the process-name root; annotations (`_[k]`) kept. */
  frames: readonly string[];
  /** Process name (the kernel's comm). */
  comm: string;
  pid?: number;
  /** The IRIS instance the process belongs to, when known. */
  irisInstance?: string;
  /** The IRIS routine the process runs (`START^MONITOR`), when known. */
  routine?: string;
  /** Path of the process's executable, for its mapping, when known. */
  binary?: string;
  /** How many samples. */
  count: number;
  /** CPU time of these samples in nanoseconds; `count × period` when absent. */
  nanoseconds?: number;
}

export interface PprofProfileInput {
  samples: Iterable<ProfileSample>;
  /** Sampling frequency in Hz: the period is 1e9/frequency nanoseconds. */
  frequency: number;
  /** When the profile starts (`time_nanos`), nanoseconds since the Unix epoch. */
  startNanos: bigint;
  /** How long it covers (`duration_nanos`). */
  durationNanos: bigint;
  /** Period in nanoseconds, when measured (perf's cpu-clock periods); 1e9/frequency otherwise. */
  periodNanos?: number;
}

/** The mapping perf and Parca give kernel frames. */
export const KERNEL_MAPPING = '[kernel.kallsyms]';

export const LABEL_COMM = 'comm';
export const LABEL_PID = 'pid';
export const LABEL_IRIS_INSTANCE = 'iris_instance';
export const LABEL_ROUTINE = 'routine';

/** A profile built from `input`; `encodePprof` gzips it. */
export function buildPprofProfile(input: PprofProfileInput): Profile {
  const period = input.periodNanos ?? Math.round(1e9 / input.frequency);
  const strings = new StringTable();
  const tables = new ProfileTables(strings);
  const samples = [...input.samples];
  // Binaries first (pprof reads mapping[0] as the main binary), busiest first; the kernel last.
  const binaryWeights = new Map<string, number>();
  for (const sample of samples) {
    if (sample.binary !== undefined) binaryWeights.set(sample.binary, (binaryWeights.get(sample.binary) ?? 0) + sample.count);
  }
  for (const [binary] of [...binaryWeights].sort((a, b) => b[1] - a[1])) tables.mappingId(binary);

  const bySample = new Map<string, Sample>();
  const labelKeys = {
    comm: strings.dedup(LABEL_COMM),
    pid: strings.dedup(LABEL_PID),
    instance: strings.dedup(LABEL_IRIS_INSTANCE),
    routine: strings.dedup(LABEL_ROUTINE),
  };
  for (const sample of samples) {
    const nanoseconds = Math.round(sample.nanoseconds ?? sample.count * period);
    if (!(sample.count > 0) && !(nanoseconds > 0)) continue;
    const frames = sample.frames.length > 0 ? sample.frames : [sample.comm];
    const locationIds: number[] = [];
    // pprof lists a sample's locations leaf first.
    for (let i = frames.length - 1; i >= 0; i--) locationIds.push(tables.locationId(frames[i]!, sample.binary));
    const key = `${locationIds.join(',')}|${sample.comm}|${sample.pid ?? ''}|${sample.irisInstance ?? ''}|${sample.routine ?? ''}`;
    const existing = bySample.get(key);
    if (existing !== undefined) {
      existing.value = [Number(existing.value[0]) + sample.count, Number(existing.value[1]) + nanoseconds];
      continue;
    }
    const label = [new Label({ key: labelKeys.comm, str: strings.dedup(utf8(sample.comm)) })];
    if (sample.pid !== undefined) label.push(new Label({ key: labelKeys.pid, num: sample.pid }));
    if (sample.irisInstance !== undefined) label.push(new Label({ key: labelKeys.instance, str: strings.dedup(sample.irisInstance) }));
    if (sample.routine !== undefined) label.push(new Label({ key: labelKeys.routine, str: strings.dedup(sample.routine) }));
    bySample.set(key, new Sample({ locationId: locationIds, value: [sample.count, nanoseconds], label }));
  }

  return new Profile({
    sampleType: [
      new ValueType({ type: strings.dedup('samples'), unit: strings.dedup('count') }),
      new ValueType({ type: strings.dedup('cpu'), unit: strings.dedup('nanoseconds') }),
    ],
    periodType: new ValueType({ type: strings.dedup('cpu'), unit: strings.dedup('nanoseconds') }),
    period,
    timeNanos: input.startNanos,
    durationNanos: input.durationNanos,
    sample: [...bySample.values()],
    mapping: tables.mappings,
    location: tables.locations,
    function: tables.functions,
    stringTable: strings,
  });
}

/**
 * The profile's protobuf bytes, gzipped as profile.proto asks on disk and Go serves over HTTP (`gzip: false`
 * for readers that do not gunzip; go tool pprof, Parca and Pyroscope take both).
 */
export function encodePprof(profile: Profile, options: { gzip?: boolean } = {}): Buffer {
  const bytes = profile.encode();
  return options.gzip === false ? Buffer.from(bytes) : gzipSync(bytes);
}

/** Profile from samples, encoded: the one call most users need. */
export function pprofBytes(input: PprofProfileInput, options: { gzip?: boolean } = {}): Buffer {
  return encodePprof(buildPprofProfile(input), options);
}

/**
 * Functions, locations and mappings, each deduplicated and numbered 1..n in the order first seen. A frame
 * is one location in one mapping: the kernel's for kernel frames, the process's binary for user frames
 * when known, none otherwise (mapping 0, which pprof and Parca allow).
 */
class ProfileTables {
  readonly functions: PprofFunction[] = [];
  readonly locations: Location[] = [];
  readonly mappings: Mapping[] = [];
  private readonly functionIds = new Map<string, number>();
  private readonly locationIds = new Map<string, number>();
  private readonly mappingIds = new Map<string, number>();

  constructor(private readonly strings: StringTable) {}

  locationId(frame: string, binary: string | undefined): number {
    const kind = frameKind(frame);
    const mappingFile = kind === 'kernel' ? KERNEL_MAPPING : binary;
    const mappingId = mappingFile === undefined ? 0 : this.mappingId(mappingFile);
    const key = `${mappingId}\0${frame}`;
    let id = this.locationIds.get(key);
    if (id === undefined) {
      id = this.locations.length + 1;
      const functionId = this.functionId(stripAnnotation(frame), kind);
      this.locations.push(new Location({ id, mappingId, line: [new Line({ functionId })] }));
      this.locationIds.set(key, id);
    }
    return id;
  }

  mappingId(file: string): number {
    let id = this.mappingIds.get(file);
    if (id === undefined) {
      id = this.mappings.length + 1;
      // Names, not addresses: hasFunctions tells pprof there is nothing left to symbolize.
      this.mappings.push(new Mapping({ id, filename: this.strings.dedup(file), hasFunctions: true }));
      this.mappingIds.set(file, id);
    }
    return id;
  }

  /** Kernel and user functions of one name stay apart (`read` in libc and the kernel's are not one). */
  private functionId(name: string, kind: FrameKind): number {
    const key = `${kind === 'kernel' ? 'k' : 'u'}\0${name}`;
    let id = this.functionIds.get(key);
    if (id === undefined) {
      id = this.functions.length + 1;
      const nameIndex = this.strings.dedup(utf8(name));
      this.functions.push(new PprofFunction({ id, name: nameIndex, systemName: nameIndex }));
      this.functionIds.set(key, id);
    }
    return id;
  }
}

const NON_ASCII = /[\u0080-\u00ff]/;

/** Collapse keys are latin1 (one char per input byte, types.ts); pprof's strings are UTF-8 text. */
function utf8(latin1: string): string {
  return NON_ASCII.test(latin1) ? Buffer.from(latin1, 'latin1').toString('utf8') : latin1;
}
