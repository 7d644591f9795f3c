/**
 * `--open`: show the SVG in a browser where the host has a desktop; on a server (no DISPLAY, the usual
 * place to record) there is nothing to open, so the caller prints the file:// URL instead.
 */
import { spawn } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { findExecutable } from '../tools/executables.js';

/** Start the desktop's opener, detached; false when there is none to start. */
export function openInDesktop(path: string, env: NodeJS.ProcessEnv = process.env): boolean {
  const hasDesktop = Boolean(env.DISPLAY || env.WAYLAND_DISPLAY);
  const opener = findExecutable('xdg-open', env.PATH ?? '');
  if (!hasDesktop || opener === undefined) return false;
  const child = spawn(opener, [path], { detached: true, stdio: 'ignore' });
  child.on('error', () => undefined);
  child.unref();
  return true;
}

export function fileUrl(path: string): string {
  return pathToFileURL(path).href;
}
