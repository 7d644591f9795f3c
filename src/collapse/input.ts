/**
 * Opening what the user gave us: a file, stdin (`-` or nothing), or either one gzip-compressed.
 * Compression is recognised by its magic bytes, not by the file name, so `perf script | gzip > x.txt`
 * and `capture.gz` that is really plain text both work.
 */
import { closeSync, openSync, readSync, promises as fs } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { InputError } from '../errors.js';

const GZIP_MAGIC_0 = 0x1f;
const GZIP_MAGIC_1 = 0x8b;
/** Large reads: the parsers are byte loops, so fewer, bigger chunks mean less per-chunk overhead. */
export const READ_CHUNK_BYTES = 1 << 20;

export const STDIN_NAME = '-';

export interface InputChunks {
  /** What to call this input in messages: the path, or "stdin". */
  displayName: string;
  /** The input's bytes, decompressed if needed, in chunks split anywhere. */
  chunks: AsyncIterable<Buffer>;
}

/** Open `path` (or stdin for undefined / "-"), failing with one clear line if it cannot be read. */
export async function openInput(path: string | undefined): Promise<InputChunks> {
  if (path === undefined || path === STDIN_NAME) {
    return { displayName: 'stdin', chunks: decompressIfGzip(process.stdin, 'stdin') };
  }
  await checkReadableFile(path);
  return { displayName: path, chunks: decompressIfGzip(readFileChunks(path), path) };
}

/**
 * A file's bytes, read synchronously into two buffers used in turn. Why not `createReadStream`: every chunk
 * of a stream is a hand-off to libuv's thread pool and back, and on a busy machine each one waits for a
 * core (measured on a 230 MB capture under load: the parser sat idle 0.5 s of a 3.6 s run); and each chunk
 * would be fresh memory, whose page faults cost another 0.2-0.3 s of system time. A collapse has nothing to
 * overlap the reads with (the parse is synchronous, the output comes at the end), so reading in place loses
 * nothing.
 *
 * The reuse is safe because of the push contract (src/collapse/types.ts, `Collapser.push`): a parser copies
 * what it keeps before returning. Whoever holds a chunk across the next read must copy it (detection does).
 */
async function* readFileChunks(path: string): AsyncGenerator<Buffer> {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    throw fileError(path, error);
  }
  const buffers = [Buffer.allocUnsafeSlow(READ_CHUNK_BYTES), Buffer.allocUnsafeSlow(READ_CHUNK_BYTES)];
  let turn = 0;
  try {
    for (;;) {
      const chunk = buffers[turn++ & 1]!;
      let bytesRead: number;
      try {
        bytesRead = readSync(fd, chunk, 0, READ_CHUNK_BYTES, null);
      } catch (error) {
        throw fileError(path, error);
      }
      if (bytesRead === 0) return;
      yield bytesRead === READ_CHUNK_BYTES ? chunk : chunk.subarray(0, bytesRead);
    }
  } finally {
    closeSync(fd);
  }
}

async function checkReadableFile(path: string): Promise<void> {
  let stat;
  try {
    stat = await fs.stat(path);
  } catch (error) {
    throw fileError(path, error);
  }
  if (stat.isDirectory()) {
    throw new InputError('INPUT_UNREADABLE', `${path} is a directory, not a file`, {
      hint: 'give the path of a perf script, bpftrace or folded-stacks file',
    });
  }
  try {
    await fs.access(path, fs.constants.R_OK);
  } catch (error) {
    throw fileError(path, error);
  }
}

function fileError(path: string, error: unknown): InputError {
  const code = (error as NodeJS.ErrnoException)?.code;
  if (code === 'ENOENT') {
    return new InputError('INPUT_NOT_FOUND', `${path}: no such file`, { cause: error });
  }
  if (code === 'EACCES' || code === 'EPERM') {
    return new InputError('INPUT_UNREADABLE', `${path}: permission denied`, {
      hint: 'run as a user who can read it, or copy it somewhere readable',
      cause: error,
    });
  }
  if (code === 'EISDIR') {
    return new InputError('INPUT_UNREADABLE', `${path} is a directory, not a file`, { cause: error });
  }
  const reason = (error as Error)?.message ?? String(error);
  return new InputError('INPUT_UNREADABLE', `${path}: cannot read (${reason})`, { cause: error });
}

/** Yield the stream's bytes, gunzipping them when the first two bytes are gzip's magic. */
async function* decompressIfGzip(stream: AsyncIterable<Buffer>, displayName: string): AsyncGenerator<Buffer> {
  const iterator = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let head: Buffer = Buffer.alloc(0);
  // Two bytes decide; a first chunk of one byte is possible on a pipe.
  while (head.length < 2) {
    const next = await nextChunk(iterator, displayName);
    if (next === undefined) break;
    // Concat copies, so a one-byte first chunk survives the reuse of its buffer.
    head = head.length === 0 ? next : Buffer.concat([head, next]);
  }
  const isGzip = head.length >= 2 && head[0] === GZIP_MAGIC_0 && head[1] === GZIP_MAGIC_1;
  if (!isGzip) {
    if (head.length > 0) yield head;
    for (;;) {
      const next = await nextChunk(iterator, displayName);
      if (next === undefined) return;
      yield next;
    }
  }
  yield* gunzip(head, iterator, displayName);
}

async function* gunzip(head: Buffer, rest: AsyncIterator<Buffer>, displayName: string): AsyncGenerator<Buffer> {
  const inflater = createGunzip({ chunkSize: READ_CHUNK_BYTES });
  const feed = async (): Promise<void> => {
    try {
      // Copies: zlib reads its input later, on the thread pool, and file chunks are reused buffers.
      inflater.write(Buffer.from(head));
      for (;;) {
        const next = await nextChunk(rest, displayName);
        if (next === undefined) break;
        if (!inflater.write(Buffer.from(next))) await new Promise((resolve) => inflater.once('drain', resolve));
      }
      inflater.end();
    } catch (error) {
      inflater.destroy(error as Error);
    }
  };
  void feed();
  try {
    for await (const chunk of inflater) yield chunk as Buffer;
  } catch (error) {
    if (error instanceof InputError) throw error;
    const message = (error as Error)?.message ?? String(error);
    const truncated = /unexpected end of file/i.test(message);
    throw new InputError(
      'INPUT_FORMAT',
      truncated
        ? `${displayName}: the gzip data is truncated (the file ends early)`
        : `${displayName}: the gzip data is corrupt (${message})`,
      { hint: 'the stacks decoded before the fault are lost; recompress or re-copy the original', cause: error },
    );
  }
}

async function nextChunk(iterator: AsyncIterator<Buffer>, displayName: string): Promise<Buffer | undefined> {
  try {
    const { value, done } = await iterator.next();
    return done ? undefined : value;
  } catch (error) {
    throw fileError(displayName, error);
  }
}
