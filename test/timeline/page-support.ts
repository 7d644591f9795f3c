/** Finding things in the lifecycle page the way a person reads it: a process lane by its label. */
import type { Page } from '../browser/support/browsers.js';

/**
 * The selector of the one lane whose label is `label` (exact: some element of the lane says exactly that;
 * otherwise the lane's text contains it). Fails unless exactly one lane matches.
 */
export async function laneSelector(page: Page, label: string, exact = false): Promise<string> {
  const lanes = await page.evaluate((wanted, whole) => Array.from(document.querySelectorAll('#lanes .lane'))
    .filter((lane) => (whole
      ? [lane, ...Array.from(lane.querySelectorAll('*'))].some((e) => (e.textContent ?? '').trim() === wanted)
      : (lane.textContent ?? '').includes(wanted)))
    .map((lane) => lane.getAttribute('data-lane')), label, exact);
  if (lanes.length !== 1) throw new Error(`expected one lane labelled ${label}, found ${lanes.length}`);
  return `#lanes .lane[data-lane="${lanes[0]}"]`;
}
