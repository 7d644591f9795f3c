/**
 * Which parser reads this input, decided on its first bytes. Each format answers yes / no / need more;
 * they are asked most specific first, and an earlier "need more" is honoured before a later "yes",
 * since a permissive format (folded, last: almost anything looks folded) must not win on a prefix.
 * Before any of them, inputs no parser can read are refused with a clear reason: a perf.data
 * recording, or binary data. (gzip never gets here: input.ts has already decompressed it.)
 */
import { InputError, UsageError } from '../errors.js';
import type { Detection } from './types.js';

export const COLLAPSE_FORMATS = ['perf', 'bpftrace', 'folded'] as const;
export type CollapseFormat = (typeof COLLAPSE_FORMATS)[number];
/** What `--format` accepts: a format, or `auto` to detect it. */
export type FormatChoice = CollapseFormat | 'auto';
export const FORMAT_CHOICES: readonly FormatChoice[] = ['auto', ...COLLAPSE_FORMATS];

export interface FormatDetector {
  format: CollapseFormat;
  detect(head: Buffer): Detection;
}

export interface FormatDecision {
  format: CollapseFormat;
  /** Why, for `--verbose`: "detected from its content", "forced with --format", … */
  reason: string;
}

/**
 * Detection looks at no more than this: a format announces itself in its first lines, and a single
 * 50 MB line must not be read whole just to decide.
 */
export const DETECT_MAX_BYTES = 1 << 20;
/** Binary sniffing looks at this many bytes, as git does for its own text/binary guess. */
const BINARY_SNIFF_BYTES = 8000;
/** More control bytes than this share of the sniffed bytes means binary, not text with a few odd bytes. */
const MAX_CONTROL_BYTE_SHARE = 0.1;
const PERF_DATA_MAGICS = ['PERFILE2', 'PERFFILE'];
const ELF_MAGIC = '\x7fELF';
/** Enough bytes for every magic number below (bzip2 has the longest). */
const MAGIC_BYTES = 10;
/** Compressions people use for big captures that we do not decompress ourselves (gzip we do). */
const OTHER_COMPRESSIONS = [
  { name: 'xz', tool: 'xz', test: startsWith(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])) },
  { name: 'zstd', tool: 'zstd', test: startsWith(Buffer.from([0x28, 0xb5, 0x2f, 0xfd])) },
  // "BZh", the block size digit, then the block magic (pi's digits): text rarely starts like that.
  { name: 'bzip2', tool: 'bzip2', test: (head: Buffer) => /^BZh[1-9]\x31\x41\x59\x26\x53\x59/.test(head.toString('latin1', 0, 10)) },
];

function startsWith(magic: Buffer): (head: Buffer) => boolean {
  return (head) => head.subarray(0, magic.length).equals(magic);
}
/** PowerShell's `>` writes UTF-16 with a byte-order mark. */
const UTF16LE_BOM = Buffer.from([0xff, 0xfe]);
const UTF16BE_BOM = Buffer.from([0xfe, 0xff]);

/**
 * The format for this head of input, or undefined when a detector needs more bytes. `final` means no
 * more will come (end of input, or DETECT_MAX_BYTES reached); then "need more" counts as no.
 */
export function decideFormat(
  head: Buffer,
  final: boolean,
  displayName: string,
  choice: FormatChoice,
  detectors: readonly FormatDetector[],
): FormatDecision | undefined {
  if (head.length === 0) {
    if (!final) return undefined;
    throw new InputError('INPUT_EMPTY', `${displayName} is empty`, {
      hint: 'give the output of perf script, bpftrace or a folded-stacks file',
    });
  }
  if (head.length < MAGIC_BYTES && !final) return undefined;
  refuseUnreadable(head, displayName);
  if (choice !== 'auto') return { format: choice, reason: 'forced with --format' };
  const sample = final && head[head.length - 1] !== 0x0a ? Buffer.concat([head, Buffer.from('\n')]) : head;
  for (const detector of detectors) {
    const answer = detector.detect(sample);
    if (answer === 'yes') return { format: detector.format, reason: 'detected from its content' };
    if (answer === 'more' && !final) return undefined;
  }
  return { format: 'folded', reason: 'no format recognised it; reading it as folded stacks' };
}

/** Throws for a perf.data recording, an executable, or other binary data. */
export function refuseUnreadable(head: Buffer, displayName: string): void {
  const magic = head.toString('latin1', 0, MAGIC_BYTES);
  if (PERF_DATA_MAGICS.some((perfMagic) => magic.startsWith(perfMagic))) {
    // Not run for the user: perf script needs the recording's binaries and symbols, may take minutes,
    // and has options of its own; one explicit pipe keeps that visible and under the user's control.
    throw new InputError('INPUT_FORMAT', `${displayName} is a perf.data recording, not perf script text`, {
      hint: `convert it first: perf script -i ${displayName} | irisflame collapse`,
    });
  }
  const compression = OTHER_COMPRESSIONS.find(({ test }) => test(head));
  if (compression !== undefined) {
    throw new InputError('INPUT_FORMAT', `${displayName} is ${compression.name}-compressed; only gzip is read directly`, {
      hint: `decompress it first: ${compression.tool} -dc ${displayName} | irisflame collapse`,
    });
  }
  if (head.subarray(0, 2).equals(UTF16LE_BOM) || head.subarray(0, 2).equals(UTF16BE_BOM)) {
    throw new InputError('INPUT_FORMAT', `${displayName} is UTF-16 text; irisflame reads UTF-8 or plain bytes`, {
      hint: `convert it first: iconv -f UTF-16 -t UTF-8 ${displayName} | irisflame collapse`,
    });
  }
  if (magic.startsWith(ELF_MAGIC)) {
    throw new InputError('INPUT_FORMAT', `${displayName} is an executable (ELF), not profile text`, {
      hint: 'give the output of perf script, bpftrace or a folded-stacks file',
    });
  }
  const sniffEnd = Math.min(head.length, BINARY_SNIFF_BYTES);
  let controlBytes = 0;
  for (let i = 0; i < sniffEnd; i++) {
    const byte = head[i]!;
    if (byte === 0) throw binaryError(displayName, 'it contains NUL bytes');
    if (isControlByte(byte)) controlBytes++;
  }
  if (controlBytes > sniffEnd * MAX_CONTROL_BYTE_SHARE) throw binaryError(displayName, 'too many control bytes');
}

/** Control bytes other than the whitespace text uses (tab, LF, VT, FF, CR) and ESC (colour codes). */
function isControlByte(byte: number): boolean {
  return (byte < 0x20 && !(byte >= 0x09 && byte <= 0x0d) && byte !== 0x1b) || byte === 0x7f;
}

function binaryError(displayName: string, why: string): InputError {
  return new InputError('INPUT_FORMAT', `${displayName} looks like binary data, not text (${why})`, {
    hint: 'give the output of perf script, bpftrace or a folded-stacks file (gzip is fine)',
  });
}

/** `--format` value check, for callers that take the choice from outside yargs. */
export function parseFormatChoice(value: string): FormatChoice {
  if ((FORMAT_CHOICES as readonly string[]).includes(value)) return value as FormatChoice;
  throw new UsageError(`--format: unknown format "${value}"`, { hint: `use one of: ${FORMAT_CHOICES.join(', ')}` });
}
