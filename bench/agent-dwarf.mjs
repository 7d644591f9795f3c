#!/usr/bin/env node
// What whole stacks cost the agent for programs built without frame pointers (issue 15: under 1% of a core
// at 19 Hz idle), side by side in one run, each over the same length of window:
//   - `irisflame agent --call-graph fp` (bpftrace walks frame pointers only: cut stacks, the baseline),
//   - `irisflame agent --call-graph auto` (the default: a second, whole-node perf, `-a --call-graph dwarf,8192 --control fd:0`
//     into `perf script --no-inline --comms IRIS-NAMES`, whose samples replace bpftrace's for the processes
//     whose executables lack frame pointers),
//   - whole-node `perf record -F 19 -a --call-graph dwarf,8192 | perf script --no-inline` alone (no agent, no
//     comm filter: the reference),
// first with an idle simulated IRIS instance built --no-frame-pointers, then with a busy `irisdb --deep`
// beside it (and, for the agent, an 8 s no-frame-pointer process started every 10 s: the churn that made the
// former per-process DWARF perf start again; the busy process's samples per CPU second show whether anything
// is lost or counted twice, `started` whether perf restarts).
// RSS: the largest sum over the window of the agent's process tree (node, bpftrace ×2, perf record, perf
// script), and of the DWARF perf record + perf script alone. CPU is also printed per member of the tree (the
// node process, bpftrace, perf record, perf script: utime + stime of those alive at both ends of the window).
// BENCH_AGENT_DWARF_PLAIN=0 leaves out the plain whole-node perf (repeats of the agents only).
// BENCH_AGENT_DWARF_WINDOWS=idle|busy runs that window only (a long idle run: BENCH_AGENT_DWARF_SECONDS=240).
// Whole stacks: the share of IRIS samples whose user stack reaches main/_start/a thread start, as
// `irisflame record`'s summary counts it (src/record/summary.ts, cutStacks).
//
//   node bench/agent-dwarf.mjs [--seconds 60]     (root, bpftrace, perf, gcc; npm run build first)
//   BENCH_ONLY=agent-dwarf npm run bench
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { Profile } from 'pprof-format';
import { CLOCK_TICKS, arg, statFields } from './proc-stat.mjs';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const { cutStacks } = await import(join(REPO, 'dist/record/summary.js'));
const FREQUENCY = 19;
const SETTLE_MS = 30_000;
const SLICE_MS = 20_000;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** utime + stime (+ reaped children's, with `reaped`) of a live process, seconds. */
function cpuSeconds(pid, reaped = false) {
  const fields = statFields(pid);
  if (fields === undefined) return 0;
  const own = Number(fields[11]) + Number(fields[12]);
  return (reaped ? own + Number(fields[13]) + Number(fields[14]) : own) / CLOCK_TICKS;
}

function rssMiB(pid) {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'latin1').split('\n').find((l) => l.startsWith('VmRSS:'));
    return Number(line.split(/\s+/)[1]) / 1024;
  } catch {
    return 0;
  }
}

/** A process and every descendant (the agent's bpftrace, perf record, perf script). */
function treeOf(pid) {
  const out = spawnSync('ps', ['-e', '-o', 'pid=,ppid='], { encoding: 'utf8' }).stdout;
  const children = new Map();
  for (const line of out.split('\n')) {
    const [child, parent] = line.trim().split(/\s+/).map(Number);
    if (!Number.isFinite(child)) continue;
    if (!children.has(parent)) children.set(parent, []);
    children.get(parent).push(child);
  }
  const tree = [];
  const walk = (p) => {
    tree.push(p);
    for (const c of children.get(p) ?? []) walk(c);
  };
  walk(pid);
  return tree;
}

/**
 * CPU of a tree over a window: the root's own and reaped children's time (perf processes the DWARF sampler
 * stopped are reaped by the agent), plus the live descendants' own time (their change over the window).
 */
function treeCpu(root) {
  let total = cpuSeconds(root, true);
  for (const pid of treeOf(root).slice(1)) total += cpuSeconds(pid);
  return total;
}

/** Which member of the agent's tree a process is: node (the agent itself), bpftrace, perf record, perf script. */
function memberOf(pid, root) {
  if (pid === root) return 'node';
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    const name = argv[0].split('/').pop();
    if (name === 'perf') return `perf ${argv[1]}`;
    return name;
  } catch {
    return 'gone';
  }
}

/** Own CPU seconds (utime + stime) of each live process of the tree, by pid, with its member name. */
function memberSnapshot(root) {
  const out = new Map();
  for (const pid of treeOf(root)) out.set(pid, { member: memberOf(pid, root), cpu: cpuSeconds(pid) });
  return out;
}

/** CPU per member over a window, from two snapshots (processes that came or went in it: `reaped/other`). */
function memberCpu(before, after) {
  const sums = {};
  for (const [pid, { member, cpu }] of after) sums[member] = (sums[member] ?? 0) + cpu - (before.get(pid)?.cpu ?? 0);
  return sums;
}

async function waitFor(what, check, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

async function metric(url, pattern) {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => pattern.test(l));
  return line === undefined ? undefined : Number(line.split(' ').pop());
}

async function startAgent(callGraph) {
  const child = spawn('node', [join(REPO, 'bin/irisflame'), 'agent', '--listen', '127.0.0.1:0', '--no-lifecycle', '--frequency', String(FREQUENCY), '--call-graph', callGraph], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const url = await waitFor('the agent to listen', () => /listening on (http:\/\/\S+)/.exec(stderr)?.[1]);
  await waitFor('the exec snooper', () => (stderr.includes('exec snooper attached') ? true : undefined));
  await waitFor('the sampler', async () => ((await metric(url, /^irisflame_tracer_up\{tracer="sampler"\}/)) === 1 ? true : undefined));
  if (callGraph !== 'fp') await waitFor('the DWARF sampler', async () => ((await metric(url, /^irisflame_profile_dwarf_processes /)) > 0 ? true : undefined));
  return { child, url, stderr: () => stderr };
}

/** Pids whose argv names `dir` (this bench's simulated IRIS install: its instance and its --deep runs). */
function pidsUnder(dir, into) {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(dir)) into.add(Number(entry));
    } catch {
      // gone
    }
  }
  return into;
}

/** Folded `comm;frame;…` keys of a gzipped pprof profile, for the processes in `pids`, kernel frames marked `_[k]` as perf's are. */
function foldedOfProfile(bytes, pids) {
  const profile = Profile.decode(gunzipSync(bytes));
  const strings = profile.stringTable.strings;
  const kernel = new Set(profile.mapping.filter((m) => strings[Number(m.filename)] === '[kernel.kallsyms]').map((m) => Number(m.id)));
  const locations = new Map(profile.location.map((l) => [Number(l.id), l]));
  const functions = new Map(profile.function.map((f) => [Number(f.id), f]));
  const stacks = new Map();
  for (const sample of profile.sample) {
    const comm = sample.label.find((label) => strings[Number(label.key)] === 'comm');
    const pid = sample.label.find((label) => strings[Number(label.key)] === 'pid');
    if (pid === undefined || !pids.has(Number(pid.num))) continue;
    const frames = sample.locationId.map((id) => {
      const location = locations.get(Number(id));
      const name = strings[Number(functions.get(Number(location.line[0].functionId)).name)];
      return kernel.has(Number(location.mappingId)) ? `${name}_[k]` : name;
    });
    const key = [comm === undefined ? '?' : strings[Number(comm.str)], ...frames.reverse()].join(';');
    stacks.set(key, (stacks.get(key) ?? 0) + Number(sample.value[0]));
  }
  return stacks;
}

/** Samples of the process `pid` in a profile (its `pid` label). */
function samplesOfPid(bytes, pid) {
  const profile = Profile.decode(gunzipSync(bytes));
  const strings = profile.stringTable.strings;
  let count = 0;
  for (const sample of profile.sample) {
    if (sample.label.some((label) => strings[Number(label.key)] === 'pid' && Number(label.num) === pid)) count += Number(sample.value[0]);
  }
  return count;
}

function wholeShare(stacks) {
  const cut = cutStacks(stacks);
  return { whole: cut.withUserStack === 0 ? NaN : 1 - cut.share, samples: cut.withUserStack };
}

/** perf record --call-graph dwarf or perf script --no-inline: the agent's DWARF sampler. */
function isDwarfPerf(pid) {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return argv[0] === 'perf' || argv[0].endsWith('/perf') ? argv.some((a) => a.startsWith('dwarf,') || a === '--no-inline') : false;
  } catch {
    return false;
  }
}

/** A no-frame-pointer `irisdb --deep MS`: comm irisdb, so the agent samples it as IRIS. */
function startDeep(installDir, ms) {
  return spawn(join(installDir, 'bin', 'irisdb'), ['--deep', String(ms)], { stdio: 'ignore' });
}

/** The agent over `seconds`: CPU, RSS of its tree, whole stacks, and the busy process's samples per CPU second. */
async function measureAgent(callGraph, seconds, installDir, busy) {
  const deep = busy ? startDeep(installDir, (seconds + 300) * 1000) : undefined;
  const agent = await startAgent(callGraph);
  const churn = [];
  try {
    // Past start-up (bpftrace's compile, the first scans, perf script's first seconds and first symbol loads,
    // whose samples arrive late: 0.1 s of perf script once, at the idle instance's first sample).
    await sleep(SETTLE_MS);
    const startsBefore = (await metric(agent.url, /^irisflame_profile_dwarf_sampler_starts_total /)) ?? 0;
    const cpuBefore = treeCpu(agent.child.pid);
    const membersBefore = memberSnapshot(agent.child.pid);
    const perfBefore = new Map(treeOf(agent.child.pid).filter(isDwarfPerf).map((pid) => [pid, cpuSeconds(pid)]));
    const deepBefore = deep === undefined ? 0 : cpuSeconds(deep.pid);
    const profileRequest = fetch(`${agent.url}/debug/pprof/profile?seconds=${seconds}`).then(async (r) => Buffer.from(await r.arrayBuffer()));
    const started = Date.now();
    let rss = 0;
    let perfRss = 0;
    const ours = new Set();
    // Busy: a new short no-frame-pointer process every 10 s, each a change of the DWARF sampler's processes.
    /** CPU % of each SLICE_MS of the window (a shared machine's one-off bursts show as one slice). */
    const slices = [];
    let sliceCpu = cpuBefore;
    while (Date.now() - started < seconds * 1000) {
      if (busy && Date.now() - started >= 10_000 * (churn.length + 1)) churn.push(startDeep(installDir, 8000));
      if (Date.now() - started >= SLICE_MS * (slices.length + 1)) {
        const now = treeCpu(agent.child.pid);
        slices.push((100 * (now - sliceCpu)) / (SLICE_MS / 1000));
        sliceCpu = now;
      }
      const tree = treeOf(agent.child.pid);
      rss = Math.max(rss, tree.reduce((sum, pid) => sum + rssMiB(pid), 0));
      perfRss = Math.max(perfRss, tree.filter(isDwarfPerf).reduce((sum, pid) => sum + rssMiB(pid), 0));
      pidsUnder(installDir, ours);
      await sleep(1000);
    }
    const cpu = treeCpu(agent.child.pid) - cpuBefore;
    // The last slice, ended with the window (the loop's sleep ends it just short of its turn).
    if (slices.length < Math.round((seconds * 1000) / SLICE_MS)) slices.push((100 * (cpu + cpuBefore - sliceCpu)) / ((Date.now() - started - SLICE_MS * slices.length) / 1000));
    const members = memberCpu(membersBefore, memberSnapshot(agent.child.pid));
    // The DWARF sampler's perf record + perf script (the live ones; those stopped in the window are in `cpu` only).
    let dwarfCpu = 0;
    for (const pid of treeOf(agent.child.pid).filter(isDwarfPerf)) dwarfCpu += cpuSeconds(pid) - (perfBefore.get(pid) ?? 0);
    const deepCpu = deep === undefined ? 0 : cpuSeconds(deep.pid) - deepBefore;
    const bytes = await profileRequest;
    const starts = ((await metric(agent.url, /^irisflame_profile_dwarf_sampler_starts_total /)) ?? 0) - startsBefore;
    const share = wholeShare(foldedOfProfile(bytes, ours));
    const perCpuSecond = deep === undefined ? undefined : samplesOfPid(bytes, deep.pid) / deepCpu;
    return { cpu, dwarfCpu, rss, perfRss, share, perCpuSecond, starts, members, slices };
  } finally {
    agent.child.kill('SIGTERM');
    deep?.kill('SIGKILL');
    for (const child of churn) child.kill('SIGKILL');
    await sleep(2500);
  }
}

/** Whole-node perf with DWARF stacks into perf script, over `seconds`: CPU, RSS, whole stacks. */
async function measureWholeNodePerf(seconds, installDir, busy, dir) {
  const deep = busy ? startDeep(installDir, (seconds + 60) * 1000) : undefined;
  const folded = join(dir, 'whole-node.folded');
  const pipeline = spawn('sh', ['-c', `perf record -q -F ${FREQUENCY} -a --call-graph dwarf,8192 --no-buffering --no-bpf-event -o - 2>/dev/null | perf script -i - -F +pid --no-inline 2>/dev/null | node "$0" collapse --pid --samples --format perf - > "$1"`, join(REPO, 'bin/irisflame'), folded], { stdio: 'ignore', detached: true });
  const exited = new Promise((resolve) => pipeline.on('exit', resolve));
  try {
    await sleep(3000);
    const perfPids = () => treeOf(pipeline.pid).filter((pid) => statFields(pid) !== undefined && readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'perf');
    const before = new Map(perfPids().map((pid) => [pid, cpuSeconds(pid)]));
    let rss = 0;
    const ours = new Set();
    const started = Date.now();
    while (Date.now() - started < seconds * 1000) {
      rss = Math.max(rss, perfPids().reduce((sum, pid) => sum + rssMiB(pid), 0));
      pidsUnder(installDir, ours);
      await sleep(1000);
    }
    let cpu = 0;
    for (const pid of perfPids()) cpu += cpuSeconds(pid) - (before.get(pid) ?? 0);
    const record = perfPids().find((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('perf\0record'));
    // perf script 6.1 reading a pipe sometimes dies on a record it cannot process: say so, keep what it gave.
    const diedEarly = record === undefined;
    if (!diedEarly) process.kill(record, 'SIGINT');
    await exited;
    const stacks = new Map();
    for (const line of readFileSync(folded, 'utf8').split('\n')) {
      const at = line.lastIndexOf(' ');
      // `comm-PID;frames… count`: this bench's processes only, comm without its pid as cutStacks reads it.
      const key = line.slice(0, at);
      const process = /^(.*?)-(\d+)(;|$)/.exec(key);
      if (at > 0 && process !== null && ours.has(Number(process[2]))) stacks.set(key.replace(/^(.*?)-\d+(?=;|$)/, '$1'), Number(line.slice(at + 1)));
    }
    return { cpu, rss, share: wholeShare(stacks), diedEarly };
  } finally {
    try {
      process.kill(-pipeline.pid, 'SIGKILL');
    } catch {
      // already gone
    }
    deep?.kill('SIGKILL');
    await sleep(1000);
  }
}

const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');
const pct = (cpu, seconds) => `${((100 * cpu) / seconds).toFixed(2)}% of a core`;
const whole = (share) => (Number.isNaN(share.whole) ? 'no samples of the simulated IRIS' : `${(100 * share.whole).toFixed(1)}% of ${share.samples} simulated IRIS samples whole`);

export async function runAgentDwarfBench() {
  if (process.getuid?.() !== 0) {
    console.log('agent-dwarf: skipped (needs root for bpftrace and perf)');
    return;
  }
  const seconds = Number(arg('seconds', process.env.BENCH_AGENT_DWARF_SECONDS ?? 60));
  const dir = mkdtempSync(join(tmpdir(), 'irisflame-bench-agent-dwarf-'));
  const installDir = execFileSync(join(REPO, 'examples/simulated-iris/install.sh'), ['--no-frame-pointers', join(dir, 'root')], { encoding: 'utf8' }).trim().split('\n').pop();
  const iris = join(installDir, 'bin/iris');
  const instance = `DWARF${process.pid}`;
  execFileSync(iris, ['start', instance], { stdio: 'ignore' });
  try {
    console.log(`simulated IRIS instance ${instance} built --no-frame-pointers running; ${seconds} s windows at ${FREQUENCY} Hz; 2 cores shared with other work (figures are of this machine, this run); ${new Date().toISOString()}, load average ${load()}`);
    // BENCH_AGENT_DWARF_WINDOWS=idle (or busy): that window only, e.g. a long idle run.
    const windows = process.env.BENCH_AGENT_DWARF_WINDOWS;
    for (const busy of windows === 'idle' ? [false] : windows === 'busy' ? [true] : [false, true]) {
      console.log(busy ? `busy: + irisdb --deep (one core), and an 8 s no-frame-pointer process every 10 s` : 'idle: the instance alone');
      for (const callGraph of ['fp', 'auto']) {
        const r = await measureAgent(callGraph, seconds, installDir, busy);
        const rate = r.perCpuSecond === undefined ? '' : `; the busy process: ${r.perCpuSecond.toFixed(1)} samples per CPU second (${FREQUENCY} expected)`;
        const starts = callGraph === 'fp' ? '' : ` (its DWARF sampler's perf ${r.dwarfCpu.toFixed(2)} s; started ${r.starts} times in the window)`;
        const perfRss = callGraph === 'fp' ? '' : `, of which the DWARF perf ${r.perfRss.toFixed(0)} MiB`;
        console.log(`  irisflame agent --call-graph ${callGraph.padEnd(4)}  CPU ${r.cpu.toFixed(2)} s = ${pct(r.cpu, seconds)}${starts}; RSS ${r.rss.toFixed(0)} MiB (agent + tools${perfRss}); ${whole(r.share)}${rate}; load average ${load()}`);
        console.log(`    by member (CPU s): ${Object.entries(r.members).map(([member, cpu]) => `${member} ${cpu.toFixed(2)}`).join(', ')}`);
        const sorted = [...r.slices].sort((a, b) => a - b);
        if (sorted.length > 0) console.log(`    by ${SLICE_MS / 1000} s slice (% of a core): ${r.slices.map((p) => p.toFixed(2)).join(', ')}; median ${sorted[Math.floor(sorted.length / 2)].toFixed(2)}`);
      }
      // BENCH_AGENT_DWARF_PLAIN=0: the agents only (repeats side by side, where the reference is known).
      if (process.env.BENCH_AGENT_DWARF_PLAIN === '0') continue;
      const p = await measureWholeNodePerf(seconds, installDir, busy, dir);
      console.log(`  perf -a --call-graph dwarf,8192 | perf script  CPU ${p.cpu.toFixed(2)} s = ${pct(p.cpu, seconds)} (perf alone, no agent); RSS ${p.rss.toFixed(0)} MiB; ${whole(p.share)}${p.diedEarly ? ' (the pipeline died before the end of the window: CPU and samples are of its life)' : ''}; load average ${load()}`);
    }
  } finally {
    spawnSync(iris, ['stop', instance], { stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await runAgentDwarfBench();
