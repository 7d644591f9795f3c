/**
 * Writing a recording's files: the folded stacks, the SVG, and perf.data when kept. Each is written all
 * or nothing (a temporary file renamed into place), and the destination is checked before recording
 * starts, so a typo in `-o` costs a second, not a minute of sampling.
 */
import { constants, promises as fs } from 'node:fs';
import { dirname } from 'node:path';
import { writeFileAtomically } from '../atomic-output.js';
import type { CollapseResult } from '../collapse/types.js';
import { writeFolded } from '../collapse/write.js';
import { IrisflameError } from '../errors.js';
import { writeFlamegraph, type FlamegraphOptions, type FlamegraphReport } from '../flamegraph/index.js';
import type { RecordingResult } from './backend.js';
import type { OutputPaths } from './naming.js';

export async function checkOutputWritable(paths: OutputPaths): Promise<void> {
  const dir = dirname(paths.svg);
  try {
    const stat = await fs.stat(dir);
    if (!stat.isDirectory()) throw new Error('not a directory');
    await fs.access(dir, constants.W_OK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException)?.code;
    const reason = code === 'ENOENT' ? 'its directory does not exist' : code === 'EACCES' ? 'permission denied' : 'not a writable directory';
    throw new IrisflameError('OUTPUT', `cannot write ${paths.svg}: ${reason}`, {
      hint: 'choose another place with -o DIR/NAME.svg',
      cause: error,
    });
  }
}

export async function writeFoldedFile(path: string, collapse: CollapseResult): Promise<void> {
  await writeFileAtomically(path, async () => collapse, (value, out) => writeFolded(value, out));
}

export async function writeSvgFile(
  path: string,
  collapse: CollapseResult,
  options: Partial<FlamegraphOptions>,
): Promise<FlamegraphReport> {
  let report: FlamegraphReport | undefined;
  await writeFileAtomically(
    path,
    async () => collapse,
    async (value, out) => {
      report = await writeFlamegraph({ stacks: value.stacks, exact: value.exact }, options, out);
    },
  );
  return report!;
}

/** The folded stacks, the SVG, and perf.data when kept; the paths written and the renderer's warnings. */
export async function writeRecordingFiles(
  paths: OutputPaths,
  result: RecordingResult,
  flamegraph: Partial<FlamegraphOptions>,
  keepPerfData: boolean,
): Promise<{ files: string[]; warnings: string[] }> {
  await writeFoldedFile(paths.folded, result.collapse);
  const rendered = await writeSvgFile(paths.svg, result.collapse, flamegraph);
  const files = [paths.svg, paths.folded];
  if (keepPerfData && result.perfDataPath !== undefined) {
    await keepFile(result.perfDataPath, paths.perfData);
    files.push(paths.perfData);
  }
  return { files, warnings: rendered.warnings };
}

/** Move perf.data out of the temporary dir; a copy when /tmp is another filesystem. */
export async function keepFile(from: string, to: string): Promise<void> {
  try {
    await fs.rename(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException)?.code !== 'EXDEV') throw outputError(to, error);
    try {
      await fs.copyFile(from, to);
    } catch (copyError) {
      throw outputError(to, copyError);
    }
  }
}

function outputError(path: string, error: unknown): IrisflameError {
  return new IrisflameError('OUTPUT', `cannot write ${path}: ${(error as Error)?.message ?? String(error)}`, { cause: error });
}
