/**
 * What the live record tests share: the simulated IRIS (examples/simulated-iris) built into a temporary
 * root, a CPU-burning `irisdb`, the reasons a backend cannot run here, and readers for what record wrote.
 */
import { execa, type ResultPromise } from 'execa';
import { mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../support/cli.js';
import { checkXml } from '../flamegraph/support/xml-check.js';
import { findExecutable } from '../../src/tools/executables.js';

const INSTALL_SCRIPT = join(REPO_ROOT, 'examples', 'simulated-iris', 'install.sh');

/** Why live recording cannot run at all here, or undefined when it can. */
export function liveReason(): string | undefined {
  if (process.geteuid?.() !== 0) return 'live recording tests need root';
  if (!hasCommand('gcc')) return 'gcc is needed to build the simulated IRIS';
  return undefined;
}

export function perfReason(): string | undefined {
  return liveReason() ?? (hasCommand('perf') ? undefined : 'perf is not installed');
}

export function bpftraceReason(): string | undefined {
  return liveReason() ?? (hasCommand('bpftrace') ? undefined : 'bpftrace is not installed');
}

function hasCommand(name: string): boolean {
  return findExecutable(name) !== undefined;
}

/** Build the simulated IRIS into a fresh temporary root; returns its install dir (…/usr/irissys). */
export async function installSimulatedIris(): Promise<string> {
  const root = mkdtempSync(join(tmpdir(), 'irisflame-record-test-iris-'));
  const { stdout } = await execa(INSTALL_SCRIPT, [root]);
  return stdout.trim().split('\n').pop()!;
}

/** A CPU-bound `irisdb` (main → irisdb_main → GlobalBufferScan → BurnFor → HashBlock) for `ms`. */
export function startBurn(installDir: string, ms: number): ResultPromise {
  // Raised priority (nice execs it, same pid): on a loaded machine it must still be on CPU in every window.
  return execa('nice', ['-n', '-10', join(installDir, 'bin', 'irisdb'), '--burn', String(ms)], { reject: false });
}

/** A PATH of one directory linking node and just these programs (the ones found), e.g. bpftrace but no perf. */
export function pathWithOnly(programs: string[]): string {
  const dir = pathWithOnlyNode();
  for (const program of programs) {
    const found = findExecutable(program);
    if (found !== undefined) symlinkSync(found, join(dir, program));
  }
  return dir;
}

/** A directory holding only a `node` link: a PATH where perf and bpftrace do not exist. */
export function pathWithOnlyNode(): string {
  const dir = mkdtempSync(join(tmpdir(), 'irisflame-record-test-path-'));
  symlinkSync(process.execPath, join(dir, 'node'));
  return dir;
}

export interface FoldedLine {
  stack: string[];
  count: number;
}

export function readFolded(path: string): FoldedLine[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const space = line.lastIndexOf(' ');
      return { stack: line.slice(0, space).split(';'), count: Number(line.slice(space + 1)) };
    });
}

/** Process names (root frames) with their sample counts. */
export function processesOf(lines: FoldedLine[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const { stack, count } of lines) counts.set(stack[0]!, (counts.get(stack[0]!) ?? 0) + count);
  return counts;
}

export interface SvgFacts {
  error: string | undefined;
  /** Names of the frames drawn (from each frame's tooltip), "all" included. */
  frames: string[];
  title: string;
  subtitle: string;
}

export function readSvg(path: string): SvgFacts {
  const svg = readFileSync(path, 'utf8');
  const frames = [...svg.matchAll(/<title>([^<]*?) \([\d,.]+ samples?, [\d.]+%\)<\/title>/g)].map((m) => m[1]!);
  return {
    error: checkXml(svg).error,
    frames,
    title: /<text id="title"[^>]*>([^<]*)</.exec(svg)?.[1] ?? '',
    subtitle: /<text id="subtitle"[^>]*>([^<]*)</.exec(svg)?.[1] ?? '',
  };
}

/**
 * A PATH whose `perf` behaves like perf before 5.9: its usage lists no --control, and it refuses that
 * option. Everything else goes to the real perf.
 */
export function pathWithOldPerf(): string {
  const realPerf = findExecutable('perf')!;
  const dir = pathWithOnly(['setpriv', 'mkfifo', 'sh', 'grep']);
  const script = [
    '#!/bin/sh',
    `if [ "$1" = record ] && [ "$2" = -h ]; then "${realPerf}" record -h 2>&1 | grep -v -- --control >&2; exit 129; fi`,
    'for arg in "$@"; do [ "$arg" = --control ] && { echo "  Error: unknown option control" >&2; exit 129; }; done',
    `exec "${realPerf}" "$@"`,
    '',
  ].join('\n');
  writeFileSync(join(dir, 'perf'), script, { mode: 0o755 });
  return dir;
}
