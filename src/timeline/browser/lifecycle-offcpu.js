/*
 * irisflame lifecycle page, part 5: what off-CPU data adds to the lanes. On each bar: CPU samples (running),
 * blocked intervals coloured by reason, long waits for a CPU; above it, one tick per file lookup (red when
 * it failed); over the bars, the recorded command's critical path, outlined in red with its hand-offs; the
 * state legend, the critical-path line and the file-group line. Also the per-process totals of a range
 * (on-CPU, blocked by reason, CPU wait, unaccounted: they add up to the time the process lived in it), for
 * the lane tips and the table. Embedded after lifecycle-flame.js; defines `lcOffCpu(ctx)`.
 */
var lcOffCpu = function (ctx) {
  'use strict';
  var lib = lcLib, el = lib.el, byId = lib.byId, r2 = lib.r2;
  var D = ctx.D, L = ctx.L, M = ctx.M, O = D.offCpu, st = ctx.st;
  var nLanes = D.processes.length, nReasons = O.reasons.length;
  var barTop = 0, barHeight = 0;

  // Per lane: the long CPU waits' sum, to tell the summed short waits apart from the intervals kept.
  var longAll = new Float64Array(nLanes);
  O.longWaitLane.forEach(function (lane, k) { longAll[lane] += O.longWaitDur[k]; });
  // Lanes the tracer said nothing about: not followed by it (it follows IRIS programs, their descendants and
  // the command), or never off CPU while it watched. Which of the two the capture cannot tell.
  var traced = new Uint8Array(nLanes);
  O.blockLane.forEach(function (lane) { traced[lane] = 1; });
  O.laneWaitCount.forEach(function (count, lane) { if (count > 0) traced[lane] = 1; });
  ctx.traced = function (lane) { return traced[lane] === 1; };
  var onPath = new Float64Array(nLanes);
  if (O.critical) O.critical.segments.forEach(function (seg) { onPath[seg.lane] += seg.end - seg.start; });

  function lifeEnd(p) { return p.end < 0 ? D.span : p.end; }
  function laneY(k) { return L.lanesTop + k * L.laneHeight; }

  /**
   * Per lane, its main thread's time in [from, to]: `life` (how long it lived there), `cpu` (samples ×
   * 1/frequency), `blocked` by reason, `wait` (long waits' overlap plus the summed short ones pro rata),
   * `unaccounted` (the rest; negative = sampling error). Only lane `onlyLane` when >= 0.
   */
  function laneTotals(from, to, onlyLane) {
    var rows = [], k, i;
    for (k = 0; k < nLanes; k++) {
      var p = D.processes[k];
      rows.push({ lane: k, life: onlyLane >= 0 && k !== onlyLane ? 0 : lib.overlap(p.start, lifeEnd(p), from, to), samples: 0, cpu: 0, blocked: new Float64Array(nReasons), blockedSum: 0, wait: 0, unaccounted: 0 });
    }
    for (i = M.lowerBound(from); i < M.upperBound(to); i++) {
      var lane = M.lane[i];
      if (lane >= 0 && O.sampleMain[i] && rows[lane].life > 0) rows[lane].samples++;
    }
    for (i = 0; i < O.blockStart.length; i++) {
      if (!O.blockMain[i]) continue;
      var row = rows[O.blockLane[i]];
      if (row.life <= 0) continue;
      var ov = lib.overlap(O.blockStart[i], O.blockStart[i] + O.blockDur[i], from, to);
      row.blocked[O.blockReason[i]] += ov; row.blockedSum += ov;
    }
    for (i = 0; i < O.longWaitStart.length; i++) {
      var r = rows[O.longWaitLane[i]];
      if (r.life > 0) r.wait += lib.overlap(O.longWaitStart[i], O.longWaitStart[i] + O.longWaitDur[i], from, to);
    }
    rows.forEach(function (row) {
      var p = D.processes[row.lane], lifetime = Math.max(1, lifeEnd(p) - p.start);
      if (row.life > 0) row.wait += Math.max(0, O.laneWaitTotal[row.lane] - longAll[row.lane]) * (row.life / lifetime);
      row.cpu = row.samples * O.samplePeriodUs;
      row.unaccounted = row.life - row.cpu - row.blockedSum - row.wait;
    });
    return rows;
  }
  ctx.laneTotals = laneTotals;
  ctx.api.laneTotals = function (from, to, onlyLane) {
    return laneTotals(from, to, onlyLane === undefined ? -1 : onlyLane).map(function (row) {
      return { lane: row.lane, pid: D.processes[row.lane].pid, label: D.processes[row.lane].label, life: row.life, samples: row.samples, cpu: row.cpu, blocked: Array.prototype.slice.call(row.blocked), wait: row.wait, unaccounted: row.unaccounted };
    });
  };

  /** The lane tip's lines: where this process's lifetime went. */
  function tipLines(k) {
    var p = D.processes[k], row = laneTotals(p.start, lifeEnd(p), k)[k];
    var lines = ['on-CPU ≈ ' + lib.ms(row.cpu) + ' ms (' + row.samples + ' samples at ' + O.frequency + ' Hz), blocked ' + lib.ms(row.blockedSum) + ' ms, CPU wait ' + lib.ms(row.wait) + ' ms'];
    var parts = [];
    for (var r = 0; r < nReasons; r++) if (row.blocked[r] > 0) parts.push(O.reasons[r].label + ' ' + lib.ms(row.blocked[r]));
    if (parts.length) lines.push('blocked: ' + parts.join(', ') + ' ms');
    lines.push('unaccounted ' + lib.ms(row.unaccounted) + ' ms of ' + lib.ms(row.life) + ' ms lived (main thread)' + (traced[k] ? '' : ': nothing traced (not followed, or never off CPU)'));
    if (onPath[k] > 0) lines.push('on the critical path: ' + lib.ms(onPath[k]) + ' ms');
    return lines;
  }
  if (ctx.hasOffCpu) ctx.tipLines = tipLines;

  function drawLegend() {
    var g = byId('controls'), y = L.modesY + 12;
    var items = [{ label: 'running (CPU samples)', color: O.runningColor }, { label: 'CPU wait', color: O.cpuWaitColor }]
      .concat(O.reasons.map(function (r) { return { label: r.label, color: r.color }; }))
      .concat([{ label: 'critical path', color: 'none', stroke: 'rgb(220,0,0)' }]);
    lib.legendRow(items, L.xpad + 250, y, el('g', { id: 'state-legend' }, g));
  }

  function rectPath(x1, x2, y, h, minW) {
    return 'M' + r2(x1) + ' ' + r2(y) + 'h' + r2(Math.max(minW, x2 - x1)) + 'v' + r2(h) + 'h' + r2(-Math.max(minW, x2 - x1)) + 'z';
  }

  function drawStates(g) {
    var i, byReason = O.reasons.map(function () { return []; }), running = [], waits = [];
    var periodPx = Math.max(1, (O.samplePeriodUs / D.span) * ctx.plotWidth());
    // Each sample is 1/frequency s on a CPU; touching ones merge into one run per lane (a few hundred
    // rects, not one per sample, on a long busy capture).
    var runFrom = new Float64Array(nLanes).fill(-1), runTo = new Float64Array(nLanes);
    var flush = function (lane) { if (runFrom[lane] >= 0) running.push(rectPath(runFrom[lane], runTo[lane], laneY(lane) + barTop, barHeight, 1)); };
    for (i = 0; i < M.samples; i++) {
      var lane = M.lane[i];
      if (lane < 0 || !O.sampleMain[i]) continue;
      var x = ctx.xOf(M.time[i]) - periodPx / 2;
      if (runFrom[lane] >= 0 && x <= runTo[lane] + 0.5) { runTo[lane] = x + periodPx; continue; }
      flush(lane);
      runFrom[lane] = x; runTo[lane] = x + periodPx;
    }
    for (i = 0; i < nLanes; i++) flush(i);
    for (i = 0; i < O.blockStart.length; i++) {
      if (!O.blockMain[i]) continue;
      byReason[O.blockReason[i]].push(rectPath(ctx.xOf(O.blockStart[i]), ctx.xOf(O.blockStart[i] + O.blockDur[i]), laneY(O.blockLane[i]) + barTop, barHeight, 0.5));
    }
    for (i = 0; i < O.longWaitStart.length; i++) {
      waits.push(rectPath(ctx.xOf(O.longWaitStart[i]), ctx.xOf(O.longWaitStart[i] + O.longWaitDur[i]), laneY(O.longWaitLane[i]) + barTop, barHeight, 0.5));
    }
    el('path', { class: 'state running', fill: O.runningColor, d: running.join('') || 'M0 0' }, g);
    byReason.forEach(function (parts, r) { el('path', { class: 'state blocked', 'data-reason': O.reasons[r].key, fill: O.reasons[r].color, d: parts.join('') || 'M0 0' }, g); });
    el('path', { class: 'state cpuwait', fill: O.cpuWaitColor, d: waits.join('') || 'M0 0' }, g);
  }

  function drawFileTicks(g) {
    var ok = [], failed = [];
    for (var i = 0; i < O.fileTime.length; i++) {
      var tick = 'M' + r2(ctx.xOf(O.fileTime[i])) + ' ' + (laneY(O.fileLane[i]) + 0.5) + 'v' + (barTop - 1);
      (O.fileFailed[i] ? failed : ok).push(tick);
    }
    el('path', { id: 'file-ticks', class: 'ftick', d: ok.join('') || 'M0 0' }, g);
    el('path', { id: 'file-ticks-failed', class: 'ftick failed', d: failed.join('') || 'M0 0' }, g);
    el('path', { id: 'file-ticks-match', class: 'ftick match', d: 'M0 0' }, g);
  }

  function drawCriticalPath(g) {
    var c = O.critical;
    if (!c) return;
    // One outline per stay on a lane (a disk-bound stretch is hundreds of short segments), a dashed hand-off
    // between lanes; the segments themselves are listed in the table.
    var boxes = [], links = [], runStart = 0;
    c.segments.forEach(function (s, k) {
      var next = c.segments[k + 1];
      if (next && next.lane === s.lane) return;
      boxes.push(rectPath(ctx.xOf(c.segments[runStart].start), ctx.xOf(s.end), laneY(s.lane) + barTop - 1.5, barHeight + 3, 0.5));
      if (next) links.push('M' + r2(ctx.xOf(next.start)) + ' ' + (laneY(s.lane) + barTop + barHeight / 2) + 'V' + (laneY(next.lane) + barTop + barHeight / 2));
      runStart = k + 1;
    });
    var cg = el('g', { id: 'critical-path' }, g);
    el('path', { class: 'critical-link', d: links.join('') || 'M0 0' }, cg);
    el('path', { class: 'critical-box', d: boxes.join('') || 'M0 0' }, cg);
  }

  /** "Critical path of iris restart IRIS: 1.987 s = running 0.4 s · child wait … — through 12 processes". */
  function drawCriticalLine(g) {
    var text = el('text', { id: 'critical', x: L.xpad, y: L.criticalY + 12, class: 'critical-line' }, g);
    var c = O.critical;
    if (!c) { text.textContent = ctx.hasBlocked ? O.criticalNote || 'no critical path' : 'no off-CPU data: ' + O.unavailable; return; }
    var byKind = {}, order = [], lanesOn = {};
    c.segments.forEach(function (s) {
      var key = s.reason === -1 ? 'running' : s.reason === -2 ? 'CPU wait' : O.reasons[s.reason].label;
      if (!(key in byKind)) { byKind[key] = 0; order.push(key); }
      byKind[key] += s.end - s.start;
      lanesOn[s.lane] = true;
    });
    order.sort(function (a, b) { return byKind[b] - byKind[a]; });
    var top = D.processes[c.lane];
    lib.fitText(text, 'Critical path of ' + top.label + ': ' + lib.duration(c.end - c.start) + ' = ' +
      order.map(function (k) { return k + ' ' + lib.duration(byKind[k]); }).join(' · ') +
      ' — ' + Object.keys(lanesOn).length + ' processes' + (O.criticalNote ? ' · ' + O.criticalNote : ''), L.plotRight - L.xpad);
    text.setAttribute('data-length-us', c.end - c.start);
    text.addEventListener('click', function () { ctx.select(c.start, c.end, -1, c.lane); });
  }

  /** Per file group in [from, to]: lookups, failed, and the disk waits that followed its opens. */
  function groupSummary(from, to, onlyLane) {
    var groups = O.groups.map(function (name) { return { name: name, count: 0, failed: 0, waitUs: 0 }; }), i;
    for (i = 0; i < O.fileTime.length; i++) {
      if (O.fileTime[i] < from || O.fileTime[i] > to || (onlyLane >= 0 && O.fileLane[i] !== onlyLane)) continue;
      groups[O.fileGroup[i]].count++;
      if (O.fileFailed[i]) groups[O.fileGroup[i]].failed++;
    }
    for (i = 0; i < O.blockStart.length; i++) {
      if (O.blockGroup[i] < 0 || (onlyLane >= 0 && O.blockLane[i] !== onlyLane)) continue;
      groups[O.blockGroup[i]].waitUs += lib.overlap(O.blockStart[i], O.blockStart[i] + O.blockDur[i], from, to);
    }
    return groups;
  }
  ctx.groupSummary = groupSummary;

  function updateFileLine() {
    var line = byId('file-groups');
    if (!line) return;
    if (O.filesUnavailable) { line.textContent = 'no file events: ' + O.filesUnavailable; return; }
    var groups = groupSummary(st.from, st.to, st.lane), total = 0, failed = 0;
    var parts = groups.filter(function (g) { return g.count > 0 || g.waitUs > 0; })
      .sort(function (a, b) { return b.waitUs - a.waitUs || b.count - a.count; })
      .map(function (g) {
        total += g.count; failed += g.failed;
        var notes = (g.failed ? [g.failed + ' failed'] : []).concat(g.waitUs > 0 ? [lib.duration(g.waitUs) + ' disk wait'] : []);
        return g.name + ' ' + g.count + (notes.length ? ' (' + notes.join(', ') + ')' : '');
      });
    var full = 'Files: ' + (parts.length ? total + ' lookups, ' + failed + ' failed: ' + parts.join(' · ') : 'none in range');
    line.textContent = lib.fitChars(full, (L.plotRight - L.xpad) / (11 * L.fontWidth));
    line.setAttribute('data-full', full);
  }

  /** Ticks of files whose path matches the search; returns how many match in the range. */
  function matchedFiles() {
    var re = st.re, d = [], n = 0;
    if (!re || !ctx.hasOffCpu) { var p = byId('file-ticks-match'); if (p) p.setAttribute('d', 'M0 0'); return 0; }
    for (var i = 0; i < O.filePath.length; i++) {
      if (!re.test(O.filePath[i])) continue;
      d.push('M' + r2(ctx.xOf(O.fileTime[i])) + ' ' + (laneY(O.fileLane[i]) + 0.5) + 'v' + (barTop - 1));
      if (O.fileTime[i] >= st.from && O.fileTime[i] <= st.to && (st.lane < 0 || O.fileLane[i] === st.lane)) n++;
    }
    byId('file-ticks-match').setAttribute('d', d.join('') || 'M0 0');
    return n;
  }
  ctx.matchedFiles = matchedFiles;

  function draw(lanes) {
    if (!ctx.hasOffCpu) return;
    barTop = lanes.barTop; barHeight = lanes.barHeight;
    var g = el('g', { id: 'states' }, byId('lanes'));
    drawStates(g);
    drawFileTicks(g);
    drawCriticalPath(g);
    drawLegend();
    drawCriticalLine(byId('controls'));
    el('text', { id: 'file-groups', x: L.xpad, y: L.filesY + 10, class: 'file-line' }, byId('lanes'), ' ');
  }
  function update() {
    if (!ctx.hasOffCpu) return;
    updateFileLine();
    if (!st.term) matchedFiles();
  }
  return { draw: draw, update: update };
};
