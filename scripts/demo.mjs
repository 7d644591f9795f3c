#!/usr/bin/env node
// `npm run demo`: the main job, end to end. Where perf can sample this machine (root, perf installed),
// record the whole system for 5 seconds; elsewhere render the bundled real capture (a simulated IRIS
// restart recorded with perf on a development machine). Either way, print where the SVG is.
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { resolve } from 'node:path';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = resolve(root, 'bin/irisflame');
const bundled = resolve(root, 'fixtures/demo/simulated-iris-restart.perf.gz');

function perfCanSample() {
  try {
    execFileSync('perf', ['record', '-F', '99', '-a', '-g', '-o', '/dev/null', '--', 'true'], { stdio: 'ignore', timeout: 20_000 });
    return true;
  } catch {
    return false;
  }
}

let args;
let out;
if (perfCanSample()) {
  out = resolve(process.cwd(), 'irisflame-demo.svg');
  console.error('demo: perf works here: recording the whole system for 5 seconds');
  args = ['record', '--seconds', '5', '-o', out];
} else {
  out = resolve(process.cwd(), 'irisflame-demo-simulated-iris.svg');
  console.error('demo: perf cannot sample here (not root, or not installed): rendering the bundled capture');
  args = ['flamegraph', bundled, '--title', 'simulated IRIS restart (bundled perf capture)', '-o', out];
}
const result = spawnSync(process.execPath, [bin, ...args], { stdio: 'inherit' });
if (result.status !== 0) process.exit(result.status ?? 1);
console.error(`demo: open ${pathToFileURL(out).href} in a browser`);
