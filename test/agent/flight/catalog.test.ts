/**
 * The record catalog over a scratch data dir of hand-made records: order, validation, the cache, and every
 * way an id could try to name a file outside the data dir.
 */
import { mkdirSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { RecordCatalog } from '../../../src/agent/flight/catalog.js';
import { captureFileName, metaFileName } from '../../../src/agent/flight/record-meta.js';
import { scratchDataDir, writeRecord } from './support.js';

let dir: string;
beforeEach(() => {
  dir = scratchDataDir();
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('listing', () => {
  test('valid records newest last by started_at, broken ones skipped and counted', () => {
    writeRecord(dir, 'b-late', { started_at: '2026-12-06T10:00:02.000Z' });
    writeRecord(dir, 'a-early', { started_at: '2026-12-06T10:00:01.000Z', kind: 'crash', signal: 'SIGKILL' });
    writeRecord(dir, 'c-middle', { started_at: '2026-12-06T10:00:01.500Z' });
    writeFileSync(join(dir, metaFileName('not-json')), '{"id": ');
    writeRecord(dir, 'wrong-kind', { kind: 'explode' as never });
    writeRecord(dir, 'id-mismatch', { id: 'other' });
    writeRecord(dir, 'no-capture');
    rmSync(join(dir, captureFileName('no-capture')));
    // A capture without its metadata is a record still being written: neither listed nor counted.
    writeFileSync(join(dir, captureFileName('in-progress')), 'x');
    writeFileSync(join(dir, '.tmp-file.json.123.tmp'), 'x');

    const listing = new RecordCatalog(dir).list();
    expect(listing.records.map((r) => r.id)).toEqual(['a-early', 'c-middle', 'b-late']);
    expect(listing.skipped).toBe(4);
    expect(listing.dirProblem).toBeUndefined();
    expect(listing.records[0]).toMatchObject({ kind: 'crash', signal: 'SIGKILL', iris_instance: 'IRIS' });
  });

  test('a missing data dir is an empty list with the reason, not an error', () => {
    const listing = new RecordCatalog(join(dir, 'absent')).list();
    expect(listing.records).toEqual([]);
    expect(listing.dirProblem).toMatch(/absent: ENOENT/);
  });

  test('cached until the dir changes or the TTL passes', () => {
    let now = 1_000_000;
    const catalog = new RecordCatalog(dir, () => now);
    writeRecord(dir, 'first');
    expect(catalog.list().records).toHaveLength(1);
    // An in-place rewrite with the dir's mtime put back: not seen until the TTL passes.
    const past = new Date('2026-01-01T00:00:00Z');
    utimesSync(dir, past, past);
    const before = catalog.list();
    writeRecord(dir, 'first', { iris_instance: 'CHANGED' });
    utimesSync(dir, past, past);
    expect(catalog.list()).toBe(before);
    now += 6_000;
    expect(catalog.list().records[0]!.iris_instance).toBe('CHANGED');
    // A new record (a rename into the dir) changes the dir's mtime: seen at once.
    writeRecord(dir, 'second', { started_at: '2030-01-01T00:00:00.000Z' });
    expect(catalog.list().records.map((r) => r.id)).toEqual(['first', 'second']);
  });
});

describe('lookup by id', () => {
  test('finds a record and its capture', () => {
    writeRecord(dir, '20261206T031200.123Z-IRIS-restart');
    const found = new RecordCatalog(dir).find('20261206T031200.123Z-IRIS-restart');
    expect(found).toMatchObject({ meta: { kind: 'restart' } });
    expect(typeof found === 'object' && found.captureStats.size).toBe(135631);
  });

  test.each(['..', '../etc/passwd', '%2e%2e', '..%2F..%2Fetc', 'a/b', '/etc/passwd', 'a\0b', '.hidden', '', 'a b', 'x'.repeat(129)])(
    'refuses %j as malformed',
    (id) => {
      expect(new RecordCatalog(dir).find(id)).toBe('malformed');
    },
  );

  test('unknown or incomplete records are not found', () => {
    writeRecord(dir, 'only-meta');
    rmSync(join(dir, captureFileName('only-meta')));
    const catalog = new RecordCatalog(dir);
    expect(catalog.find('nothing-here')).toBeUndefined();
    expect(catalog.find('only-meta')).toBeUndefined();
  });

  test('a symlink resolving outside the data dir is refused; one inside it is followed', () => {
    const outside = scratchDataDir();
    try {
      writeRecord(outside, 'secret');
      symlinkSync(join(outside, metaFileName('secret')), join(dir, metaFileName('secret')));
      symlinkSync(join(outside, captureFileName('secret')), join(dir, captureFileName('secret')));
      // Metadata inside, capture a link to /etc/passwd.
      writeRecord(dir, 'passwd');
      rmSync(join(dir, captureFileName('passwd')));
      symlinkSync('/etc/passwd', join(dir, captureFileName('passwd')));
      // A link within the dir (e.g. a store that deduplicates) is fine.
      mkdirSync(join(dir, 'blobs'));
      writeRecord(join(dir, 'blobs'), 'linked');
      symlinkSync(join(dir, 'blobs', metaFileName('linked')), join(dir, metaFileName('linked')));
      symlinkSync(join('blobs', captureFileName('linked')), join(dir, captureFileName('linked')));

      const catalog = new RecordCatalog(dir);
      expect(catalog.find('secret')).toBeUndefined();
      expect(catalog.find('passwd')).toBeUndefined();
      expect(catalog.find('linked')).toMatchObject({ meta: { id: 'linked' }, capturePath: join(dir, 'blobs', captureFileName('linked')) });
      const listing = catalog.list();
      expect(listing.records.map((r) => r.id)).toEqual(['linked']);
      expect(listing.skipped).toBe(2);
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });
});
