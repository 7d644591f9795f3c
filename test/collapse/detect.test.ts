import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { join, relative } from 'node:path';
import { REPO_ROOT } from '../support/cli.js';
import { FLAMEGRAPH_REPO_DIR, missingReason, reportSkip } from '../support/references.js';
import { collapseChunks, collapseInput, FORMAT_DETECTORS, type CollapseRun } from '../../src/collapse/pipeline.js';
import { decideFormat, type CollapseFormat } from '../../src/collapse/detect.js';
import { foldedLines } from '../../src/collapse/write.js';
import { IrisflameError } from '../../src/errors.js';

const COLLAPSE_FIXTURES = join(REPO_ROOT, 'fixtures/collapse');
const BAD = join(COLLAPSE_FIXTURES, 'bad');

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

reportSkip(
  'detection over the FlameGraph corpus (repo fixtures still run)',
  missingReason(join(FLAMEGRAPH_REPO_DIR, 'test'), 'FlameGraph clone', 'FLAMEGRAPH_REPO_DIR'),
);

/** Every fixture whose format its folder names, plus FlameGraph's perf corpus when a clone is present. */
const LABELLED: [string, CollapseFormat][] = [
  ...(['perf', 'bpftrace', 'folded'] as const).flatMap((format) =>
    filesUnder(join(COLLAPSE_FIXTURES, format))
      .filter((path) => !path.endsWith('.md')) // a folder's README says how its fixtures were made
      .map((path): [string, CollapseFormat] => [path, format]),
  ),
  ...filesUnder(join(FLAMEGRAPH_REPO_DIR, 'test'))
    .filter((path) => /\/test\/perf-[^/]*\.txt$/.test(path))
    .map((path): [string, CollapseFormat] => [path, 'perf']),
  // Its expected outputs are folded stacks.
  ...filesUnder(join(FLAMEGRAPH_REPO_DIR, 'test/results'))
    .filter((path) => /collapsed-(pid|kernel)\.txt$/.test(path))
    .map((path): [string, CollapseFormat] => [path, 'folded']),
];

async function* chunksOf(bytes: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

function readPlain(path: string): Buffer {
  const bytes = readFileSync(path);
  return path.endsWith('.gz') ? gunzipSync(bytes) : bytes;
}

/** The run, or the error code it failed with: both must agree between detected and forced. */
async function outcome(run: Promise<CollapseRun>): Promise<{ format?: string; text?: string; error?: string }> {
  try {
    const result = await run;
    return { format: result.format, text: [...foldedLines(result)].join('') };
  } catch (error) {
    if (error instanceof IrisflameError) return { error: error.code };
    throw error;
  }
}

describe('format detection', () => {
  it('has fixtures of every format to check', () => {
    const formats = new Set(LABELLED.map(([, format]) => format));
    expect(formats).toEqual(new Set(['perf', 'bpftrace', 'folded']));
  });

  it.each(LABELLED.map(([path, format]) => [relative(REPO_ROOT, path), format, path] as const))(
    '%s: content detection picks %s, the parser --format would force, with the same result',
    async (_name, format, path) => {
      const detected = await outcome(collapseInput(path, { format: 'auto' }));
      const forced = await outcome(collapseInput(path, { format }));
      if (forced.error === undefined) expect(detected.format).toBe(format);
      expect(detected).toEqual(forced);
    },
  );

  it.each(LABELLED.slice(0, 40).map(([path, format]) => [relative(REPO_ROOT, path), format, path] as const))(
    '%s: detection decides the same when the input arrives a few bytes at a time',
    async (_name, format, path) => {
      const bytes = readPlain(path);
      const whole = await outcome(collapseChunks(chunksOf(bytes, bytes.length || 1), 'x', {}));
      const trickled = await outcome(collapseChunks(chunksOf(bytes, 3), 'x', {}));
      expect(trickled).toEqual(whole);
      if (whole.format !== undefined) expect(whole.format).toBe(format);
    },
  );

  it('asks for more input while a detector has not seen a whole line', () => {
    expect(decideFormat(Buffer.from('bash;main 1'), false, 'x', 'auto', FORMAT_DETECTORS)).toBeUndefined();
    expect(decideFormat(Buffer.from('bash;main 1'), true, 'x', 'auto', FORMAT_DETECTORS)?.format).toBe('folded');
  });

  it('says why it chose a format, for --verbose', async () => {
    const path = join(COLLAPSE_FIXTURES, 'folded/decimals.folded');
    expect((await collapseInput(path)).formatReason).toBe('detected from its content');
    expect((await collapseInput(path, { format: 'folded' })).formatReason).toBe('forced with --format');
  });
});

describe('inputs no parser can read', () => {
  const failure = async (path: string, options = {}) => {
    try {
      await collapseInput(path, options);
    } catch (error) {
      if (error instanceof IrisflameError) return error;
      throw error;
    }
    throw new Error('expected a failure');
  };

  it('refuses an empty file as INPUT_EMPTY', async () => {
    expect((await failure(join(BAD, 'empty.txt'))).code).toBe('INPUT_EMPTY');
  });

  it('refuses a perf.data recording and says how to convert it', async () => {
    const error = await failure(join(BAD, 'perf.data'));
    expect(error.code).toBe('INPUT_FORMAT');
    expect(error.message).toMatch(/perf\.data recording/);
    expect(error.hint).toMatch(/perf script -i .*perf\.data \| irisflame collapse/);
  });

  it('refuses binary data even when a format is forced', async () => {
    expect((await failure(join(BAD, 'random.bin'))).code).toBe('INPUT_FORMAT');
    expect((await failure(join(BAD, 'random.bin'), { format: 'folded' })).code).toBe('INPUT_FORMAT');
    expect((await failure(join(BAD, 'executable.elf'))).message).toMatch(/ELF/);
  });

  it('reports a truncated .gz as INPUT_FORMAT', async () => {
    const error = await failure(join(BAD, 'truncated.folded.gz'));
    expect(error.code).toBe('INPUT_FORMAT');
    expect(error.message).toMatch(/truncated/);
  });

  it('reports text with no stacks as NO_STACKS, quoting a line it could not read', async () => {
    const error = await failure(join(BAD, 'prose.txt'));
    expect(error.code).toBe('NO_STACKS');
    expect(error.message).toMatch(/^no stacks found in .*prose\.txt: 2 line\(s\) not recognised .*"hello there"/);
    expect(error.hint).toMatch(/--format/);
  });

  it('reports NO_STACKS when the process filter removed everything', async () => {
    const error = await failure(join(COLLAPSE_FIXTURES, 'folded/decimals.folded'), { comm: '^nothing$' });
    expect(error.code).toBe('NO_STACKS');
    expect(error.message).toMatch(/skipped by the process filter/);
  });
});

describe('process filters in the pipeline', () => {
  it('keeps only the processes --comm matches', async () => {
    const run = await collapseInput(join(COLLAPSE_FIXTURES, 'bpftrace/kstack-ustack-comm-pid.txt'), { comm: '^(perl|sh)$' });
    const roots = new Set([...run.stacks.keys()].map((key) => key.split(';')[0]));
    expect(roots).toEqual(new Set(['perl', 'sh']));
  });

  it('keeps only IRIS processes with --iris', async () => {
    const input = Buffer.from('irisdb;main;GetBlock 5\nbash;main 3\niris;main 2\nhttpd;main 1\n');
    const run = await collapseChunks(chunksOf(input, 64), 'mixed', { iris: true });
    expect([...run.stacks.keys()].sort()).toEqual(['iris;main', 'irisdb;main;GetBlock']);
  });
});
