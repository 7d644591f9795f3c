/** Read what a person sees in a flame-graph page: each frame's geometry, visibility, label and colour. */
import type { Page } from 'puppeteer-core';

export interface FrameView {
  /** Name from the <title> (everything before the last " ("). */
  name: string;
  samples: number;
  /** Start in samples (the contract's fg:x). */
  start: number;
  x: number;
  width: number;
  y: number;
  visible: boolean;
  label: string;
  fill: string;
  classes: string;
}

/**
 * One view per frame of #frames (in its order), describing what is on screen: when the script draws a frame
 * through another element (e.g. a zoomed copy with the same title, y and fg:x), that element's geometry is used.
 * x and width are screen positions relative to the SVG's left edge (the SVG is shown at 1:1). The whole graph
 * must fit in the viewport (occlusion is checked with elementFromPoint).
 */
export async function frameViews(page: Page): Promise<FrameView[]> {
  return page.evaluate(() => {
    const box = document.documentElement.getBoundingClientRect();
    const parts = (g: Element) => {
      let title: Element | null = null, rect: Element | null = null, text: Element | null = null;
      for (const c of Array.from(g.children)) {
        if (c.tagName === 'title') title = c; else if (c.tagName === 'rect') rect = c; else if (c.tagName === 'text') text = c;
      }
      return { title, rect, text };
    };
    // A frame's identity: title, depth (y) and start in samples (fg:x, kept by any copy of the frame).
    const keyOf = (g: Element) => {
      const p = parts(g);
      return `${p.title!.textContent}@${p.rect!.getAttribute('y')}@${p.rect!.getAttribute('fg:x')}`;
    };
    // Covered at its centre by something drawn later in another group (e.g. a zoomed view drawn over the graph);
    // a neighbour in the same group does not count (sub-pixel frames share their centre with neighbours).
    const occluded = (g: Element, r: DOMRect) => {
      const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
      if (!hit || g.contains(hit)) return false;
      const hitFrame = hit.parentElement && parts(hit.parentElement).title ? hit.parentElement : hit;
      return hitFrame.parentElement !== g.parentElement &&
        (g.compareDocumentPosition(hit) & Node.DOCUMENT_POSITION_FOLLOWING) !== 0;
    };
    const onScreen = (g: Element) => {
      const style = getComputedStyle(g);
      const r = parts(g).rect!.getBoundingClientRect();
      return style.display !== 'none' && style.visibility !== 'hidden' && r.width > 0 &&
        r.right > box.left + 0.5 && r.left < box.right - 0.5 && !occluded(g, r);
    };
    const candidates = Array.from(document.querySelectorAll('g, a'))
      .filter((g) => { const p = parts(g); return p.title && p.rect; });
    const shown = new Map<string, Element>();
    for (const g of candidates) if (onScreen(g)) shown.set(keyOf(g), g);
    // Shapes painted over frames (e.g. one path highlighting many): the colour a frame shows is theirs when
    // they cover its centre.
    const covers = Array.from(document.querySelectorAll('path'))
      // (#narrowframes holds frames of a large graph drawn merged: frames, not covers.)
      .filter((p) => getComputedStyle(p).display !== 'none' && p.closest('defs, #narrowframes') === null) as SVGPathElement[];
    const seenFill = (rect: Element, own: string): string => {
      const x = Number(rect.getAttribute('x')) + Number(rect.getAttribute('width')) / 2;
      const y = Number(rect.getAttribute('y')) + Number(rect.getAttribute('height')) / 2;
      const over = covers.filter((p) => p.isPointInFill(new DOMPoint(x, y)));
      return over.length ? getComputedStyle(over[over.length - 1]).fill : own;
    };
    return Array.from(document.getElementById('frames')!.children).map((original) => {
      const g = shown.get(keyOf(original)) ?? original;
      const { title, rect, text } = parts(g);
      const t = title!.textContent!;
      const cut = t.lastIndexOf(' (');
      const r = rect!.getBoundingClientRect();
      return {
        name: t.slice(0, cut),
        samples: Number(/\(([\d,.]+) /.exec(t.slice(cut))![1].replace(/,/g, '')),
        start: Number(rect!.getAttribute('fg:x')),
        x: r.left - box.left,
        width: r.width,
        y: Number(rect!.getAttribute('y')),
        visible: shown.has(keyOf(original)),
        label: text ? text.textContent! : '',
        fill: seenFill(rect!, getComputedStyle(rect!).fill),
        classes: g.getAttribute('class') ?? '',
      };
    });
  });
}

export function byName(views: FrameView[], name: string): FrameView {
  const found = views.filter((v) => v.name === name);
  if (found.length !== 1) throw new Error(`expected one frame named ${name}, found ${found.length}`);
  return found[0];
}

export async function textOf(page: Page, id: string): Promise<string> {
  return page.evaluate((i) => document.getElementById(i)!.textContent ?? '', id);
}

/** Click the middle of a frame's rectangle, as a person would. */
export async function clickFrame(page: Page, name: string): Promise<void> {
  const box = await frameBox(page, name);
  await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
}

export async function hoverFrame(page: Page, name: string): Promise<void> {
  const box = await frameBox(page, name);
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
}

async function frameBox(page: Page, name: string): Promise<{ x: number; y: number; width: number; height: number }> {
  const box = await page.evaluate((wanted) => {
    const svgBox = document.documentElement.getBoundingClientRect();
    for (const title of Array.from(document.querySelectorAll('title'))) {
      const t = title.textContent!;
      const rect = title.parentElement!.querySelector(':scope > rect');
      if (!rect || t.slice(0, t.lastIndexOf(' (')) !== wanted) continue;
      const r = rect.getBoundingClientRect();
      if (r.width <= 0 || r.right <= svgBox.left || r.left >= svgBox.right) continue; // not on screen
      return { x: r.x, y: r.y, width: r.width, height: r.height };
    }
    return null;
  }, name);
  if (!box) throw new Error(`no frame named ${name}`);
  return box;
}

/** Answer the next window.prompt() with `answer`; resolves with the prompt's message. */
export function answerPrompt(page: Page, answer: string): Promise<string> {
  return new Promise((resolve) => {
    page.once('dialog', async (dialog) => {
      const message = dialog.message();
      await dialog.accept(answer);
      resolve(message);
    });
  });
}

/**
 * Matched share computed independently of the script: sum the samples of matching frames that have no
 * matching ancestor (an ancestor spans the frame's x range one depth closer to the root).
 */
export function expectedMatchedPercent(views: FrameView[], re: RegExp, rootSamples: number): string {
  const matching = views.filter((v) => re.test(v.name));
  let count = 0;
  for (const v of matching) {
    const covered = matching.some((o) => o !== v && o.x <= v.x + 0.05 && o.x + o.width >= v.x + v.width - 0.05 &&
      o.samples >= v.samples && (o.samples > v.samples || isCloserToRoot(o, v)));
    if (!covered) count += v.samples;
  }
  const pct = (100 * count) / rootSamples;
  return `Matched: ${pct === 100 ? '100' : pct.toFixed(1)}%`;
}

function isCloserToRoot(a: FrameView, b: FrameView): boolean {
  // Equal-width chains: the root side is lower on screen in a flame graph and higher in an icicle; the
  // test data has no inverted equal-width matches, so flame-graph orientation is enough here.
  return a.y > b.y;
}

/**
 * Frames as flamegraph.pl draws them (parsed from its SVG: every frame, including those a large graph of ours
 * draws merged), in the shape expectedMatchedPercent reads: name, samples, x, width, y.
 */
export function referenceViews(frames: { title: string; x: number; width: number; y: number }[]): FrameView[] {
  return frames.map((f) => {
    const cut = f.title.lastIndexOf(' (');
    return {
      name: f.title.slice(0, cut), samples: Number(/\(([\d,.]+) /.exec(f.title.slice(cut))![1]!.replace(/,/g, '')),
      start: 0, x: f.x, width: f.width, y: f.y, visible: true, label: '', fill: '', classes: '',
    };
  });
}

/** The views inside frame `target`'s span, at its row or above (its subtree, flame-graph orientation). */
export function subtreeViews(views: FrameView[], target: { x: number; width: number; y: number }): FrameView[] {
  return views.filter((v) => v.y <= target.y && v.x >= target.x - 0.01 && v.x + v.width <= target.x + target.width + 0.01);
}
