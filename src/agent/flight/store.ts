/**
 * The flight recorder's data dir: each record is written as its capture then its metadata (record-meta.ts),
 * both atomically, and older records of the same instance are removed beyond the count and byte bounds,
 * oldest first. Failures are thrown as one-line errors: the recorder logs and counts them, and keeps going.
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomically } from '../../atomic-output.js';
import { RECORD_ID_PATTERN, captureFileName, metaFileName, type LifecycleKind, type LifecycleRecordMeta } from './record-meta.js';

export interface RetentionBounds {
  /** Records kept per instance. */
  keep: number;
  /** Bytes (capture + metadata) kept per instance. */
  maxBytes: number;
}

/** `20261206T031200.123Z-IRIS-restart`: sortable by time; unsafe characters of the instance name dropped. */
export function recordId(startedAt: Date, instance: string, kind: LifecycleKind): string {
  const stamp = startedAt.toISOString().replace(/[-:]/g, '');
  const safe = instance.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 64) || 'unknown';
  const id = `${stamp}-${safe}-${kind}`;
  if (!RECORD_ID_PATTERN.test(id)) throw new Error(`bad record id ${id}`);
  return id;
}

export async function ensureDataDir(dir: string): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
}

/**
 * Move the finished capture (`capturePath`, written by the lifecycle session) into the data dir as
 * ID.lifecycle.txt.gz, then write ID.json; returns the metadata with `capture_bytes` filled in.
 */
export async function storeRecord(dir: string, capturePath: string, meta: LifecycleRecordMeta): Promise<LifecycleRecordMeta> {
  if (!RECORD_ID_PATTERN.test(meta.id)) throw new Error(`bad record id ${meta.id}`);
  const target = join(dir, captureFileName(meta.id));
  const bytes = await fs.readFile(capturePath);
  const written: LifecycleRecordMeta = { ...meta, capture_file: captureFileName(meta.id), capture_bytes: bytes.length };
  const json = Buffer.from(`${JSON.stringify(written, null, 2)}\n`);
  try {
    await writeBytesAtomically(target, bytes);
    try {
      await writeBytesAtomically(join(dir, metaFileName(meta.id)), json);
    } catch (error) {
      // A capture without its metadata is never listed, so retention would never remove it: it goes now.
      await fs.rm(target, { force: true });
      throw error;
    }
  } catch (error) {
    // One line that names the data dir and the reason (ENOSPC, EROFS): a write error's own message names neither.
    // The errno is the error's own (a failed write) or its cause's (a failed open, src/atomic-output.ts).
    const codes = [(error as NodeJS.ErrnoException).code, ((error as Error).cause as NodeJS.ErrnoException | undefined)?.code];
    const reason = codes.includes('ENOSPC') ? 'no space left on the device' : codes.includes('EROFS') ? 'the file system is read-only' : (error as Error).message.split('\n')[0];
    throw new Error(`cannot write record ${meta.id} to ${dir}: ${reason}`, { cause: error });
  }
  return written;
}

/** Temporary file beside `path`, renamed over it once complete; removed on failure (src/atomic-output.ts). */
function writeBytesAtomically(path: string, bytes: Buffer): Promise<Buffer> {
  return writeFileAtomically(
    path,
    async () => bytes,
    (value, out) => new Promise<void>((done, fail) => out.write(value, (error) => (error ? fail(error) : done()))),
  );
}

interface StoredRecord {
  id: string;
  instance: string;
  startedAt: string;
  bytes: number;
}

/** Records in the data dir (those with readable metadata), oldest first. */
export async function listStoredRecords(dir: string): Promise<StoredRecord[]> {
  const records: StoredRecord[] = [];
  for (const name of await fs.readdir(dir)) {
    if (!name.endsWith('.json') || name.startsWith('.')) continue;
    const id = name.slice(0, -'.json'.length);
    if (!RECORD_ID_PATTERN.test(id)) continue;
    try {
      const metaPath = join(dir, name);
      const meta = JSON.parse(await fs.readFile(metaPath, 'utf8')) as Partial<LifecycleRecordMeta>;
      const metaBytes = (await fs.stat(metaPath)).size;
      const captureBytes = await fs.stat(join(dir, captureFileName(id))).then((stat) => stat.size, () => 0);
      records.push({ id, instance: String(meta.iris_instance ?? ''), startedAt: String(meta.started_at ?? ''), bytes: metaBytes + captureBytes });
    } catch {
      // Half-deleted or foreign: not ours to judge.
    }
  }
  return records.sort((a, b) => (a.startedAt === b.startedAt ? a.id.localeCompare(b.id) : a.startedAt < b.startedAt ? -1 : 1));
}

/** Remove the oldest records of `instance` until it has at most `keep` records and `maxBytes` bytes. Returns the ids removed. */
export async function applyRetention(dir: string, instance: string, bounds: RetentionBounds): Promise<string[]> {
  const mine = (await listStoredRecords(dir)).filter((record) => record.instance === instance);
  let count = mine.length;
  let bytes = mine.reduce((sum, record) => sum + record.bytes, 0);
  const removed: string[] = [];
  for (const record of mine) {
    if (count <= bounds.keep && bytes <= bounds.maxBytes) break;
    // Metadata first: a capture without it is no longer listed.
    await fs.rm(join(dir, metaFileName(record.id)), { force: true });
    await fs.rm(join(dir, captureFileName(record.id)), { force: true });
    count--;
    bytes -= record.bytes;
    removed.push(record.id);
  }
  return removed;
}
