/* battlemap atlas, part 3 of 6 — map: the Leaflet map and its layers.
 *
 * Owns bm.drawMap: the map, its panes and renderers, the optional tile
 * basemap (S.basemap; the data are already in the basemap's coordinates,
 * GCJ-02 shifting is done in Python), the district outline and the
 * neighbouring towns, the child units shaded by 销号率 with their tooltips and
 * labels (decluttered), the rivers and the context points. A click on a unit
 * or a river opens its page unless a case is under the pointer.
 */
(function (bm) {
  'use strict';

  var el = bm.el, append = bm.append, row = bm.row, pct = bm.pct, stat = bm.stat;
  var pageHref = bm.pageHref, levelLabel = bm.levelLabel, escapeHtml = bm.escapeHtml;
  var setRateBreaks = bm.setRateBreaks, rateColor = bm.rateColor;

  var unitRenderer = null, ctxRenderer = null;

  // the tooltip of a unit on the map: its river chief and figures
  function unitContent(level, name, chief, stats) {
    var box = el('div', 'bm-pop bm-unit-pop');
    box.appendChild(el('div', 'bm-pop-title', levelLabel(level) + ' · ' + name));
    var t = el('table', 'bm-pop-table');
    row(t, '河长', chief);
    row(t, '案件总数', stat(stats, 'total'));
    bm.S.states.forEach(function (s) { row(t, bm.S.labels[s], stat(stats, s)); });
    row(t, '销号率', pct(stat(stats, 'closed_rate')));
    row(t, '超期', stat(stats, 'overdue') + (stat(stats, 'overdue') ? '（最长 ' + stat(stats, 'max_days_overdue') + ' 天）' : ''),
      stat(stats, 'overdue') ? 'bm-warn' : null);
    row(t, '反复', stat(stats, 'recurring'));
    row(t, '本期新增 / 销号', stat(stats, 'new_in_period') + ' / ' + stat(stats, 'closed_in_period'));
    if (stat(stats, 'rank')) row(t, '排名', '第 ' + stat(stats, 'rank') + ' 名');
    box.appendChild(t);
    box.appendChild(el('div', 'bm-pop-hint', '点击进入' + levelLabel(level) + '图'));
    return box;
  }

  // ------------------------------------------------------------- map layers
  var labels = [];
  // hide labels that would overlap a label already shown (largest units first)
  function declutter() {
    var shown = [];
    labels.forEach(function (item) {
      var node = item.tip.getElement();
      if (!node) return;
      node.style.visibility = '';
      var r = node.getBoundingClientRect();
      var clash = shown.some(function (o) {
        return r.left < o.right + 2 && r.right > o.left - 2 && r.top < o.bottom && r.bottom > o.top;
      });
      if (clash) node.style.visibility = 'hidden'; else shown.push(r);
    });
  }

  // the optional tile basemap (config.basemap), under everything else
  function drawBasemap() {
    var b = bm.S.basemap;
    if (!b) return null;
    var options = { maxNativeZoom: b.maxZoom, maxZoom: bm.map.getMaxZoom(), minZoom: bm.map.getMinZoom(),
      attribution: b.attribution ? escapeHtml(b.attribution) : '' };
    if (b.subdomains) options.subdomains = b.subdomains;
    var layer = L.tileLayer(b.url, options).addTo(bm.map);
    if (b.attribution) L.control.attribution({ prefix: false }).addTo(bm.map);
    document.body.classList.add('bm-has-basemap');
    return layer;
  }

  function drawContext() {
    // neighbouring towns, faint, for orientation (every page but the district)
    if (bm.LEVEL !== 'district') {
      bm.S.towns.g.forEach(function (g) {
        L.polygon(g, { renderer: ctxRenderer, interactive: false, color: '#b9b2a3', weight: 1,
          fillColor: '#ece7dc', fillOpacity: bm.S.basemap ? 0.25 : 1 }).addTo(bm.map);
      });
      bm.S.towns.label.forEach(function (p, k) {
        if (bm.S.index.town[k][0] === bm.D.town) return;
        L.tooltip({ permanent: true, direction: 'center', className: 'bm-label bm-label-faint' })
          .setLatLng(p).setContent(el('span', null, bm.S.index.town[k][1])).addTo(bm.map);
      });
    }
    L.polygon(bm.S.district.g, { renderer: ctxRenderer, interactive: false, color: '#3b3b3b', weight: 2.5,
      fill: bm.LEVEL === 'district' && !bm.S.basemap, fillColor: '#fbfaf6', fillOpacity: 1 }).addTo(bm.map);
    if (bm.D.corridor && bm.D.corridor.length) {
      L.polygon(bm.D.corridor, { renderer: ctxRenderer, interactive: false, color: '#2b7bba', weight: 1.5,
        dashArray: '6 4', fillColor: '#9ecae1', fillOpacity: 0.25 }).addTo(bm.map);
    }
  }

  function drawUnits() {
    var childLevel = bm.D.childLevel;
    setRateBreaks((bm.D.children || []).map(function (c) { return stat(c.stats, 'closed_rate'); }));
    (bm.D.children || []).forEach(function (child) {
      var geom = child.g || (childLevel === 'town' ? bm.S.towns.g[child.i] : null);
      if (!geom) return;
      var rate = stat(child.stats, 'closed_rate');
      var poly = L.polygon(geom, { renderer: unitRenderer, color: '#6b6b6b', weight: 1,
        fillColor: rateColor(rate), fillOpacity: bm.S.basemap ? 0.5 : 0.85 }).addTo(bm.map);
      poly.bindTooltip(unitContent(childLevel, child.name, child.chief, child.stats),
        { sticky: true, direction: 'top', offset: [0, -12], className: 'bm-unit-tip', opacity: 1 });
      poly.on('mouseover', function () { poly.setStyle({ weight: 3, color: '#111' }); });
      poly.on('mouseout', function () { poly.setStyle({ weight: 1, color: '#6b6b6b' }); });
      poly.on('click', function (e) {
        L.DomEvent.stopPropagation(e);
        if (bm.clickCase(e)) return;
        window.location.href = pageHref(childLevel, child.stem);
      });
      var label = el('span', null, child.name);
      if (rate !== null && childLevel === 'town') append(label, el('small', null, ' ' + pct(rate)));
      var b = poly.getBounds();
      labels.push({ size: (b.getNorth() - b.getSouth()) * (b.getEast() - b.getWest()),
        tip: L.tooltip({ permanent: true, direction: 'center', className: 'bm-label bm-label-' + childLevel })
          .setLatLng(child.label).setContent(label).addTo(bm.map) });
    });
    labels.sort(function (a, b) { return b.size - a.size; });
    if (bm.D.g) {
      L.polygon(bm.D.g, { renderer: unitRenderer, interactive: false, color: '#111', weight: 3,
        fill: !(bm.D.children && bm.D.children.length), fillColor: '#fffdf5',
        fillOpacity: bm.S.basemap ? 0.3 : 0.9 }).addTo(bm.map);
    }
  }

  function drawRivers() {
    bm.S.rivers.forEach(function (river) {
      var stem = river[0], name = river[1], kind = river[2], geom = river[3];
      if (!geom || !geom.length) return;
      var main = kind === 'main', mine = bm.LEVEL === 'river' && stem === bm.STEM;
      var line = L.polyline(geom, { renderer: unitRenderer, color: mine ? '#08306b' : (main ? '#1565c0' : '#1f7fd0'),
        weight: mine ? 5 : (main ? 4.5 : 2.5), opacity: bm.LEVEL === 'river' && !mine ? 0.5 : 0.95,
        lineCap: 'round' }).addTo(bm.map);
      line.bindTooltip(el('span', null, name + (main ? '（干流）' : '')), { sticky: true, className: 'bm-river-tip' });
      line.on('click', function (e) {
        L.DomEvent.stopPropagation(e);
        if (bm.clickCase(e)) return;
        window.location.href = pageHref('river', stem);
      });
    });
  }

  function drawContextPoints() {
    var kinds = contextKinds();
    bm.S.context.forEach(function (p) {
      var k = kinds.indexOf(p[2]);
      var icon = L.divIcon({ className: 'bm-ctx bm-ctx-' + (k % 4), iconSize: [14, 14], html: '' });
      var marker = L.marker(p[0], { icon: icon, keyboard: false, pane: 'bmContextPoints' }).addTo(bm.map);
      var tip = append(el('div'), el('b', null, p[1]), el('div', null, p[3] + (p[4] ? ' · ' + p[4] : '')));
      marker.bindTooltip(tip, { direction: 'top', offset: [0, -8] });
    });
  }
  function contextKinds() {
    var kinds = [];
    bm.S.context.forEach(function (p) { if (kinds.indexOf(p[2]) < 0) kinds.push(p[2]); });
    return kinds;
  }

  bm.drawMap = function () {
    var map = bm.map = L.map('map', { preferCanvas: true, zoomSnap: 0.25, zoomDelta: 0.5, maxZoom: 19,
      minZoom: 7, attributionControl: false, boxZoom: true });
    map.createPane('bmContext').style.zIndex = 350;
    map.createPane('bmCases').style.zIndex = 450;
    map.getPane('bmCases').style.pointerEvents = 'none';
    map.createPane('bmContextPoints').style.zIndex = 620;
    map.createPane('bmHighlight').style.zIndex = 630;
    map.getPane('bmHighlight').style.pointerEvents = 'none';
    ctxRenderer = L.canvas({ pane: 'bmContext', padding: 0.5 });
    unitRenderer = L.canvas({ padding: 0.5, tolerance: 3 });
    map.fitBounds(bm.D.bounds, { padding: [24, 24], animate: false });
    L.control.scale({ imperial: false, position: 'bottomleft' }).addTo(map);
    bm.basemap = drawBasemap();
    drawContext();
    drawUnits();
    drawRivers();
    drawContextPoints();
    bm.addCaseLayer();
    map.on('zoomend', declutter);
    declutter();
  };
  bm.contextKinds = contextKinds;
})(window.battlemap);
