/*
 * irisflame lifecycle page, part 3: the time axis, the process lanes (bars, hover tip, click / shift-click),
 * the sample-density strip and range selection by dragging. Embedded after lifecycle-lib.js; defines
 * `lcLanes(ctx)`, called once by lifecycle.js with the page context (data, layout, model, state, select).
 * What off-CPU data adds to the lanes (states, file ticks, critical path) is lifecycle-offcpu.js's.
 */
var lcLanes = function (ctx) {
  'use strict';
  var lib = lcLib, el = lib.el, byId = lib.byId, r2 = lib.r2;
  var D = ctx.D, L = ctx.L, M = ctx.M;
  var laneEls = [];

  function niceStep(raw) {
    var p = Math.pow(10, Math.floor(Math.log10(raw))), m = raw / p;
    return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
  }
  function drawAxis() {
    var g = byId('axis');
    var bottom = L.stripTop + L.stripHeight;
    // Tick positions and labels come from the page data (d3-scale's round steps, computed when written).
    D.axisTicks.forEach(function (tick) {
      var x = r2(ctx.xOf(tick.t));
      el('line', { x1: x, x2: x, y1: L.axisY + 2, y2: bottom, class: 'tick' }, g);
      el('text', { x: x, y: L.axisY, class: 'ticklabel' }, g, tick.label);
    });
    var band = el('rect', { id: 'axis-band', x: L.plotLeft, y: L.axisY - 12, width: ctx.plotWidth(), height: 16, class: 'brush-area' }, g);
    brushable(band);
  }

  function drawLanes() {
    var g = byId('lanes');
    var back = el('rect', { x: L.plotLeft, y: L.lanesTop, width: ctx.plotWidth(), height: D.processes.length * L.laneHeight, class: 'brush-area' }, g);
    brushable(back);
    el('rect', { id: 'lane-band', class: 'band hide', y: L.lanesTop, height: D.processes.length * L.laneHeight }, g);
    var states = ctx.hasOffCpu;
    // With off-CPU data the bar sits low in the lane, leaving room above it for file ticks.
    var barTop = states ? 5 : 2, barHeight = L.laneHeight - (states ? 7 : 4);
    D.processes.forEach(function (p, k) {
      var y = L.lanesTop + k * L.laneHeight;
      var lg = el('g', { class: 'lane' + (p.routine ? ' routine' : ''), 'data-lane': k, 'data-pid': p.pid }, g);
      var labelX = L.xpad + Math.min(p.depth, 12) * 10;
      var label = lib.fitChars(p.label, (L.plotLeft - 6 - labelX) / (11 * L.fontWidth));
      el('text', { x: labelX, y: y + L.laneHeight - 4, class: 'lane-label' }, lg, label);
      var x1 = ctx.xOf(p.start), x2 = ctx.xOf(p.end < 0 ? D.span : p.end);
      var bar = el('rect', { x: r2(x1), y: y + barTop, width: r2(Math.max(2, x2 - x1)), height: barHeight, rx: 2, ry: 2, class: 'bar' + (p.end < 0 ? ' running' : '') + (p.before ? ' before' : '') + (states ? ' states' : '') }, lg);
      if (!states) bar.style.fill = laneColor(p);
      if (p.exec > p.start) el('rect', { x: r2(x1), y: y + barTop, width: r2(Math.max(1, ctx.xOf(p.exec) - x1)), height: barHeight, class: 'forked' }, lg);
      if (p.exit && p.exit !== 'exit 0') el('circle', { cx: r2(x2), cy: y + barTop + barHeight / 2, r: 3, class: 'failed' }, lg);
      lg.addEventListener('mousemove', function (e) { showTip(e, p, k); });
      lg.addEventListener('mouseleave', hideTip);
      // Click: the lifetime, every process's samples in it. Shift-click: this process's samples only.
      lg.addEventListener('click', function (e) { ctx.select(p.start, p.end < 0 ? D.span : p.end, e.shiftKey ? k : -1, k); });
      laneEls.push(lg);
    });
    el('g', { id: 'tip', class: 'hide' }, ctx.svg);
    return { barTop: barTop, barHeight: barHeight };
  }
  function laneColor(p) {
    var h = 0, s = p.routine || p.comm;
    for (var k = 0; k < s.length; k++) h = (h * 31 + s.charCodeAt(k)) >>> 0;
    return p.routine ? 'hsl(' + (200 + (h % 60)) + ',60%,' + (55 + (h % 15)) + '%)' : 'hsl(' + (20 + (h % 30)) + ',45%,' + (60 + (h % 15)) + '%)';
  }

  function showTip(evt, p, k) {
    var tip = byId('tip');
    var lines = [p.label, 'pid ' + p.pid + (p.ppid >= 0 ? ', ppid ' + p.ppid : '')];
    if (p.argv) {
      var argv = p.argv.join(' ');
      for (var a = 0; a < argv.length && a < 400; a += 90) lines.push((a ? '  ' : 'argv: ') + argv.slice(a, a + 90));
    }
    var end = p.end < 0 ? D.span : p.end;
    lines.push((p.before ? 'before the recording' : lib.seconds(p.start)) + ' → ' + (p.end < 0 ? 'still running' : lib.seconds(p.end)) + ' (' + lib.duration(end - p.start) + ')');
    if (p.exit) lines.push(p.exit);
    lines.push(lib.withCommas(p.samples) + ' CPU samples');
    if (ctx.tipLines) lines = lines.concat(ctx.tipLines(k));
    while (tip.firstChild) tip.removeChild(tip.firstChild);
    var pt = lib.svgPoint(ctx.svg, evt);
    var w = 12 + Math.max.apply(null, lines.map(function (s) { return s.length; })) * 11 * L.fontWidth, h = 6 + lines.length * 14;
    var x = Math.min(pt.x + 12, L.width - w - 2), y = pt.y + 16;
    if (y + h > L.height) y = pt.y - h - 6;
    el('rect', { x: r2(x), y: r2(y), width: r2(w), height: h, class: 'tip-box' }, tip);
    lines.forEach(function (s, n) { el('text', { x: r2(x + 6), y: r2(y + 15 + n * 14) }, tip, s); });
    tip.classList.remove('hide');
    ctx.details(p.label + ': pid ' + p.pid + ', ' + (p.exit || 'running') + ', ' + lib.withCommas(p.samples) + ' samples');
  }
  function hideTip() { byId('tip').classList.add('hide'); }

  function drawStrip() {
    var g = byId('strip');
    var bins = Math.max(1, Math.floor(ctx.plotWidth() / 3));
    var binUs = Math.max(10000, niceStep(D.span / bins));
    var n = Math.ceil((D.span + 1) / binUs), counts = new Int32Array(n), max = 1, k;
    // Busy samples only: the idle task's (pid 0) would fill every bin of a whole-system recording.
    for (k = 0; k < M.samples; k++) {
      if (D.sampleIdle[k]) continue;
      var b = Math.floor(M.time[k] / binUs); counts[b]++; if (counts[b] > max) max = counts[b];
    }
    var d = '', bw = (binUs / D.span) * ctx.plotWidth(), bottom = L.stripTop + L.stripHeight;
    for (k = 0; k < n; k++) {
      if (counts[k] === 0) continue;
      var h = (counts[k] / max) * (L.stripHeight - 2), x = ctx.xOf(k * binUs);
      d += 'M' + r2(x) + ' ' + r2(bottom) + 'v' + r2(-h) + 'h' + r2(Math.max(0.5, Math.min(bw - 0.5, L.plotRight - x))) + 'v' + r2(h) + 'z';
    }
    var area = el('rect', { x: L.plotLeft, y: L.stripTop, width: ctx.plotWidth(), height: L.stripHeight, class: 'strip-back brush-area' }, g);
    el('path', { d: d || 'M0 0', class: 'strip-bars' }, g);
    el('rect', { id: 'selection', y: L.stripTop, height: L.stripHeight, class: 'selection' }, g);
    brushable(area);
    var lost = D.facts.lostEvents;
    var caption = 'busy CPU samples per ' + lib.duration(binUs) + ' · ' + lib.withCommas(M.samples) + ' samples · drag to select a time range; click a process for its lifetime, shift-click for its samples only';
    el('text', { x: L.plotLeft, y: bottom + 14, class: 'caption' }, g, caption);
    var facts = [];
    if (lost > 0) facts.push('perf lost ' + lib.withCommas(lost) + ' events: processes or samples may be missing');
    if (D.offCpu.lost > 0) facts.push('bpftrace lost ' + lib.withCommas(D.offCpu.lost) + ' off-CPU/file events');
    if (D.facts.badLines > 0) facts.push(D.facts.badLines + ' unreadable event lines');
    if (D.facts.snoopedExecs === 0) facts.push('no argv (exec snooper not run): lanes show comm only');
    el('text', { id: 'facts', x: L.xpad, y: L.stripTop + 12, class: lost > 0 || D.offCpu.lost > 0 ? 'lost' : 'caption' }, g, facts.join(' · ') || ' ');
    el('text', { id: 'notes', x: L.xpad, y: L.stripTop + 26, class: 'caption' }, g, D.facts.notes.join(' · ').slice(0, 60) || ' ');
    if (!ctx.hasBlocked) {
      var note = el('text', { id: 'offcpu-note', x: L.xpad, y: L.stripTop + 40, class: 'caption' }, g, lib.fitChars('no off-CPU data: ' + D.offCpu.unavailable, (L.plotLeft - L.xpad - 4) / (11 * L.fontWidth)));
      el('title', {}, note, 'no off-CPU data: ' + D.offCpu.unavailable);
    }
  }

  // Drag to select: on the strip, the axis band or the empty space between lanes.
  var drag = null;
  function brushable(target) {
    target.addEventListener('mousedown', function (e) {
      e.preventDefault();
      drag = { x: lib.svgPoint(ctx.svg, e).x };
      window.addEventListener('mousemove', onDrag);
      window.addEventListener('mouseup', endDrag);
    });
  }
  function onDrag(e) {
    if (!drag) return;
    var x = lib.svgPoint(ctx.svg, e).x;
    showSelection(ctx.usOf(Math.min(drag.x, x)), ctx.usOf(Math.max(drag.x, x)));
  }
  function endDrag(e) {
    window.removeEventListener('mousemove', onDrag);
    window.removeEventListener('mouseup', endDrag);
    if (!drag) return;
    var x = lib.svgPoint(ctx.svg, e).x, x0 = drag.x;
    drag = null;
    if (Math.abs(x - x0) < 3) { ctx.select(0, D.span, -1); return; } // a click without a drag: whole recording
    ctx.select(Math.round(ctx.usOf(Math.min(x0, x))), Math.round(ctx.usOf(Math.max(x0, x))), -1);
  }
  function showSelection(from, to) {
    var whole = from <= 0 && to >= D.span;
    var x = r2(ctx.xOf(from)), w = r2(Math.max(1, ctx.xOf(to) - ctx.xOf(from)));
    ['selection', 'lane-band'].forEach(function (id) {
      var r = byId(id);
      r.setAttribute('x', x); r.setAttribute('width', w);
      r.classList.toggle('hide', whole && id === 'lane-band');
    });
  }
  function markSelected(selectedLane) {
    laneEls.forEach(function (g, k) { g.classList.toggle('sel', k === selectedLane); });
  }

  drawAxis();
  var bar = drawLanes();
  drawStrip();
  return { showSelection: showSelection, markSelected: markSelected, barTop: bar.barTop, barHeight: bar.barHeight };
};
