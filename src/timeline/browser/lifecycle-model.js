/*
 * irisflame lifecycle page, part 1: the model. Counts a time range into the call tree, in one of three
 * units: CPU samples (`cpu`), blocked microseconds (`off`: the overlap of each blocked interval with the
 * range) or wall-clock microseconds (`wall`: each sample as 1/frequency s, plus blocked time), and lays the
 * tree out as a flame graph (merged, alphabetical, root at the bottom) or a flame chart (samples in time
 * order). No DOM here: lifecycle.js draws what this returns. Embedded verbatim in the SVG, after the data
 * (`var lcData = {…}`); defines `lcModel(data)`.
 *
 * Speed: the call tree is built in Node with each node after its parent, so a range is counted in one pass
 * over its samples (leaf counts) plus one backward pass over the nodes (children into parents); no sorting
 * or searching happens per range. Children are sorted by name once, here, at load.
 */
var lcModel = function (data) {
  'use strict';
  var N = data.nodeParent.length;
  var parent = Int32Array.from(data.nodeParent);
  var nameOf = Int32Array.from(data.nodeName);
  var time = Float64Array.from(data.sampleTime);
  var leaf = Int32Array.from(data.sampleNode);
  var lane = Int32Array.from(data.sampleLane);
  var names = data.names;
  var off = data.offCpu;
  var periodUs = off.samplePeriodUs;
  var blockStart = Float64Array.from(off.blockStart), blockDur = Float64Array.from(off.blockDur);
  var blockNode = Int32Array.from(off.blockNode), blockLane = Int32Array.from(off.blockLane);
  var depth = new Int32Array(N);
  var total = new Float64Array(N);
  var i, n;

  for (n = 1; n < N; n++) depth[n] = depth[parent[n]] + 1;

  // Children of each node, sorted by name (flamegraph.pl's order), as one flat array with offsets.
  var childCount = new Int32Array(N + 1);
  for (n = 1; n < N; n++) childCount[parent[n]]++;
  var childStart = new Int32Array(N + 1);
  for (n = 0; n < N; n++) childStart[n + 1] = childStart[n] + childCount[n];
  var children = new Int32Array(Math.max(1, N - 1));
  var fill = childStart.slice(0, N);
  for (n = 1; n < N; n++) children[fill[parent[n]]++] = n;
  var byName = function (a, b) { var x = names[nameOf[a]], y = names[nameOf[b]]; return x < y ? -1 : x > y ? 1 : a - b; };
  for (n = 0; n < N; n++) {
    if (childCount[n] > 1) {
      var sorted = Array.prototype.slice.call(children, childStart[n], childStart[n + 1]).sort(byName);
      for (i = 0; i < sorted.length; i++) children[childStart[n] + i] = sorted[i];
    }
  }

  /** First sample with time >= t. */
  function lowerBound(t) {
    var lo = 0, hi = time.length;
    while (lo < hi) { var mid = (lo + hi) >>> 1; if (time[mid] < t) lo = mid + 1; else hi = mid; }
    return lo;
  }
  /** First sample with time > t. */
  function upperBound(t) {
    var lo = 0, hi = time.length;
    while (lo < hi) { var mid = (lo + hi) >>> 1; if (time[mid] <= t) lo = mid + 1; else hi = mid; }
    return lo;
  }

  var counted = { samples: 0, cpuUs: 0, blockedUs: 0 };
  /**
   * Count [from, to] (of one lane when onlyLane >= 0) into `total` in the unit of `mode` (samples for `cpu`,
   * µs for `off` and `wall`); returns the samples counted (`counted` has the µs parts too).
   */
  function count(from, to, onlyLane, mode) {
    total.fill(0);
    var first = lowerBound(from), last = upperBound(to), samples = 0, blocked = 0;
    var weight = mode === 'wall' ? periodUs : 1;
    for (i = first; i < last; i++) {
      if (onlyLane >= 0 && lane[i] !== onlyLane) continue;
      if (mode !== 'off') total[leaf[i]] += weight;
      samples++;
    }
    if (mode === 'off' || mode === 'wall') {
      for (i = 0; i < blockStart.length; i++) {
        if (onlyLane >= 0 && blockLane[i] !== onlyLane) continue;
        var lo = blockStart[i] > from ? blockStart[i] : from, hi = blockStart[i] + blockDur[i] < to ? blockStart[i] + blockDur[i] : to;
        if (hi > lo) { total[blockNode[i]] += hi - lo; blocked += hi - lo; }
      }
    }
    for (n = N - 1; n > 0; n--) total[parent[n]] += total[n];
    counted.samples = samples; counted.cpuUs = samples * periodUs; counted.blockedUs = blocked;
    return samples;
  }

  /**
   * Flame graph frames of the counted range, zoomed to node `zoom`: its ancestors span the full width
   * (flagged `parent`), its subtree is scaled to the width. Frames narrower than minWidth px are left out,
   * with their subtrees. `visit(node, x, width, isAncestor)` is called in pre-order.
   */
  function layoutGraph(zoom, width, minWidth, visit) {
    if (total[zoom] <= 0) return;
    var a = parent[zoom];
    var ancestors = [];
    while (a >= 0) { ancestors.push(a); a = parent[a]; }
    for (i = ancestors.length - 1; i >= 0; i--) visit(ancestors[i], 0, width, true);
    var scale = width / total[zoom];
    var stackNode = [zoom], stackX = [0];
    while (stackNode.length > 0) {
      var node = stackNode.pop(), x = stackX.pop();
      var w = total[node] * scale;
      visit(node, x, w, false);
      // Push children in reverse so they pop in name order; each starts where its older sibling ends.
      var cx = x, starts = [];
      for (var c = childStart[node]; c < childStart[node + 1]; c++) {
        var child = children[c];
        if (total[child] > 0) { starts.push(child, cx); cx += total[child] * scale; }
      }
      for (var k = starts.length - 2; k >= 0; k -= 2) {
        if (total[starts[k]] * scale >= minWidth) { stackNode.push(starts[k]); stackX.push(starts[k + 1]); }
      }
    }
  }

  /**
   * Flame chart of the range: x is the sample's position in time order, and a frame is a run of
   * consecutive samples sharing the same call path down to it. `visit(node, firstSample, lastSample,
   * ordinalStart, ordinalCount)` per run wide enough to draw; returns the number of samples charted.
   */
  function layoutChart(from, to, onlyLane, pxPerSampleFor, minWidth, visit) {
    var first = lowerBound(from), last = upperBound(to), m = 0;
    for (i = first; i < last; i++) if (onlyLane < 0 || lane[i] === onlyLane) m++;
    if (m === 0) return 0;
    var px = pxPerSampleFor(m);
    var maxDepth = 0;
    for (n = 0; n < N; n++) if (depth[n] > maxDepth) maxDepth = depth[n];
    var runNode = new Int32Array(maxDepth + 2).fill(-1);
    var runOrdinal = new Int32Array(maxDepth + 2), runFirst = new Int32Array(maxDepth + 2), runLast = new Int32Array(maxDepth + 2);
    var open = 0, chain = new Int32Array(maxDepth + 2), ordinal = 0;
    var close = function (from) {
      for (var d = open - 1; d >= from; d--) {
        var width = (ordinal - runOrdinal[d]) * px;
        if (width >= minWidth) visit(runNode[d], runFirst[d], runLast[d], runOrdinal[d], ordinal - runOrdinal[d]);
      }
      open = Math.min(open, from);
    };
    for (i = first; i < last; i++) {
      if (onlyLane >= 0 && lane[i] !== onlyLane) continue;
      var len = 0;
      for (n = leaf[i]; n >= 0; n = parent[n]) chain[len++] = n;
      // chain is leaf..root; depth d is chain[len-1-d]. Find the first depth that differs from the open runs.
      var d = 0;
      while (d < open && d < len && runNode[d] === chain[len - 1 - d]) d++;
      close(d);
      for (; d < len; d++) { runNode[d] = chain[len - 1 - d]; runOrdinal[d] = ordinal; runFirst[d] = i; }
      open = len;
      for (d = 0; d < len; d++) runLast[d] = i;
      ordinal++;
    }
    close(0);
    return m;
  }

  return {
    nodes: N,
    samples: time.length,
    total: total,
    depth: depth,
    parent: parent,
    nameOf: nameOf,
    time: time,
    lane: lane,
    count: count,
    counted: counted,
    periodUs: periodUs,
    lowerBound: lowerBound,
    upperBound: upperBound,
    layoutGraph: layoutGraph,
    layoutChart: layoutChart,
  };
};
