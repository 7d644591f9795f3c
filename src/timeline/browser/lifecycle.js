/*
 * irisflame lifecycle page, part 2: the view. Draws the process lanes, the sample-density strip and the
 * flame graph of the selected time range, and wires the interactions: drag on the strip (or the axis, or
 * between lanes) to select a range, click a process bar to select its lifetime, hover for details, click a
 * frame to zoom, Search / ic / Ctrl-F / F3 / Escape as in the flame-graph SVG, and a Flame graph / Flame
 * chart toggle. Embedded verbatim after lifecycle-model.js; reads `lcData`, calls `lcModel`.
 *
 * The flame graph is rebuilt as one markup string per render (innerHTML), which Chromium parses far faster
 * than it creates the same elements one call at a time.
 */
(function () {
  'use strict';
  var NS = 'http://www.w3.org/2000/svg';
  var D, L, M, svg;
  var st = { from: 0, to: 0, lane: -1, zoom: 0, mode: 'graph', term: null, ignoreCase: false, counted: 0 };
  var escapedNames, matches = null, laneEls = [];
  var api = { lastRenderMs: 0, renders: 0 };
  window.irisflameLifecycle = api;

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
  function plotWidth() { return L.plotRight - L.plotLeft; }
  function xOf(us) { return L.plotLeft + (us / D.span) * plotWidth(); }
  function usOf(x) { return Math.max(0, Math.min(D.span, ((x - L.plotLeft) / plotWidth()) * D.span)); }
  function seconds(us) { return (us / 1e6).toFixed(us < 1e7 ? 3 : 2) + ' s'; }
  function duration(us) { return us < 1e3 ? us + ' µs' : us < 1e6 ? (us / 1e3).toFixed(1) + ' ms' : (us / 1e6).toFixed(3) + ' s'; }
  function withCommas(n) { return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ','); }
  function fit(name, w) {
    var chars = Math.floor((w - 6) / (L.fontSize * L.fontWidth));
    if (chars < 3) return '';
    return name.length <= chars ? name : name.slice(0, chars - 2) + '..';
  }
  function svgPoint(evt) {
    var p = svg.createSVGPoint();
    p.x = evt.clientX; p.y = evt.clientY;
    return p.matrixTransform(svg.getScreenCTM().inverse());
  }

  function start() {
    if (D) return;
    D = window.lcData; L = D.layout; svg = document.documentElement;
    M = lcModel(D);
    escapedNames = D.names.map(esc);
    st.to = D.span;
    drawControls();
    drawAxis();
    drawLanes();
    drawStrip();
    render();
    window.addEventListener('keydown', onKey);
  }

  // ---- controls ---------------------------------------------------------------------------------------
  function button(id, x, label, onClick, parentEl) {
    var b = el('text', { id: id, x: x, y: L.controlsY + 12, class: 'btn', tabindex: 0, role: 'button' }, parentEl, label);
    b.addEventListener('click', onClick);
    b.addEventListener('keydown', function (e) { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); onClick(); } });
    return b;
  }
  function drawControls() {
    var g = byId('controls');
    button('mode-graph', L.xpad, 'Flame graph', function () { setMode('graph'); }, g);
    button('mode-chart', L.xpad + 84, 'Flame chart', function () { setMode('chart'); }, g);
    button('whole', L.xpad + 176, 'Whole recording', function () { select(0, D.span, -1); }, g);
    button('unzoom', L.xpad + 290, 'Reset Zoom', function () { st.zoom = 0; render(); }, g).classList.add('hide');
    el('text', { id: 'range', x: L.plotLeft + 110, y: L.controlsY + 12 }, g, ' ');
    button('search', L.width - L.xpad - 100, 'Search', function () { searchPrompt(); }, g);
    button('ignorecase', L.width - L.xpad - 16, 'ic', function () { st.ignoreCase = !st.ignoreCase; byId('ignorecase').classList.toggle('show', st.ignoreCase); if (st.term) search(st.term); }, g);
    var legend = el('g', { id: 'legend' }, g);
    var x = L.width - L.xpad - 100 - 10 - D.legend.length * 62;
    D.legend.forEach(function (item, k) {
      el('rect', { x: x + k * 62, y: L.controlsY + 3, width: 10, height: 10, fill: item.color, rx: 2, ry: 2 }, legend);
      el('text', { x: x + k * 62 + 13, y: L.controlsY + 12, 'font-size': '11px' }, legend, item.label);
    });
  }
  function setMode(mode) { st.mode = mode; render(); }

  // ---- time axis, lanes, strip -----------------------------------------------------------------------
  function niceStep(raw) {
    var p = Math.pow(10, Math.floor(Math.log10(raw))), m = raw / p;
    return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
  }
  function drawAxis() {
    var g = byId('axis');
    var bottom = L.stripTop + L.stripHeight;
    // Tick positions and labels come from the page data (d3-scale's round steps, computed when written).
    D.axisTicks.forEach(function (tick) {
      var x = r2(xOf(tick.t));
      el('line', { x1: x, x2: x, y1: L.axisY + 2, y2: bottom, class: 'tick' }, g);
      el('text', { x: x, y: L.axisY, class: 'ticklabel' }, g, tick.label);
    });
    var band = el('rect', { id: 'axis-band', x: L.plotLeft, y: L.axisY - 12, width: plotWidth(), height: 16, class: 'brush-area' }, g);
    brushable(band);
  }

  function drawLanes() {
    var g = byId('lanes');
    var back = el('rect', { x: L.plotLeft, y: L.lanesTop, width: plotWidth(), height: D.processes.length * L.laneHeight, class: 'brush-area' }, g);
    brushable(back);
    el('rect', { id: 'lane-band', class: 'band hide', y: L.lanesTop, height: D.processes.length * L.laneHeight }, g);
    D.processes.forEach(function (p, k) {
      var y = L.lanesTop + k * L.laneHeight;
      var lg = el('g', { class: 'lane' + (p.routine ? ' routine' : ''), 'data-lane': k, 'data-pid': p.pid }, g);
      var labelX = L.xpad + Math.min(p.depth, 12) * 10;
      var label = fitChars(p.label, (L.plotLeft - 6 - labelX) / (11 * L.fontWidth));
      el('text', { x: labelX, y: y + L.laneHeight - 4, class: 'lane-label' }, lg, label);
      var x1 = xOf(p.start), x2 = xOf(p.end < 0 ? D.span : p.end);
      var bar = el('rect', { x: r2(x1), y: y + 2, width: r2(Math.max(2, x2 - x1)), height: L.laneHeight - 4, rx: 2, ry: 2, class: 'bar' + (p.end < 0 ? ' running' : '') + (p.before ? ' before' : '') }, lg);
      bar.style.fill = laneColor(p);
      if (p.exec > p.start) el('rect', { x: r2(x1), y: y + 2, width: r2(Math.max(1, xOf(p.exec) - x1)), height: L.laneHeight - 4, class: 'forked' }, lg);
      if (p.exit && p.exit !== 'exit 0') el('circle', { cx: r2(x2), cy: y + L.laneHeight / 2, r: 3, class: 'failed' }, lg);
      lg.addEventListener('mousemove', function (e) { showTip(e, p); });
      lg.addEventListener('mouseleave', hideTip);
      // Click: the lifetime, every process's samples in it. Shift-click: this process's samples only.
      lg.addEventListener('click', function (e) { select(p.start, p.end < 0 ? D.span : p.end, e.shiftKey ? k : -1, k); });
      laneEls.push(lg);
    });
    el('g', { id: 'tip', class: 'hide' }, svg);
  }
  function fitChars(s, chars) { chars = Math.floor(chars); return s.length <= chars ? s : s.slice(0, Math.max(1, chars - 2)) + '..'; }
  function laneColor(p) {
    var h = 0, s = p.routine || p.comm;
    for (var k = 0; k < s.length; k++) h = (h * 31 + s.charCodeAt(k)) >>> 0;
    return p.routine ? 'hsl(' + (200 + (h % 60)) + ',60%,' + (55 + (h % 15)) + '%)' : 'hsl(' + (20 + (h % 30)) + ',45%,' + (60 + (h % 15)) + '%)';
  }

  function showTip(evt, p) {
    var tip = byId('tip');
    var lines = [p.label, 'pid ' + p.pid + (p.ppid >= 0 ? ', ppid ' + p.ppid : '')];
    if (p.argv) {
      var argv = p.argv.join(' ');
      for (var k = 0; k < argv.length && k < 400; k += 90) lines.push((k ? '  ' : 'argv: ') + argv.slice(k, k + 90));
    }
    var end = p.end < 0 ? D.span : p.end;
    lines.push((p.before ? 'before the recording' : seconds(p.start)) + ' → ' + (p.end < 0 ? 'still running' : seconds(p.end)) + ' (' + duration(end - p.start) + ')');
    if (p.exit) lines.push(p.exit);
    lines.push(withCommas(p.samples) + ' CPU samples');
    while (tip.firstChild) tip.removeChild(tip.firstChild);
    var pt = svgPoint(evt);
    var w = 12 + Math.max.apply(null, lines.map(function (s) { return s.length; })) * 11 * L.fontWidth, h = 6 + lines.length * 14;
    var x = Math.min(pt.x + 12, L.width - w - 2), y = pt.y + 16;
    if (y + h > L.height) y = pt.y - h - 6;
    el('rect', { x: r2(x), y: r2(y), width: r2(w), height: h, class: 'tip-box' }, tip);
    lines.forEach(function (s, k) { el('text', { x: r2(x + 6), y: r2(y + 15 + k * 14) }, tip, s); });
    tip.classList.remove('hide');
    details(p.label + ': pid ' + p.pid + ', ' + (p.exit || 'running') + ', ' + withCommas(p.samples) + ' samples');
  }
  function hideTip() { byId('tip').classList.add('hide'); }

  function drawStrip() {
    var g = byId('strip');
    var bins = Math.max(1, Math.floor(plotWidth() / 3));
    var binUs = Math.max(10000, niceStep(D.span / bins));
    var n = Math.ceil((D.span + 1) / binUs), counts = new Int32Array(n), max = 1, k;
    // Busy samples only: the idle task's (pid 0) would fill every bin of a whole-system recording.
    for (k = 0; k < M.samples; k++) {
      if (D.sampleIdle[k]) continue;
      var b = Math.floor(M.time[k] / binUs); counts[b]++; if (counts[b] > max) max = counts[b];
    }
    var d = '', bw = (binUs / D.span) * plotWidth(), bottom = L.stripTop + L.stripHeight;
    for (k = 0; k < n; k++) {
      if (counts[k] === 0) continue;
      var h = (counts[k] / max) * (L.stripHeight - 2), x = xOf(k * binUs);
      d += 'M' + r2(x) + ' ' + r2(bottom) + 'v' + r2(-h) + 'h' + r2(Math.max(0.5, Math.min(bw - 0.5, L.plotRight - x))) + 'v' + r2(h) + 'z';
    }
    var area = el('rect', { x: L.plotLeft, y: L.stripTop, width: plotWidth(), height: L.stripHeight, class: 'strip-back brush-area' }, g);
    el('path', { d: d || 'M0 0', class: 'strip-bars' }, g);
    el('rect', { id: 'selection', y: L.stripTop, height: L.stripHeight, class: 'selection' }, g);
    brushable(area);
    var lost = D.facts.lostEvents;
    var caption = 'busy CPU samples per ' + duration(binUs) + ' · ' + withCommas(M.samples) + ' samples · drag to select a time range; click a process for its lifetime, shift-click for its samples only';
    el('text', { x: L.plotLeft, y: bottom + 14, class: 'caption' }, g, caption);
    var facts = [];
    if (lost > 0) facts.push('perf lost ' + withCommas(lost) + ' events: processes or samples may be missing');
    if (D.facts.badLines > 0) facts.push(D.facts.badLines + ' unreadable event lines');
    if (D.facts.snoopedExecs === 0) facts.push('no argv (exec snooper not run): lanes show comm only');
    el('text', { id: 'facts', x: L.xpad, y: L.stripTop + 12, class: lost > 0 ? 'lost' : 'caption' }, g, facts.join(' · ') || ' ');
    el('text', { id: 'notes', x: L.xpad, y: L.stripTop + 26, class: 'caption' }, g, D.facts.notes.join(' · ').slice(0, 60) || ' ');
  }

  // Drag to select: on the strip, the axis band or the empty space between lanes.
  var drag = null;
  function brushable(target) {
    target.addEventListener('mousedown', function (e) {
      e.preventDefault();
      drag = { x: svgPoint(e).x };
      window.addEventListener('mousemove', onDrag);
      window.addEventListener('mouseup', endDrag);
    });
  }
  function onDrag(e) {
    if (!drag) return;
    var x = svgPoint(e).x;
    showSelection(usOf(Math.min(drag.x, x)), usOf(Math.max(drag.x, x)));
  }
  function endDrag(e) {
    window.removeEventListener('mousemove', onDrag);
    window.removeEventListener('mouseup', endDrag);
    if (!drag) return;
    var x = svgPoint(e).x, x0 = drag.x;
    drag = null;
    if (Math.abs(x - x0) < 3) { select(0, D.span, -1); return; } // a click without a drag: whole recording
    select(Math.round(usOf(Math.min(x0, x))), Math.round(usOf(Math.max(x0, x))), -1);
  }
  function showSelection(from, to) {
    var whole = from <= 0 && to >= D.span;
    var x = r2(xOf(from)), w = r2(Math.max(1, xOf(to) - xOf(from)));
    ['selection', 'lane-band'].forEach(function (id) {
      var r = byId(id);
      r.setAttribute('x', x); r.setAttribute('width', w);
      r.classList.toggle('hide', whole && id === 'lane-band');
    });
  }

  /** Select [from, to] (µs from the start), optionally one lane's samples only; re-render. */
  function select(from, to, onlyLane, selectedLane) {
    st.from = from; st.to = to; st.lane = onlyLane === undefined ? -1 : onlyLane;
    laneEls.forEach(function (g, k) { g.classList.toggle('sel', k === selectedLane); });
    render();
  }
  api.select = select;
  api.state = function () { return { from: st.from, to: st.to, lane: st.lane, mode: st.mode, zoom: st.zoom, samples: st.counted }; };

  // ---- flame graph / chart -----------------------------------------------------------------------------
  function render() {
    var began = performance.now();
    showSelection(st.from, st.to);
    st.counted = M.count(st.from, st.to, st.lane);
    if (st.zoom !== 0 && M.total[st.zoom] <= 0) st.zoom = 0;
    var html = st.mode === 'chart' ? chartMarkup() : graphMarkup();
    byId('flame').innerHTML = html;
    byId('mode-graph').classList.toggle('on', st.mode === 'graph');
    byId('mode-chart').classList.toggle('on', st.mode === 'chart');
    byId('unzoom').classList.toggle('hide', st.zoom === 0 || st.mode === 'chart');
    var range = byId('range');
    range.textContent = seconds(st.from) + ' – ' + seconds(st.to) + ' (' + duration(st.to - st.from) + '): ' + withCommas(st.counted) + ' samples' +
      (st.lane >= 0 ? ' of ' + D.processes[st.lane].label + ' (pid ' + D.processes[st.lane].pid + ') only' : '');
    range.setAttribute('data-lane', st.lane);
    range.setAttribute('data-from-us', st.from);
    range.setAttribute('data-to-us', st.to);
    range.setAttribute('data-t0-us', D.t0);
    range.setAttribute('data-samples', st.counted);
    if (st.term) showMatched();
    api.lastRenderMs = performance.now() - began;
    api.renders++;
  }

  function frameY(depth) { return L.flameTop + (L.flameDepth - 1 - depth) * L.frameHeight; }

  // Frames are drawn as one <path> per fill colour (plus one for search matches and one, faded, for the zoomed
  // frame's ancestors), and a <text> only where a label fits: a few hundred elements however many frames, which
  // keeps a re-render cheap. What was drawn is kept in `drawn` for hit testing, hover and clicks.
  var drawn = [];
  function addFrame(paths, node, x, w, samples, isAncestor, first, last, labels) {
    var nameId = M.nameOf[node], y = frameY(M.depth[node]);
    var isMatch = matches && matches[nameId];
    var key = isAncestor ? D.colors[nameId] + ' parent' : isMatch ? 'match' : D.colors[nameId];
    // A 0.5 px gap on the right keeps neighbours of the same colour apart, as flamegraph.pl's rounded corners do.
    var gap = w > 1.5 ? 0.5 : 0;
    (paths[key] || (paths[key] = [])).push('M' + r2(x) + ' ' + y + 'h' + r2(w - gap) + 'v' + (L.frameHeight - 1) + 'h' + r2(gap - w) + 'z');
    var label = fit(D.names[nameId], w);
    if (label) labels.push('<text x="' + r2(x + 3) + '" y="' + (y + L.frameHeight / 2 + 4) + '">' + esc(label) + '</text>');
    drawn.push({ node: node, x: x, y: y, w: w, samples: samples, parent: isAncestor, match: !!isMatch, first: first, last: last });
  }
  function frameMarkup(paths, labels) {
    var out = [];
    for (var key in paths) {
      var fill = key === 'match' ? 'rgb(230,0,230)' : key.replace(' parent', '');
      out.push('<path class="' + (key.indexOf(' parent') > 0 ? 'parent' : key === 'match' ? 'm' : 'f') + '" fill="' + fill + '" d="' + paths[key].join('') + '"/>');
    }
    return out.join('') + '<g class="labels">' + labels.join('') + '</g><rect id="hover" class="hide" height="' + (L.frameHeight - 1) + '"/>';
  }
  function graphMarkup() {
    var paths = {}, labels = [], width = L.width - 2 * L.xpad;
    drawn = [];
    M.layoutGraph(st.zoom, width, L.minWidth, function (node, x, w, isAncestor) {
      addFrame(paths, node, L.xpad + x, w, M.total[node], isAncestor, -1, -1, labels);
    });
    return frameMarkup(paths, labels);
  }
  function chartMarkup() {
    var paths = {}, labels = [], width = L.width - 2 * L.xpad, px = 0;
    drawn = [];
    M.layoutChart(st.from, st.to, st.lane, function (m) { px = width / m; return px; }, L.minWidth, function (node, first, last, ordinal, count) {
      addFrame(paths, node, L.xpad + ordinal * px, count * px, count, false, M.time[first], M.time[last], labels);
    });
    return frameMarkup(paths, labels);
  }
  api.frames = function () {
    return drawn.map(function (f) {
      return { node: f.node, name: D.names[M.nameOf[f.node]], x: f.x, y: f.y, width: f.w, height: L.frameHeight - 1, samples: f.samples, parent: f.parent, match: f.match };
    });
  };

  /** The drawn frame under an SVG point, if any. */
  function frameAt(pt) {
    for (var k = drawn.length - 1; k >= 0; k--) {
      var f = drawn[k];
      if (pt.y >= f.y && pt.y < f.y + L.frameHeight - 1 && pt.x >= f.x && pt.x < f.x + Math.max(f.w, 0.5)) return f;
    }
    return null;
  }
  function frameText(f) {
    var all = st.mode === 'chart' ? st.counted : M.total[0];
    return D.names[M.nameOf[f.node]] + ' (' + withCommas(f.samples) + ' samples, ' + (all > 0 ? ((100 * f.samples) / all).toFixed(2) : '0.00') + '%)';
  }
  function details(text) { byId('details').textContent = text; }

  function wireFlame() {
    var area = byId('flame-area');
    area.addEventListener('mousemove', function (e) {
      var f = frameAt(svgPoint(e)), hover = byId('hover');
      if (!f) { details(' '); if (hover) hover.classList.add('hide'); area.style.cursor = ''; return; }
      details('Function: ' + frameText(f));
      area.style.cursor = 'pointer';
      if (hover) {
        hover.setAttribute('x', r2(f.x)); hover.setAttribute('y', f.y); hover.setAttribute('width', r2(Math.max(f.w, 0.5)));
        hover.classList.remove('hide');
      }
    });
    area.addEventListener('mouseleave', function () { details(' '); var hover = byId('hover'); if (hover) hover.classList.add('hide'); });
    area.addEventListener('click', function (e) {
      var f = frameAt(svgPoint(e));
      if (!f) return;
      if (st.mode === 'chart') { select(f.first, f.last, st.lane); return; }
      st.zoom = f.node;
      render();
    });
  }

  // ---- search ---------------------------------------------------------------------------------------
  function searchPrompt() {
    var term = window.prompt('Enter a search term (regexp allowed, eg: ^ext4_)' + (st.ignoreCase ? ', ignoring case' : ''), st.term || '');
    if (term !== null) search(term);
  }
  function search(term) {
    if (!term) { clearSearch(); return; }
    var re;
    try { re = new RegExp(term, st.ignoreCase ? 'i' : ''); } catch (err) { return; }
    st.term = term;
    matches = new Uint8Array(D.names.length);
    for (var k = 0; k < D.names.length; k++) matches[k] = re.test(D.names[k]) ? 1 : 0;
    byId('search').classList.add('show');
    byId('search').textContent = 'Reset Search';
    render();
  }
  function clearSearch() {
    st.term = null; matches = null;
    byId('search').classList.remove('show');
    byId('search').textContent = 'Search';
    byId('matched').textContent = ' ';
    render();
  }
  /** Matched share of the zoomed frame's samples, nested matches counted once. */
  function showMatched() {
    var z = st.mode === 'chart' ? 0 : st.zoom, sum = 0, base = M.total[z];
    var visit = function (node, x, w, isAncestor) {
      if (isAncestor || !matches[M.nameOf[node]]) return;
      for (var a = M.parent[node]; a >= 0 && a !== M.parent[z]; a = M.parent[a]) if (matches[M.nameOf[a]]) return;
      sum += M.total[node];
    };
    M.layoutGraph(z, 1, 0, visit);
    byId('matched').textContent = 'Matched: ' + (base > 0 ? ((100 * sum) / base).toFixed(1) : '0.0') + '%';
  }

  function onKey(e) {
    if ((e.ctrlKey || e.metaKey) && e.key === 'f' || e.key === 'F3') { e.preventDefault(); searchPrompt(); }
    else if (e.key === 'Escape') { if (st.term) clearSearch(); }
  }

  function boot() { start(); wireFlame(); }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot);
  else boot();
})();
