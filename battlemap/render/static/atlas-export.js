/* battlemap atlas — export: the visible case list as CSV, and printing.
 *
 * Owns the 导出与打印 section of the panel: 下载案件清单 writes the cases the
 * map shows right now (after the legend's state boxes and the type, channel
 * and date filters) as a CSV file made in the page (a Blob download, so it
 * works offline from file://), and 打印 prints the page on one landscape
 * sheet (the print stylesheet is in atlas.css; here the map is refitted to
 * the printed size before printing and back after).
 *
 * The CSV is UTF-8 with a BOM (Excel and WPS then read the Chinese headers
 * right), rows in the order of the case list (overdue first, longest first).
 */
(function (bm) {
  'use strict';

  var el = bm.el, append = bm.append, dayToDate = bm.dayToDate, locatedNames = bm.locatedNames;
  var F_OVERDUE = bm.F_OVERDUE, F_RECURRING = bm.F_RECURRING, F_INVALID = bm.F_INVALID;

  // A text cell that a spreadsheet would read as a formula gets a leading apostrophe.
  // This is the rule of battlemap/_sheets.py formula_like, kept equivalent: starts with
  // = + - @ tab or CR, and is not a plain number (-113.5) nor dashes only (-); \p{Nd}
  // is Python's \d (any Unicode decimal digit). Change both together.
  var FORMULA_START = /^[=+\-@\t\r]/;
  var HARMLESS = /^(?:-?\p{Nd}+(?:\.\p{Nd}+)?|-+)$/u;
  function formulaLike(text) { return FORMULA_START.test(text) && !HARMLESS.test(text); }
  function inertText(value) {
    var text = value === null || value === undefined ? '' : String(value);
    return formulaLike(text) ? "'" + text : text;
  }
  function csvField(text) {
    return /[",\r\n]/.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text;
  }

  // the positions of the cases drawn now, in the case list's order
  function visibleCases() {
    var c = bm.D.cases, vis = bm.caseLayer.visible, order = [];
    for (var i = 0; i < c.id.length; i++) if (vis[i]) order.push(i);
    order.sort(function (a, b) {
      return (c.f[b] & F_OVERDUE) - (c.f[a] & F_OVERDUE) || c.o[b] - c.o[a] || c.s[a] - c.s[b] ||
        c.d[b] - c.d[a] || (c.id[a] < c.id[b] ? -1 : 1);
    });
    return order;
  }

  // [header, row, row, …]: text cells as strings, numbers as numbers
  function caseTable() {
    var c = bm.D.cases, detail = c.detail, layer = bm.caseLayer;
    var system = bm.S.basemap && bm.S.basemap.coordinates === 'GCJ-02' ? 'GCJ-02' : 'WGS84';
    var header = ['案件编号', '状态', '是否超期', '超期天数', '是否反复', '问题类型', '上报渠道',
      '上报日期', '所在镇街', '所在村居', '所在网格', '线索是否有效'];
    if (detail) header.push('整改期限', '办结时间', '所属河涌', '问题描述');
    header.push('经度（' + system + '）', '纬度（' + system + '）');
    var rows = [header];
    visibleCases().forEach(function (i) {
      var f = c.f[i], names = locatedNames(c.g[i]) || {};
      var row = [c.id[i], bm.S.labels[bm.S.states[c.s[i]]], (f & F_OVERDUE) ? '是' : '否',
        (f & F_OVERDUE) ? c.o[i] : 0, (f & F_RECURRING) ? '是' : '否',
        bm.S.types[c.t[i]] || '', bm.S.channels[c.c[i]] || '', c.d[i] >= 0 ? dayToDate(c.d[i]) : '',
        names.town ? names.town[1] : '', names.village ? names.village[1] : '',
        names.grid ? names.grid[1] : '', (f & F_INVALID) ? '否' : '是'];
      if (detail) {
        var d = detail[i];
        row.push(d[1], d[2], d[6] || d[5], d[8]);
      }
      row.push(+layer.lon(i).toFixed(6), +layer.lat(i).toFixed(6));
      rows.push(row);
    });
    return rows;
  }

  function caseCsv() {
    return '\ufeff' + caseTable().map(function (row) {
      return row.map(function (v) { return typeof v === 'number' ? String(v) : csvField(inertText(v)); })
        .join(',');
    }).join('\r\n') + '\r\n';
  }

  function download() {
    var blob = new Blob([caseCsv()], { type: 'text/csv;charset=utf-8' });
    var url = URL.createObjectURL(blob), a = document.createElement('a');
    a.href = url;
    a.download = bm.D.name + '_案件清单_' + bm.S.asOf + '.csv';
    document.body.appendChild(a);
    a.click();
    document.body.removeChild(a);
    window.setTimeout(function () { URL.revokeObjectURL(url); }, 1000);
  }

  // printing: the map is refitted to its printed size, and back afterwards
  var printing = false;
  function refit(on) {
    if (on === printing || !bm.map) return;
    printing = on;
    document.body.classList.toggle('bm-printing', on);
    bm.map.invalidateSize({ animate: false });
    bm.map.fitBounds(bm.D.bounds, { padding: [8, 8], animate: false });
    if (bm.caseLayer) bm.caseLayer.redraw();
  }
  function watchPrint() {
    window.addEventListener('beforeprint', function () { refit(true); });
    window.addEventListener('afterprint', function () { refit(false); });
    var media = window.matchMedia && window.matchMedia('print');
    if (media && media.addEventListener) media.addEventListener('change', function (e) { refit(e.matches); });
  }

  function buildExport(panel) {
    var sec = bm.section('导出与打印');
    var bar = el('div', 'bm-export');
    var csv = el('button', 'bm-download', '下载案件清单（CSV）');
    csv.type = 'button';
    csv.title = '下载图上当前显示的案件（按图例勾选与筛选条件）';
    csv.addEventListener('click', download);
    var print = el('button', 'bm-print', '打印本图');
    print.type = 'button';
    print.addEventListener('click', function () { refit(true); window.print(); });
    append(bar, csv, print);
    sec.appendChild(bar);
    panel.appendChild(sec);
    watchPrint();
  }

  bm.buildExport = buildExport; bm.caseCsv = caseCsv; bm.formulaLike = formulaLike;
})(window.battlemap);
