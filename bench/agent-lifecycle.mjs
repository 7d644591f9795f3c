// What the flight recorder costs (issue 14, "Cost"): the agent with `--lifecycle` (the default) beside the
// agent with `--no-lifecycle`, both running at the same time over the same windows, so the shared machine's
// load hits both alike:
//
//   1. idle: (a) no simulated IRIS instance of the bench's running, (b) one idle simulated IRIS instance up;
//      % of one core, RSS, the ratio, and what each agent's start cost (CPU until it serves /metrics with
//      its tracers up); each in two windows back to back: the first from 2 s after both are up, which still
//      holds start-up work (the profile sampler's first symbol lookups, a DWARF perf starting), then the next,
//      settled; and where each agent's CPU went, by member (node, each bpftrace by its role, perf, exited ones);
//   2. recorded restarts: `iris restart NAME` of the simulated IRIS, `restarts` times at the simulation's
//      default IRISSIM_MS (250) and at 50 ms; per restart the command's wall time and CPU, the simulated
//      IRIS's CPU, and the CPU of both agents from the restart's start until the `--lifecycle` agent's record
//      is in /lifecycle/index.json, with the record's size.
//
// The agents' CPU is processTree's (process-tree.mjs): the agent's node process plus every descendant (its
// exec snooper and sampler bpftrace, the recording's perf, bpftrace and perf script, whatever it runs), exited
// ones included through cutime/cstime. Where a cgroup can be made, each agent also runs in its own, and the
// cgroup's counter is printed beside it as a check. Run by bench/agent.mjs (BENCH_AGENT_PARTS=lifecycle).
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { onBenchExit, metric, metricsText, sleep, startAgent, waitFor } from './agent-support.mjs';
import { cpuGroup, processTree, watchNewDescendants } from './process-tree.mjs';

const SETTLE_MS = 2000;
/** Idle windows are cut in slices this long, so that slices with a recording of other work's IRIS can be set apart. */
const SLICE_SECONDS = 5;
/** IRISSIM_MS of the restarts: undefined is the simulation's own default (250 ms of work per step). */
const WORK_MS = [undefined, 50];

function uptime() {
  return spawnSync('uptime', { encoding: 'utf8' }).stdout.trim().replace(/^.*load average/, 'load average');
}

function table(headers, rows) {
  const widths = headers.map((header, i) => Math.max(header.length, ...rows.map((row) => String(row[i]).length)));
  const line = (cells) => `  ${cells.map((cell, i) => (i === 0 ? String(cell).padEnd(widths[i]) : String(cell).padStart(widths[i]))).join('  ')}`;
  console.log(line(headers));
  for (const row of rows) console.log(line(row));
}

const f2 = (value) => (Number.isFinite(value) ? value.toFixed(2) : '-');
const f3 = (value) => (Number.isFinite(value) ? value.toFixed(3) : '-');

/** A cgroup for `what`, or undefined (the reason printed once). */
function group(suffix, notes) {
  const made = cpuGroup(`irisflame-bench-${process.pid}-${suffix}`);
  if (made.why !== undefined) {
    notes.add(`no cgroup (${made.why}): the cgroup columns are empty, the simulated IRIS's CPU is the command's alone`);
    return undefined;
  }
  onBenchExit(`cgroup ${suffix}`, () => made.remove());
  return made;
}

/** The agent pair: --no-lifecycle, then --lifecycle (started one after the other, so their start costs do not mix). */
async function startPair(dataDir, notes) {
  const modes = [
    { mode: '--no-lifecycle', args: ['--no-lifecycle'] },
    { mode: '--lifecycle', args: ['--data-dir', dataDir] },
  ];
  const agents = [];
  try {
    for (const { mode, args } of modes) {
      const cgroup = group(mode.replace(/^-+/, ''), notes);
      const agent = await startAgent({ args: ['--scan-interval', '10', ...args], wrap: cgroup?.wrap });
      agents.push({ ...agent, mode, cgroup });
      if (agent.down.length > 0) notes.add(`agent ${mode}: tracer(s) not up after 60 s: ${agent.down.join(', ')}`);
    }
  } catch (error) {
    await stopPair(agents);
    throw error;
  }
  return agents;
}

async function stopPair(agents) {
  await Promise.all(agents.map((agent) => agent.stop()));
  for (const agent of agents) agent.cgroup?.remove();
}

/** CPU seconds now: processTree's and the cgroup's. */
function cpuNow(agent) {
  const tree = processTree(agent.pid);
  if (tree === undefined) throw new Error(`agent ${agent.mode} exited:\n${agent.stderr().trim()}`);
  return { tree, group: agent.cgroup?.seconds() };
}

/** "bpftrace x2, perf" */
function describeMembers(comms) {
  const counts = new Map();
  for (const comm of comms) counts.set(comm, (counts.get(comm) ?? 0) + 1);
  return [...counts].map(([comm, count]) => (count > 1 ? `${comm} x${count}` : comm)).join(', ') || 'none';
}

/**
 * Both agents over the same `seconds`, in slices of SLICE_SECONDS. The machine is shared: other work's IRIS
 * (simulated or not) starting and stopping is recorded by the --lifecycle agent like any other. So besides the
 * whole window, the CPU of the quiet slices alone is summed: slices in which the --lifecycle agent had no
 * recording under way (irisflame_lifecycle_recordings 0 at both ends, no "recording" line in its log, no more perf
 * among its descendants than the --no-lifecycle agent's at either end: the profile sampler may run one in both). That is "while nothing happens"; both agents are summed over the same slices.
 */
/**
 * Two windows back to back: the first from SETTLE_MS after both agents are up, as this bench always measured,
 * which still holds their start-up (the profile sampler's first symbol lookups, a DWARF perf starting, V8
 * compiling; the --lifecycle agent is started last, so more of its start falls inside), then a second one of the
 * same length, settled: what an idle agent costs once started.
 */
async function idleWindows(scenario, agents, seconds, name) {
  await sleep(SETTLE_MS);
  const first = await idleWindow(`${scenario}, ${SETTLE_MS / 1000} s after start`, agents, seconds, name);
  const settled = await idleWindow(`${scenario}, settled (the next ${seconds} s)`, agents, seconds, name);
  return [...first, ...settled];
}

async function idleWindow(scenario, agents, seconds, name) {
  const [, recorder] = agents;
  const execs = async (agent) => metric(agent.url, /^irisflame_exec_events_total /);
  const snapshot = async () => {
    const cpu = agents.map(cpuNow);
    // A recording's perf: one more perf than the --no-lifecycle agent has (the profile sampler may run perf in both).
    const perfs = cpu.map((one) => one.tree.members.filter((member) => member.comm === 'perf').length);
    const busy = (await metric(recorder.url, /^irisflame_lifecycle_recordings[ {]/)) !== 0 || perfs[1] > perfs[0];
    return { cpu, busy, log: recorder.stderr().length, at: performance.now() };
  };
  const first = await snapshot();
  const execsBefore = await Promise.all(agents.map(execs));
  const logFrom = agents.map((agent) => agent.stderr().length);
  // Descendants that come and go within the window (a recording of someone else's IRIS on the machine).
  const seen = agents.map(() => new Set());
  const slices = Math.max(1, Math.round(seconds / SLICE_SECONDS));
  const quiet = { seconds: 0, slices: 0, cpu: agents.map(() => 0), byRole: agents.map(() => ({})) };
  let previous = first;
  for (let slice = 0; slice < slices; slice++) {
    await sleep((seconds * 1000) / slices);
    const current = await snapshot();
    current.cpu.forEach((cpu, i) => cpu.tree.members.slice(1).forEach((member) => seen[i].add(member.comm)));
    const recordingBegan = /flight recorder: recording /.test(recorder.stderr().slice(previous.log, current.log));
    if (!previous.busy && !current.busy && !recordingBegan) {
      quiet.seconds += (current.at - previous.at) / 1000;
      quiet.slices++;
      agents.forEach((_, i) => {
        quiet.cpu[i] += current.cpu[i].tree.cpu - previous.cpu[i].tree.cpu;
        addRoles(quiet.byRole[i], current.cpu[i].tree.byRole, previous.cpu[i].tree.byRole);
      });
    }
    previous = current;
  }
  const window = (previous.at - first.at) / 1000;
  return Promise.all(
    agents.map(async (agent, i) => {
      const before = first.cpu[i];
      const after = previous.cpu[i];
      const text = await metricsText(agent.url);
      const instances = text.split('\n').filter((l) => l.startsWith('iris_instance_status{')).length;
      const cpu = after.tree.cpu - before.tree.cpu;
      return {
        scenario,
        mode: agent.mode,
        cpu,
        percent: (100 * cpu) / window,
        quietPercent: quiet.seconds > 0 ? (100 * quiet.cpu[i]) / quiet.seconds : NaN,
        quietCpu: quiet.cpu[i],
        quiet: `${quiet.slices}/${slices}`,
        groupCpu: after.group - before.group,
        rss: after.tree.rss,
        treeRss: after.tree.treeRss,
        members: describeMembers(after.tree.members.slice(1).map((m) => m.comm)),
        comeAndGone: [...seen[i]].filter((comm) => !after.tree.members.some((m) => m.comm === comm)),
        execs: (await execs(agent)) - execsBefore[i],
        instances,
        others: agent.mode === '--lifecycle' ? otherRecordings(agent, logFrom[i], name) : '',
        start: agent.start,
        /** The window's start, seconds after the agent was spawned. */
        windowFrom: (first.at - agent.startedAt) / 1000,
        byRole: addRoles({}, after.tree.byRole, before.tree.byRole),
        quietByRole: quiet.byRole[i],
        windowSeconds: window,
        quietSeconds: quiet.seconds,
      };
    }),
  );
}

/** `into[role] += after[role] - before[role]` for every role (a member that exits moves to `exited descendants`). */
function addRoles(into, after, before) {
  for (const role of new Set([...Object.keys(after), ...Object.keys(before)])) into[role] = (into[role] ?? 0) + (after[role] ?? 0) - (before[role] ?? 0);
  return into;
}

/** Recordings the --lifecycle agent began in its log since `from` of instances other than `name` (other work's IRIS). */
function otherRecordings(agent, from, name) {
  const begun = [...agent.stderr().slice(from).matchAll(/flight recorder: recording \S+ of (\S+)/g)].map((match) => match[1]);
  return begun.filter((instance) => instance !== name).length;
}

/**
 * The agent's records of `name`; undefined when a request fails while the agent runs (a loaded machine: the caller
 * polls again), an error once the agent has exited (with how and its last words).
 */
async function records(agent, name) {
  try {
    const index = await (await fetch(`${agent.url}/lifecycle/index.json`, { signal: AbortSignal.timeout(30_000) })).json();
    return (Array.isArray(index) ? index : index.captures).filter((record) => record.iris_instance === name);
  } catch (error) {
    const { exitCode, signalCode } = agent.child;
    if (exitCode === null && signalCode === null) return undefined;
    throw new Error(`the ${agent.mode} agent exited (${signalCode ?? `status ${exitCode}`}): ${agent.stderr().trim().split('\n').slice(-5).join(' | ')}`);
  }
}

/**
 * One `iris restart NAME`, run as `/usr/bin/time -f '%e %U %S' iris restart NAME` inside the simulated IRIS's
 * cgroup: time gives the command's wall and the user + system CPU of the command and the descendants it waited
 * for (irisstop, irisrecov, QUIET^STU and its jobs); the cgroup gives every simulated IRIS process's CPU over
 * the command's run, the control process and daemons that outlive it (setsid, reparented to init) included.
 */
async function measuredRestart({ iris, name, workMs, agents, irisGroup, dir }) {
  const [, recorder] = agents;
  const recordsBefore = (await waitFor('the record index', () => records(recorder, name))).length;
  const logFrom = recorder.stderr().length;
  const before = agents.map(cpuNow);
  const breakdown = watchNewDescendants(recorder.pid);
  const irisBefore = irisGroup?.seconds();
  const timeFile = join(dir, 'restart.time');
  const env = { ...process.env };
  if (workMs === undefined) delete env.IRISSIM_MS;
  else env.IRISSIM_MS = String(workMs);
  const command = ['/usr/bin/time', ['-f', '%e %U %S', '-o', timeFile, iris, 'restart', name]];
  const [file, argv] = irisGroup === undefined ? command : irisGroup.wrap(...command);
  const began = performance.now();
  const status = await new Promise((resolve) => spawn(file, argv, { stdio: 'ignore', env }).on('exit', resolve));
  const commandWall = (performance.now() - began) / 1000;
  const irisCpu = irisGroup === undefined ? NaN : irisGroup.seconds() - irisBefore;
  if (status !== 0) throw new Error(`iris restart ${name} exited ${status}`);
  const [wall, user, system] = readFileSync(timeFile, 'utf8').trim().split('\n').pop().split(' ').map(Number);
  const record = await waitFor(
    `the flight recorder's record of restart ${name}`,
    async () => {
      const list = await records(recorder, name);
      if (list !== undefined && list.length > recordsBefore) return list.at(-1);
      // The recorder gave up on it (its log says why): reported in the table, the bench goes on.
      const failed = new RegExp(`flight recorder: \\S+ of ${name} not written: (.*)`).exec(recorder.stderr().slice(logFrom));
      return failed === null ? undefined : { notWritten: failed[1] };
    },
    180_000,
    200,
  ).catch((error) => {
    // A timeout is a result (a swamped recorder), reported in the row; an agent that exited ends the bench.
    if (!error.message.startsWith('timed out')) throw error;
    return { notWritten: `no record within 180 s (${recorder.stderr().slice(logFrom).split('\n').filter((l) => l.includes('not written') || l.includes('could not start')).length} failures of other records meanwhile)` };
  });
  const recordAfter = (performance.now() - began) / 1000;
  const after = agents.map(cpuNow);
  const spentBy = breakdown();
  const agentCpu = agents.map((_, i) => ({
    tree: after[i].tree.cpu - before[i].tree.cpu,
    self: after[i].tree.self - before[i].tree.self,
    group: after[i].group - before[i].group,
  }));
  const others = otherRecordings(recorder, logFrom, name);
  return { workMs, wall, commandWall, commandCpu: user + system, irisCpu, recordAfter, agentCpu, record, others, spentBy };
}

async function stopInstance(iris, name) {
  spawnSync(iris, ['stop', name], { stdio: 'ignore', timeout: 60_000 });
  spawnSync(iris, ['force', name], { stdio: 'ignore', timeout: 60_000 });
}

export async function runLifecycleCostBench({ iris, dir, seconds, restarts }) {
  const name = `LC${process.pid}`;
  const notes = new Set();
  const loads = [`before: ${uptime()}`];
  const idleRows = [];
  const restartRows = [];
  let agents = [];
  let failure;
  const irisGroup = group('iris', notes);
  const forgetInstance = onBenchExit(`iris ${name}`, () => spawnSync(iris, ['force', name], { stdio: 'ignore' }));
  console.log(
    `flight recorder cost: agent --lifecycle beside --no-lifecycle, both running at once, --frequency 19; ` +
      `${seconds} s idle windows; ${restarts} recorded restart(s) of simulated IRIS instance ${name} per IRISSIM_MS`,
  );
  try {
    agents = await startPair(join(dir, 'lifecycle-a'), notes);
    idleRows.push(...(await idleWindows('(a) no simulated IRIS of the bench', agents, seconds, name)));
    await stopPair(agents);
    agents = [];

    const start = irisGroup === undefined ? [iris, ['start', name]] : irisGroup.wrap(iris, ['start', name]);
    const started = spawnSync(start[0], start[1], { stdio: 'ignore', timeout: 120_000 });
    if (started.status !== 0) throw new Error(`iris start ${name} failed (${started.status ?? started.error?.message})`);
    agents = await startPair(join(dir, 'lifecycle-b'), notes);
    const up = new RegExp(`^iris_instance_status\\{[^}]*iris_instance="${name}"[^}]*\\} 1$`, 'm');
    for (const agent of agents) await waitFor(`agent ${agent.mode} to see ${name} up`, async () => (up.test(await metricsText(agent.url).catch(() => '')) ? true : undefined));
    idleRows.push(...(await idleWindows(`(b) 1 idle simulated IRIS instance`, agents, seconds, name)));

    for (const workMs of WORK_MS) {
      for (let round = 1; round <= restarts; round++) {
        const result = await measuredRestart({ iris, name, workMs, agents, irisGroup, dir });
        restartRows.push({ ...result, round });
        for (const agent of agents) await waitFor(`agent ${agent.mode} to see ${name} up`, async () => (up.test(await metricsText(agent.url).catch(() => '')) ? true : undefined));
        await sleep(SETTLE_MS); // the recording's processes gone, the next restart starts from idle
      }
    }
  } catch (error) {
    failure = error; // what was measured until then is still printed
  } finally {
    await stopPair(agents);
    await stopInstance(iris, name);
    forgetInstance();
    if (irisGroup !== undefined) {
      for (const pid of irisGroup.pids()) {
        try {
          process.kill(pid, 'SIGKILL'); // a simulated IRIS process `iris stop` left behind
        } catch {
          // exited meanwhile
        }
      }
      irisGroup.remove();
    }
    loads.push(`after: ${uptime()}`);
  }
  printIdle(idleRows);
  if (idleRows.length > 0) printRoles(idleRows);
  printRestarts(restartRows);
  for (const note of notes) console.log(`  note: ${note}`);
  console.log(`  ${loads.join('; ')}`);
  if (failure !== undefined) throw failure;
  return { idleRows, restartRows, loads };
}

function printIdle(rows) {
  if (rows.length === 0) return;
  console.log(
    '\n  idle, same window for both agents; CPU = agent + descendants (/proc), whole window and quiet slices only (no recording' +
      '\n  under way in the --lifecycle agent: other work\'s IRIS on this machine is recorded too); cgroup = the same from its cgroup counter',
  );
  const offBy = new Map(rows.filter((row) => row.mode === '--no-lifecycle').map((row) => [row.scenario, row]));
  table(
    ['scenario', 'agent', 'CPU s', '% core', 'on/off', 'quiet slices', 'quiet % core', 'quiet on/off', 'cgroup s', 'RSS MiB node/tree', 'descendants', 'execs', 'IRIS seen', 'other recordings', 'start: wall s', 'start: CPU s'],
    rows.map((row) => {
      const off = offBy.get(row.scenario);
      const ratio = row.mode === '--lifecycle' && off !== undefined && off.cpu > 0 ? `${(row.cpu / off.cpu).toFixed(2)}x` : '';
      const quietRatio = row.mode === '--lifecycle' && off !== undefined && off.quietCpu > 0 ? `${(row.quietCpu / off.quietCpu).toFixed(2)}x` : '';
      const extra = row.comeAndGone.length > 0 ? ` (+ came and went: ${row.comeAndGone.join(', ')})` : '';
      return [row.scenario, row.mode, f2(row.cpu), f2(row.percent), ratio, row.quiet, f2(row.quietPercent), quietRatio, f2(row.groupCpu), `${row.rss.toFixed(1)}/${row.treeRss.toFixed(1)}`, row.members + extra, row.execs, row.instances, row.others, f2(row.start.wall), f2(row.start.cpu)];
    }),
  );
}

/** Where each agent's idle CPU went, by member (process-tree.mjs memberRole), in % of a core. */
function printRoles(rows) {
  console.log('\n  where it went, % of a core by member over the whole window [quiet slices]; "window from" = seconds after that agent was started');
  const roles = [...new Set(rows.flatMap((row) => Object.keys(row.byRole)))].filter((role) => rows.some((row) => Math.abs(row.byRole[role] ?? 0) >= 0.005));
  table(
    ['scenario', 'agent', 'window from s', ...roles],
    rows.map((row) => [
      row.scenario,
      row.mode,
      row.windowFrom.toFixed(1),
      ...roles.map((role) => {
        const quiet = row.quietSeconds > 0 ? ` [${f2((100 * (row.quietByRole[role] ?? 0)) / row.quietSeconds)}]` : '';
        return `${f2((100 * (row.byRole[role] ?? 0)) / row.windowSeconds)}${quiet}`;
      }),
    ]),
  );
}

function printRestarts(rows) {
  if (rows.length === 0) return;
  console.log(
    '\n  recorded restarts of the simulated IRIS: restart = `iris restart` wall and CPU (command + the descendants it waited for,' +
      '\n  /usr/bin/time) and all simulated IRIS processes (cgroup) over the command; agents = CPU from the restart\'s start until the' +
      '\n  --lifecycle record is in /lifecycle/index.json (same window for both; cgroup figure after the slash)',
  );
  if (rows.some((row) => row.others > 0)) {
    console.log("  (*) the --lifecycle agent also recorded other work's IRIS during that window: its figure includes that recording");
  }
  table(
    ['IRISSIM_MS', '#', 'wall s', 'restart CPU s', 'IRIS CPU s', 'record after s', '--lifecycle CPU s', 'of it node', 'new descendants (>=)', '--no-lifecycle CPU s', 'recording adds s', 'adds / IRIS CPU', 'record KB', 'record s', 'ended by', 'other recordings'],
    rows.map((row) => {
      const [off, on] = row.agentCpu;
      const adds = on.tree - off.tree;
      const base = Number.isFinite(row.irisCpu) ? row.irisCpu : row.commandCpu;
      return [
        row.workMs ?? '250 (default)',
        row.round,
        f2(row.wall),
        f2(row.commandCpu),
        f2(row.irisCpu),
        f2(row.recordAfter),
        `${f2(on.tree)}/${f2(on.group)}`,
        f2(on.self),
        [...row.spentBy].sort((a, b) => b[1] - a[1]).map(([name, cpu]) => `${name} ${cpu.toFixed(2)}`).join(', ') || 'none',
        `${f2(off.tree)}/${f2(off.group)}`,
        f2(adds),
        base > 0 ? `${(adds / base).toFixed(2)}x` : '-',
        row.record.notWritten === undefined ? (row.record.capture_bytes / 1024).toFixed(0) : '-',
        row.record.notWritten === undefined ? f3(row.record.duration_seconds) : '-',
        row.record.notWritten === undefined ? row.record.ended_by : `NOT WRITTEN: ${row.record.notWritten}`,
        row.others > 0 ? `${row.others} (*)` : row.others,
      ];
    }),
  );
}
