/**
 * /lifecycle/ over a real agent server (port 0) with hand-made records: every status code, HEAD, the
 * headers, escaping of a hostile instance name, and path traversal attempts sent as raw request targets.
 */
import { mkdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { lifecycleRoutes, type IndexEntry } from '../../../src/agent/flight/routes.js';
import { captureFileName, metaFileName } from '../../../src/agent/flight/record-meta.js';
import { startAgentServer, type RunningServer } from '../../../src/agent/server.js';
import { CAPTURE_FIXTURE, fetchRaw, scratchDataDir, writeRecord } from './support.js';

const RESTART = '20261206T183000.000Z-IRIS-restart';
const CRASH = '20261206T184500.250Z-evil-crash';
const HOSTILE_NAME = '<script>alert(1)</script>&"\'';

describe('/lifecycle/ on the agent server', () => {
  let dir: string;
  let outside: string;
  let server: RunningServer;
  beforeAll(async () => {
    dir = scratchDataDir();
    outside = scratchDataDir();
    writeRecord(dir, RESTART);
    writeRecord(dir, CRASH, {
      kind: 'crash', iris_instance: HOSTILE_NAME, started_at: '2026-12-06T18:45:00.250Z', signal: 'SIGKILL',
      command: undefined, notes: ['<b>not bold</b>'], ended_by: 'settled',
    });
    writeRecord(dir, 'garbage', {}, Buffer.from('this is not a lifecycle capture\n'));
    writeRecord(outside, 'secret');
    symlinkSync(join(outside, metaFileName('secret')), join(dir, metaFileName('secret')));
    symlinkSync(join(outside, captureFileName('secret')), join(dir, captureFileName('secret')));
    server = await startAgentServer({
      listen: { host: '127.0.0.1', port: 0 },
      registry: new Registry(),
      routes: lifecycleRoutes({ dataDir: dir, enabled: true }),
    });
  });
  afterAll(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
    rmSync(outside, { recursive: true, force: true });
  });

  test('index.json lists the records newest last, with relative view and capture URLs', async () => {
    const reply = await fetchRaw(server.url, '/lifecycle/index.json');
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toBe('application/json; charset=utf-8');
    const index = JSON.parse(reply.text) as { captures: IndexEntry[]; skipped: number; recording: boolean };
    // garbage has the restart's started_at: equal times are ordered by id.
    expect(index.captures.map((c) => c.id)).toEqual([RESTART, 'garbage', CRASH]);
    expect(index.skipped).toBe(1); // the symlinked record from outside
    const restart = index.captures.find((c) => c.id === RESTART)!;
    expect(restart).toMatchObject({ iris_instance: 'IRIS', kind: 'restart', duration_seconds: 2.561, ended_by: 'settled', partial: false, svg: `${RESTART}.svg`, capture: `${RESTART}.lifecycle.txt.gz` });
    expect(restart.critical_path!.summary).toMatch(/^critical path of iris restart IRIS: 2\.561 s/);
    expect(index.captures.find((c) => c.id === CRASH)).toMatchObject({ kind: 'crash', signal: 'SIGKILL' });
  });

  test('the HTML page lists them newest first, escaped, with links that resolve', async () => {
    const reply = await fetchRaw(server.url, '/lifecycle/');
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(reply.headers['content-security-policy']).toContain("default-src 'none'");
    expect(reply.text).not.toContain('<script>');
    expect(reply.text).not.toContain('<b>not bold');
    expect(reply.text).toContain('&#60;script&#62;alert(1)&#60;/script&#62;&#38;&#34;&#39;');
    expect(reply.text.indexOf(CRASH)).toBeLessThan(reply.text.indexOf(RESTART));
    expect(reply.text).toContain('(SIGKILL)');
    expect(reply.text).toContain(`href="${RESTART}.svg"`);
    expect(reply.text).toContain('critical path of iris restart IRIS: 2.561 s');
  });

  test('/lifecycle redirects to /lifecycle/', async () => {
    const reply = await fetchRaw(server.url, '/lifecycle');
    expect(reply.status).toBe(301);
    expect(reply.headers.location).toBe('/lifecycle/');
  });

  test('the capture is streamed as gzip, as an attachment, byte for byte', async () => {
    const reply = await fetchRaw(server.url, `/lifecycle/${RESTART}.lifecycle.txt.gz`);
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toBe('application/gzip');
    expect(reply.headers['content-disposition']).toBe(`attachment; filename="${RESTART}.lifecycle.txt.gz"`);
    expect(reply.body.equals(readFileSync(CAPTURE_FIXTURE))).toBe(true);
    expect(gunzipSync(reply.body).toString('utf8')).toMatch(/^# irisflame-lifecycle 2/);
  });

  test('the SVG is the lifecycle view, served again identical, HEAD with the same length', async () => {
    const first = await fetchRaw(server.url, `/lifecycle/${RESTART}.svg`);
    expect(first.status).toBe(200);
    expect(first.headers['content-type']).toBe('image/svg+xml; charset=utf-8');
    expect(first.headers['content-security-policy']).toContain("script-src 'unsafe-inline'");
    expect(first.text).toMatch(/^<\?xml|^<svg/);
    expect(first.text).toContain('restart of IRIS instance IRIS');
    expect(first.text).toContain('irisflameLifecycle');
    const [again, head] = await Promise.all([fetchRaw(server.url, `/lifecycle/${RESTART}.svg`), fetchRaw(server.url, `/lifecycle/${RESTART}.svg`, 'HEAD')]);
    expect(again.text).toBe(first.text);
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
    expect(Number(head.headers['content-length'])).toBe(first.body.length);
  });

  test('a capture that does not parse gets 500 and one line; the server keeps serving', async () => {
    const reply = await fetchRaw(server.url, '/lifecycle/garbage.svg');
    expect(reply.status).toBe(500);
    expect(reply.text).toMatch(/^cannot render garbage: [^\n]+\n$/);
    expect((await fetchRaw(server.url, '/lifecycle/index.json')).status).toBe(200);
  });

  test('HEAD of the index and the capture: headers, no body', async () => {
    for (const path of ['/lifecycle/index.json', '/lifecycle/', `/lifecycle/${RESTART}.lifecycle.txt.gz`]) {
      const reply = await fetchRaw(server.url, path, 'HEAD');
      expect(reply.status, path).toBe(200);
      expect(reply.body.length, path).toBe(0);
    }
  });

  test('unknown id 404, malformed 400, other suffixes 404, other methods 405', async () => {
    expect((await fetchRaw(server.url, '/lifecycle/20990101T000000.000Z-NOPE-start.svg')).status).toBe(404);
    expect((await fetchRaw(server.url, '/lifecycle/nope.lifecycle.txt.gz')).status).toBe(404);
    expect((await fetchRaw(server.url, `/lifecycle/${RESTART}.json`)).status).toBe(404);
    expect((await fetchRaw(server.url, '/lifecycle/.hidden.svg')).status).toBe(400);
    expect((await fetchRaw(server.url, '/lifecycle/a%20b.svg')).status).toBe(400);
    for (const method of ['POST', 'PUT', 'DELETE']) {
      const reply = await fetchRaw(server.url, `/lifecycle/${RESTART}.svg`, method);
      expect(reply.status, method).toBe(405);
      expect(reply.headers.allow).toBe('GET, HEAD');
    }
    expect((await fetchRaw(server.url, '/lifecycle/index.json', 'DELETE')).status).toBe(405);
  });

  test.each([
    ['/lifecycle/../../../../etc/passwd', 404],
    ['/lifecycle/%2e%2e/%2e%2e/etc/passwd', 404],
    ['/lifecycle/..%2F..%2Fetc%2Fpasswd.lifecycle.txt.gz', 400],
    ['/lifecycle/%2Fetc%2Fpasswd.svg', 400],
    ['/lifecycle//etc/passwd.svg', 400],
    ['/lifecycle/x%00.svg', 400],
    ['/lifecycle/secret.lifecycle.txt.gz', 404],
    ['/lifecycle/secret.svg', 404],
  ])('traversal %s gets %d and nothing from outside', async (path, status) => {
    const reply = await fetchRaw(server.url, path);
    expect(reply.status).toBe(status);
    expect(reply.text).not.toMatch(/root:x:0:0/);
    expect(reply.body.subarray(0, 2).equals(Buffer.from([0x1f, 0x8b]))).toBe(false);
  });
});

describe('/lifecycle/ with nothing to show', () => {
  test('an empty data dir and a recorder that is off say so', async () => {
    const dir = scratchDataDir();
    mkdirSync(join(dir, 'empty'));
    const server = await startAgentServer({ listen: { host: '127.0.0.1', port: 0 }, registry: new Registry(), routes: lifecycleRoutes({ dataDir: join(dir, 'empty'), enabled: false }) });
    try {
      const page = await fetchRaw(server.url, '/lifecycle/');
      expect(page.text).toContain('The flight recorder is off on this agent');
      expect(page.text).toContain('No records yet in');
      expect(page.text).not.toContain('<table>');
      const index = JSON.parse((await fetchRaw(server.url, '/lifecycle/index.json')).text);
      expect(index).toEqual({ recording: false, skipped: 0, captures: [] });
    } finally {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
