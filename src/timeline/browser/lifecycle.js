/*
 * irisflame lifecycle page, part 7 (last): the page. Builds the shared context the other parts work on
 * (data, layout, model, state), draws the controls, and renders a selection: drag on the strip (or the axis,
 * or between lanes) to select a range, click a process bar for its lifetime (shift-click: its samples only),
 * Flame graph / Flame chart, CPU / Off-CPU / Wall clock, Search / ic / Ctrl-F / F3 / Escape as in the
 * flame-graph SVG. Embedded verbatim after the other parts; reads `lcData`.
 */
(function () {
  'use strict';
  var lib = lcLib, el = lib.el, byId = lib.byId;
  var api = { lastRenderMs: 0, renders: 0 };
  window.irisflameLifecycle = api;
  var ctx = null, lanes, flame, offcpu, tables;

  function start() {
    if (ctx) return;
    var D = window.lcData, L = D.layout;
    var st = { from: 0, to: D.span, lane: -1, zoom: 0, mode: 'graph', fmode: 'cpu', term: null, re: null, ignoreCase: false, counted: 0 };
    ctx = {
      D: D, L: L, M: lcModel(D), svg: document.documentElement, st: st, api: api, matches: null,
      // The tracer's data: blocked time and file events can each be absent (--no-off-cpu, --no-files).
      hasOffCpu: D.offCpu.unavailable === '' || D.offCpu.filesUnavailable === '',
      hasBlocked: D.offCpu.unavailable === '',
      plotWidth: function () { return L.plotRight - L.plotLeft; },
      xOf: function (us) { return L.plotLeft + (us / D.span) * (L.plotRight - L.plotLeft); },
      usOf: function (x) { return Math.max(0, Math.min(D.span, ((x - L.plotLeft) / (L.plotRight - L.plotLeft)) * D.span)); },
      details: function (text) { byId('details').textContent = text; },
      select: select,
      render: render,
    };
    drawControls();
    offcpu = lcOffCpu(ctx); // before the lanes: it gives them their hover totals
    lanes = lcLanes(ctx);
    offcpu.draw(lanes);
    flame = lcFlame(ctx);
    tables = lcTables(ctx);
    render();
    window.addEventListener('keydown', onKey);
  }

  function drawControls() {
    var D = ctx.D, L = ctx.L, st = ctx.st, g = byId('controls'), y = L.controlsY + 12;
    ['title', 'subtitle'].forEach(function (id) { var t = byId(id); if (t) lib.fitText(t, t.textContent, L.width - 2 * L.xpad); });
    lib.button('mode-graph', L.xpad, y, 'Flame graph', function () { setMode('graph'); }, g);
    lib.button('mode-chart', L.xpad + 92, y, 'Flame chart', function () { setMode('chart'); }, g);
    lib.button('whole', L.xpad + 184, y, 'Whole recording', function () { select(0, D.span, -1); }, g);
    lib.button('unzoom', L.xpad + 298, y, 'Reset Zoom', function () { st.zoom = 0; render(); }, g).classList.add('hide');
    el('text', { id: 'range', x: L.xpad, y: L.rangeY + 12 }, g, ' ');
    lib.button('search', L.width - L.xpad - 100, y, 'Search', function () { flame.searchPrompt(); }, g);
    lib.button('ignorecase', L.width - L.xpad - 16, y, 'ic', function () {
      st.ignoreCase = !st.ignoreCase;
      byId('ignorecase').classList.toggle('show', st.ignoreCase);
      if (st.term) flame.search(st.term);
    }, g);
    var legend = el('g', { id: 'legend' }, g);
    var x = L.width - L.xpad - 100 - 10 - D.legend.length * 62;
    D.legend.forEach(function (item, k) {
      el('rect', { x: x + k * 62, y: L.controlsY + 3, width: 10, height: 10, fill: item.color, rx: 2, ry: 2 }, legend);
      el('text', { x: x + k * 62 + 13, y: y, 'font-size': '11px' }, legend, item.label);
    });
    if (!ctx.hasBlocked) return;
    // What the flame graph weighs: CPU samples, blocked ms, or both in ms (where each lifetime went).
    var my = L.modesY + 12;
    el('text', { x: L.xpad, y: my, class: 'caption' }, g, 'Weigh by:');
    lib.button('mode-cpu', L.xpad + 62, my, 'CPU', function () { setFlameMode('cpu'); }, g);
    lib.button('mode-off', L.xpad + 100, my, 'Off-CPU', function () { setFlameMode('off'); }, g);
    lib.button('mode-wall', L.xpad + 162, my, 'Wall clock', function () { setFlameMode('wall'); }, g);
  }
  function setMode(mode) { ctx.st.mode = mode; if (mode === 'chart') ctx.st.fmode = 'cpu'; render(); }
  /** Off-CPU and wall-clock time have no sample order: they are drawn as a flame graph. */
  function setFlameMode(fmode) { var st = ctx.st; st.fmode = fmode; st.zoom = 0; if (fmode !== 'cpu') st.mode = 'graph'; render(); }

  /** Select [from, to] (µs from the start), optionally one lane's samples only; re-render. */
  function select(from, to, onlyLane, selectedLane) {
    var st = ctx.st;
    st.from = from; st.to = to; st.lane = onlyLane === undefined ? -1 : onlyLane;
    lanes.markSelected(selectedLane);
    render();
  }
  api.select = function (from, to, onlyLane, selectedLane) { select(from, to, onlyLane, selectedLane); };
  api.state = function () {
    var st = ctx.st;
    return { from: st.from, to: st.to, lane: st.lane, mode: st.mode, flameMode: st.fmode, zoom: st.zoom, samples: st.counted };
  };

  function render() {
    var began = performance.now(), D = ctx.D, M = ctx.M, st = ctx.st;
    lanes.showSelection(st.from, st.to);
    st.counted = M.count(st.from, st.to, st.lane, st.mode === 'chart' ? 'cpu' : st.fmode);
    if (st.zoom !== 0 && M.total[st.zoom] <= 0) st.zoom = 0;
    flame.draw();
    byId('mode-graph').classList.toggle('on', st.mode === 'graph');
    byId('mode-chart').classList.toggle('on', st.mode === 'chart');
    ['cpu', 'off', 'wall'].forEach(function (m) { var b = byId('mode-' + m); if (b) b.classList.toggle('on', st.fmode === m); });
    byId('unzoom').classList.toggle('hide', st.zoom === 0 || st.mode === 'chart');
    var range = byId('range'), c = M.counted, unit = flame.inMs() ? 'ms' : 'samples';
    var total = st.mode === 'chart' || st.fmode === 'cpu' ? c.samples : (st.fmode === 'off' ? c.blockedUs : c.cpuUs + c.blockedUs) / 1e3;
    var what = unit === 'samples' ? lib.withCommas(c.samples) + ' samples'
      : st.fmode === 'off' ? lib.ms(c.blockedUs) + ' ms blocked'
        : lib.ms(c.cpuUs + c.blockedUs) + ' ms (CPU ' + lib.ms(c.cpuUs) + ' ms = ' + lib.withCommas(c.samples) + ' samples at ' + D.offCpu.frequency + ' Hz, blocked ' + lib.ms(c.blockedUs) + ' ms)';
    lib.fitText(range, 'Selected: ' + lib.seconds(st.from) + ' – ' + lib.seconds(st.to) + ' (' + lib.duration(st.to - st.from) + '): ' + what +
      (st.lane >= 0 ? ' of ' + D.processes[st.lane].label + ' (pid ' + D.processes[st.lane].pid + ') only' : ''), ctx.L.plotRight - ctx.L.xpad);
    range.setAttribute('data-lane', st.lane);
    range.setAttribute('data-from-us', st.from);
    range.setAttribute('data-to-us', st.to);
    range.setAttribute('data-t0-us', D.t0);
    range.setAttribute('data-samples', c.samples);
    range.setAttribute('data-mode', st.mode === 'chart' ? 'cpu' : st.fmode);
    range.setAttribute('data-unit', unit);
    range.setAttribute('data-total', Math.round(total * 1e3) / 1e3);
    scheduleTables();
    offcpu.update();
    api.lastRenderMs = performance.now() - began;
    api.renders++;
  }

  // The range's tables (hundreds of HTML rows) are laid out after the flame graph has painted: on a busy
  // capture they cost more than the graph (bench/timeline.mjs, off-CPU run). Selections in between coalesce.
  var tablesPending = false;
  function scheduleTables() {
    if (api.renders === 0) { tables.update(); return; }
    if (tablesPending) return;
    tablesPending = true;
    requestAnimationFrame(function () { setTimeout(function () { tablesPending = false; tables.update(); }, 0); });
  }

  function onKey(e) {
    if ((e.ctrlKey || e.metaKey) && e.key === 'f' || e.key === 'F3') { e.preventDefault(); flame.searchPrompt(); }
    else if (e.key === 'Escape') { if (ctx.st.term) flame.clearSearch(); }
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
