/*
 * irisflame lifecycle page, part 6: the tables of the selected range, as HTML in a foreignObject under the
 * flame graph (they scroll; an SVG text grid would not): where each process's time went (on-CPU, blocked by
 * reason, CPU wait, unaccounted, in ms), the files looked up (time, process, call, path, group, result;
 * failed ones marked, search matches highlighted) with a per-group summary, and the critical path's
 * segments. Embedded after lifecycle-offcpu.js; defines `lcTables(ctx)`.
 */
var lcTables = function (ctx) {
  'use strict';
  var lib = lcLib, esc = lib.esc, byId = lib.byId;
  var D = ctx.D, L = ctx.L, O = D.offCpu, st = ctx.st;
  /** More rows than this in the file list are counted, not drawn: the browser stays quick on a busy host. */
  var MAX_FILE_ROWS = 400;
  var body = byId('tables-body');
  if (!body || !ctx.hasOffCpu) return { update: function () {} };

  function cell(us) { return '<td data-us="' + Math.round(us) + '">' + lib.ms(us) + '</td>'; }
  function rangeText() {
    return lib.seconds(st.from) + ' – ' + lib.seconds(st.to) + (st.lane >= 0 ? ', ' + D.processes[st.lane].label + ' only' : '');
  }

  function totalsTable() {
    var rows = ctx.laneTotals(st.from, st.to, st.lane).filter(function (row) { return row.life > 0; });
    var head = '<tr><th class="name">process</th><th>pid</th><th>lived</th><th>on-CPU</th>' +
      O.reasons.map(function (r) { return '<th><span class="sw" style="background:' + r.color + '"></span>' + esc(r.label) + '</th>'; }).join('') +
      '<th>CPU wait</th><th>unaccounted</th></tr>';
    var sum = { life: 0, cpu: 0, wait: 0, unaccounted: 0, blocked: O.reasons.map(function () { return 0; }) };
    var lines = rows.map(function (row) {
      var p = D.processes[row.lane];
      sum.life += row.life; sum.cpu += row.cpu; sum.wait += row.wait; sum.unaccounted += row.unaccounted;
      var blocked = '';
      for (var r = 0; r < O.reasons.length; r++) { sum.blocked[r] += row.blocked[r]; blocked += cell(row.blocked[r]); }
      var untraced = !ctx.traced(row.lane);
      return '<tr data-lane="' + row.lane + '" data-pid="' + p.pid + '" data-samples="' + row.samples + '"' + (untraced ? ' class="untraced"' : '') + '><td class="name" title="' + esc(p.label) +
        (untraced ? ': nothing traced (not followed by the off-CPU tracer, or never off CPU)' : '') + '">' + esc(lib.fitChars(p.label, 34)) + (untraced ? ' *' : '') + '</td><td>' + p.pid + '</td>' + cell(row.life) + cell(row.cpu) + blocked + cell(row.wait) +
        '<td data-us="' + Math.round(row.unaccounted) + '" class="' + (row.unaccounted < 0 ? 'neg' : '') + '">' + lib.ms(row.unaccounted) + '</td></tr>';
    });
    var total = '<tr class="sum"><td class="name">all ' + rows.length + ' processes</td><td></td>' + cell(sum.life) + cell(sum.cpu) +
      sum.blocked.map(cell).join('') + cell(sum.wait) + cell(sum.unaccounted) + '</tr>';
    return '<div class="h">Where each process\'s time went, ' + esc(rangeText()) + ' (ms, main thread; on-CPU ≈ samples × 1/' + O.frequency + ' s' +
      (O.frequencyAssumed ? ', ' + O.frequency + ' Hz assumed' : '') + '; unaccounted = lived − the rest, negative within sampling error; * nothing traced: not followed, or never off CPU)</div>' +
      '<table id="totals"><thead>' + head + '</thead><tbody>' + lines.join('') + total + '</tbody></table>';
  }

  function filesTables() {
    if (O.filesUnavailable) return '<div class="h">no file events: ' + esc(O.filesUnavailable) + '</div>';
    var groups = ctx.groupSummary(st.from, st.to, st.lane), rows = [], shown = 0, inRange = 0, re = st.re;
    for (var i = 0; i < O.fileTime.length; i++) {
      var t = O.fileTime[i];
      if (t < st.from || t > st.to || (st.lane >= 0 && O.fileLane[i] !== st.lane)) continue;
      inRange++;
      if (shown >= MAX_FILE_ROWS) continue;
      shown++;
      var failed = O.fileFailed[i] === 1, match = re && re.test(O.filePath[i]);
      rows.push('<tr class="' + (failed ? 'failed' : '') + (match ? ' match' : '') + '" data-us="' + t + '"><td>' + lib.seconds(t) + '</td><td>' +
        esc(lib.fitChars(D.processes[O.fileLane[i]].label, 28)) + '</td><td>' + esc(O.fileCall[i]) + '</td><td class="path">' + esc(O.filePath[i]) +
        '</td><td>' + esc(O.groups[O.fileGroup[i]]) + '</td><td>' + (failed ? '✗ ' : '') + esc(O.fileResult[i]) + '</td></tr>');
    }
    var summary = groups.map(function (g) {
      return '<tr data-group="' + esc(g.name) + '" data-count="' + g.count + '" data-failed="' + g.failed + '"><td class="name">' + esc(g.name) + '</td><td>' + g.count +
        '</td><td>' + g.failed + '</td>' + cell(g.waitUs) + '</tr>';
    }).join('');
    return '<div class="h">Files looked up, ' + esc(rangeText()) + ': ' + inRange + (inRange > shown ? ' (first ' + shown + ' listed)' : '') + '</div>' +
      '<table id="file-summary"><thead><tr><th class="name">group</th><th>lookups</th><th>failed</th><th>disk wait after (ms)</th></tr></thead><tbody>' + summary + '</tbody></table>' +
      '<table id="files"><thead><tr><th>time</th><th>process</th><th>call</th><th class="path">path</th><th>group</th><th>result</th></tr></thead><tbody>' + rows.join('') + '</tbody></table>';
  }

  /**
   * The critical path as stays: one row per run of segments on one process (a disk-bound stretch is hundreds
   * of short segments), with what the time there was made of, largest first. `data-kinds` lists the kinds.
   */
  function criticalTable() {
    var c = O.critical;
    if (!c) return '<div class="h">' + esc(O.criticalNote || 'no critical path') + '</div>';
    var rows = [], k = 0;
    while (k < c.segments.length) {
      var lane = c.segments[k].lane, from = c.segments[k].start, to = from, parts = {}, keys = [];
      for (; k < c.segments.length && c.segments[k].lane === lane; k++) {
        var s = c.segments[k], key = s.reason === -1 ? 'running' : s.reason === -2 ? 'CPU wait' : O.reasons[s.reason].label;
        if (!(key in parts)) { parts[key] = 0; keys.push(key); }
        parts[key] += s.end - s.start;
        to = s.end;
      }
      keys.sort(function (a, b) { return parts[b] - parts[a]; });
      var what = keys.map(function (key) { return key + ' ' + lib.ms(parts[key]); }).join(' · ');
      rows.push('<tr data-lane="' + lane + '" data-kinds="' + esc(keys.join(',')) + '"><td>' + lib.seconds(from) + '</td>' + cell(to - from) +
        '<td class="name" title="' + esc(D.processes[lane].label) + '">' + esc(lib.fitChars(D.processes[lane].label, 30)) + '</td><td class="what">' + esc(what) + '</td></tr>');
    }
    return '<div class="h">Critical path of ' + esc(D.processes[c.lane].label) + ': ' + lib.duration(c.end - c.start) + ', ' + rows.length + ' stays in ' + c.segments.length + ' segments</div>' +
      '<table id="critical-list"><thead><tr><th>from</th><th>ms</th><th class="name">process</th><th class="what">made of (ms)</th></tr></thead><tbody>' + rows.join('') + '</tbody></table>';
  }

  var criticalHtml = criticalTable();
  var totalsHeight = L.tablesHeight - L.filesBlockHeight;
  function update() {
    // What the tables show now, for whoever waits for them (tests): the range of the last update.
    body.setAttribute('data-range', st.from + ',' + st.to + ',' + st.lane);
    body.innerHTML = '<div class="panel" id="totals-panel" style="height:' + (totalsHeight - 6) + 'px">' + totalsTable() + '</div>' +
      '<div class="row"><div class="panel" id="files-panel" style="height:' + (L.filesBlockHeight - 6) + 'px">' + filesTables() + '</div>' +
      '<div class="panel" id="critical-panel" style="height:' + (L.filesBlockHeight - 6) + 'px">' + criticalHtml + '</div></div>';
  }
  return { update: update };
};
