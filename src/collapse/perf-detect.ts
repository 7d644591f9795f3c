/**
 * Is this `perf script` output? The first line that is not a comment must be an event line, and the
 * line after it a frame (or the event line carries its one frame itself).
 */
import type { Detection } from './types.js';
import { HASH, IS_SPACE, NEWLINE } from './perf-bytes.js';
import { newEventLineParts, newStackLineParts, parseEventLine, parseStackLine } from './perf-lines.js';

/** Two event lines in a row (samples recorded without call chains) are enough to say yes. */
const EVENTS_WITHOUT_FRAMES_FOR_YES = 2;

export function detectPerf(head: Buffer): Detection {
  const event = newEventLineParts();
  const frame = newStackLineParts();
  let afterEvent = false;
  let events = 0;
  let start = 0;
  for (;;) {
    const end = head.indexOf(NEWLINE, start);
    if (end === -1) return 'more'; // only whole lines decide
    let text = start;
    while (text < end && IS_SPACE[head[text]!] === 1) text++;
    const lineStart = start;
    start = end + 1;
    if (text === end) {
      afterEvent = false;
      continue;
    }
    if (head[lineStart] === HASH) continue;
    if (afterEvent) return parseStackLine(head, lineStart, end, frame) ? 'yes' : 'no';
    if (!parseEventLine(head, text, end, event)) return 'no';
    if (event.frameStart !== -1) return 'yes';
    if (event.eventStart !== -1 && ++events >= EVENTS_WITHOUT_FRAMES_FOR_YES) return 'yes';
    afterEvent = true;
  }
}
