#!/usr/bin/env node
// What the node agent costs (issue 9 targets: under 1% of one core at 19 Hz, 3% at 99 Hz; RSS under 120 MB
// and flat): CPU seconds of `irisflame agent` plus its bpftrace over a window with the simulated IRIS running,
// at --frequency 19 and 99, and its RSS after 10,000 and 20,000 exec events; beside it, `perf record -F 19
// -a -g` for the same window plus the `perf script` that turns it into text.
//
//   node bench/agent.mjs [--seconds 60]     (root, bpftrace, gcc; npm run build first)
//   BENCH_ONLY=agent npm run bench
//
// The runs include the profile sampler; the table says whether irisflame_tracer_up{tracer="sampler"} was 1
// (without it they measure the status part alone: exec snooper, /proc scans, metrics). CPU is the agent's node
// process and all its descendants, exited ones included (process-tree.mjs).
//
// First, the flight recorder's cost (agent-lifecycle.mjs): --lifecycle beside --no-lifecycle, idle with and
// without a simulated IRIS instance, and during recorded `iris restart`s. BENCH_AGENT_PARTS=lifecycle,frequency
// picks parts; BENCH_AGENT_SECONDS (or --seconds) sets every window, BENCH_AGENT_RESTARTS (--restarts, 3) the
// restarts per IRISSIM_MS. A quick run: BENCH_AGENT_SECONDS=10 BENCH_AGENT_RESTARTS=1 node bench/agent.mjs
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO, metric, onBenchExit, sleep, startAgent, waitFor } from './agent-support.mjs';
import { processTree } from './process-tree.mjs';
import { runLifecycleCostBench } from './agent-lifecycle.mjs';
import { CLOCK_TICKS, arg, statFields } from './proc-stat.mjs';

const STORM = 10_000;

/** utime + stime of a live process, seconds. */
function cpuSeconds(pid) {
  const fields = statFields(pid);
  return fields === undefined ? 0 : (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/** CPU of this process's reaped children, seconds (perf record and perf script run as such). */
function reapedChildrenCpu() {
  const fields = statFields('self');
  return (Number(fields[13]) + Number(fields[14])) / CLOCK_TICKS;
}

function rssMiB(pid) {
  const line = readFileSync(`/proc/${pid}/status`, 'latin1').split('\n').find((l) => l.startsWith('VmRSS:'));
  return Number(line.split(/\s+/)[1]) / 1024;
}

/** Asynchronous, so that a Ctrl-C during a storm (minutes on a loaded machine) still cleans up at once. */
function storm() {
  return new Promise((resolve, reject) => {
    const shell = spawn('/bin/sh', ['-c', `i=0; while [ $i -lt ${STORM} ]; do /bin/true; i=$((i+1)); done`], { stdio: 'ignore' });
    const forget = onBenchExit(`storm ${shell.pid}`, () => shell.kill('SIGKILL'));
    shell.on('exit', (code) => {
      forget();
      if (code === 0) resolve();
      else reject(new Error(`exec storm exited ${code}`));
    });
  });
}

/** The agent's CPU over `seconds` of steady state: its node process and every descendant (processTree). */
async function measureAgent(frequency, seconds, dir) {
  // The agent as deployed (flight recorder on: its `iris start`/`force` rounds below leave records, kept in the
  // bench's temp dir); runLifecycleCostBench sets it beside --no-lifecycle.
  const agent = await startAgent({ frequency, args: ['--data-dir', join(dir, `lifecycle-${frequency}`)] });
  try {
    await sleep(2000); // let start-up (bpftrace's compile, the first scan) settle
    const before = processTree(agent.pid);
    const nodeBefore = cpuSeconds(agent.pid);
    const windowExecsBefore = await metric(agent.url, /^irisflame_exec_events_total /);
    await sleep(seconds * 1000);
    const windowExecs = (await metric(agent.url, /^irisflame_exec_events_total /)) - windowExecsBefore;
    const cpu = processTree(agent.pid).cpu - before.cpu;
    const sampler = (await metric(agent.url, /^irisflame_tracer_up\{tracer="sampler"\}/)) === 1;
    const agentOnly = cpuSeconds(agent.pid) - nodeBefore;
    // RSS: before, after one storm of 10,000 execs, after a second (flat = no growth per event).
    const rss = [rssMiB(agent.child.pid)];
    const execsBefore = await metric(agent.url, /^irisflame_exec_events_total /);
    await storm();
    await sleep(3000);
    rss.push(rssMiB(agent.child.pid));
    await storm();
    await sleep(3000);
    rss.push(rssMiB(agent.child.pid));
    const execs = (await metric(agent.url, /^irisflame_exec_events_total /)) - execsBefore;
    const lost = await metric(agent.url, /^irisflame_events_lost_total /);
    const latency = await statusLatency(agent.url);
    return { cpu, agentOnly, sampler, rss, execs, lost, windowExecs, latency };
  } finally {
    await agent.stop();
  }
}

/**
 * How soon a scrape shows 0 after an instance crashes (issue 9: within 1 s): from the moment `iris force`
 * is started (it kills the control process first) to the first scrape, polled every 20 ms, that reads 0.
 * An upper bound: it includes forking `iris force` itself. Three crashes; the slowest is reported.
 */
async function statusLatency(url) {
  const name = `LAT${process.pid}`;
  const pattern = new RegExp(`^iris_instance_status\\{[^}]*iris_instance="${name}"[^}]*\\} `);
  let slowest = 0;
  for (let round = 0; round < 3; round++) {
    execFileSync(benchIris, ['start', name], { stdio: 'ignore' });
    await waitFor('status 1', async () => ((await metric(url, pattern)) === 1 ? true : undefined));
    const started = performance.now();
    const force = new Promise((resolve) => spawn(benchIris, ['force', name], { stdio: 'ignore' }).on('exit', resolve));
    await waitFor('status 0', async () => ((await metric(url, pattern)) === 0 ? true : undefined), 30_000);
    slowest = Math.max(slowest, performance.now() - started);
    await force;
  }
  return slowest;
}

/** The simulated IRIS's `iris` (set by runAgentBench). */
let benchIris = '';

function measurePerf(seconds, dir) {
  const data = join(dir, 'perf.data');
  const start = reapedChildrenCpu();
  spawnSync('perf', ['record', '-q', '-F', '19', '-a', '-g', '-o', data, '--', 'sleep', String(seconds)], { stdio: 'ignore' });
  const record = reapedChildrenCpu() - start;
  const scriptStart = reapedChildrenCpu();
  const script = spawnSync('sh', ['-c', `perf script -i "$0" > /dev/null`, data], { stdio: 'ignore' });
  const scriptCpu = reapedChildrenCpu() - scriptStart;
  return { record, script: scriptCpu, ok: script.status === 0 };
}

export async function runAgentBench() {
  if (process.getuid?.() !== 0) {
    console.log('agent: skipped (needs root for bpftrace)');
    return;
  }
  const seconds = Number(arg('seconds', process.env.BENCH_AGENT_SECONDS ?? 60));
  const parts = (process.env.BENCH_AGENT_PARTS ?? 'lifecycle,frequency').split(',').map((part) => part.trim());
  const dir = mkdtempSync(join(tmpdir(), 'irisflame-bench-agent-'));
  const forgetDir = onBenchExit(`dir ${dir}`, () => rmSync(dir, { recursive: true, force: true }));
  const iris = join(execFileSync(join(REPO, 'examples/simulated-iris/install.sh'), [join(dir, 'root')], { encoding: 'utf8' }).trim(), 'bin/iris');
  benchIris = iris;
  try {
    if (parts.includes('lifecycle')) {
      const restarts = Number(arg('restarts', process.env.BENCH_AGENT_RESTARTS ?? 3));
      await runLifecycleCostBench({ iris, dir, seconds, restarts });
    }
    if (parts.includes('frequency')) await runFrequencyBench(iris, dir, seconds);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    forgetDir();
  }
}

/** Issue 9's figures: the agent at 19 and 99 Hz with an idle simulated IRIS instance, beside perf record. */
async function runFrequencyBench(iris, dir, seconds) {
  const instance = `BENCH${process.pid}`;
  const forget = onBenchExit(`iris ${instance}`, () => spawnSync(iris, ['force', instance], { stdio: 'ignore' }));
  execFileSync(iris, ['start', instance], { stdio: 'ignore' });
  try {
    console.log(`\nsimulated IRIS instance ${instance} running; ${seconds} s windows; 2 cores shared with other work (figures are of this machine, this run)`);
    for (const frequency of [19, 99]) {
      const result = await measureAgent(frequency, seconds, dir);
      const percent = (100 * result.cpu) / seconds;
      console.log(
        `irisflame agent --frequency ${frequency} (${result.sampler ? 'status + sampler' : 'status only: sampler not wired'})  ` +
          `CPU ${result.cpu.toFixed(2)} s = ${percent.toFixed(2)}% of a core (node ${result.agentOnly.toFixed(2)} s; ${result.windowExecs} execs on the node meanwhile); ` +
          `RSS ${result.rss.map((v) => v.toFixed(1)).join(' -> ')} MiB over ${result.execs} exec events (${result.lost} lost); ` +
          `crash to status 0 in a scrape: at most ${result.latency.toFixed(0)} ms (3 crashes)`,
      );
    }
    const perf = measurePerf(seconds, dir);
    const perfTotal = perf.record + perf.script;
    console.log(
      `perf record -F 19 -a -g + perf script, same window: CPU ${perfTotal.toFixed(2)} s = ${((100 * perfTotal) / seconds).toFixed(2)}% of a core ` +
        `(record ${perf.record.toFixed(2)} s, script ${perf.script.toFixed(2)} s${perf.ok ? '' : ', perf script failed'})`,
    );
  } finally {
    spawnSync(iris, ['stop', instance], { stdio: 'ignore' });
    forget();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await runAgentBench();
