/**
 * A real Prometheus (Debian's binary) for the agent's end-to-end tests: on 127.0.0.1 at a free port, with a
 * config the caller wrote (checked by promtool first), its own TSDB under `dir`, stopped by pid. Its last
 * stderr is attached to a failed wait, which is where a scrape error shows.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { isAlive, waitFor } from './support.js';

export interface LocalPrometheus {
  url: string;
  /** The one value of an instant query, or undefined when it has no result (yet). */
  query(promql: string): Promise<string | undefined>;
  /** Wait until `promql` reads `expected`; the error carries Prometheus's recent log. */
  soon(promql: string, expected: string, timeoutMs?: number): Promise<boolean>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

export async function startLocalPrometheus(config: string, dir: string): Promise<LocalPrometheus> {
  execFileSync('promtool', ['check', 'config', config], { stdio: 'pipe' });
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(
    'prometheus',
    [`--config.file=${config}`, `--storage.tsdb.path=${join(dir, 'tsdb')}`, `--web.listen-address=127.0.0.1:${port}`, '--storage.tsdb.retention.time=1h'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  child.stderr!.on('data', (chunk: Buffer) => (log = (log + chunk.toString('utf8')).slice(-4000)));
  const query = async (promql: string): Promise<string | undefined> => {
    const response = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(promql)}`).catch(() => undefined);
    if (response === undefined || !response.ok) return undefined;
    const body = (await response.json()) as { data: { result: { value: [number, string] }[] } };
    return body.data.result[0]?.value[1];
  };
  return {
    url,
    query,
    soon: (promql, expected, timeoutMs = 90_000) =>
      waitFor(`Prometheus: ${promql} == ${expected}`, async () => ((await query(promql)) === expected ? true : undefined), timeoutMs).catch((error) => {
        throw new Error(`${(error as Error).message}\n${log}`);
      }),
    async stop() {
      if (child.pid === undefined) return;
      child.kill('SIGTERM');
      await waitFor('Prometheus to exit', () => (!isAlive(child.pid!) ? true : undefined), 30_000).catch(() => child.kill('SIGKILL'));
    },
  };
}
