/* irisflame flame graph: the SVG's interactive behaviour (hover, zoom, search, URL state, keyboard). Part 2 of 2:
 * embedded verbatim by the SVG writer right after flamegraph-lib.js (fgLib: model, label fitting, URL parameters),
 * in the same <script>; the markup it relies on is specified in docs/dev/svg-contract.md.
 * Plain browser JavaScript: no modules, no network, runs from file:// in Chromium, Firefox and Safari.
 * One file over 400 lines on purpose: its handlers share the closure's state (model, zoom, search, URL), and
 * cutting the closure across files leaves fragments that are not JavaScript alone (tried; not kept).
 *
 * Why it stays fast on 150k-frame graphs (flamegraph.pl's script walks and rewrites every frame, measuring text):
 * - In Chromium, any change anywhere in a huge SVG repaints all of it (measured at 150k frames: changing the
 *   #details text alone cost 0.5-1 s). So #frames is moved, while the document is still being parsed, into an
 *   inner <svg> inside a <foreignObject>: that gives it a paint layer of its own, painted once and then reused
 *   (the same text change: about one frame). After load nothing inside #frames is ever modified: zoom, search
 *   highlights and the hover outline are drawn in a second foreignObject above it (#overlaybox).
 * - Frames come in pre-order with sample-unit fg:x/fg:w, so one pass with a stack yields parent, depth and the
 *   subtree of every frame as a contiguous index range [i, end[i]) into typed arrays; nothing parses geometry.
 * - Zoom clones just the zoomed subtree (minus frames under half a pixel wide) and its ancestors, refitted, over
 *   an opaque copy of the background; Reset Zoom drops the clones. Search tests a lazily built array of names
 *   and draws all matches as one <path> (plus copies of their labels); "Matched" sums the outermost matches by
 *   skipping each match's subtree.
 * - Large graphs (over 2,000 frames) draw most frames merged, zoomed or not: see flamegraph-large.js.
 * - Only frames wide enough for 3 characters get a label; label widths come from per-character widths measured
 *   once, never from getComputedTextLength per frame. Writes are batched, with no layout reads in between.
 */
(function () {
  'use strict';
  var cfg = window.fgConfig || {};
  var WIDTH = num(cfg.width, 1200), XPAD = num(cfg.xpad, 10), FONTSIZE = num(cfg.fontsize, 12);
  var FONTWIDTH = num(cfg.fontwidth, 0.59), NAMETYPE = str(cfg.nametype, 'Function:');
  var FULL = WIDTH - 2 * XPAD;
  var LABEL_PAD = 3; // label x offset inside its rect, as flamegraph.pl
  // Zoomed frames narrower than this (px) are not drawn, a faint tint the pointer cannot single out: a zoom's work
  // is then bounded by the width (FULL / CULL_PX frames per row), not by the subtree's size. (flamegraph.pl's
  // minwidth, 0.1 px, would cull nothing: a zoom only widens frames, and the file omits those below it.)
  var CULL_PX = 0.5;
  var SVGNS = 'http://www.w3.org/2000/svg';
  var F_MATCH = 1; // per-frame state bits

  var svg, frames, narrow, details, unzoomBtn, searchBtn, icBtn, matchedTxt;
  var LARGE = false; // a large graph: its frame table (#fgframes) and flamegraph-large.js are in the file
  var TABLE = null; // that table, read with the model (fgLarge.table())
  var framesBox = null; // the inner <svg> (in #framesbox, a foreignObject) that holds #frames
  var highlights, overlay, hoverBox, cursorBox; // layers above #frames, created by start()
  var els; // frame elements, in document (pre-)order
  var m = null; // the model, built on first need (see model())
  var zoomed = 0; // index of the zoomed frame; 0 = root = not zoomed
  var term = null, ignoreCase = false, cursor = -1;
  var labeler = fgLib.labelFitter(FONTSIZE, FONTWIDTH, LABEL_PAD); // label text that fits a width

  // Give #frames a paint layer of its own (see the header). Done as soon as the parser creates #frames, before
  // its children are laid out, so moving it costs nothing; the parser keeps appending frames to it.
  function wrapFrames(f) {
    if (framesBox || !f || !f.parentNode) return;
    framesBox = innerSvg('framesbox');
    // Below the titles and buttons (which precede #frames in the file).
    var title = document.getElementById('title');
    f.parentNode.insertBefore(framesBox.parentNode, title && title.parentNode === f.parentNode ? title : f);
    framesBox.appendChild(f);
  }

  // <foreignObject id=ID><svg/></foreignObject> covering the whole image, in the same coordinates.
  function innerSvg(id) {
    var root = document.documentElement;
    var w = root.getAttribute('width') || String(WIDTH), h = root.getAttribute('height') || '0';
    var fo = document.createElementNS(SVGNS, 'foreignObject');
    fo.setAttribute('id', id);
    fo.setAttribute('x', '0');
    fo.setAttribute('y', '0');
    fo.setAttribute('width', w);
    fo.setAttribute('height', h);
    var inner = document.createElementNS(SVGNS, 'svg');
    inner.setAttribute('width', w);
    inner.setAttribute('height', h);
    if (root.getAttribute('viewBox')) inner.setAttribute('viewBox', root.getAttribute('viewBox'));
    fo.appendChild(inner);
    return inner;
  }

  // #narrowframes (large graphs) follows #frames into the same layer.
  function wrapNarrow(g) {
    if (framesBox && g && g.parentNode !== framesBox) framesBox.appendChild(g);
  }

  if (window.MutationObserver && document.readyState === 'loading') {
    var watcher = new MutationObserver(function () {
      var f = document.getElementById('frames');
      if (f && !framesBox) wrapFrames(f);
      var g = framesBox && document.getElementById('narrowframes');
      if (g) { watcher.disconnect(); wrapNarrow(g); }
      else if (framesBox && document.readyState !== 'loading') watcher.disconnect();
    });
    watcher.observe(document.documentElement, { childList: true });
  }

  function num(v, d) { return typeof v === 'number' && isFinite(v) ? v : d; }
  function str(v, d) { return typeof v === 'string' ? v : d; }

  function start() {
    if (svg) return;
    svg = document.documentElement;
    frames = document.getElementById('frames');
    if (!frames) return;
    details = textNode('details');
    matchedTxt = textNode('matched');
    unzoomBtn = document.getElementById('unzoom');
    searchBtn = document.getElementById('search');
    icBtn = document.getElementById('ignorecase');
    wrapFrames(frames); // when the observer could not run (script placed after #frames)
    LARGE = !!(window.fgLarge && document.getElementById('fgframes'));
    narrow = document.getElementById('narrowframes');
    wrapNarrow(narrow);
    if (!LARGE) els = Array.prototype.slice.call(frames.children); // else built with the model
    makeLayers();
    // On the overlay only: an inherited property set on the root would restyle every frame.
    if (cfg.searchcolor) highlights.parentNode.style.setProperty('--fg-searchcolor', String(cfg.searchcolor));
    makeButton(unzoomBtn, 'Reset zoom');
    makeButton(searchBtn, 'Search by regular expression');
    makeButton(icBtn, 'Toggle case-insensitive search');
    frames.setAttribute('tabindex', '0');
    frames.setAttribute('aria-label', 'Flame graph frames: arrow keys move, Enter zooms');
    svg.addEventListener('mouseover', onOver);
    svg.addEventListener('mouseout', onOut);
    if (narrow) {
      narrow.addEventListener('mousemove', onOver);
      overlay.addEventListener('mousemove', function (e) { if (isMerged(e.target)) onOver(e); });
    }
    // The keyboard cursor appears when #frames gets focus from the keyboard (Tab), not from a mouse click.
    var byPointer = false;
    svg.addEventListener('mousedown', function () { byPointer = true; });
    frames.addEventListener('focus', function () {
      if (cursor < 0 && !byPointer) setCursor(zoomed);
      byPointer = false;
    });
    frames.addEventListener('blur', function () { setCursor(-1); });
    svg.addEventListener('click', onClick);
    window.addEventListener('keydown', onKey);
    restoreFromUrl();
    scrollToGraph();
    // Within a second even in a page that never idles (a 160k-frame table decodes in 30-60 ms), but after the first
    // frame is painted: Firefox runs idle callbacks before a document's first paint, and this work then delayed it.
    // In steps of a few tens of ms each (read the table, build the model, measure glyphs), one per idle period.
    afterFirstPaint(function () {
      whenIdle(function () {
        if (LARGE) fgLarge.table();
        whenIdle(function () {
          model();
          whenIdle(function () { if (!labeler.measured()) labeler.measure(frames.parentNode); whenIdle(names); }, 1000);
        }, 1000);
      }, 1000);
    });
  }

  // A graph taller than the window opens with its roots in view: at the bottom (non-inverted), where the widest
  // frames are, instead of at the top, which deep stacks leave mostly empty. With a zoom restored from the URL,
  // the zoomed frame is brought in view (with two rows toward its root). Geometry comes from attributes (user
  // units are pixels: flamegraph.pl's viewBox equals its size), so this reads no layout.
  function scrollToGraph() {
    var view = window.innerHeight, height = parseFloat(svg.getAttribute('height'));
    if (!(view > 0) || !(height > view) || (window.pageYOffset || 0) !== 0) return;
    var inv = cfg.inverted === true, fh = num(cfg.frameheight, 16);
    if (zoomed === 0) { if (!inv) window.scrollTo(0, height - view); return; }
    var y = parseFloat(rectY(zoomed));
    window.scrollTo(0, inv ? y - 2 * fh : y + 3 * fh - view);
  }

  // fn once the document's first frame is on screen: two animation frames after the load event (no animation frame
  // runs in a hidden page: there the model is built on demand, at the first interaction).
  function afterFirstPaint(fn) {
    var painted = function () {
      if (!window.requestAnimationFrame) { setTimeout(fn, 0); return; }
      requestAnimationFrame(function () { requestAnimationFrame(function () { setTimeout(fn, 0); }); });
    };
    if (document.readyState === 'complete') painted();
    else window.addEventListener('load', painted);
  }

  // Build the model and measure glyphs once the page is idle, so the first click does not pay for it; the same
  // work runs on demand if a person is quicker than that.
  function whenIdle(fn, timeout) {
    if (window.requestIdleCallback) window.requestIdleCallback(function () { fn(); }, { timeout: timeout || 3000 });
    else setTimeout(fn, 300);
  }

  // Layers drawn above #frames, in this order: search highlights, the zoomed view (an opaque background and
  // clones), the hover and keyboard outlines. They live in a second foreignObject right after #framesbox: a
  // foreignObject paints (and is hit-tested) above plain SVG content, so only another one can cover #frames.
  function makeLayers() {
    var anchor = framesBox ? framesBox.parentNode : frames, box = svg;
    if (framesBox) {
      box = innerSvg('overlaybox');
      anchor.parentNode.insertBefore(box.parentNode, anchor.nextSibling);
    }
    if (framesBox) moveTexts();
    var before = framesBox ? null : frames.nextSibling;
    highlights = layer(box, 'g', 'highlights', before);
    overlay = layer(box, 'g', 'zoomframes', before);
    hoverBox = layer(box, 'rect', 'hoverbox', before);
    cursorBox = layer(box, 'rect', 'cursorbox', before);
  }

  // The texts the script changes (details, matched, the buttons) go into a foreignObject of their own, in place:
  // a text change in the root <svg> relayouts the root, about 10 ms at 150k frames; inside it, almost nothing.
  function moveTexts() {
    var ids = ['details', 'unzoom', 'search', 'ignorecase', 'matched'], box = null, k, e;
    for (k = 0; k < ids.length; k++) {
      e = document.getElementById(ids[k]);
      if (!e || e.parentNode !== svg) continue;
      if (!box) { box = innerSvg('textbox'); svg.insertBefore(box.parentNode, e); }
      box.appendChild(e);
    }
  }

  function layer(parent, tag, id, before) {
    var e = document.createElementNS(SVGNS, tag);
    e.setAttribute('id', id);
    if (tag === 'rect') e.setAttribute('class', 'hide');
    parent.insertBefore(e, before);
    return e;
  }

  // Outline frame i as shown now (or hide the box when i < 0): its element's rect, else its computed geometry.
  function outline(box, i, el) {
    if (i < 0 && !el) { box.setAttribute('class', 'hide'); return; }
    var g = el || shownEl(i), r = g && rectIn(g), k = !r && merged ? merged.at(i) : -1;
    box.setAttribute('x', r ? r.getAttribute('x') : k >= 0 ? merged.x(k) : rectX(i));
    box.setAttribute('y', r ? r.getAttribute('y') : rectY(i));
    box.setAttribute('width', r ? r.getAttribute('width') : k >= 0 ? merged.w(k) : rectWidth(i));
    box.setAttribute('height', r ? r.getAttribute('height') : rootRect().getAttribute('height'));
    box.removeAttribute('class');
  }

  function rectIn(g) {
    for (var k = g.firstElementChild; k; k = k.nextElementSibling) if (k.tagName === 'rect') return k;
    return null;
  }

  function textNode(id) {
    var e = document.getElementById(id);
    if (!e) return { nodeValue: '' };
    if (!e.firstChild) e.appendChild(document.createTextNode(' '));
    return e.firstChild;
  }

  function makeButton(e, label) {
    if (!e) return;
    e.setAttribute('tabindex', '0');
    e.setAttribute('role', 'button');
    e.setAttribute('aria-label', label);
  }

  function model() {
    if (m) return m;
    if (!LARGE) {
      m = fgLib.buildModel(frames.getElementsByTagName('rect')); // one rect per frame, same order as els
      return m;
    }
    TABLE = fgLarge.table();
    m = fgLarge.buildModel(TABLE);
    // Frames drawn as elements are #frames' children, in the same pre-order.
    els = new Array(m.n);
    var kids = frames.children, k = 0;
    for (var i = 0; i < m.n && k < kids.length; i++) {
      if (!m.isEl[i]) continue;
      els[i] = kids[k++];
      els[i].__fgIndex = i;
    }
    return m;
  }

  function rootRect() { return rectIn(els[0]); }

  // The rect attributes flamegraph.pl would print for frame i (from its element when it has one).
  function rectY(i) {
    if (els[i]) return rectIn(els[i]).getAttribute('y');
    var y0 = parseFloat(rootRect().getAttribute('y')), fh = num(cfg.frameheight, 16);
    return String(y0 + (cfg.inverted === true ? 1 : -1) * m.depth[i] * fh);
  }

  function pxOf(samples) { return XPAD + samples * (FULL / m.sw[0]); }

  function rectX(i) {
    return els[i] ? rectIn(els[i]).getAttribute('x') : fgLarge.short(fgLarge.cfixed(pxOf(m.sx[i]), 1));
  }

  function rectWidth(i) {
    if (els[i]) return rectIn(els[i]).getAttribute('width');
    var x1 = Number(fgLarge.cfixed(pxOf(m.sx[i]), 1)), x2 = Number(fgLarge.cfixed(pxOf(m.sx[i] + m.sw[i]), 1));
    return String(Math.round((x2 - x1) * 10) / 10);
  }

  function titleOf(i) {
    model();
    if (!els[i]) {
      return fgLarge.frameTitle(nameOf(i), m.sw[i], m.sw[0], num(TABLE.factor, 1), str(cfg.countname, 'samples'));
    }
    var t = els[i].firstElementChild;
    while (t && t.tagName !== 'title') t = t.nextElementSibling;
    return t ? t.textContent : '';
  }

  function nameOf(i) {
    if (m.names) return m.names[i];
    if (TABLE) return TABLE.names[m.entry[i]];
    var t = titleOf(i), k = t.lastIndexOf(' (');
    return k >= 0 ? t.slice(0, k) : t;
  }

  function names() {
    model();
    if (!m.names && !TABLE) {
      var a = new Array(m.n);
      for (var i = 0; i < m.n; i++) a[i] = nameOf(i);
      m.names = a;
    }
    return m.names;
  }

  /* ---- zoom: clones of the shown frames (ancestors + the zoomed subtree), refitted, in #zoomframes over an
   * opaque copy of the background; #frames itself is never touched, so Reset Zoom only drops the clones. ---- */

  var overlay = null; // #zoomframes
  var cloneOf = null; // frame index -> its clone while zoomed
  var merged = null; // fgLarge.mergedView while zoomed

  function round2(v) { return String(Math.round(v * 100) / 100); }

  // A frame drawn merged in the file gets the element it would have had: <g><title/><rect/></g> (copies of one
  // prototype: a zoom may create thousands).
  var frameProto = null;
  function makeFrameEl(i) {
    if (!frameProto) {
      frameProto = document.createElementNS(SVGNS, 'g');
      frameProto.appendChild(document.createElementNS(SVGNS, 'title'));
      frameProto.appendChild(document.createElementNS(SVGNS, 'rect'));
      frameProto.lastChild.setAttribute('height', rootRect().getAttribute('height'));
    }
    var g = frameProto.cloneNode(true), r = g.lastChild;
    g.firstChild.textContent = titleOf(i);
    r.setAttribute('y', rectY(i));
    r.setAttribute('fill', TABLE.colors[TABLE.entryColors[m.entry[i]]]);
    r.setAttribute('fg:x', String(m.sx[i]));
    r.setAttribute('fg:w', String(m.sw[i]));
    return g;
  }

  function addClone(into, i, x, w, isParent, label) {
    var c = els[i] ? els[i].cloneNode(true) : makeFrameEl(i), r = null, t = null, k;
    for (k = c.firstElementChild; k; k = k.nextElementSibling) {
      if (k.tagName === 'rect') r = k; else if (k.tagName === 'text') t = k;
    }
    r.setAttribute('x', round2(x));
    r.setAttribute('width', round2(w));
    if (!t && label) { // frames drawn too narrow for a label have no <text>: create it now
      t = document.createElementNS(SVGNS, 'text');
      t.setAttribute('y', round2(parseFloat(r.getAttribute('y')) + parseFloat(r.getAttribute('height')) / 2 + 3));
      c.appendChild(t);
    }
    if (t) {
      t.setAttribute('x', round2(x + LABEL_PAD));
      t.textContent = label;
    }
    c.setAttribute('class', (isParent ? 'parent' : '') + (m.flags[i] & F_MATCH ? ' m' : ''));
    c.__fgIndex = i;
    cloneOf.set(i, c);
    into.appendChild(c);
  }

  // Zoom to frame f (0 = the root = reset). Writes only; the browser lays out once afterwards.
  function zoom(f) {
    model();
    if (f < 0 || f >= m.n) f = 0;
    // Before any write, so this layout is cheap.
    if (!labeler.measured() && f !== 0) labeler.measure(frames.parentNode);
    zoomed = f;
    cloneOf = f === 0 ? null : new Map();
    merged = f !== 0 && TABLE ? fgLarge.mergedView(m, TABLE, rootRect(), cfg) : null;
    overlay.textContent = '';
    if (f === 0) {
      if (unzoomBtn) unzoomBtn.classList.add('hide');
    } else {
      var frag = document.createDocumentFragment(), chain = [], i, k, x, w, label;
      var bg = svg.querySelector('rect'); // the page background (first rect): an opaque cover for #frames
      if (bg && bg.closest('#frames') === null) frag.appendChild(bg.cloneNode(false));
      for (i = m.parent[f]; i >= 0; i = m.parent[i]) chain.push(i);
      for (k = chain.length - 1; k >= 0; k--) addClone(frag, chain[k], XPAD, FULL, true, labeler.fit(nameOf(chain[k]), FULL));
      var scale = FULL / m.sw[f], x0 = m.sx[f];
      for (i = f; i < m.end[f];) {
        // Culled: its whole subtree is narrower still (a contiguous run in pre-order), so skip past it.
        w = m.sw[i] * scale;
        if (w < CULL_PX) { i = m.end[i]; continue; }
        x = XPAD + (m.sx[i] - x0) * scale;
        label = labeler.fit(nameOf(i), w);
        if (merged && !label && !els[i]) merged.add(i, x, w);
        else addClone(frag, i, x, w, false, label);
        i++;
      }
      if (merged) frag.insertBefore(merged.paths(), frag.firstChild.nextSibling); // above the cover
      overlay.appendChild(frag);
      if (merged) merged.showMatches(F_MATCH);
      if (unzoomBtn) unzoomBtn.classList.remove('hide');
    }
    if (term !== null) showMatched();
    outline(hoverBox, -1);
    if (cursor >= 0) setCursor(visible(cursor) ? cursor : f);
  }

  function isMerged(node) {
    return !!node && node.tagName === 'path' && (node.parentNode === narrow || node.parentNode === overlay);
  }

  function visible(i) { return zoomed === 0 || cloneOf.has(i) || (!!merged && merged.at(i) >= 0); }

  /** The element showing frame i now: its clone while zoomed, else the original. */
  function shownEl(i) { return (cloneOf && cloneOf.get(i)) || els[i]; }

  // Search matches: one <path> covering every matched frame plus copies of their labels, in #highlights; while
  // zoomed, also a class on the matched clones.
  function drawHighlights() {
    highlights.textContent = '';
    var d = [], labels = document.createDocumentFragment(), i, r, t;
    if (term !== null) {
      // Geometry from the model (no attribute reads): x and width from samples, y from depth.
      var r0 = rootRect(), y0 = parseFloat(r0.getAttribute('y')), h = r0.getAttribute('height');
      var fh = num(cfg.frameheight, 16) * (cfg.inverted === true ? 1 : -1), scale = FULL / m.sw[0];
      for (i = 0; i < m.n; i++) {
        if (!(m.flags[i] & F_MATCH)) continue;
        var w = round2(m.sw[i] * scale);
        d.push('M' + round2(XPAD + (m.sx[i] - m.sx[0]) * scale) + ' ' + (y0 + m.depth[i] * fh) + 'h' + w + 'v' + h +
          'h-' + w + 'z');
        r = els[i] && rectIn(els[i]);
        t = r && r.nextElementSibling;
        if (t && t.tagName === 'text' && t.firstChild) labels.appendChild(t.cloneNode(true));
      }
      if (d.length) {
        var path = document.createElementNS(SVGNS, 'path');
        path.setAttribute('d', d.join(''));
        highlights.appendChild(path);
        highlights.appendChild(labels);
      }
    }
    if (cloneOf) cloneOf.forEach(function (c, k) { c.classList.toggle('m', (m.flags[k] & F_MATCH) !== 0); });
    if (merged) merged.showMatches(F_MATCH);
  }

  function zoomAndRemember(f) {
    zoom(f);
    var p = params();
    if (f === 0) { delete p.x; delete p.y; } else {
      p.x = rectX(f); p.y = rectY(f);
    }
    remember(p);
  }

  /* ---- URL state, written 0.1 s after the click's response is painted (the next animation frame, then a timer):
   * history.replaceState took 105-240 ms in a document of 160k frame elements (FrameLoader::
   * updateForSameDocumentNavigation; 4-10 ms in a large graph's lighter document now) and must not delay that
   * paint; an idle callback, used before, ran only at its 3 s timeout in a busy page, so a reload or a copied link
   * within 3 s lost the state. ---- */

  var pending = null, flushQueued = false;

  function params() {
    if (pending === null) return fgLib.getParams();
    var p = {};
    for (var k in pending) p[k] = pending[k];
    return p;
  }

  function remember(p) {
    pending = p;
    if (flushQueued) return;
    flushQueued = true;
    var after = function () { setTimeout(function () { flushQueued = false; flushParams(); }, 100); };
    if (window.requestAnimationFrame && !document.hidden) window.requestAnimationFrame(after); else after();
  }

  function flushParams() {
    if (pending === null) return;
    var p = pending;
    pending = null;
    fgLib.setParams(p);
  }

  /* ---- search ---- */

  function search(newTerm) {
    model();
    var re = null;
    if (newTerm) {
      try { re = new RegExp(newTerm, ignoreCase ? 'i' : ''); } catch (e) { re = null; }
    }
    term = re ? newTerm : null;
    var i, f, hit;
    if (TABLE) { // each distinct name tested once
      var tn = TABLE.names, hits = new Uint8Array(tn.length);
      if (re) for (i = 0; i < tn.length; i++) hits[i] = re.test(tn[i]) ? 1 : 0;
      for (i = 0; i < m.n; i++) {
        f = m.flags[i];
        if ((hits[m.entry[i]] === 1) !== ((f & F_MATCH) !== 0)) m.flags[i] = f ^ F_MATCH;
      }
    } else {
      var nm = re ? names() : null;
      for (i = 0; i < m.n; i++) {
        hit = re !== null && re.test(nm[i]);
        f = m.flags[i];
        if (hit !== ((f & F_MATCH) !== 0)) m.flags[i] = f ^ F_MATCH;
      }
    }
    drawHighlights();
    var p = params();
    if (term !== null) p.s = term; else delete p.s;
    if (ignoreCase) p.i = '1'; else delete p.i;
    remember(p);
    if (searchBtn) {
      searchBtn.classList.toggle('show', term !== null);
      searchBtn.firstChild.nodeValue = term !== null ? 'Reset Search' : 'Search';
    }
    if (term !== null) showMatched();
    else matchedTxt.nodeValue = newTerm ? 'Invalid regexp' : ' ';
  }

  // Share of the zoomed frame covered by matches; a match's own subtree is skipped so nothing counts twice.
  function showMatched() {
    var count = 0, i = zoomed, stop = m.end[zoomed];
    while (i < stop) {
      if (m.flags[i] & F_MATCH) { count += m.sw[i]; i = m.end[i]; } else i++;
    }
    var pct = m.sw[zoomed] > 0 ? 100 * count / m.sw[zoomed] : 0;
    matchedTxt.nodeValue = 'Matched: ' + (pct === 100 ? '100' : pct.toFixed(1)) + '%';
  }

  function searchPrompt() {
    var t = window.prompt('Enter a search term (regexp allowed, eg: ^ext4_)' +
      (ignoreCase ? ', ignoring case' : '') + '\nPress Ctrl-i to toggle case sensitivity', term || '');
    if (t !== null) search(t);
  }

  function toggleIgnoreCase() {
    ignoreCase = !ignoreCase;
    if (icBtn) icBtn.classList.toggle('show', ignoreCase);
    search(term);
  }

  /* ---- events ---- */

  // The frame element (original or clone) containing node, or null.
  function frameEl(node) {
    while (node && node.parentNode !== frames && (!overlay || node.parentNode !== overlay)) node = node.parentNode;
    return node || null;
  }

  function frameIndex(node, e) {
    if (isMerged(node)) return mergedAt(e);
    var g = frameEl(node);
    if (!g) return -1;
    model();
    return g.__fgIndex !== undefined ? g.__fgIndex : els.indexOf(g);
  }

  function mergedAt(e) {
    model();
    var i = fgLarge.frameUnder(m, e, svg, parseFloat(rootRect().getAttribute('y')), cfg, zoomed);
    return i >= 0 && visible(i) ? i : -1;
  }

  function onOver(e) {
    if (isMerged(e.target)) {
      var i = mergedAt(e);
      if (i < 0) { details.nodeValue = ' '; outline(hoverBox, -1); return; }
      details.nodeValue = NAMETYPE + ' ' + titleOf(i);
      outline(hoverBox, i);
      return;
    }
    var g = frameEl(e.target), t = g && g.firstElementChild;
    if (!t || t.tagName !== 'title') return;
    details.nodeValue = NAMETYPE + ' ' + t.textContent;
    outline(hoverBox, -1, g);
  }

  function onOut(e) {
    if (!frameEl(e.target) && !isMerged(e.target)) return;
    details.nodeValue = ' ';
    outline(hoverBox, -1);
  }

  function onClick(e) {
    var i = frameIndex(e.target, e);
    if (i >= 0) {
      var g = frameEl(e.target);
      if (g && g.tagName === 'a' && !e.ctrlKey) return; // links: plain click follows, ctrl-click zooms
      e.preventDefault();
      zoomAndRemember(i);
      if (cursor >= 0) setCursor(i);
      return;
    }
    activate(e.target);
  }

  function activate(t) {
    if (!t || !t.id) return false;
    if (t.id === 'unzoom') zoomAndRemember(0);
    else if (t.id === 'search') { if (term !== null) search(null); else searchPrompt(); }
    else if (t.id === 'ignorecase') toggleIgnoreCase();
    else return false;
    return true;
  }

  function onKey(e) {
    var k = e.key, ctrl = e.ctrlKey || e.metaKey;
    if (k === 'F3' || (ctrl && (k === 'f' || k === 'F'))) { e.preventDefault(); searchPrompt(); return; }
    if (ctrl && (k === 'i' || k === 'I')) { e.preventDefault(); toggleIgnoreCase(); return; }
    if (k === 'Escape') { if (term !== null) search(null); return; }
    var target = document.activeElement;
    if ((k === 'Enter' || k === ' ') && target !== frames && activate(target)) { e.preventDefault(); return; }
    if (target === frames && cursor >= 0) keyOnFrames(e, k);
  }

  // Keyboard navigation of frames: Up/Down move toward leaves/root (screen direction), Left/Right to the
  // neighbouring visible frame at the same depth, Enter zooms, Backspace resets.
  function keyOnFrames(e, k) {
    var inv = cfg.inverted === true, next = -1, i;
    if (k === 'Enter' || k === ' ') { zoomAndRemember(cursor); e.preventDefault(); return; }
    if (k === 'Backspace') { zoomAndRemember(0); e.preventDefault(); return; }
    var towardRoot = (k === 'ArrowDown' && !inv) || (k === 'ArrowUp' && inv);
    var towardLeaf = (k === 'ArrowUp' && !inv) || (k === 'ArrowDown' && inv);
    if (towardRoot) next = m.parent[cursor];
    else if (towardLeaf) next = cursor + 1 < m.end[cursor] ? cursor + 1 : -1;
    else if (k === 'ArrowRight') {
      i = m.end[cursor]; // the next frame after this subtree: a neighbour if at the same depth
      next = i < m.n && m.depth[i] === m.depth[cursor] ? i : -1;
    } else if (k === 'ArrowLeft') {
      for (i = cursor - 1; i >= 0 && m.depth[i] > m.depth[cursor]; i--); // skip the previous subtree
      next = i >= 0 && m.depth[i] === m.depth[cursor] ? i : -1;
    } else return;
    e.preventDefault();
    if (next >= 0 && visible(next)) setCursor(next);
  }

  function setCursor(i) {
    cursor = i;
    if (i >= 0) model();
    outline(cursorBox, i);
    if (i < 0) return;
    details.nodeValue = NAMETYPE + ' ' + titleOf(i);
  }

  /* ---- URL state: see fgLib.getParams ---- */

  function restoreFromUrl() {
    var p = fgLib.getParams();
    if (p.i === '1') { ignoreCase = true; if (icBtn) icBtn.classList.add('show'); }
    if (p.x !== undefined && p.y !== undefined) {
      model();
      var want = parseFloat(p.x), d = -1;
      for (var i = 0; i < m.n; i++) {
        if (m.depth[i] !== d) { // rows are compared by their y first: one y string per row change
          d = m.depth[i];
          var rowMatches = rectY(i) === p.y;
        }
        if (rowMatches && Math.abs(parseFloat(rectX(i)) - want) < 0.005) {
          zoom(i);
          break;
        }
      }
    }
    if (p.s) search(p.s);
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
  window.addEventListener('load', start);
})();
