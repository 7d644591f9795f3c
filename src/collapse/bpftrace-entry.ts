/**
 * One printed bpftrace map entry, split back into its key's fields. bpftrace prints a key as its fields
 * joined by ", ", and a stack field as "\n" + one indented line per frame + "\n", so an entry of
 * `@[kstack, ustack, comm, pid] = count()` reads:
 *
 *     @[
 *         do_syscall_64+113
 *         entry_SYSCALL_64_after_hwframe+118
 *     , 
 *         __libc_read+13
 *     , gzip, 6368]: 1
 *
 * and an empty stack prints as nothing: `@[, ` (empty kstack, then the ustack) or `, , bash]: 1`.
 * Lines that are not indented ("glue") carry the separators and the scalar fields.
 */

/** A key field: a stack (frame lines, innermost first, indentation removed) or a scalar's text. */
export type EntryField = { frames: string[] } | { scalar: string };

export type EntrySegment = { glue: string } | { frames: string[] };

const SEPARATOR = ', ';

/**
 * The key fields of an entry, from its segments: the text after `@name[` on the first line, then
 * alternating stacks and glue lines, the last glue with its `]: VALUE` already removed.
 * An empty scalar is an empty stack (a process name is never empty).
 */
export function entryFields(segments: readonly EntrySegment[]): EntryField[] {
  const fields: EntryField[] = [];
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i]!;
    if ('frames' in segment) {
      fields.push({ frames: segment.frames });
      continue;
    }
    const afterStack = i > 0 && 'frames' in segments[i - 1]!;
    const beforeStack = i + 1 < segments.length && 'frames' in segments[i + 1]!;
    for (const scalar of glueScalars(segment.glue, afterStack, beforeStack)) fields.push({ scalar });
  }
  return fields;
}

/** The scalar fields in one glue line, given whether a stack stands before and after it. */
function glueScalars(glue: string, afterStack: boolean, beforeStack: boolean): string[] {
  let text = glue;
  if (afterStack) {
    // The separator after a stack; tolerate its trailing space having been trimmed.
    if (text === '') return [];
    text = stripLeadingSeparator(text);
  }
  if (beforeStack) {
    if (text === '') return [];
    text = stripTrailingSeparator(text);
  } else if (afterStack && text === '') {
    return [];
  }
  return text.split(SEPARATOR);
}

function stripLeadingSeparator(text: string): string {
  if (text.startsWith(SEPARATOR)) return text.slice(SEPARATOR.length);
  if (text.startsWith(',')) return text.slice(1);
  return text;
}

function stripTrailingSeparator(text: string): string {
  if (text.endsWith(SEPARATOR)) return text.slice(0, -SEPARATOR.length);
  if (text.endsWith(',')) return text.slice(0, -1);
  return text;
}
