/**
 * Which processes get a lane, and in what order: a depth-first walk of the process tree, children in the
 * order they started, so the timeline reads top to bottom in the order things ran and every child sits
 * under its parent (`irisstop` → `irisdb -cV`, `sh -c …` → `irisdb OPT^SHUTDOWN(1)`, …).
 */
import type { ProcessLifetime } from './model.js';
import type { TimelineOptions } from './options.js';

const IDLE_PID = 0;

/**
 * Pick and order lanes. `lifetimes[i].parent` indexes `lifetimes`; the lanes are re-indexed: each lane's
 * `index` is its position and `parent` the position of its parent's lane (undefined when not shown).
 * `laneOf[i]` is the lane of `lifetimes[i]`, or -1.
 */
export function selectLanes(
  lifetimes: ProcessLifetime[],
  options: Pick<TimelineOptions, 'lanes' | 'iris'>,
  isIris: (lifetime: ProcessLifetime) => boolean,
  /** The recorded command's lifetime, for `lanes: 'command'`. */
  command?: number,
): { lanes: ProcessLifetime[]; laneOf: Int32Array } {
  // pid 0 is the idle task ("swapper"): CPU time nobody used, not a process anyone started.
  const keep = lifetimes.map(
    (lifetime) => lifetime.pid !== IDLE_PID && (options.lanes === 'all' || isActive(lifetime)),
  );
  if (options.lanes === 'command' && command !== undefined) {
    keep.forEach((kept, index) => {
      keep[index] = kept && (index === command || hasAncestor(lifetimes, index, (lifetime) => lifetime === lifetimes[command]));
    });
  }
  if (options.iris) {
    const irisRelated = lifetimes.map(() => false);
    lifetimes.forEach((lifetime, index) => {
      irisRelated[index] = isIris(lifetime) || hasAncestor(lifetimes, index, isIris);
    });
    irisRelated.forEach((related, index) => (keep[index] = keep[index]! && related));
  }

  const children = new Map<number | undefined, number[]>();
  lifetimes.forEach((lifetime, index) => {
    if (!keep[index]) return;
    const parent = shownAncestor(lifetimes, index, keep);
    const list = children.get(parent);
    if (list) list.push(index);
    else children.set(parent, [index]);
  });
  const byStart = (a: number, b: number): number =>
    lifetimes[a]!.start - lifetimes[b]!.start || lifetimes[a]!.pid - lifetimes[b]!.pid;
  for (const list of children.values()) list.sort(byStart);

  const lanes: ProcessLifetime[] = [];
  const laneOf = new Int32Array(lifetimes.length).fill(-1);
  const visit = (index: number, depth: number, parentLane: number | undefined): void => {
    const lane = { ...lifetimes[index]!, index: lanes.length, parent: parentLane, depth };
    laneOf[index] = lane.index;
    lanes.push(lane);
    for (const child of children.get(index) ?? []) visit(child, depth + 1, lane.index);
  };
  for (const root of children.get(undefined) ?? []) visit(root, 0, undefined);
  return { lanes, laneOf };
}

/** The nearest ancestor that has a lane, skipping hidden ones (so a shown grandchild nests under its grandparent). */
function shownAncestor(lifetimes: ProcessLifetime[], index: number, keep: boolean[]): number | undefined {
  const seen = new Set<number>([index]);
  let parent = lifetimes[index]!.parent;
  while (parent !== undefined && !seen.has(parent)) {
    if (keep[parent]) return parent;
    seen.add(parent);
    parent = lifetimes[parent]!.parent;
  }
  return undefined;
}

function hasAncestor(lifetimes: ProcessLifetime[], index: number, test: (lifetime: ProcessLifetime) => boolean): boolean {
  const seen = new Set<number>([index]);
  let parent = lifetimes[index]!.parent;
  while (parent !== undefined && !seen.has(parent)) {
    if (test(lifetimes[parent]!)) return true;
    seen.add(parent);
    parent = lifetimes[parent]!.parent;
  }
  return false;
}

/** Did anything happen to it while we watched: started, exec'd, exited, or ran on a CPU. */
function isActive(lifetime: ProcessLifetime): boolean {
  return !lifetime.startedBefore || lifetime.samples > 0 || lifetime.exec !== undefined || lifetime.end !== undefined;
}
