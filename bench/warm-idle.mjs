// What the agent's warm off-CPU tracer costs while nothing happens (issue 14, "Cost"), with the agent's own program
// (src/kernel/offcpu-tracer.ts warmTracerProgram's: exec snooper + off-CPU and file probes) and its own reading
// (WarmOffCpuStream into an OffCpuRing), three copies side by side over the same window, each in a node process
// of its own:
//
//   nothing   following no process: what the program costs with no IRIS up (the snooper's E/X lines included);
//   unarmed   following one idle simulated IRIS instance's processes, never armed: "while nothing happens";
//   armed     the same, armed every 200 ms as the flight recorder does while a record is under way: every blocked
//             interval printed, as the warm tracer did all the time before it kept them in the kernel.
//
// CPU = the bpftrace process's utime+stime (/proc/PID/stat) plus the node process's own (process.cpuUsage), over
// the window. The instance's processes are followed by pid, not by name: on a shared machine other work's
// IRIS-named processes exec and exit, and would arm the tracer (as they arm the agent's: bench/agent-lifecycle.mjs).
// Root, bpftrace and gcc needed.  node bench/warm-idle.mjs [SECONDS]   (npm run build first)
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const REPO = new URL('..', import.meta.url).pathname;
const MODES = ['nothing', 'unarmed', 'armed'];
const ARM_EVERY_MS = 200;

function cpuSecondsOf(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** One tracer (run as `node bench/warm-idle.mjs --child MODE SECONDS PIDS`): prints its figures as JSON. */
async function child(mode, seconds, pids) {
  const { offCpuProgram, READY_LINE } = await import(join(REPO, 'dist/kernel/offcpu-program.js'));
  const { warmTracerProgram, WarmOffCpuStream } = await import(join(REPO, 'dist/kernel/offcpu-tracer.js'));
  const { OffCpuRing } = await import(join(REPO, 'dist/kernel/offcpu-ring.js'));
  const { startBpftraceProgram } = await import(join(REPO, 'dist/kernel/bpftrace-process.js'));
  const { execSnooperProgram } = await import(join(REPO, 'dist/kernel/exec-events.js'));
  // The agent's env (buffer size, no user symbols); the program as the agent's but following these pids only.
  const { env } = warmTracerProgram([]);
  const program = offCpuProgram({
    offCpu: true,
    files: true,
    names: [],
    pids: mode === 'nothing' ? [] : pids,
    syncPid: process.pid,
    warm: true,
    withExecSnooper: execSnooperProgram(),
  });
  const stream = new WarmOffCpuStream(new OffCpuRing());
  let lines = 0;
  const started = await startBpftraceProgram(program, {
    label: `the warm tracer (${mode})`,
    env,
    readyLine: READY_LINE,
    onLine: (line) => {
      lines++;
      if (!line.startsWith('E\t') && !line.startsWith('X\t')) stream.onLine(line);
    },
  });
  if (started.unavailable !== undefined) throw new Error(started.unavailable);
  const arming = mode === 'armed' ? setInterval(() => stream.arm(), ARM_EVERY_MS) : undefined;
  await new Promise((resolve) => setTimeout(resolve, 3000)); // past its start
  const self = () => {
    const usage = process.cpuUsage();
    return (usage.user + usage.system) / 1e6;
  };
  const before = { bpftrace: cpuSecondsOf(started.running.pid), node: self(), lines, at: performance.now() };
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  const window = (performance.now() - before.at) / 1000;
  const result = {
    mode,
    bpftrace: (100 * (cpuSecondsOf(started.running.pid) - before.bpftrace)) / window,
    node: (100 * (self() - before.node)) / window,
    linesPerSecond: (lines - before.lines) / window,
    ringRecords: stream.ring.size.records,
  };
  clearInterval(arming);
  started.running.kill();
  console.log(JSON.stringify(result));
  process.exit(0);
}

export async function runWarmIdleBench(seconds = Number(process.env.BENCH_WARM_SECONDS ?? 40)) {
  if (process.getuid?.() !== 0) {
    console.log('warm-idle: skipped (needs root for bpftrace)');
    return;
  }
  const root = mkdtempSync(join(tmpdir(), 'irisflame-bench-warm-'));
  const iris = join(execFileSync(join(REPO, 'examples/simulated-iris/install.sh'), [root], { encoding: 'utf8' }).trim().split('\n').pop(), 'bin/iris');
  const name = `WARM${process.pid}`;
  const uptime = () => spawnSync('uptime', { encoding: 'utf8' }).stdout.trim().replace(/^.*load average/, 'load average');
  try {
    execFileSync(iris, ['start', name], { stdio: 'ignore' });
    const pids = readFileSync(join(root, 'data', name, 'mgr', 'irissim.pids'), 'utf8')
      .split('\n')
      .map((line) => Number(line.split(' ')[0]))
      .filter((pid) => pid > 0);
    const before = uptime();
    const results = await Promise.all(
      MODES.map(
        (mode) =>
          new Promise((resolve, reject) => {
            const run = spawn(process.execPath, [new URL(import.meta.url).pathname, '--child', mode, String(seconds), pids.join(',')], { stdio: ['ignore', 'pipe', 'inherit'] });
            let out = '';
            run.stdout.on('data', (chunk) => (out += chunk));
            run.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop())) : reject(new Error(`${mode}: exit ${code}`))));
          }),
      ),
    );
    console.log(`warm off-CPU tracer while nothing happens: ${seconds} s, one idle simulated IRIS instance (${pids.length} processes), three tracers at once`);
    const base = results.find((result) => result.mode === 'nothing');
    const total = (result) => result.bpftrace + result.node;
    for (const result of results) {
      const extra = result === base ? '' : `  +${(total(result) - total(base)).toFixed(2)} pp over following nothing (${(total(result) / total(base)).toFixed(2)}x)`;
      console.log(
        `  ${result.mode.padEnd(8)} bpftrace ${result.bpftrace.toFixed(2)}% + node ${result.node.toFixed(2)}% = ${total(result).toFixed(2)}% of a core; ` +
          `${result.linesPerSecond.toFixed(1)} lines/s${extra}`,
      );
    }
    console.log(`  before: ${before}; after: ${uptime()}`);
  } finally {
    spawnSync(iris, ['force', name], { stdio: 'ignore' });
    rmSync(root, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--child') await child(process.argv[3], Number(process.argv[4]), process.argv[5].split(',').map(Number));
else if (import.meta.url === `file://${process.argv[1]}`) await runWarmIdleBench(Number(process.argv[2] ?? process.env.BENCH_WARM_SECONDS ?? 40));
