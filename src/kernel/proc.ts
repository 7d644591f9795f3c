/** The processes the kernel lists in /proc: the one place that reads the listing. */
import { readdirSync } from 'node:fs';

/** Pids of every process now (thread group leaders); empty where /proc cannot be read. */
export function listPids(): number[] {
  try {
    return readdirSync('/proc')
      .filter((name) => /^\d+$/.test(name))
      .map(Number);
  } catch {
    return [];
  }
}
