/**
 * The continuous sampler names C++ frames as `record` does: demangled (`cxxwork::Burner::spin(long)`, not
 * `_ZN7cxxwork6Burner4spinEl`). A small C++ program compiled here burns CPU while bpftrace samples it; the
 * profile served at /debug/pprof/profile is decoded and its frames read. Skipped where bpftrace or g++ cannot run.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { execa, type ResultPromise } from 'execa';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { ContinuousSampler } from '../../src/agent/sampler.js';
import { pprofRoute } from '../../src/agent/pprof-route.js';
import { startAgentServer, type RunningServer } from '../../src/agent/server.js';
import { findExecutable } from '../../src/tools/executables.js';
import { reportSkip } from '../support/references.js';
import { bpftraceReason } from '../record/support.js';
import { decodeProfile, stacksOf } from '../support/pprof.js';
import { eventually } from './profile-support.js';

const SOURCE = `
#include <chrono>
#include <cstdlib>
namespace cxxwork {
struct Burner {
  volatile unsigned long sink = 0;
  __attribute__((noinline)) void spin(long ms) {
    auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (std::chrono::steady_clock::now() < end) for (int i = 0; i < 10000; i++) sink = sink * 31 + i;
  }
};
}
int main(int argc, char **argv) { cxxwork::Burner b; b.spin(argc > 1 ? std::atol(argv[1]) : 1000); return 0; }
`;

const skip = reportSkip('agent: C++ names', bpftraceReason() ?? (findExecutable('g++') === undefined ? 'g++ is not installed' : undefined));
const dir = mkdtempSync(join(tmpdir(), 'irisflame-agent-cxx-'));
let burner: ResultPromise | undefined;
let sampler: ContinuousSampler | undefined;
let server: RunningServer | undefined;

describe.skipIf(skip)('agent: C++ frames are demangled', () => {
  beforeAll(async () => {
    writeFileSync(join(dir, 'cxxburn.cc'), SOURCE);
    execFileSync('g++', ['-O1', '-fno-omit-frame-pointer', '-o', join(dir, 'cxxburn'), join(dir, 'cxxburn.cc')]);
    burner = execa(join(dir, 'cxxburn'), ['170000'], { reject: false });
    sampler = new ContinuousSampler({ frequency: 19, backend: 'bpftrace', all: true });
    await sampler.start();
    server = await startAgentServer({ listen: { host: '127.0.0.1', port: 0 }, registry: new Registry(), routes: [pprofRoute(sampler)] });
    await eventually(() => sampler!.ring.size > 0, 60_000, 'the first sampling interval');
  }, 120_000);

  afterAll(async () => {
    await server?.close();
    await sampler?.stop();
    burner?.kill('SIGKILL');
    await burner?.catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  test('the profile shows cxxwork::Burner::spin(long), never its mangled name', async () => {
    let frames: string[] = [];
    await eventually(
      async () => {
        const response = await fetch(`${server!.url}/debug/pprof/profile?seconds=2`);
        const profile = decodeProfile(Buffer.from(await response.arrayBuffer()));
        frames = stacksOf(profile).flatMap((stack) => stack.frames);
        return frames.some((frame) => frame.includes('Burner'));
      },
      90_000,
      'a sample of the C++ program',
    );
    expect(frames).toContain('cxxwork::Burner::spin(long)');
    expect(frames.filter((frame) => frame.startsWith('_ZN7cxxwork'))).toEqual([]);
  }, 120_000);
});
