/**
 * The flight recorder's records as the routes see them: every valid `ID.json` in the data dir (record-meta.ts),
 * newest last, and a lookup by id that can only ever name a regular file inside the data dir.
 *
 * Ids come from URLs, so a lookup checks RECORD_ID_PATTERN first (no `/`, no `%`, no NUL, cannot start with
 * `.`), then refuses a file that is not regular or is a symlink resolving outside the data dir (someone with
 * write access to the dir should not get the agent to serve /etc/shadow).
 *
 * Listing reads every metadata file, so it is cached: re-read when the dir's mtime changes (the recorder's
 * atomic renames change it) or after LIST_TTL_MS (an in-place rewrite does not).
 */
import { lstatSync, readFileSync, readdirSync, realpathSync, statSync, type Stats } from 'node:fs';
import { join, sep } from 'node:path';
import {
  LIFECYCLE_KINDS,
  RECORD_ID_PATTERN,
  captureFileName,
  metaFileName,
  type LifecycleRecordMeta,
} from './record-meta.js';

const LIST_TTL_MS = 5_000;
const ENDED_BY = ['settled', 'bound', 'agent-stopping', 'tracer-failed'];
/** A metadata file is a few KB; anything much larger is not one of ours. */
const MAX_META_BYTES = 1 << 20;

export interface RecordListing {
  /** Valid records whose capture is present, oldest first (by started_at, then id). */
  records: LifecycleRecordMeta[];
  /** Metadata files skipped: unreadable, not JSON, wrong shape, or their capture is missing. */
  skipped: number;
  /** Why the data dir itself could not be read (absent, permissions); undefined when it was. */
  dirProblem: string | undefined;
}

/** A record found by id: its metadata and the capture's real path, checked to be inside the data dir. */
export interface FoundRecord {
  meta: LifecycleRecordMeta;
  capturePath: string;
  captureStats: Stats;
}

export class RecordCatalog {
  private cached: { listing: RecordListing; dirMtimeMs: number; readAtMs: number } | undefined;

  constructor(
    readonly dataDir: string,
    private readonly now: () => number = Date.now,
  ) {}

  list(): RecordListing {
    const dirMtimeMs = dirMtime(this.dataDir);
    const cached = this.cached;
    if (cached !== undefined && cached.dirMtimeMs === dirMtimeMs && this.now() - cached.readAtMs < LIST_TTL_MS) return cached.listing;
    const listing = this.readListing();
    this.cached = { listing, dirMtimeMs, readAtMs: this.now() };
    return listing;
  }

  /** 'malformed' when `id` cannot be a record id; undefined when no such (valid, complete) record exists. */
  find(id: string): FoundRecord | 'malformed' | undefined {
    if (!RECORD_ID_PATTERN.test(id)) return 'malformed';
    const metaPath = this.insideDataDir(metaFileName(id));
    const capturePath = this.insideDataDir(captureFileName(id));
    if (metaPath === undefined || capturePath === undefined) return undefined;
    const meta = readMeta(metaPath, id);
    if (meta === undefined) return undefined;
    try {
      return { meta, capturePath, captureStats: statSync(capturePath) };
    } catch {
      return undefined; // removed by retention since the check above
    }
  }

  private readListing(): RecordListing {
    let names: string[];
    try {
      names = readdirSync(this.dataDir);
    } catch (error) {
      return { records: [], skipped: 0, dirProblem: `${this.dataDir}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}` };
    }
    const present = new Set(names);
    const records: LifecycleRecordMeta[] = [];
    let skipped = 0;
    for (const name of names) {
      if (!name.endsWith('.json')) continue;
      const id = name.slice(0, -'.json'.length);
      const metaPath = RECORD_ID_PATTERN.test(id) ? this.insideDataDir(name) : undefined;
      const meta = metaPath === undefined ? undefined : readMeta(metaPath, id);
      if (meta === undefined || !present.has(captureFileName(id)) || this.insideDataDir(captureFileName(id)) === undefined) {
        skipped++;
        continue;
      }
      records.push(meta);
    }
    records.sort((a, b) => Date.parse(a.started_at) - Date.parse(b.started_at) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return { records, skipped, dirProblem: undefined };
  }

  /** The real path of `name` in the data dir when it is a regular file whose real path stays inside it. */
  private insideDataDir(name: string): string | undefined {
    const path = join(this.dataDir, name);
    try {
      const link = lstatSync(path);
      if (!link.isFile() && !link.isSymbolicLink()) return undefined;
      const real = realpathSync(path);
      const root = realpathSync(this.dataDir);
      if (!real.startsWith(root + sep) || !statSync(real).isFile()) return undefined;
      return real;
    } catch {
      return undefined;
    }
  }
}

function dirMtime(dir: string): number {
  try {
    return statSync(dir).mtimeMs;
  } catch {
    return -1;
  }
}

/** The metadata in `path` when it is a well-formed record of `id`; undefined otherwise. */
function readMeta(path: string, id: string): LifecycleRecordMeta | undefined {
  try {
    if (statSync(path).size > MAX_META_BYTES) return undefined;
    const value: unknown = JSON.parse(readFileSync(path, 'utf8'));
    return isRecordMeta(value, id) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** The fields the routes rely on, checked; extra fields are kept (a newer recorder may add some). */
export function isRecordMeta(value: unknown, id: string): value is LifecycleRecordMeta {
  if (typeof value !== 'object' || value === null) return false;
  const m = value as Record<string, unknown>;
  const finite = (x: unknown): boolean => typeof x === 'number' && Number.isFinite(x);
  const optional = (x: unknown, type: string): boolean => x === undefined || typeof x === type;
  return (
    m.id === id &&
    typeof m.iris_instance === 'string' &&
    LIFECYCLE_KINDS.includes(m.kind as never) &&
    typeof m.started_at === 'string' &&
    !Number.isNaN(Date.parse(m.started_at)) &&
    finite(m.duration_seconds) &&
    ENDED_BY.includes(m.ended_by as string) &&
    typeof m.partial === 'boolean' &&
    Array.isArray(m.notes) &&
    m.notes.every((note) => typeof note === 'string') &&
    m.capture_file === captureFileName(id) &&
    optional(m.command, 'string') &&
    optional(m.signal, 'string') &&
    (m.exit_code === undefined || finite(m.exit_code)) &&
    (m.critical_path === undefined || isCriticalPath(m.critical_path))
  );
}

function isCriticalPath(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const c = value as Record<string, unknown>;
  return typeof c.seconds === 'number' && typeof c.summary === 'string' && typeof c.by_reason === 'object' && c.by_reason !== null;
}
