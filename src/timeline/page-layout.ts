/**
 * Where each part of the lifecycle page goes, in pixels, computed once here so the SVG's size and the
 * browser script agree. Top to bottom: title, controls, time axis, one lane per process, the sample
 * density strip, the flame graph (root at the bottom, as flamegraph.pl draws it), the details line.
 */

export interface PageLayout {
  width: number;
  height: number;
  /** Left and right padding, as flamegraph.pl's xpad. */
  xpad: number;
  /** Where the time axis starts: lanes' labels sit left of it. */
  plotLeft: number;
  plotRight: number;
  controlsY: number;
  axisY: number;
  lanesTop: number;
  laneHeight: number;
  stripTop: number;
  stripHeight: number;
  flameTop: number;
  frameHeight: number;
  /** Frames the flame graph has room for (the deepest stack + the `all` root). */
  flameDepth: number;
  detailsY: number;
  fontSize: number;
  /** Average glyph width / font size, flamegraph.pl's 0.59, to fit labels without measuring. */
  fontWidth: number;
  /** Frames narrower than this many px are not drawn, nor their subtrees. */
  minWidth: number;
}

const XPAD = 10;
const FONT_SIZE = 12;
const FONT_WIDTH = 0.59;
const LANE_HEIGHT = 15;
const FRAME_HEIGHT = 16;
const STRIP_HEIGHT = 56;
/** Share of the width given to lane labels (indented process names), at most LABEL_COLUMN_MAX px. */
const LABEL_COLUMN_SHARE = 0.25;
const LABEL_COLUMN_MAX = 320;
/**
 * flamegraph.pl draws frames down to 0.1 px; a page that redraws on every range selection cannot: at
 * 0.1 px a 100k-sample range drew ~50,000 frames (seconds per selection in Chromium), at 1 px a few
 * thousand (see bench/timeline.mjs). Zooming into a frame brings its narrow children back.
 */
const MIN_FRAME_WIDTH = 1;

export function pageLayout(width: number, lanes: number, flameDepth: number, subtitle: string): PageLayout {
  const titleBlock = subtitle === '' ? 40 : 58;
  const controlsY = titleBlock + 8;
  const axisY = controlsY + 26;
  const lanesTop = axisY + 8;
  const stripTop = lanesTop + Math.max(1, lanes) * LANE_HEIGHT + 14;
  const flameTop = stripTop + STRIP_HEIGHT + 34;
  const depth = Math.max(1, flameDepth);
  const detailsY = flameTop + depth * FRAME_HEIGHT + 22;
  return {
    width,
    height: detailsY + 14,
    xpad: XPAD,
    plotLeft: Math.min(LABEL_COLUMN_MAX, Math.round(width * LABEL_COLUMN_SHARE)),
    plotRight: width - XPAD,
    controlsY,
    axisY,
    lanesTop,
    laneHeight: LANE_HEIGHT,
    stripTop,
    stripHeight: STRIP_HEIGHT,
    flameTop,
    frameHeight: FRAME_HEIGHT,
    flameDepth: depth,
    detailsY,
    fontSize: FONT_SIZE,
    fontWidth: FONT_WIDTH,
    minWidth: MIN_FRAME_WIDTH,
  };
}
