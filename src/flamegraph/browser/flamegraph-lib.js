/* irisflame flame graph script, part 1 of 2: helpers of flamegraph.js that keep no page state (the frame model,
 * label fitting, the URL state). Embedded just before flamegraph.js in the same <script> (see
 * docs/dev/svg-contract.md). One global, fgLib; nothing here runs until flamegraph.js calls it.
 */
var fgLib = (function () {
  'use strict';
  var SVGNS = 'http://www.w3.org/2000/svg';

  /* ---- model: typed arrays derived from fg:x/fg:w and the pre-order ---- */

  // rects: the frames' <rect>s in document order (pre-order, see docs/dev/svg-contract.md section 2).
  function buildModel(rects) {
    var n = rects.length;
    var sx = new Float64Array(n), sw = new Float64Array(n);
    var parent = new Int32Array(n), end = new Int32Array(n), depth = new Int32Array(n);
    var stack = new Int32Array(n + 1), sp = 0, i, t;
    for (i = 0; i < n; i++) {
      var r = rects[i];
      var x = parseFloat(r.getAttribute('fg:x')), w = parseFloat(r.getAttribute('fg:w'));
      if (!(x >= 0)) x = parseFloat(r.getAttribute('x')); // not our writer: fall back to pixels
      if (!(w >= 0)) w = parseFloat(r.getAttribute('width'));
      sx[i] = x; sw[i] = w;
      var eps = 1e-9 * (w + 1);
      // Pop frames that do not contain this one; what remains on top is its parent.
      while (sp > 0) {
        t = stack[sp - 1];
        if (x >= sx[t] - eps && x + w <= sx[t] + sw[t] + eps) break;
        end[t] = i; sp--;
      }
      parent[i] = sp > 0 ? stack[sp - 1] : -1;
      depth[i] = sp;
      stack[sp++] = i;
    }
    while (sp > 0) end[stack[--sp]] = n;
    return {
      n: n, sx: sx, sw: sw, parent: parent, end: end, depth: depth, rects: rects,
      flags: new Uint8Array(n), names: null,
    };
  }

  /* ---- labels ---- */

  // Advance of each printable ASCII character in the labels' font, measured once (95 text elements, one layout),
  // so fitting a label costs a sum instead of a layout. Other characters count as the widest measured one.
  // (getSubStringLength per character of one long string is not used: Chromium returned shifted widths.)
  function labelFitter(FONTSIZE, FONTWIDTH, LABEL_PAD) {
    var charW = null; // measured advance per ASCII character

    function measure(parent) {
      var est = FONTSIZE * FONTWIDTH, c, k;
      charW = new Float64Array(128).fill(est);
      charW.max = est;
      var g = document.createElementNS(SVGNS, 'g'), texts = [];
      g.setAttribute('visibility', 'hidden');
      for (c = 32; c < 127; c++) {
        var t = document.createElementNS(SVGNS, 'text');
        t.textContent = new Array(11).join(String.fromCharCode(c)); // ten of it, to average rounding
        g.appendChild(t);
        texts.push(t);
      }
      parent.appendChild(g);
      try {
        var max = 0;
        for (k = 0; k < texts.length; k++) {
          var w = texts[k].getComputedTextLength() / 10;
          if (w > 0) { charW[32 + k] = w; if (w > max) max = w; }
        }
        if (max > 0) charW.max = max;
      } catch (e) { /* not rendered (e.g. a hidden iframe): keep the fontwidth estimate */ }
      g.parentNode.removeChild(g);
    }

    function cw(code) { return code < 128 ? charW[code] : charW.max; }

    // The longest prefix of name (plus "..") that fits in a frame of width w; '' below 3 characters' room.
    function fit(name, w) {
      var avail = w - LABEL_PAD - 1;
      if (avail < 3 * charW[46] && avail < 3 * FONTSIZE * FONTWIDTH) return '';
      var total = 0, i, n = name.length;
      for (i = 0; i < n && total <= avail; i++) total += cw(name.charCodeAt(i));
      if (total <= avail) return name;
      var room = avail - 2 * charW[46]; // two dots
      total = 0;
      for (i = 0; i < n; i++) {
        var next = total + cw(name.charCodeAt(i));
        if (next > room) break;
        total = next;
      }
      return i >= 1 ? name.slice(0, i) + '..' : '';
    }
    return { measure: measure, fit: fit, measured: function () { return charW !== null; } };
  }

  /* ---- URL state (?x=&y=&s=&i=), as flamegraph.pl: x and y are the zoomed frame's original rect x and y ---- */

  function getParams() {
    var p = {}, parts = window.location.search.slice(1).split('&');
    for (var k = 0; k < parts.length; k++) {
      var eq = parts[k].indexOf('=');
      if (eq <= 0 || eq === parts[k].length - 1) continue;
      try { p[parts[k].slice(0, eq)] = decodeURIComponent(parts[k].slice(eq + 1)); } catch (e) { /* skip */ }
    }
    return p;
  }

  function setParams(p) {
    var q = [];
    for (var key in p) q.push(key + '=' + encodeURIComponent(p[key]));
    var url = window.location.href.split('?')[0].split('#')[0] + (q.length ? '?' + q.join('&') : '');
    try { window.history.replaceState(null, '', url); } catch (e) { /* some file:// contexts forbid it */ }
  }

  return { buildModel: buildModel, labelFitter: labelFitter, getParams: getParams, setParams: setParams };
})();
