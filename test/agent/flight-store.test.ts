/**
 * The flight recorder's store: records written as capture then metadata, retention per instance by count and
 * bytes (oldest first, other instances untouched), no capture left without its metadata, and a data dir that
 * really refuses writes even to root (a path under a regular file).
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { applyRetention, ensureDataDir, listStoredRecords, recordId, storeRecord } from '../../src/agent/flight/store.js';
import { RECORD_ID_PATTERN, type LifecycleRecordMeta } from '../../src/agent/flight/record-meta.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function fakeRecord(dir: string, instance: string, minute: number, bytes: number): Promise<LifecycleRecordMeta> {
  const startedAt = new Date(Date.UTC(2026, 11, 6, 3, minute));
  const id = recordId(startedAt, instance, 'restart');
  const capture = join(dir, `input-${id}`);
  writeFileSync(capture, Buffer.alloc(bytes, 1));
  const meta: LifecycleRecordMeta = {
    id, iris_instance: instance, kind: 'restart', started_at: startedAt.toISOString(), duration_seconds: 1, ended_by: 'settled',
    partial: false, sampling_hz: 99, capture_file: '', capture_bytes: 0, notes: [],
  };
  return storeRecord(join(dir, 'data'), capture, meta);
}

describe('flight recorder store', () => {
  test('ids are safe file names, sortable by time', () => {
    const id = recordId(new Date(Date.UTC(2026, 11, 6, 3, 12, 0, 123)), 'IRIS/../x', 'crash');
    expect(id).toBe('20261206T031200.123Z-IRIS_.._x-crash');
    expect(RECORD_ID_PATTERN.test(id)).toBe(true);
  });

  test('retention keeps the newest records per instance by count, then by bytes; other instances untouched', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'irisflame-flight-store-'));
    dirs.push(dir);
    await ensureDataDir(join(dir, 'data'));
    for (let minute = 0; minute < 5; minute++) await fakeRecord(dir, 'IRIS', minute, 1000);
    await fakeRecord(dir, 'OTHER', 0, 1000);
    const written = await fakeRecord(dir, 'IRIS', 9, 1000);
    expect(written.capture_bytes).toBe(1000);
    expect(written.capture_file).toBe(`${written.id}.lifecycle.txt.gz`);

    const removed = await applyRetention(join(dir, 'data'), 'IRIS', { keep: 3, maxBytes: 1e9 });
    expect(removed).toEqual([0, 1, 2].map((minute) => recordId(new Date(Date.UTC(2026, 11, 6, 3, minute)), 'IRIS', 'restart')));
    const left = await listStoredRecords(join(dir, 'data'));
    expect(left.filter((record) => record.instance === 'IRIS').map((record) => record.startedAt.slice(14, 16))).toEqual(['03', '04', '09']);
    expect(left.filter((record) => record.instance === 'OTHER')).toHaveLength(1);

    // Bytes: each record is 1000 bytes of capture plus its metadata (~300 bytes); 2,800 bytes leave two.
    await applyRetention(join(dir, 'data'), 'IRIS', { keep: 20, maxBytes: 2800 });
    expect((await listStoredRecords(join(dir, 'data'))).filter((record) => record.instance === 'IRIS')).toHaveLength(2);
    // Nothing half-deleted: every capture left has its metadata.
    const files = readdirSync(join(dir, 'data'));
    for (const file of files.filter((name) => name.endsWith('.lifecycle.txt.gz'))) expect(files).toContain(file.replace('.lifecycle.txt.gz', '.json'));
  });

  test('metadata that cannot be written takes its capture away too: no capture without metadata, no temp file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'irisflame-flight-store-'));
    dirs.push(dir);
    await ensureDataDir(join(dir, 'data'));
    const id = recordId(new Date(Date.UTC(2026, 11, 6, 3, 12)), 'IRIS', 'restart');
    // A non-empty directory where ID.json goes: the capture is written, the metadata's rename fails (even for root).
    mkdirSync(join(dir, 'data', `${id}.json`, 'in-the-way'), { recursive: true });
    await expect(fakeRecord(dir, 'IRIS', 12, 1000)).rejects.toThrow(new RegExp(`^cannot write record ${id} to ${join(dir, 'data')}: `));
    expect(readdirSync(join(dir, 'data'))).toEqual([`${id}.json`]);
  });

  test('a data dir under a regular file fails with a message, even for root', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'irisflame-flight-store-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'file'), 'not a dir');
    await expect(ensureDataDir(join(dir, 'file', 'data'))).rejects.toThrow(/ENOTDIR|EEXIST/);
  });
});
