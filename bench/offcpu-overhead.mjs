#!/usr/bin/env node
// What the off-CPU tracer costs the thing it measures: the simulated IRIS restart (examples/simulated-iris,
// not IRIS), untraced, under `record --lifecycle --no-off-cpu --no-files` (perf + exec snooper) and under
// `record --lifecycle` (perf + the off-CPU tracer carrying the snooper), ROUNDS rounds, modes interleaved so
// load drifts hit each alike. Root, perf, bpftrace, gcc and GNU time (/usr/bin/time) needed.
//
//   node bench/offcpu-overhead.mjs [ROUNDS]        (npm run build first)
//
// Per run: the restart's involuntary and voluntary context switches and CPU (getrusage of the command and
// every descendant it waited for, via /usr/bin/time), its wall time; the whole recording's CPU minus the
// restart's (perf, bpftrace, node, perf script); the capture's size and its off-CPU lines; lost events.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

const repo = new URL('..', import.meta.url).pathname;
const irisflame = join(repo, 'bin/irisflame');
const rounds = Number(process.argv[2] ?? 3);
const root = mkdtempSync(join(tmpdir(), 'irisflame-offcpu-bench-'));
const install = execFileSync(join(repo, 'examples/simulated-iris/install.sh'), [root], { encoding: 'utf8' }).trim().split('\n').pop();
const iris = join(install, 'bin/iris');
const TIME_FORMAT = '%c %w %U %S %e';

function timed(outFile, command) {
  return ['/usr/bin/time', '-f', TIME_FORMAT, '-o', outFile, ...command];
}
function readTime(file) {
  const [involuntary, voluntary, user, system, wall] = readFileSync(file, 'utf8').trim().split('\n').pop().split(' ').map(Number);
  return { involuntary, voluntary, cpu: user + system, wall };
}
function stopInstance() {
  try {
    execFileSync(iris, ['stop', 'IRIS'], { stdio: 'ignore' });
  } catch {
    // already down
  }
}

const modes = {
  untraced: (n) => ({ command: timed(join(root, `inner-${n}`), [iris, 'restart', 'IRIS']) }),
  'perf + snooper': (n) => ({
    capture: join(root, `snoop-${n}.lifecycle.txt.gz`),
    command: timed(join(root, `outer-${n}`), [
      'node', irisflame, 'record', '--lifecycle', '--no-progress', '--no-off-cpu', '--no-files', '-o', join(root, `snoop-${n}.svg`), '--',
      ...timed(join(root, `inner-${n}`), [iris, 'restart', 'IRIS']),
    ]),
  }),
  'perf + off-CPU tracer': (n) => ({
    capture: join(root, `traced-${n}.lifecycle.txt.gz`),
    command: timed(join(root, `outer-${n}`), [
      'node', irisflame, 'record', '--lifecycle', '--no-progress', '-o', join(root, `traced-${n}.svg`), '--',
      ...timed(join(root, `inner-${n}`), [iris, 'restart', 'IRIS']),
    ]),
  }),
};

const results = Object.fromEntries(Object.keys(modes).map((mode) => [mode, []]));
let run = 0;
try {
  for (let round = 0; round < rounds; round++) {
    for (const [mode, make] of Object.entries(modes)) {
      const n = run++;
      const { command, capture } = make(n);
      stopInstance();
      execFileSync(command[0], command.slice(1), { stdio: 'ignore' });
      stopInstance();
      const inner = readTime(join(root, `inner-${n}`));
      const row = { ...inner, recorderCpu: undefined, captureBytes: undefined, offCpuBytes: undefined, offCpuLines: undefined, lost: undefined };
      if (capture !== undefined) {
        row.recorderCpu = readTime(join(root, `outer-${n}`)).cpu - inner.cpu;
        row.captureBytes = statSync(capture).size;
        const text = gunzipSync(readFileSync(capture)).toString('utf8');
        const offCpu = text.split('\n').filter((line) => line.startsWith('# irisflame-offcpu '));
        row.offCpuLines = offCpu.length;
        row.offCpuBytes = offCpu.reduce((sum, line) => sum + line.length + 1, 0);
        row.lost = offCpu.filter((line) => line.startsWith('# irisflame-offcpu L\t')).reduce((sum, line) => sum + Number(line.split('\t')[1]), 0);
      }
      results[mode].push(row);
      process.stderr.write(`${mode} #${round + 1}: ${JSON.stringify(row)}\n`);
    }
  }
} finally {
  stopInstance();
  rmSync(root, { recursive: true, force: true });
}

const cell = (values, format) => (values.every((value) => value === undefined) ? '–' : values.map(format).join(' / '));
const ms = (seconds) => `${Math.round(seconds * 1000)}`;
console.log(`| simulated IRIS restart, ${rounds} runs each | involuntary cs | voluntary cs | restart CPU ms | restart wall ms | recorder CPU ms (minus restart) | capture gz bytes | off-CPU lines (bytes) | lost |`);
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const [mode, rows] of Object.entries(results)) {
  const pick = (key) => rows.map((row) => row[key]);
  console.log(
    `| ${mode} | ${cell(pick('involuntary'), String)} | ${cell(pick('voluntary'), String)} | ${cell(pick('cpu'), ms)} | ${cell(pick('wall'), ms)} | ` +
      `${cell(pick('recorderCpu'), ms)} | ${cell(pick('captureBytes'), (value) => `${Math.round(value / 1000)}k`)} | ` +
      `${cell(rows.map((row) => (row.offCpuLines === undefined ? undefined : `${row.offCpuLines} (${Math.round(row.offCpuBytes / 1000)}k)`)), String)} | ` +
      `${cell(pick('lost'), String)} |`,
  );
}
