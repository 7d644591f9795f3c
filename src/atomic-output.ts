/**
 * Writing an output file all or nothing: into a temporary file beside it, renamed over the target only
 * once complete, so a failure (bad input halfway, disk full, Ctrl-C) never leaves half a file or
 * clobbers the previous one.
 */
import { createWriteStream, promises as fs, type WriteStream } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { IrisflameError } from './errors.js';

/**
 * Open a temporary file beside `path` first (so an unwritable destination fails before any slow work),
 * then run `produce` and write what it hands to `write`; rename into place on success.
 */
export async function writeFileAtomically<T>(
  path: string,
  produce: () => Promise<T>,
  write: (value: T, out: WriteStream) => Promise<void>,
): Promise<T> {
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now().toString(36)}.tmp`);
  const out = await openForWriting(temporary, path);
  try {
    const value = await produce();
    await write(value, out);
    await closeStream(out);
    await fs.rename(temporary, path).catch((error: unknown) => {
      throw outputError(path, error);
    });
    return value;
  } catch (error) {
    out.destroy();
    await fs.rm(temporary, { force: true });
    throw error;
  }
}

function openForWriting(temporary: string, path: string): Promise<WriteStream> {
  return new Promise((resolve, reject) => {
    const out = createWriteStream(temporary, { flags: 'wx' });
    out.once('open', () => {
      out.removeAllListeners('error');
      // Later errors surface through the write callbacks and closeStream.
      out.on('error', () => {});
      resolve(out);
    });
    out.once('error', (error) => reject(outputError(path, error)));
  });
}

function closeStream(out: WriteStream): Promise<void> {
  return new Promise((resolve, reject) => {
    out.end((error?: Error | null) => (error ? reject(error) : resolve()));
  });
}

function outputError(path: string, error: unknown): IrisflameError {
  const code = (error as NodeJS.ErrnoException)?.code;
  const reason =
    code === 'ENOENT'
      ? 'its directory does not exist'
      : code === 'EACCES' || code === 'EPERM'
        ? 'permission denied'
        : code === 'EISDIR'
          ? 'it is a directory'
          : ((error as Error)?.message ?? String(error));
  return new IrisflameError('OUTPUT', `cannot write ${path}: ${reason}`, { cause: error });
}
