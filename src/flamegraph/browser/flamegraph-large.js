/* irisflame flame graph script for large graphs (over 2,000 frames; see src/flamegraph/frames-large.ts and
 * docs/dev/svg-contract.md section 5): decoding the frame table, titles and geometry of frames that have no element
 * of their own, and finding such a frame under the pointer. Embedded, with the table, only in large graphs, in the
 * script at the end of the document; flamegraph.js uses it through the one global, fgLarge.
 *
 * Such graphs draw frames under 1 px (or too narrow for a label) as merged paths (#narrowframes) and list every frame
 * in a table (the JSON data block #fgframes, read by table() after the first paint): the model, names and titles come from it. A zoom draws the subtree's frames that get a
 * label as elements (one is created for a frame that has none) and the others merged again (mergedView): 5k frame
 * elements took 100 ms of layout and paint in Chromium, 200-400 ms in Firefox. The pointer finds a merged frame by
 * its row and sample position (frameAt).
 */
var fgLarge = (function () {
  'use strict';

  // The same model from the frame table of a large graph (#fgframes, docs/dev/svg-contract.md section 5): every frame,
  // in pre-order, as depth, gap from its expected start, weight and entry * 2 + (1 if drawn as an element).
  // Also turns the table's names and entryColors into arrays, in place (they come as strings: see decodeEntries).
  function buildModel(table) {
    decodeEntries(table);
    var vals = numbers(table.frames), n = Math.floor(vals.n / 4), i;
    var sx = new Float64Array(n), sw = new Float64Array(n), parent = new Int32Array(n), end = new Int32Array(n);
    var depth = new Int32Array(n), entry = new Int32Array(n), isEl = new Uint8Array(n);
    var stack = new Int32Array(n + 2), lastEnd = new Float64Array(n + 2), sp = 0, prevDepth = -1, prevStart = 0;
    for (i = 0; i < n; i++) {
      var d = vals.v[4 * i], gap = vals.v[4 * i + 1], w = vals.v[4 * i + 2], code = vals.v[4 * i + 3];
      var x = (d > prevDepth ? prevStart : lastEnd[d]) + gap;
      while (sp > d) end[stack[--sp]] = i; // close the frames this one is not inside
      parent[i] = sp > 0 ? stack[sp - 1] : -1;
      stack[sp++] = i;
      sx[i] = x; sw[i] = w; depth[i] = d; entry[i] = code >> 1; isEl[i] = code & 1;
      lastEnd[d] = x + w; prevDepth = d; prevStart = x;
    }
    while (sp > 0) end[stack[--sp]] = n;
    return {
      n: n, sx: sx, sw: sw, parent: parent, end: end, depth: depth, rects: null, entry: entry, isEl: isEl,
      flags: new Uint8Array(n), names: null, byDepth: null,
    };
  }

  // The frame table, parsed once from its data block: a <script type="application/json"> that the browser parses
  // as text and never compiles (as JavaScript literals, names and numbers took Firefox 50-200 ms during load).
  var parsed;
  function table() {
    if (parsed === undefined) {
      var el = document.getElementById('fgframes');
      parsed = el ? JSON.parse(el.textContent) : null;
    }
    return parsed;
  }

  // The comma-separated numbers of s, decoded with a character loop (no split): 640k of them at 160k frames.
  // Returns { v: a Float64Array with room to spare, n: how many there are }.
  function numbers(s) {
    var len = s.length, vals = new Float64Array(Math.ceil(len / 2) + 4), nv = 0, pos = 0;
    while (pos < len) {
      var v = 0, c = s.charCodeAt(pos), begin = pos, simple = true;
      while (pos < len && c !== 44) { // ','
        if (c >= 48 && c <= 57) v = v * 10 + (c - 48); else simple = false;
        c = s.charCodeAt(++pos);
      }
      vals[nv++] = simple ? v : parseFloat(s.slice(begin, pos));
      pos++;
    }
    return { v: vals, n: nv };
  }

  // The table's names (one string, joined with line feeds) and entryColors (comma-separated) as arrays, once:
  // fewer bytes to parse, and decoded only here.
  function decodeEntries(table) {
    if (typeof table.names === 'string') table.names = table.names.split('\n');
    if (typeof table.entryColors === 'string') {
      var c = numbers(table.entryColors);
      table.entryColors = Array.prototype.slice.call(c.v, 0, c.n);
    }
  }

  // C's printf("%.Nf") for N in 0..3 (ties to even on the exact binary value), as the writer prints numbers.
  function cfixed(v, digits) {
    var text = v.toFixed(digits), scaled = v * [2, 4, 8, 16][digits];
    if (scaled !== Math.floor(scaled) || scaled % 2 === 0) return text;
    var mag = Math.abs(v) * Math.pow(10, digits), low = Math.floor(mag);
    if (mag - low !== 0.5) return text;
    var even = String(low % 2 === 0 ? low : low + 1);
    if (digits > 0) {
      while (even.length < digits + 1) even = '0' + even;
      even = even.slice(0, -digits) + '.' + even.slice(-digits);
    }
    return (v < 0 ? '-' : '') + even;
  }

  // "10.0" -> "10", "13.50" -> "13.5": numbers as the writer prints them in attributes.
  function short(text) {
    if (text.indexOf('.') < 0) return text;
    text = text.replace(/0+$/, '');
    return text.charAt(text.length - 1) === '.' ? text.slice(0, -1) : text;
  }

  function commas(digits) { return /^\d+$/.test(digits) ? digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',') : digits; }

  // A frame's <title> text as the writer prints it: NAME (N COUNTNAME, P%).
  function frameTitle(name, weight, total, factor, countname) {
    var samples = cfixed(weight * factor, 0), pct = cfixed(100 * Number(samples) / (total * factor), 2);
    return name + ' (' + commas(samples) + ' ' + countname + ', ' + pct + '%)';
  }

  // The frame drawn merged under the pointer: its row from y, then by sample position among that row's frames
  // (pre-order lists each row left to right), the nearest within a pixel when the pointer is in a gap.
  // m: the model; x, y: the pointer in image units; y0: the root rect's y; cfg: fgConfig.
  // top: the frame shown full width (the zoomed one; 0 = the root).
  function frameAt(m, x, y, y0, cfg, top) {
    var fh = typeof cfg.frameheight === 'number' ? cfg.frameheight : 16, xpad = typeof cfg.xpad === 'number' ? cfg.xpad : 10;
    var full = (typeof cfg.width === 'number' ? cfg.width : 1200) - 2 * xpad, pt = { x: x, y: y };
    var d = cfg.inverted === true ? Math.floor((pt.y - y0) / fh) : Math.ceil((y0 - pt.y) / fh);
    if (!m.byDepth) m.byDepth = rowsOf(m);
    var row = m.byDepth[d];
    if (!row) return -1;
    top = top || 0;
    var scale = full / m.sw[top], s = m.sx[top] + (pt.x - xpad) / scale, lo = 0, hi = row.length - 1;
    while (lo < hi) { // last frame starting at or before s
      var mid = (lo + hi + 1) >> 1;
      if (m.sx[row[mid]] <= s) lo = mid; else hi = mid - 1;
    }
    var best = -1, bestDist = 1 / scale; // one pixel, in samples
    for (var k = lo; k <= lo + 1 && k < row.length; k++) {
      var j = row[k], dist = s < m.sx[j] ? m.sx[j] - s : Math.max(0, s - m.sx[j] - m.sw[j]);
      if (dist <= bestDist) { best = j; bestDist = dist; }
    }
    return best;
  }

  // frameAt for a pointer event e over the document's root svg.
  function frameUnder(m, e, svg, y0, cfg, top) {
    var ctm = svg.getScreenCTM();
    if (!ctm) return -1;
    var pt = svg.createSVGPoint();
    pt.x = e.clientX; pt.y = e.clientY;
    pt = pt.matrixTransform(ctm.inverse());
    return frameAt(m, pt.x, pt.y, y0, cfg, top);
  }

  // The frames a zoom draws merged (those with neither a label nor an element in the file), as paths in #zoomframes:
  // one per colour, the name's (as frames created on zoom), and #zoommatches for search matches. Square corners:
  // Firefox took 80-200 ms more to parse and fill 4k rounded ones (arcs) than plain rectangles, and a frame too
  // narrow for a label shows little of a 2 px rounding. add() comes in pre-order, so at() can bisect.
  // root: the root's rect (its y and height give every row's).
  function mergedView(m, table, root, cfg) {
    var idx = [], xs = [], ws = [], matches = null;
    var y0 = parseFloat(root.getAttribute('y')), h = root.getAttribute('height');
    var dy = (cfg.inverted === true ? 1 : -1) * (typeof cfg.frameheight === 'number' ? cfg.frameheight : 16);

    function rect(k) {
      var w = r2(ws[k]);
      return 'M' + r2(xs[k]) + ' ' + (y0 + m.depth[idx[k]] * dy) + 'h' + w + 'v' + h + 'h-' + w + 'z';
    }

    function path(d, fill) {
      var p = document.createElementNS('http://www.w3.org/2000/svg', 'path');
      p.setAttribute('class', fill ? 'merged' : 'merged m');
      if (fill) p.setAttribute('fill', fill);
      p.setAttribute('d', d);
      return p;
    }

    return {
      add: function (i, x, w) { idx.push(i); xs.push(x); ws.push(w); },
      // Where frame i is among the added ones, or -1; x(k), w(k): its place (px, as drawn).
      at: function (i) {
        var lo = 0, hi = idx.length - 1;
        while (lo <= hi) {
          var mid = (lo + hi) >> 1;
          if (idx[mid] === i) return mid;
          if (idx[mid] < i) lo = mid + 1; else hi = mid - 1;
        }
        return -1;
      },
      x: function (k) { return r2(xs[k]); },
      w: function (k) { return r2(ws[k]); },
      paths: function () {
        var byColor = {}, out = document.createDocumentFragment(), k, c;
        for (k = 0; k < idx.length; k++) {
          c = table.colors[table.entryColors[m.entry[idx[k]]]];
          (byColor[c] || (byColor[c] = [])).push(rect(k));
        }
        for (c in byColor) out.appendChild(path(byColor[c].join(''), c));
        matches = out.appendChild(path('', null));
        matches.setAttribute('id', 'zoommatches');
        return out;
      },
      // Redraw #zoommatches: the added frames whose m.flags have bit.
      showMatches: function (bit) {
        var d = [];
        for (var k = 0; k < idx.length; k++) if (m.flags[idx[k]] & bit) d.push(rect(k));
        if (matches) matches.setAttribute('d', d.join(''));
      },
    };
  }

  function r2(v) { return String(Math.round(v * 100) / 100); }

  function rowsOf(m) {
    var counts = [], rows = [], at = [], i, d;
    for (i = 0; i < m.n; i++) counts[m.depth[i]] = (counts[m.depth[i]] || 0) + 1;
    for (d = 0; d < counts.length; d++) { rows[d] = new Int32Array(counts[d] || 0); at[d] = 0; }
    for (i = 0; i < m.n; i++) { d = m.depth[i]; rows[d][at[d]++] = i; }
    return rows;
  }

  return {
    table: table, buildModel: buildModel, frameAt: frameAt, frameUnder: frameUnder, frameTitle: frameTitle, cfixed: cfixed, short: short, mergedView: mergedView,
  };
})();
