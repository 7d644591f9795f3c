/*
 * irisflame lifecycle page, part 2: helpers that keep no page state (element creation, escaping, number and
 * time formats, interval overlap). Embedded verbatim after lifecycle-model.js; defines `lcLib`.
 */
var lcLib = (function () {
  'use strict';
  var NS = 'http://www.w3.org/2000/svg';
  var XHTML = 'http://www.w3.org/1999/xhtml';

  function el(name, attrs, parentEl, text) {
    var e = document.createElementNS(NS, name);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    if (parentEl) parentEl.appendChild(e);
    return e;
  }
  function byId(id) { return document.getElementById(id); }
  function esc(s) { return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;'); }
  function r2(v) { return Math.round(v * 100) / 100; }
  function seconds(us) { return (us / 1e6).toFixed(us < 1e7 ? 3 : 2) + ' s'; }
  function duration(us) { return us < 1e3 ? Math.round(us) + ' µs' : us < 1e6 ? (us / 1e3).toFixed(1) + ' ms' : (us / 1e6).toFixed(3) + ' s'; }
  function withCommas(n) {
    var parts = String(n).split('.');
    return parts[0].replace(/\B(?=(\d{3})+(?!\d))/g, ',') + (parts.length > 1 ? '.' + parts[1] : '');
  }
  /** Microseconds as milliseconds with one decimal: the unit of every off-CPU and wall-clock figure. */
  function ms(us) { return withCommas((us / 1e3).toFixed(1)); }
  function fitChars(s, chars) { chars = Math.floor(chars); return s.length <= chars ? s : s.slice(0, Math.max(1, chars - 2)) + '..'; }
  /** Length of [a1, a2] ∩ [b1, b2], 0 when they do not meet. */
  function overlap(a1, a2, b1, b2) { var lo = a1 > b1 ? a1 : b1, hi = a2 < b2 ? a2 : b2; return hi > lo ? hi - lo : 0; }
  function svgPoint(svg, evt) {
    var p = svg.createSVGPoint();
    p.x = evt.clientX; p.y = evt.clientY;
    return p.matrixTransform(svg.getScreenCTM().inverse());
  }
  /**
   * Show `full` in text element `t`, cut with an ellipsis to `maxWidth` px (measured, not estimated); the
   * whole text stays in a tooltip and in data-full.
   */
  function fitText(t, full, maxWidth) {
    t.textContent = full;
    t.setAttribute('data-full', full);
    if (t.getComputedTextLength() > maxWidth) {
      var lo = 1, hi = full.length - 1;
      while (lo < hi) { // the longest prefix that fits with its ellipsis
        var mid = Math.ceil((lo + hi) / 2);
        t.textContent = full.slice(0, mid) + '…';
        if (t.getComputedTextLength() <= maxWidth) lo = mid; else hi = mid - 1;
      }
      t.textContent = full.slice(0, lo) + '…';
    }
    el('title', {}, t, full);
  }
  /** A text that works as a button (click, Enter, Space). */
  function button(id, x, y, label, onClick, parentEl) {
    var b = el('text', { id: id, x: x, y: y, class: 'btn', tabindex: 0, role: 'button' }, parentEl, label);
    b.addEventListener('click', onClick);
    b.addEventListener('keydown', function (e) { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); onClick(); } });
    return b;
  }
  /** Swatches with labels in a row from x; returns the x after the last. */
  function legendRow(items, x, y, parentEl) {
    items.forEach(function (item) {
      var swatch = el('rect', { x: x, y: y - 9, width: 10, height: 10, fill: item.color, rx: 2, ry: 2 }, parentEl);
      if (item.stroke) { swatch.setAttribute('stroke', item.stroke); swatch.setAttribute('stroke-width', 1.5); }
      el('text', { x: x + 13, y: y, 'font-size': '11px' }, parentEl, item.label);
      x += 13 + item.label.length * 6.3 + 12;
    });
    return x;
  }

  return {
    NS: NS, XHTML: XHTML, el: el, byId: byId, esc: esc, r2: r2, seconds: seconds, duration: duration,
    withCommas: withCommas, ms: ms, fitChars: fitChars, overlap: overlap, svgPoint: svgPoint, button: button,
    legendRow: legendRow, fitText: fitText,
  };
})();
