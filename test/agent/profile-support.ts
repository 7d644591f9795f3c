/**
 * What the profile tests share: simulated IRIS jobs that burn CPU under their routine's argv
 * (`irisdb -s… -cj -p13 START^MONITOR`, as real IRIS jobs are laid out), a loopback stand-in for
 * Pyroscope's /ingest, and polling without fixed sleeps.
 */
import { execa, type ResultPromise } from 'execa';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

/** A simulated IRIS job running `routine` for `ms` (simulated IRIS: examples/simulated-iris). */
export function startIrisJob(installDir: string, routine: string, ms: number): ResultPromise {
  // Raised priority (nice execs it, same pid): on a loaded machine it must still be on CPU in every window.
  return execa('nice', ['-n', '-10', join(installDir, 'bin', 'irisdb'), `-s${join(installDir, 'mgr')}/`, '-cj', '-p13', routine], {
    reject: false,
    env: { IRISSIM_MS: String(ms) },
  });
}

/** Poll `check` until it holds or `timeoutMs` passes (no fixed sleeps: the machine is loaded). */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 30_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

export interface Received {
  method: string;
  url: URL;
  contentType: string | undefined;
  body: Buffer;
}

/** A loopback stand-in for Pyroscope's /ingest: answers with `answer(n)` (n counts requests from 0), 'hold' never answers. */
export async function startReceiver(answer: (n: number) => number | 'hold' = () => 200) {
  const received: Received[] = [];
  const held: ServerResponse[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const n = received.length;
      received.push({ method: req.method ?? '', url: new URL(req.url ?? '/', 'http://127.0.0.1'), contentType: req.headers['content-type'], body: Buffer.concat(chunks) });
      const status = answer(n);
      if (status === 'hold') held.push(res);
      else res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const close = (): Promise<void> =>
    new Promise((resolve) => {
      for (const res of held) res.destroy();
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return { base, received, close };
}

