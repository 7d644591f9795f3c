/**
 * Is this `perf script` output? The first line that is not a comment must be an event line, and the
 * line after it a frame (or the event line carries its one frame itself). `PERF_RECORD_…` lines
 * (--show-task-events, --show-lost-events) are event lines without frames; a few of them say yes too.
 */
import type { Detection } from './types.js';
import { HASH, IS_SPACE, NEWLINE } from './perf-bytes.js';
import { newEventLineParts, newStackLineParts, parseEventLine, parseStackLine } from './perf-lines.js';
import { taskRecordAt } from './perf-task-records.js';

/** Two event lines in a row (samples recorded without call chains) are enough to say yes. */
const EVENTS_WITHOUT_FRAMES_FOR_YES = 2;
/** perf's `comm pid [cpu] time: PERF_RECORD_FORK(…)` lines are unmistakable; two in a row say yes. */
const TASK_RECORDS_FOR_YES = 2;

export function detectPerf(head: Buffer): Detection {
  const event = newEventLineParts();
  const frame = newStackLineParts();
  let afterEvent = false;
  let events = 0;
  let taskRecords = 0;
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
    if (taskRecordAt(head, event.idsEnd, end) !== -1) {
      if (++taskRecords >= TASK_RECORDS_FOR_YES) return 'yes';
      continue;
    }
    if (event.frameStart !== -1) return 'yes';
    if (event.eventStart !== -1 && ++events >= EVENTS_WITHOUT_FRAMES_FOR_YES) return 'yes';
    afterEvent = true;
  }
}
