/**
 * The pipe filter between perf record and perf script (src/agent/perf-pipe-filter.ts), given the names perf
 * script prints, drops the other processes' records (perf-pipe-processes.ts). Over a real whole-node DWARF
 * stream recorded on a 2-core machine while a simulated IRIS built --no-frame-pointers started, worked and
 * stopped beside other programs (fixtures/agent/record-perf-pipe.sh), perf script must print the same
 * samples from what is left; and over records built here, the cases that stream may not hold.
 */
import { describe, expect, test } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { execa } from 'execa';
import { REPO_ROOT } from '../support/cli.js';
import { reportSkip } from '../support/references.js';
import { findExecutable } from '../../src/tools/executables.js';
import { PassThrough } from 'node:stream';
import { PerfPipeFilter, pipePerfStream } from '../../src/agent/perf-pipe-filter.js';
import { IRIS_PROCESS_NAMES } from '../../src/iris/processes.js';

const FIXTURE = join(REPO_ROOT, 'fixtures', 'agent', 'perf-pipe', 'whole-node-dwarf.data.gz');
/** As the DWARF sampler hands them to perf script's --comms: the kernel keeps 15 bytes of a name. */
const NAMES = [...new Set([...IRIS_PROCESS_NAMES].map((name) => name.slice(0, 15)))];

/** The stream through the filter in `chunk`-byte pieces (records cut across them, as on a pipe); names null: none. */
function filtered(stream: Buffer, chunk: number, names: string[] | null = NAMES): { bytes: Buffer; filter: PerfPipeFilter } {
  const filter = new PerfPipeFilter(names ?? undefined);
  const kept: Buffer[] = [];
  for (let at = 0; at < stream.length; at += chunk) kept.push(...filter.feed(stream.subarray(at, at + chunk)));
  kept.push(...filter.finish());
  return { bytes: Buffer.concat(kept), filter };
}

/** perf script's samples: a header line (`comm pid/tid time: event:`) and its stack lines each. */
async function samplesOf(stream: Buffer, comms: boolean): Promise<{ header: string; stack: string }[]> {
  const args = ['script', '-i', '-', '--no-inline', '-F', 'comm,pid,tid,time,event,ip,sym', ...(comms ? ['--comms', NAMES.join(',')] : [])];
  const { stdout } = await execa('perf', args, { input: stream, maxBuffer: 256 * 1024 * 1024 });
  return stdout
    .split('\n\n')
    .filter((block) => block.trim() !== '')
    .map((block) => {
      const [header, ...stack] = block.replace(/^\n+/, '').split('\n');
      return { header: header!.trim(), stack: stack.join('\n') };
    });
}

describe('the perf pipe filter, following the sampled names', () => {
  const perfSkip = reportSkip('perf script over the recorded stream', findExecutable('perf') === undefined ? 'perf is not installed' : undefined);

  test.skipIf(perfSkip)('perf script --comms prints the same samples from the filtered stream, which keeps a fraction of the bytes', async () => {
    const stream = gunzipSync(readFileSync(FIXTURE));
    const { bytes, filter } = filtered(stream, 4093);
    // The same bytes however the pipe cuts the stream.
    expect(filtered(stream, 65_536).bytes.equals(bytes)).toBe(true);
    expect(filtered(stream, 100_003).bytes.equals(bytes)).toBe(true);
    console.log(
      `whole-node stream ${stream.length} bytes → ${bytes.length}: ${filter.othersDropped} other processes' records dropped (${filter.othersDroppedBytes} bytes), ${filter.dropped} kernel-symbol records`,
    );
    expect(bytes.length).toBe(stream.length - filter.droppedBytes - filter.othersDroppedBytes - filter.roundsDroppedBytes);
    // Some round ends came between other processes' records only (the IRIS processes sampled most of the time).
    expect(filter.roundsDropped).toBeGreaterThan(0);
    expect(filter.othersDroppedBytes).toBeGreaterThan(stream.length / 2);

    const before = await samplesOf(stream, true);
    const after = await samplesOf(bytes, true);
    expect(before.length).toBeGreaterThan(100);
    expect(after.map((s) => s.header)).toEqual(before.map((s) => s.header));
    // Some of the IRIS processes were forked by another program (a shell) before their exec: perf script
    // then starts them with that program's maps, which the filter never passes, and unwinds them as well or better.
    const same = after.filter((s, i) => s.stack === before[i]!.stack).length;
    expect(same / after.length).toBeGreaterThan(0.95);
  }, 120_000);

  test.skipIf(perfSkip)('what is left of the other programs is at most the first samples of children forked by them, never named', async () => {
    const stream = gunzipSync(readFileSync(FIXTURE));
    const comms = (samples: { header: string }[]): Set<string> => new Set(samples.map((s) => s.header.split(/\s+/)[0]!));
    const all = comms(await samplesOf(stream, false));
    expect([...all].filter((comm) => !NAMES.includes(comm)).length).toBeGreaterThan(5);
    const left = comms(await samplesOf(filtered(stream, 4093).bytes, false));
    // `:PID`: a thread perf script never heard named (a child sampled before its exec decided it).
    expect([...left].filter((comm) => !NAMES.includes(comm) && !/^:\d+$/.test(comm))).toEqual([]);
  }, 120_000);

  test('without names, only the kernel-symbol records are dropped', () => {
    const stream = gunzipSync(readFileSync(FIXTURE));
    const { bytes, filter } = filtered(stream, 4093, null);
    expect(filter.othersDropped).toBe(0);
    expect(filter.roundsDropped).toBe(0);
    expect(bytes.length).toBe(stream.length - filter.droppedBytes);
  });

  test('children follow their parent, an exec decides again, and a child of another program is given a second to exec', () => {
    const ms = 1e6;
    const stream = Buffer.concat([
      pipeHeader(),
      attr(SAMPLE_IP | SAMPLE_TID | SAMPLE_TIME),
      comm(100, 'irisdb', false),
      comm(200, 'bash', false),
      sample(1, 100, 0), // kept: IRIS
      sample(2, 200, 0), // dropped: bash
      sample(3, 300, 0), // never heard of: passed
      fork(101, 100, 10 * ms), // the IRIS process's child: kept
      sample(4, 101, 20 * ms),
      fork(201, 200, 10 * ms), // bash's child, not yet exec'd: tentative
      sample(5, 201, 500 * ms), // its exec's samples may overtake the COMM: passed
      comm(201, 'irisdb', true), // it execs IRIS: kept
      sample(6, 201, 2_000 * ms),
      fork(202, 200, 10 * ms), // another bash child that never execs (a subshell)
      sample(7, 202, 900 * ms), // within the second: passed
      sample(8, 202, 1_500 * ms), // past it: dropped from then on
      sample(9, 202, 100 * ms),
      comm(101, 'sh', true), // the IRIS child execs a shell: its samples dropped, its exit passed (perf script knows it)
      sample(10, 101, 3_000 * ms),
      exit(101, 3_100 * ms),
      exit(200, 3_100 * ms), // bash's exit: dropped
    ]);
    for (const chunk of [7, 64, 4096]) {
      const kept = recordsOf(filtered(stream, chunk).bytes);
      expect(kept.filter((r) => r.type === SAMPLE).map((r) => r.ip)).toEqual([1, 3, 4, 5, 6, 7]);
      expect(kept.filter((r) => r.type === COMM).map((r) => r.pid)).toEqual([100, 201, 101]);
      expect(kept.filter((r) => r.type === FORK).map((r) => r.pid)).toEqual([101]);
      expect(kept.filter((r) => r.type === EXIT).map((r) => r.pid)).toEqual([101]);
    }
  });
});

describe('records taken in the order of their times', () => {
  test('an exec read before an earlier one (the kernel moved the process to another CPU) is not overruled by it', () => {
    const ms = 1e6;
    // `nice bash -c 'exec irisdb'`: three execs, the last read first.
    const stream = Buffer.concat([
      pipeHeader(),
      attr(SAMPLE_IP | SAMPLE_TID | SAMPLE_TIME, true),
      timedComm(200, 'node', false, 0),
      fork(300, 200, 10 * ms),
      timedComm(300, 'irisdb', true, 30 * ms),
      timedComm(300, 'nice', true, 15 * ms), // older: read late, changes nothing
      timedComm(300, 'bash', true, 20 * ms),
      sample(1, 300, 40 * ms),
      sample(2, 300, 2_000 * ms), // past the tentative second: kept
      timedComm(300, 'sh', true, 3_000 * ms), // a later exec of another program: dropped from then on
      sample(3, 300, 3_100 * ms),
    ]);
    for (const chunk of [5, 4096]) {
      const kept = recordsOf(filtered(stream, chunk).bytes);
      expect(kept.filter((r) => r.type === SAMPLE).map((r) => r.ip)).toEqual([1, 2]);
      // The stale COMMs go on: perf script sorts by time and names the thread as the kernel did.
      expect(kept.filter((r) => r.type === COMM).map((r) => r.pid)).toEqual([300, 300, 300, 300]);
    }
  });

  test('an exec whose FORK comes after it (another CPU’s buffer, late) stays kept past the tentative second', () => {
    const ms = 1e6;
    const stream = Buffer.concat([
      pipeHeader(),
      attr(SAMPLE_IP | SAMPLE_TID | SAMPLE_TIME, true),
      timedComm(200, 'node', false, 0),
      timedComm(300, 'irisdb', true, 15 * ms), // the exec, read first
      sample(1, 300, 20 * ms),
      fork(300, 200, 10 * ms), // its fork by node, from the other CPU's buffer
      sample(2, 300, 1_500 * ms), // past the tentative second: still kept
      sample(3, 300, 5_000 * ms),
      exit(300, 6_000 * ms),
      fork(300, 200, 7_000 * ms), // the pid again, a new child of node: tentative as any
      sample(4, 300, 7_100 * ms),
      sample(5, 300, 9_000 * ms), // no exec within the second: dropped
    ]);
    for (const chunk of [7, 4096]) {
      const kept = recordsOf(filtered(stream, chunk).bytes);
      expect(kept.filter((r) => r.type === SAMPLE).map((r) => r.ip)).toEqual([1, 2, 3, 4]);
    }
  });
});

describe('round ends', () => {
  test('two pass after each kept record; those after dropped records only are dropped', () => {
    const stream = Buffer.concat([
      pipeHeader(),
      attr(SAMPLE_IP | SAMPLE_TID | SAMPLE_TIME),
      comm(100, 'irisdb', false),
      comm(200, 'bash', false),
      round(), // after the attr and the IRIS comm: passed
      round(), // passed (the second)
      round(), // dropped
      sample(1, 200, 0),
      round(), // after bash's sample only: dropped
      sample(2, 100, 0),
      sample(3, 200, 0),
      round(), // passed
      sample(4, 200, 0),
      round(), // passed (the second after sample 2)
      round(), // dropped
      exit(200, 0),
      round(), // dropped
    ]);
    for (const chunk of [5, 4096]) {
      const { bytes, filter } = filtered(stream, chunk);
      expect(recordsOf(bytes).map((r) => (r.type === SAMPLE ? `sample ${r.ip}` : r.type === ROUND ? 'round' : `${r.type}`))).toEqual([
        '3',
        'round',
        'round',
        'sample 2',
        'round',
        'round',
      ]);
      expect(filter.roundsDropped).toBe(4);
      expect(filter.roundsDroppedBytes).toBe(32);
    }
  });

  test('the samples the kernel lost (a full ring buffer) are counted, and their records passed', () => {
    const lost = (count: number): Buffer => {
      const body = Buffer.alloc(16);
      body.writeBigUInt64LE(7n, 0);
      body.writeBigUInt64LE(BigInt(count), 8);
      return record(2, 0, body);
    };
    const stream = Buffer.concat([pipeHeader(), attr(SAMPLE_IP | SAMPLE_TID | SAMPLE_TIME), lost(3), sample(1, 100, 0), lost(40)]);
    for (const chunk of [5, 4096]) {
      const { bytes, filter } = filtered(stream, chunk);
      expect(filter.lostSamples).toBe(43);
      expect(recordsOf(bytes).filter((r) => r.type === 2)).toHaveLength(2);
    }
  });

  const perfSkip = reportSkip(
    'perf script reading a live pipe',
    findExecutable('perf') === undefined ? 'perf is not installed' : findExecutable('stdbuf') === undefined ? 'stdbuf (coreutils) is not installed' : undefined,
  );

  test.skipIf(perfSkip)('a live perf script prints a lone kept sample once the two round ends after it are in, before the stream ends', async () => {
    const { bytes } = filtered(gunzipSync(readFileSync(FIXTURE)), 65_536);
    const records = recordsOf(bytes);
    // A kept IRIS sample far enough in for perf script to know its process, and where its second round end ends.
    const index = records.findIndex((r, i) => i > 200 && r.type === SAMPLE);
    const rounds = records.map((r, i) => ({ r, i })).filter(({ r, i }) => i > index && r.type === ROUND);
    expect(rounds.length).toBeGreaterThanOrEqual(2);
    const upTo = (i: number): Buffer => bytes.subarray(0, records[i]!.end);
    const printed = async (stream: Buffer): Promise<number> => {
      // stdin stays open: only what perf script prints while it waits for more counts (line by line: stdbuf).
      const script = execa('stdbuf', ['-oL', 'perf', 'script', '-i', '-', '--no-inline', '-F', 'comm,pid,time'], { buffer: false, reject: false });
      let out = '';
      script.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
      script.stdin!.write(stream);
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      script.kill('SIGKILL');
      await script;
      return out.split('\n').filter((line) => line.trim() !== '').length;
    };
    const before = records.slice(0, index).filter((r) => r.type === SAMPLE).length;
    // Through the first round end after it, perf script holds the sample back (it sorts by time to the round before).
    expect(await printed(upTo(rounds[0]!.i))).toBeLessThanOrEqual(before);
    expect(await printed(upTo(rounds[1]!.i))).toBeGreaterThan(before);
  }, 60_000);
});

describe('the samples the main sampler takes', () => {
  test('a named process known to be walked by frame pointers has its samples dropped, its other records kept', () => {
    const stream = Buffer.concat([
      pipeHeader(),
      attr(SAMPLE_IP | SAMPLE_TID | SAMPLE_TIME),
      comm(100, 'irisdb', false), // needs DWARF
      comm(110, 'irisdb', false), // built with frame pointers: bpftrace's
      comm(120, 'irisdb', false), // not decided yet
      sample(1, 100, 0),
      sample(2, 110, 0),
      sample(3, 120, 0),
      fork(111, 110, 0), // a child of the frame-pointer one: kept, undecided
      sample(4, 111, 0),
      sample(5, 130, 0), // never heard of by the filter, known to the decision: dropped
      exit(110, 0),
    ]);
    const decisions = new Map([
      [100, true],
      [110, false],
      [130, false],
    ]);
    for (const chunk of [7, 4096]) {
      const filter = new PerfPipeFilter(NAMES, (pid) => decisions.get(pid) !== false);
      const kept: Buffer[] = [];
      for (let at = 0; at < stream.length; at += chunk) kept.push(...filter.feed(stream.subarray(at, at + chunk)));
      const records = recordsOf(Buffer.concat(kept));
      expect(records.filter((r) => r.type === SAMPLE).map((r) => r.ip)).toEqual([1, 3, 4]);
      expect(records.filter((r) => r.type === COMM).map((r) => r.pid)).toEqual([100, 110, 120]);
      expect(records.filter((r) => r.type === FORK).map((r) => r.pid)).toEqual([111]);
      expect(records.filter((r) => r.type === EXIT).map((r) => r.pid)).toEqual([110]);
      expect(filter.keptSamples).toBe(3);
    }
  });
});

describe('reading perf pipe', () => {
  /** Waits until `check` holds, polling (a loaded host may be slow). */
  async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      if (Date.now() > deadline) throw new Error('timed out');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  function piped(idleBatchMs: number): { from: PassThrough; written: Buffer[] } {
    const from = new PassThrough();
    const to = new PassThrough();
    const written: Buffer[] = [];
    to.on('data', (chunk: Buffer) => written.push(chunk));
    pipePerfStream(from, to, NAMES, { batchMs: 20, idleBatchMs, streamFirstMs: 0 });
    return { from, written };
  }

  const head = (): Buffer => Buffer.concat([pipeHeader(), attr(SAMPLE_IP | SAMPLE_TID | SAMPLE_TIME), comm(100, 'irisdb', false)]);

  test('after a batch without samples the next read waits the idle pause', async () => {
    const { from, written } = piped(2_000);
    from.write(head());
    await until(() => written.length === 1);
    const wrote = Date.now();
    from.write(sample(1, 100, 0));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(written.length).toBe(1);
    await until(() => written.length === 2);
    expect(Date.now() - wrote).toBeGreaterThanOrEqual(1_900);
    from.end();
  });

  test('small writes on a real pipe are read whole at each batch: the writer is never held back', async () => {
    // 400 writes a second of 200-byte records (as perf record --no-buffering writes, one record each) for
    // 3 s. Node goes on reading a pipe in small pieces while the stream is paused, so a batch must take all
    // of them: taking one piece per pause fell behind, and the writer blocked (25 s for these 3 s).
    const count = 1_200;
    const writer = execa(
      'node',
      ['-e', `const r = Buffer.alloc(200); r.writeUInt32LE(3, 0); r.writeUInt16LE(200, 6); process.stdout.write(Buffer.alloc(16)); let i = 0; const t = setInterval(() => { for (let k = 0; k < 4; k++) process.stdout.write(r); if (++i === ${count / 4}) clearInterval(t); }, 10);`],
      { buffer: false },
    );
    const to = new PassThrough();
    let bytes = 0;
    to.on('data', (chunk: Buffer) => (bytes += chunk.length));
    // No names: every record passes.
    pipePerfStream(writer.stdout!, to, undefined, { batchMs: 250, idleBatchMs: 1_000, streamFirstMs: 0 });
    const started = Date.now();
    await writer;
    const writing = Date.now() - started;
    await until(() => bytes === 16 + count * 200, 5_000);
    console.log(`3 s of small writes took the writer ${writing} ms; all read ${Date.now() - started - writing} ms after`);
    expect(writing).toBeLessThan(15_000);
  });

  test('after a batch with a sample the next read comes after the short pause', async () => {
    const { from, written } = piped(60_000);
    from.write(Buffer.concat([head(), sample(1, 100, 0)]));
    await until(() => written.length === 1);
    from.write(sample(2, 100, 0));
    // Well before the idle pause: the short one was taken.
    await until(() => written.length === 2, 20_000);
    expect(recordsOf(Buffer.concat(written)).filter((r) => r.type === SAMPLE).map((r) => r.ip)).toEqual([1, 2]);
    from.end();
  });
});

const SAMPLE = 9;
const ROUND = 68;
const COMM = 3;
const FORK = 7;
const EXIT = 4;
const SAMPLE_IP = 1n;
const SAMPLE_TID = 2n;
const SAMPLE_TIME = 4n;

function record(type: number, misc: number, body: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt32LE(type, 0);
  header.writeUInt16LE(misc, 4);
  header.writeUInt16LE(8 + body.length, 6);
  return Buffer.concat([header, body]);
}

function pipeHeader(): Buffer {
  const header = Buffer.alloc(16);
  header.write('PERFILE2', 0, 'latin1');
  header.writeBigUInt64LE(16n, 8);
  return header;
}

/** PERF_RECORD_HEADER_ATTR: a 128-byte perf_event_attr with this sample_type, no ids; sample_id_all if asked. */
function attr(sampleType: bigint, sampleIdAll = false): Buffer {
  const body = Buffer.alloc(128);
  body.writeUInt32LE(128, 4);
  body.writeBigUInt64LE(sampleType, 24);
  if (sampleIdAll) body.writeBigUInt64LE(1n << 18n, 40);
  return record(64, 0, body);
}

/** A COMM record with its sample_id (TID, TIME: attr IP | TID | TIME with sample_id_all). */
function timedComm(pid: number, name: string, exec: boolean, timeNs: number): Buffer {
  const body = Buffer.alloc(8 + 16 + 16);
  body.writeInt32LE(pid, 0);
  body.writeInt32LE(pid, 4);
  body.write(name, 8, 'latin1');
  body.writeInt32LE(pid, 24);
  body.writeInt32LE(pid, 28);
  body.writeBigUInt64LE(BigInt(timeNs), 32);
  return record(COMM, exec ? 1 << 13 : 0, body);
}

/** A sample laid out by IP | TID | TIME: its ip tells it apart. */
function sample(ip: number, pid: number, timeNs: number): Buffer {
  const body = Buffer.alloc(24);
  body.writeBigUInt64LE(BigInt(ip), 0);
  body.writeInt32LE(pid, 8);
  body.writeInt32LE(pid, 12);
  body.writeBigUInt64LE(BigInt(timeNs), 16);
  return record(SAMPLE, 0, body);
}

function comm(pid: number, name: string, exec: boolean): Buffer {
  const body = Buffer.alloc(8 + 16);
  body.writeInt32LE(pid, 0);
  body.writeInt32LE(pid, 4);
  body.write(name, 8, 'latin1');
  return record(COMM, exec ? 1 << 13 : 0, body);
}

function task(type: number, pid: number, ppid: number, timeNs: number): Buffer {
  const body = Buffer.alloc(24);
  body.writeInt32LE(pid, 0);
  body.writeInt32LE(ppid, 4);
  body.writeInt32LE(pid, 8);
  body.writeInt32LE(ppid, 12);
  body.writeBigUInt64LE(BigInt(timeNs), 16);
  return record(type, 0, body);
}

const round = (): Buffer => record(ROUND, 0, Buffer.alloc(0));
const fork = (pid: number, ppid: number, timeNs: number): Buffer => task(FORK, pid, ppid, timeNs);
const exit = (pid: number, timeNs: number): Buffer => task(EXIT, pid, 1, timeNs);

/** The records of a stream (after its pipe header): type, pid, a sample's ip, and the offset past each. */
function recordsOf(stream: Buffer): { type: number; pid: number; ip: number; end: number }[] {
  const out: { type: number; pid: number; ip: number; end: number }[] = [];
  for (let at = 16; at < stream.length; at += stream.readUInt16LE(at + 6)) {
    const type = stream.readUInt32LE(at);
    const end = at + stream.readUInt16LE(at + 6);
    if (type === SAMPLE) out.push({ type, pid: stream.readInt32LE(at + 16), ip: Number(stream.readBigUInt64LE(at + 8)), end });
    else if (type !== 64) out.push({ type, pid: end - at >= 12 ? stream.readInt32LE(at + 8) : 0, ip: 0, end });
  }
  return out;
}
