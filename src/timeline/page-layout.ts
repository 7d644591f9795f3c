/**
 * Where each part of the lifecycle page goes, in pixels, computed once here so the SVG's size and the
 * browser script agree. Top to bottom: title, controls (with off-CPU data: the mode switch and the critical
 * path line), time axis, one lane per process (then the file-group line), the sample density strip, the flame
 * graph (root at the bottom, as flamegraph.pl draws it), the details line, and (off-CPU) the range's tables.
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
  /**
   * The selected range's summary, on its own line under the buttons: in wall-clock mode it is ~100
   * characters, more than the room between the buttons and the kind legend (it ran over the legend).
   */
  rangeY: number;
  /** With off-CPU data: the CPU / Off-CPU / Wall clock switch and the lane legend, then the critical path line. */
  modesY: number;
  criticalY: number;
  axisY: number;
  lanesTop: number;
  laneHeight: number;
  /** The file-group summary line under the lanes (off-CPU captures with file events). */
  filesY: number;
  stripTop: number;
  stripHeight: number;
  flameTop: number;
  frameHeight: number;
  /** Frames the flame graph has room for (the deepest stack + the `all` root). */
  flameDepth: number;
  detailsY: number;
  /** The tables of the selected range (process totals, files), in a foreignObject; 0 high without off-CPU data. */
  tablesTop: number;
  tablesHeight: number;
  /** The lower part of the tables: the file list beside the critical path's segments. */
  filesBlockHeight: number;
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
/** Lanes with off-CPU data are taller: file ticks above the bar, states on it. */
const OFFCPU_LANE_HEIGHT = 18;
const TOTALS_ROW_HEIGHT = 17;
/** Rows of the totals table shown before it scrolls. */
const TOTALS_ROWS_SHOWN = 40;
/** The file list of the selected range: its group summary and a scrolling list. */
const FILES_BLOCK_HEIGHT = 330;
/** Share of the width given to lane labels (indented process names), at most LABEL_COLUMN_MAX px. */
const LABEL_COLUMN_SHARE = 0.25;
const LABEL_COLUMN_MAX = 320;
/**
 * flamegraph.pl draws frames down to 0.1 px; a page that redraws on every range selection cannot: at
 * 0.1 px a 100k-sample range drew ~50,000 frames (seconds per selection in Chromium), at 1 px a few
 * thousand (see bench/timeline.mjs). Zooming into a frame brings its narrow children back.
 */
const MIN_FRAME_WIDTH = 1;

export function pageLayout(width: number, lanes: number, flameDepth: number, subtitle: string, offCpu = false): PageLayout {
  const titleBlock = subtitle === '' ? 40 : 58;
  const controlsY = titleBlock + 8;
  const rangeY = controlsY + 18;
  const modesY = rangeY + (offCpu ? 22 : 0);
  const criticalY = modesY + (offCpu ? 20 : 0);
  const axisY = criticalY + 26;
  const lanesTop = axisY + 8;
  const laneHeight = offCpu ? OFFCPU_LANE_HEIGHT : LANE_HEIGHT;
  const lanesBottom = lanesTop + Math.max(1, lanes) * laneHeight;
  const filesY = lanesBottom + (offCpu ? 14 : 0);
  const stripTop = filesY + 14;
  const flameTop = stripTop + STRIP_HEIGHT + 34;
  const depth = Math.max(1, flameDepth);
  const detailsY = flameTop + depth * FRAME_HEIGHT + 22;
  const tablesTop = detailsY + 12;
  const tablesHeight = offCpu ? TOTALS_ROW_HEIGHT * (Math.min(lanes, TOTALS_ROWS_SHOWN) + 3) + FILES_BLOCK_HEIGHT : 0;
  return {
    width,
    height: tablesTop + tablesHeight + 14,
    modesY,
    criticalY,
    filesY,
    tablesTop,
    tablesHeight,
    filesBlockHeight: offCpu ? FILES_BLOCK_HEIGHT : 0,
    xpad: XPAD,
    plotLeft: Math.min(LABEL_COLUMN_MAX, Math.round(width * LABEL_COLUMN_SHARE)),
    plotRight: width - XPAD,
    controlsY,
    rangeY,
    axisY,
    lanesTop,
    laneHeight,
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
