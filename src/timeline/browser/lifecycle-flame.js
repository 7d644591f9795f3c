/*
 * irisflame lifecycle page, part 4: the flame graph (or flame chart) of the selected range, its hover, zoom
 * and search. Embedded after lifecycle-lanes.js; defines `lcFlame(ctx)`.
 *
 * The graph is rebuilt as one markup string per render (innerHTML), which Chromium parses far faster than
 * it creates the same elements one call at a time. Frames are drawn as one <path> per fill colour (plus one
 * for search matches and one, faded, for the zoomed frame's ancestors), and a <text> only where a label
 * fits: a few hundred elements however many frames. What was drawn is kept in `drawn` for hit testing.
 */
var lcFlame = function (ctx) {
  'use strict';
  var lib = lcLib, byId = lib.byId, esc = lib.esc, r2 = lib.r2;
  var D = ctx.D, L = ctx.L, M = ctx.M, st = ctx.st;
  var drawn = [];

  function fit(name, w) {
    var chars = Math.floor((w - 6) / (L.fontSize * L.fontWidth));
    if (chars < 3) return '';
    return name.length <= chars ? name : name.slice(0, chars - 2) + '..';
  }
  function frameY(depth) { return L.flameTop + (L.flameDepth - 1 - depth) * L.frameHeight; }

  function addFrame(paths, node, x, w, value, isAncestor, first, last, labels) {
    var nameId = M.nameOf[node], y = frameY(M.depth[node]);
    var isMatch = ctx.matches && ctx.matches[nameId];
    var key = isAncestor ? D.colors[nameId] + ' parent' : isMatch ? 'match' : D.colors[nameId];
    // A 0.5 px gap on the right keeps neighbours of the same colour apart, as flamegraph.pl's rounded corners do.
    var gap = w > 1.5 ? 0.5 : 0;
    (paths[key] || (paths[key] = [])).push('M' + r2(x) + ' ' + y + 'h' + r2(w - gap) + 'v' + (L.frameHeight - 1) + 'h' + r2(gap - w) + 'z');
    var label = fit(D.names[nameId], w);
    if (label) labels.push('<text x="' + r2(x + 3) + '" y="' + (y + L.frameHeight / 2 + 4) + '">' + esc(label) + '</text>');
    drawn.push({ node: node, x: x, y: y, w: w, value: value, parent: isAncestor, match: !!isMatch, first: first, last: last });
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
  function draw() {
    byId('flame').innerHTML = st.mode === 'chart' ? chartMarkup() : graphMarkup();
    if (st.term) showMatched();
  }

  /** The unit of a frame's value: samples in the CPU graph and the chart, milliseconds otherwise. */
  function inMs() { return st.fmode !== 'cpu' && st.mode !== 'chart'; }
  function valueText(value) { return inMs() ? lib.ms(value) + ' ms' : lib.withCommas(value) + ' samples'; }

  function frameAt(pt) {
    for (var k = drawn.length - 1; k >= 0; k--) {
      var f = drawn[k];
      if (pt.y >= f.y && pt.y < f.y + L.frameHeight - 1 && pt.x >= f.x && pt.x < f.x + Math.max(f.w, 0.5)) return f;
    }
    return null;
  }
  function frameText(f) {
    var all = st.mode === 'chart' ? st.counted : M.total[0];
    var nameId = M.nameOf[f.node], reason = D.nameReason[nameId];
    var what = reason >= 0 ? 'blocked, ' + D.offCpu.reasons[reason].label + ': ' : '';
    return D.names[nameId] + ' (' + what + valueText(f.value) + ', ' + (all > 0 ? ((100 * f.value) / all).toFixed(2) : '0.00') + '%)';
  }

  function wire() {
    var area = byId('flame-area');
    area.addEventListener('mousemove', function (e) {
      var f = frameAt(lib.svgPoint(ctx.svg, e)), hover = byId('hover');
      if (!f) { ctx.details(' '); if (hover) hover.classList.add('hide'); area.style.cursor = ''; return; }
      ctx.details('Function: ' + frameText(f));
      area.style.cursor = 'pointer';
      if (hover) {
        hover.setAttribute('x', r2(f.x)); hover.setAttribute('y', f.y); hover.setAttribute('width', r2(Math.max(f.w, 0.5)));
        hover.classList.remove('hide');
      }
    });
    area.addEventListener('mouseleave', function () { ctx.details(' '); var hover = byId('hover'); if (hover) hover.classList.add('hide'); });
    area.addEventListener('click', function (e) {
      var f = frameAt(lib.svgPoint(ctx.svg, e));
      if (!f) return;
      if (st.mode === 'chart') { ctx.select(f.first, f.last, st.lane); return; }
      st.zoom = f.node;
      ctx.render();
    });
  }

  // ---- search: frame names here; lifecycle-tables.js matches file paths with the same expression ----------
  function searchPrompt() {
    var term = window.prompt('Enter a search term (regexp allowed, eg: ^ext4_)' + (st.ignoreCase ? ', ignoring case' : ''), st.term || '');
    if (term !== null) search(term);
  }
  function search(term) {
    if (!term) { clearSearch(); return; }
    var re;
    try { re = new RegExp(term, st.ignoreCase ? 'i' : ''); } catch (err) { return; }
    st.term = term; st.re = re;
    ctx.matches = new Uint8Array(D.names.length);
    for (var k = 0; k < D.names.length; k++) ctx.matches[k] = re.test(D.names[k]) ? 1 : 0;
    byId('search').classList.add('show');
    byId('search').textContent = 'Reset Search';
    ctx.render();
  }
  function clearSearch() {
    st.term = null; st.re = null; ctx.matches = null;
    byId('search').classList.remove('show');
    byId('search').textContent = 'Search';
    byId('matched').textContent = ' ';
    ctx.render();
  }
  /** Matched share of the zoomed frame's value, nested matches counted once; plus matching file paths. */
  function showMatched() {
    var z = st.mode === 'chart' ? 0 : st.zoom, sum = 0, base = M.total[z], matches = ctx.matches;
    M.layoutGraph(z, 1, 0, function (node, x, w, isAncestor) {
      if (isAncestor || !matches[M.nameOf[node]]) return;
      for (var a = M.parent[node]; a >= 0 && a !== M.parent[z]; a = M.parent[a]) if (matches[M.nameOf[a]]) return;
      sum += M.total[node];
    });
    var files = ctx.matchedFiles ? ctx.matchedFiles() : 0;
    byId('matched').textContent = 'Matched: ' + (base > 0 ? ((100 * sum) / base).toFixed(1) : '0.0') + '%' + (files > 0 ? ' · ' + files + ' files' : '');
  }

  ctx.api.frames = function () {
    return drawn.map(function (f) {
      var value = inMs() ? Math.round(f.value) / 1e3 : f.value;
      return {
        node: f.node, name: D.names[M.nameOf[f.node]], x: f.x, y: f.y, width: f.w, height: L.frameHeight - 1,
        samples: inMs() ? -1 : f.value, value: value, unit: inMs() ? 'ms' : 'samples', parent: f.parent, match: f.match,
        reason: D.nameReason[M.nameOf[f.node]] >= 0 ? D.offCpu.reasons[D.nameReason[M.nameOf[f.node]]].key : null,
      };
    });
  };
  wire();
  return { draw: draw, searchPrompt: searchPrompt, search: search, clearSearch: clearSearch, valueText: valueText, inMs: inMs };
};
