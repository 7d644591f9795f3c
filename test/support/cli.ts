/** Run the real executable, as a user would, and capture what it printed. */
import { execa } from 'execa';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const IRISFLAME_BIN = fileURLToPath(new URL('../../bin/irisflame', import.meta.url));

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** stdout as raw bytes, for byte-for-byte comparisons. */
  stdoutBytes: Buffer;
}

export interface CliOptions {
  /** Bytes or text fed to stdin; nothing when absent. */
  input?: string | Buffer;
  cwd?: string;
  env?: Record<string, string>;
  timeoutMs?: number;
}

export async function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  const result = await execa('node', [IRISFLAME_BIN, ...args], {
    input: options.input,
    stdin: options.input === undefined ? 'ignore' : 'pipe',
    cwd: options.cwd ?? REPO_ROOT,
    env: options.env,
    reject: false,
    encoding: 'buffer',
    timeout: options.timeoutMs ?? 120_000,
    maxBuffer: 1 << 30,
    stripFinalNewline: false, // stdoutBytes promises raw bytes: a folded file's last newline counts
  });
  const stdoutBytes = Buffer.from(result.stdout as Uint8Array);
  return {
    exitCode: result.exitCode ?? -1,
    stdout: stdoutBytes.toString('utf8'),
    stderr: Buffer.from(result.stderr as Uint8Array).toString('utf8'),
    stdoutBytes,
  };
}
