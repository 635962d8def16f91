/* battlemap atlas, part 6 of 6 — start: one page, put together in order.
 *
 * Owns the page's start-up (on DOMContentLoaded): reads the page's level and
 * stem from <body>, says plainly when Leaflet or the data files are missing,
 * draws the map (atlas-map.js), builds the panel in its order (summary,
 * search, legend, ranking, case list, links, filters, export), applies the filters,
 * and exposes the small API the browser tests and a curious user call on
 * window.battlemap: map, basemap, drawn(), total(), toggle(), caseAt(),
 * openCase(), search(), page, timings; body[data-ready] is '1' when drawn.
 */
(function (bm) {
  'use strict';

  function fail(message) {
    var node = document.getElementById('map') || document.body;
    node.appendChild(bm.el('div', 'bm-error', message));
    document.body.dataset.ready = 'error';
  }

  function start() {
    var body = document.body, t0 = performance.now();
    bm.ROOT = body.dataset.root || '';
    bm.LEVEL = body.dataset.level;
    bm.STEM = body.dataset.stem;
    bm.D = bm.loaded(bm.LEVEL, bm.STEM);
    if (!window.L) return fail('缺少 Leaflet（assets/leaflet.js），请完整复制整个文件夹。');
    if (!bm.S || !bm.D) return fail('缺少数据文件（data/ 文件夹），请完整复制整个文件夹。');
    bm.drawMap();

    var panel = document.getElementById('panel');
    bm.buildSummary(panel);
    bm.buildSearch(panel);
    bm.buildLegend(panel);
    bm.buildRanking(panel);
    bm.buildCaseList(panel);
    bm.buildLinks(panel);
    bm.buildFilters(panel);
    bm.buildExport(panel);
    bm.applyFilters();
    bm.drawn = function () { return bm.caseLayer.count; };
    bm.total = function () { return bm.D.cases.count; };
    bm.toggle = function (key, on) {
      var box = document.querySelector('input[data-state="' + key + '"]');
      if (!box) return false;
      box.checked = on;
      box.dispatchEvent(new Event('change'));
      return true;
    };
    bm.caseAt = function (id) {
      var i = bm.caseLayer.byId[id];
      if (i === undefined) return null;
      var p = bm.map.latLngToContainerPoint(bm.caseLayer.latLng(i));
      return { x: p.x, y: p.y };
    };
    bm.page = { level: bm.LEVEL, stem: bm.STEM, name: bm.D.name };
    bm.openFromHash();
    window.addEventListener('hashchange', bm.openFromHash);
    bm.timings = { start: Math.round(t0), drawn: Math.round(performance.now()) };
    window.requestAnimationFrame(function () {
      bm.timings.ready = Math.round(performance.now());
      body.dataset.ready = '1';
    });
  }

  document.addEventListener('DOMContentLoaded', start);
})(window.battlemap);
