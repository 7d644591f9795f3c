/**
 * Hand-made flight-recorder records for the catalog, route and browser tests: the metadata of
 * fixtures/agent/flight/simulated-restart.json (written by hand) with a real lifecycle capture of a
 * simulated IRIS restart (fixtures/timeline/offcpu/, recorded by irisflame), copied into a scratch data dir.
 */
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { captureFileName, metaFileName, type LifecycleRecordMeta } from '../../../src/agent/flight/record-meta.js';
import { REPO_ROOT } from '../../support/cli.js';

export const CAPTURE_FIXTURE = join(REPO_ROOT, 'fixtures/timeline/offcpu/simulated-restart.lifecycle.txt.gz');
export const META_FIXTURE: LifecycleRecordMeta = JSON.parse(readFileSync(join(REPO_ROOT, 'fixtures/agent/flight/simulated-restart.json'), 'utf8'));

export function scratchDataDir(): string {
  return mkdtempSync(join(tmpdir(), 'irisflame-flight-'));
}

/** Write one record (capture copied from the fixture unless `capture` bytes are given); returns its metadata. */
export function writeRecord(dir: string, id: string, changes: Partial<LifecycleRecordMeta> = {}, capture?: Buffer): LifecycleRecordMeta {
  const meta: LifecycleRecordMeta = { ...META_FIXTURE, id, capture_file: captureFileName(id), ...changes };
  if (capture === undefined) copyFileSync(CAPTURE_FIXTURE, join(dir, captureFileName(id)));
  else writeFileSync(join(dir, captureFileName(id)), capture);
  writeFileSync(join(dir, metaFileName(id)), JSON.stringify(meta));
  return meta;
}

interface Reply { status: number; headers: Record<string, string | string[] | undefined>; body: Buffer; text: string }

/** `path` goes on the request line as given (node does not normalise it; the server's URL parsing does). */
export function fetchRaw(base: string, path: string, method = 'GET'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}/`, { method, path }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text: body.toString('utf8') });
      });
    });
    req.on('error', reject);
    req.end();
  });
}
