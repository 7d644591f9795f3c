/**
 * The per-function attribute file (flamegraph.pl's `--nameattr`): each line is a function name, a tab,
 * then tab-separated `attr=value` pairs, e.g. `malloc<TAB>href=https://example.org/malloc<TAB>class=hot`.
 * Every frame of that function gets them: `title` replaces the tooltip, `href` (with `target`) turns
 * the frame into a link, `id`/`class` and any other name go on the frame element. Bad lines and unsafe
 * values are skipped with a warning, never fatal.
 */
import { readFileSync } from 'node:fs';
import { InputError } from '../errors.js';

export type FrameAttributes = Map<string, string>;
export type NameAttributes = Map<string, FrameAttributes>;

export interface ParsedNameAttributes {
  attributes: NameAttributes;
  warnings: string[];
}

/** An XML attribute name we are willing to write (no namespace tricks, no event handlers). */
const SAFE_ATTRIBUTE_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
const MAX_WARNINGS = 5;

export function readNameAttributes(path: string): ParsedNameAttributes {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException)?.code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (error as Error).message;
    throw new InputError(code === 'ENOENT' ? 'INPUT_NOT_FOUND' : 'INPUT_UNREADABLE', `--nameattr ${path}: ${why}`, {
      cause: error,
    });
  }
  return parseNameAttributes(text, path);
}

export function parseNameAttributes(text: string, source = 'nameattr'): ParsedNameAttributes {
  const attributes: NameAttributes = new Map();
  const problems: string[] = [];
  const lines = text.split('\n');
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index]!.replace(/\r$/, '');
    if (line === '') continue;
    const tab = line.indexOf('\t');
    if (tab <= 0) {
      problems.push(`${source}:${index + 1}: expected "name<TAB>attr=value", skipped`);
      continue;
    }
    const name = line.slice(0, tab);
    const frame = attributes.get(name) ?? new Map<string, string>();
    for (const pair of line.slice(tab + 1).split('\t')) {
      const equals = pair.indexOf('=');
      const attribute = equals === -1 ? pair : pair.slice(0, equals);
      const value = equals === -1 ? '' : pair.slice(equals + 1);
      if (equals === -1 || !SAFE_ATTRIBUTE_NAME.test(attribute)) {
        problems.push(`${source}:${index + 1}: bad attribute "${pair}", skipped`);
      } else if (/^on/i.test(attribute) || (attribute === 'href' && /^\s*(?:javascript|data|vbscript):/i.test(value))) {
        problems.push(`${source}:${index + 1}: attribute "${attribute}" could run code, skipped`);
      } else {
        frame.set(attribute, value);
      }
    }
    attributes.set(name, frame);
  }
  const warnings = problems.slice(0, MAX_WARNINGS);
  if (problems.length > MAX_WARNINGS) warnings.push(`${source}: ${problems.length - MAX_WARNINGS} more bad entries`);
  return { attributes, warnings };
}
