/**
 * The agent server's prefix routes (a route path ending in `/`): exact routes first, then the longest prefix;
 * the prefix itself matches, a path merely starting with its letters does not, /metrics stays /metrics.
 */
import { Registry } from 'prom-client';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { send, startAgentServer, type RunningServer } from '../../src/agent/server.js';
import { fetchRaw } from './flight/support.js';

let server: RunningServer;
beforeAll(async () => {
  const answer = (name: string) => ({ path: name, handle: (req: never, res: never, url: URL) => send(res, req, 200, 'text/plain', `${name} ${url.pathname}`) });
  server = await startAgentServer({
    listen: { host: '127.0.0.1', port: 0 },
    registry: new Registry(),
    routes: [answer('/a/'), answer('/a/b/'), answer('/a/exact')],
  });
});
afterAll(() => server.close());

test.each([
  ['/a/', '/a/ /a/'],
  ['/a/x/y', '/a/ /a/x/y'],
  ['/a/b/c', '/a/b/ /a/b/c'],
  ['/a/exact', '/a/exact /a/exact'],
  ['/a/exact/more', '/a/ /a/exact/more'],
])('%s goes to the right route', async (path, body) => {
  const reply = await fetchRaw(server.url, path);
  expect(reply.status).toBe(200);
  expect(reply.text).toBe(body);
});

test('a path that only starts with the prefix letters, or the prefix without its slash, is 404', async () => {
  expect((await fetchRaw(server.url, '/ab')).status).toBe(404);
  expect((await fetchRaw(server.url, '/a')).status).toBe(404);
  expect((await fetchRaw(server.url, '/metrics')).status).toBe(200);
});
