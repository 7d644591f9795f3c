#!/usr/bin/env node
// Collapse speed and memory, side by side in one run: cat (the floor), stackcollapse-perf.pl,
// inferno-collapse-perf --nthreads 1, and irisflame (the library through a tiny driver, and the CLI).
//
// The input is a real `perf script` capture of this machine, replicated to BENCH_COLLAPSE_MB (default 200)
// megabytes. The capture is recorded once (perf record -F 999 -a -g over a mixed gzip/perl/node/gcc
// workload) and cached under bench/.cache/ with the built input; without perf, the committed fixtures are
// replicated instead. BENCH_COLLAPSE_1GB=1 adds the memory check: irisflame over 1 GB under Node's default
// heap, peak RSS under 300 MB.
//
//   node bench/collapse.mjs              (after npm run build)
//   node bench/collapse.mjs --drive FILE (internal: the irisflame driver the bench times)
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const CACHE = join(REPO, 'bench', '.cache');
const DIST = join(REPO, 'dist');
const SHARED_REFERENCE = join(REPO, '..', 'shared', 'reference');
const PERL_COLLAPSER = join(process.env.FLAMEGRAPH_PL_DIR ?? join(SHARED_REFERENCE, 'flamegraph-pl'), 'stackcollapse-perf.pl');
const INFERNO_COLLAPSER = join(process.env.INFERNO_BIN_DIR ?? join(SHARED_REFERENCE, 'inferno'), 'inferno-collapse-perf');
const IRISFLAME_BIN = join(REPO, 'bin', 'irisflame');
const GNU_TIME = '/usr/bin/time';
/** The driver's read size: the CLI's (src/collapse/input.ts READ_CHUNK_BYTES). */
const READ_CHUNK_BYTES = 1 << 20;

const MB = 1e6;
/** The brief's floor for a meaningful comparison: big enough that start-up costs vanish. */
const TARGET_MB = Number(process.env.BENCH_COLLAPSE_MB ?? 200);
const MEMORY_CHECK_MB = 1000;
const MEMORY_LIMIT_MB = 300;
/** How long the capture runs: at -F 999 on 2 busy CPUs, 25 s gives ~50k samples, ~100 MB of text. */
const CAPTURE_SECONDS = 25;

if (process.argv[2] === '--drive') {
  await drive(process.argv[3]);
} else if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await runCollapseBench();
}

/** Runs every measurement and prints the table; `bench/run.mjs` calls this. */
export async function runCollapseBench() {
  if (!existsSync(join(DIST, 'collapse', 'perf.js'))) throw new Error('dist/ is missing: run npm run build first');
  const input = buildInput(TARGET_MB);
  const sizeMb = statSync(input).size / MB;
  console.log(`collapse: ${input} (${sizeMb.toFixed(0)} MB of perf script output)`);
  const contenders = [
    { name: 'cat (floor)', command: 'cat', args: [input] },
    existsSync(PERL_COLLAPSER) && { name: 'stackcollapse-perf.pl', command: 'perl', args: [PERL_COLLAPSER, input] },
    existsSync(INFERNO_COLLAPSER) && { name: 'inferno --nthreads 1', command: INFERNO_COLLAPSER, args: ['--nthreads', '1', input] },
    { name: 'irisflame (library)', command: process.execPath, args: [fileURLToPath(import.meta.url), '--drive', input] },
    existsSync(IRISFLAME_BIN) && { name: 'irisflame collapse (CLI)', command: process.execPath, args: [IRISFLAME_BIN, 'collapse', input] },
  ].filter(Boolean);
  const rows = [];
  for (const contender of contenders) {
    const run = await measure(contender.command, contender.args);
    rows.push({ ...contender, ...run, sizeMb, mbPerSecond: sizeMb / run.seconds });
    console.log(`  ${contender.name}: ${run.seconds.toFixed(2)} s${run.exitCode === 0 ? '' : ` (exit ${run.exitCode})`}`);
  }
  printTable(rows);
  if (process.env.BENCH_COLLAPSE_1GB === '1') await memoryCheck();
  else console.log('  (1 GB memory check skipped: set BENCH_COLLAPSE_1GB=1)');
  return rows;
}

/**
 * Wall time is what a user waits; CPU time (user + system) is steadier on a shared host, where wall time
 * mostly measures the neighbours. Ratios are given for both.
 */
function printTable(rows) {
  const perl = rows.find((row) => row.name.startsWith('stackcollapse'));
  const inferno = rows.find((row) => row.name.startsWith('inferno'));
  const ratio = (row, base, field) => (base && row[field] && base[field] ? `${(base[field] / row[field]).toFixed(2)}x` : '-');
  console.log('\n  tool                      wall s   MB/s  vs Perl  vs inferno |  CPU s  MB/s  vs Perl  vs inferno | peak RSS');
  for (const row of rows) {
    const rss = row.peakRssKb === undefined ? '?' : `${(row.peakRssKb / 1024).toFixed(0)} MB`;
    const cpu = row.cpuSeconds === undefined ? '?' : row.cpuSeconds.toFixed(2);
    const cpuRate = row.cpuSeconds ? (row.sizeMb / Math.max(row.cpuSeconds, 0.01)).toFixed(0) : '?';
    console.log(
      `  ${row.name.padEnd(25)} ${row.seconds.toFixed(2).padStart(6)} ${row.mbPerSecond.toFixed(0).padStart(6)} ` +
        `${ratio(row, perl, 'seconds').padStart(8)} ${ratio(row, inferno, 'seconds').padStart(11)} | ` +
        `${cpu.padStart(6)} ${cpuRate.padStart(5)} ${ratio(row, perl, 'cpuSeconds').padStart(8)} ` +
        `${ratio(row, inferno, 'cpuSeconds').padStart(11)} | ${rss.padStart(8)}`,
    );
  }
  console.log(`  (${process.env.BENCH_NOTE ?? `host: ${readLoad()}`})`);
}

/** irisflame over 1 GB: peak RSS must stay under the limit. inferno runs too, for the speed at that size. */
async function memoryCheck() {
  const input = buildInput(MEMORY_CHECK_MB);
  const sizeMb = statSync(input).size / MB;
  const run = await measure(process.execPath, [fileURLToPath(import.meta.url), '--drive', input]);
  const peakMb = run.peakRssKb / 1024;
  const verdict = run.exitCode === 0 && peakMb < MEMORY_LIMIT_MB ? 'ok' : 'OVER';
  console.log(
    `  memory: irisflame over ${sizeMb.toFixed(0)} MB in ${run.seconds.toFixed(1)} s ` +
      `(${run.cpuSeconds?.toFixed(1) ?? '?'} s CPU, ${(sizeMb / run.cpuSeconds).toFixed(0)} MB/s of CPU), ` +
      `peak RSS ${peakMb.toFixed(0)} MB (limit ${MEMORY_LIMIT_MB} MB): ${verdict}`,
  );
  if (!existsSync(INFERNO_COLLAPSER)) return;
  const inferno = await measure(INFERNO_COLLAPSER, ['--nthreads', '1', input]);
  console.log(
    `  same 1 GB, inferno --nthreads 1: ${inferno.seconds.toFixed(1)} s ` +
      `(${inferno.cpuSeconds?.toFixed(1) ?? '?'} s CPU, ${(sizeMb / inferno.cpuSeconds).toFixed(0)} MB/s of CPU), ` +
      `peak RSS ${(inferno.peakRssKb / 1024).toFixed(0)} MB`,
  );
}

/** Wall time and peak RSS of one run, output to /dev/null. */
function measure(command, args) {
  const timed = existsSync(GNU_TIME);
  const [file, argv] = timed ? [GNU_TIME, ['-f', '%M %U %S', command, ...args]] : [command, args];
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(file, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let peakRssKb;
    child.stderr.on('data', (data) => (stderr += data));
    const poll = timed ? undefined : setInterval(() => (peakRssKb = readPeakRss(child.pid) ?? peakRssKb), 50);
    child.on('error', reject);
    child.on('close', (exitCode) => {
      if (poll) clearInterval(poll);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      let cpuSeconds;
      if (timed) {
        const [rss, user, system] = stderr.trim().split('\n').pop().split(' ').map(Number);
        peakRssKb = rss;
        cpuSeconds = user + system;
      }
      resolve({ seconds, exitCode, peakRssKb, cpuSeconds });
    });
  });
}

function readPeakRss(pid) {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

function readLoad() {
  try {
    return `load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')} on ${execFileSync('nproc').toString().trim()} CPUs`;
  } catch {
    return 'load unknown';
  }
}

/** The capture replicated to at least `megabytes`; built once and cached. */
function buildInput(megabytes) {
  const path = join(CACHE, `collapse-input-${megabytes}mb.txt`);
  if (existsSync(path)) return path;
  const capture = captureOrFixtures();
  mkdirSync(CACHE, { recursive: true });
  const out = [];
  let size = 0;
  while (size < megabytes * MB) {
    out.push(capture);
    size += capture.length;
  }
  writeFileSync(path, Buffer.concat(out));
  return path;
}

/** A real busy-system capture, recorded once; the committed fixtures when perf cannot record. */
function captureOrFixtures() {
  const path = join(CACHE, 'busy-capture.txt');
  if (existsSync(path)) return readFileSync(path);
  mkdirSync(CACHE, { recursive: true });
  try {
    const data = join(CACHE, 'busy-capture.data');
    console.log(`  recording a ${CAPTURE_SECONDS} s system-wide capture for the collapse bench (once)…`);
    execFileSync('perf', ['record', '-q', '-F', '999', '-a', '-g', '-o', data, '--', 'bash', '-c', busyWorkload()], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const text = execFileSync('perf', ['script', '-i', data], { maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'ignore'] });
    if (text.length < MB) throw new Error('the capture is too small');
    writeFileSync(path, text);
    return text;
  } catch (error) {
    console.log(`  cannot record with perf (${error.message.split('\n')[0]}); replicating the committed fixtures`);
    const dir = join(REPO, 'fixtures', 'collapse', 'perf');
    return Buffer.concat(['system-wide.txt', 'dwarf-perl.txt'].map((name) => readFileSync(join(dir, name))));
  }
}

/** gzip, perl regexes and hashes, node JSON, and gcc: a mix of C, interpreters and a JIT. */
function busyWorkload() {
  return [
    `end=$((SECONDS+${CAPTURE_SECONDS}))`,
    '( while [ $SECONDS -lt $end ]; do head -c 20000000 /dev/urandom | gzip -1 > /dev/null; done ) &',
    `( while [ $SECONDS -lt $end ]; do perl -e 'my $s = "ab" x 100000; for (1..200) { my @m = ($s =~ /(a)(b)/g); my %h; $h{$_}++ for 1..20000 }'; done ) &`,
    `( while [ $SECONDS -lt $end ]; do node -e 'let o=[];for(let i=0;i<200000;i++)o.push({i,s:"x"+i});for(let k=0;k<5;k++)JSON.parse(JSON.stringify(o))'; done ) &`,
    `( d=$(mktemp -d); while [ $SECONDS -lt $end ]; do printf '#include <stdio.h>\\nint main(void){for(int i=0;i<9;i++)printf("%%d",i);return 0;}\\n' > $d/t.c; gcc -O2 -o $d/t $d/t.c; done; rm -rf $d ) &`,
    'wait',
  ].join('\n');
}

/**
 * The irisflame library side: read into one reused buffer (the perf collapser keeps no chunk it is given,
 * only the partial line at its end), collapse, write folded text to stdout. The CLI row measures the same
 * collapser behind the CLI's stream reader.
 */
async function drive(path) {
  const { createPerfCollapser } = await import(pathToFileURL(join(DIST, 'collapse', 'perf.js')).href);
  const { writeFolded } = await import(pathToFileURL(join(DIST, 'collapse', 'write.js')).href);
  const collapser = createPerfCollapser({});
  const fd = openSync(path, 'r');
  const buffer = Buffer.allocUnsafe(READ_CHUNK_BYTES);
  for (;;) {
    const length = readSync(fd, buffer, 0, buffer.length, null);
    if (length === 0) break;
    collapser.push(buffer.subarray(0, length));
  }
  closeSync(fd);
  const result = collapser.finish();
  await writeFolded(result, process.stdout);
  process.stderr.write(`${result.report.samples} samples, ${result.stacks.size} stacks\n`);
}
