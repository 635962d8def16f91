/* battlemap atlas, part 3 of 6 — map: the Leaflet map and its layers.
 *
 * Owns bm.drawMap: the map, its panes and renderers, the optional tile
 * basemap (S.basemap; the data are already in the basemap's coordinates,
 * GCJ-02 shifting is done in Python), the district outline and the
 * neighbouring towns, the child units shaded by 销号率 with their tooltips and
 * labels and the river labels (decluttered), the rivers (a river page's own
 * river above its cases) and the context points. A click on a unit or a river
 * opens its page unless a distinguishable case is under the pointer
 * (CaseLayer.hit in atlas-cases.js); on touch, the first tap shows its tooltip.
 */
(function (bm) {
  'use strict';

  var el = bm.el, append = bm.append, row = bm.row, pct = bm.pct, stat = bm.stat;
  var pageHref = bm.pageHref, levelLabel = bm.levelLabel, escapeHtml = bm.escapeHtml;
  var setRateLevel = bm.setRateLevel, rateColor = bm.rateColor;

  // one canvas for the context (neighbours, outline, corridor; drawn first, so beneath),
  // the units and the rivers: every extra full-map canvas is more to paint and composite
  // before the first frame. A river page's own river has its canvas above the cases.
  // Their padding is Leaflet's default (0.1 of the map on each side, redrawn after a
  // pan): at 0.5 the canvas was 4 times the map's area (2080 x 1640 pixels for a
  // 1040 x 820 map), and allocating and rasterising it was the first frame's largest cost.
  var unitRenderer = null, topRenderer = null;

  // the tooltip of a unit on the map: its river chief and figures
  function unitContent(level, name, chief, stats) {
    var box = el('div', 'bm-pop bm-unit-pop');
    box.appendChild(el('div', 'bm-pop-title', levelLabel(level) + ' · ' + name));
    var t = el('table', 'bm-pop-table');
    row(t, '河长', chief);
    row(t, '案件总数', stat(stats, 'total'));
    bm.S.states.forEach(function (s) { row(t, bm.S.labels[s], stat(stats, s)); });
    row(t, '销号率', pct(stat(stats, 'closed_rate')));
    // the legend's words and rule: state counts add up to the total, 超期/反复 among them
    row(t, '其中超期', stat(stats, 'overdue') + (stat(stats, 'overdue') ? '（最长 ' + stat(stats, 'max_days_overdue') + ' 天）' : ''),
      stat(stats, 'overdue') ? 'bm-warn' : null);
    row(t, '其中反复', stat(stats, 'recurring'));
    row(t, '本期新增 / 销号', stat(stats, 'new_in_period') + ' / ' + stat(stats, 'closed_in_period'));
    if (stat(stats, 'rank')) row(t, '排名', '第 ' + stat(stats, 'rank') + ' 名');
    box.appendChild(t);
    box.appendChild(el('div', 'bm-pop-hint', '点击进入' + levelLabel(level) + '图'));
    return box;
  }

  // ------------------------------------------------------------- map layers
  // A name on the map: a marker whose icon holds the text (`node`, class bm-label),
  // centred on its point by CSS. Leaflet's permanent tooltips read each label's size
  // as it is added, one forced layout per label; a marker is placed without reading
  // the layout, and declutter() measures all labels at once. `href`: a click opens it.
  function mapLabel(latlng, content, cls, href) {
    var node = el('div', 'bm-label ' + cls);
    node.appendChild(content);
    var icon = L.divIcon({ className: 'bm-label-at', html: node, iconSize: null });
    var marker = L.marker(latlng || [0, 0], { icon: icon, pane: 'bmLabels', interactive: !!href,
      keyboard: false });
    if (href) marker.on('click', function () { window.location.href = href; });
    return { tip: marker, node: node };
  }

  var labels = [], riverLabels = [];
  // hide labels that would overlap a label already shown: unit labels first (largest
  // units first), then river labels (this page's river, main stems, then the longest)
  function declutter() {
    var shown = [], m = bm.map;
    function clashes(r) {
      return shown.some(function (o) {
        return r.left < o.right + 2 && r.right > o.left - 2 && r.top < o.bottom && r.bottom > o.top;
      });
    }
    function moved(r, dx, dy) {
      return { left: r.left + dx, right: r.right + dx, top: r.top + dy, bottom: r.bottom + dy };
    }
    var items = labels.concat(riverLabels).filter(function (item) { return item.tip && item.tip.getElement() && !item.off; });
    // every label shown and measured at once (one layout, not one per label), the hidden
    // ones hidden after; a river label's other places are its box moved along the river
    items.forEach(function (item) { item.node.style.visibility = ''; });
    var boxes = items.map(function (item) { return item.node.getBoundingClientRect(); });
    var hidden = items.filter(function (item, j) {
      var places = item.places || [null], first = places[0] && m.latLngToContainerPoint(places[0]);
      for (var k = 0; k < places.length; k++) {
        var p = k ? m.latLngToContainerPoint(places[k]) : first;
        var r = k ? moved(boxes[j], p.x - first.x, p.y - first.y) : boxes[j];
        if (clashes(r)) continue;
        shown.push(r);
        if (k) item.tip.setLatLng(places[k]);
        return false;
      }
      return true;
    });
    hidden.forEach(function (item) { item.node.style.visibility = 'hidden'; });
  }

  // A click or tap on a unit or a river: with a mouse it opens the page at once (the
  // hover has shown the name and figures); on a touch screen the first tap shows the
  // tooltip and a second tap on the same unit opens its page.
  var lastPointer = 'mouse', armed = null;
  function onUnitClick(layer, href) {
    return function (e) {
      L.DomEvent.stopPropagation(e);
      if (bm.clickCase(e)) return;
      if (lastPointer === 'touch' && armed !== layer) {
        armed = layer;
        layer.openTooltip(e.latlng);
        return;
      }
      window.location.href = href;
    };
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

  // Leaflet simplifies every line again on each redraw (smoothFactor 1: a pixel); the
  // district's overview geometry is already simplified for its view (render/web), so
  // there it is drawn as it is (5,500 vertices: drawing them costs less than the
  // simplifying did)
  function smoothing() { return bm.D.overview ? 0 : 1; }

  function drawContext() {
    // neighbouring towns, faint, for orientation (every page but the district)
    if (bm.LEVEL !== 'district') {
      bm.S.towns.g.forEach(function (g) {
        L.polygon(g, { renderer: unitRenderer, interactive: false, color: '#b9b2a3', weight: 1,
          fillColor: '#ece7dc', fillOpacity: bm.S.basemap ? 0.25 : 1 }).addTo(bm.map);
      });
      bm.S.towns.label.forEach(function (p, k) {
        if (bm.S.index.town[k][0] === bm.D.town) return;
        mapLabel(p, el('span', null, bm.S.index.town[k][1]), 'bm-label-faint').tip.addTo(bm.map);
      });
    }
    // the district page draws its overview geometry (render/web: simplified for its view,
    // the towns as one coverage); every other page the district's outline of shared.js
    var overview = bm.D.overview, outline = overview ? overview.outline : bm.S.district.g;
    L.polygon(outline, { renderer: unitRenderer, interactive: false, smoothFactor: smoothing(), color: '#3b3b3b', weight: 2.5,
      fill: bm.LEVEL === 'district' && !bm.S.basemap, fillColor: '#fbfaf6', fillOpacity: 1 }).addTo(bm.map);
    if (bm.D.corridor && bm.D.corridor.length) {
      L.polygon(bm.D.corridor, { renderer: unitRenderer, interactive: false, color: '#2b7bba', weight: 1.5,
        dashArray: '6 4', fillColor: '#9ecae1', fillOpacity: 0.25 }).addTo(bm.map);
    }
  }

  function drawUnits() {
    var childLevel = bm.D.childLevel;
    setRateLevel(childLevel);
    (bm.D.children || []).forEach(function (child) {
      var geom = child.g || (childLevel === 'town' ? bm.S.towns.g[child.i] : null);
      if (!geom) return;
      var rate = stat(child.stats, 'closed_rate');
      var poly = L.polygon(geom, { renderer: unitRenderer, color: '#6b6b6b', weight: 1, smoothFactor: smoothing(),
        fillColor: rateColor(child.stats), fillOpacity: bm.S.basemap ? 0.5 : 0.85 }).addTo(bm.map);
      // the figures' table is made when the tooltip opens (53 villages on a town page)
      poly.bindTooltip(function () { return unitContent(childLevel, child.name, child.chief, child.stats); },
        { sticky: true, direction: 'top', offset: [0, -12], className: 'bm-unit-tip', opacity: 1 });
      poly.on('mouseover', function () { poly.setStyle({ weight: 3, color: '#111' }); });
      poly.on('mouseout', function () { poly.setStyle({ weight: 1, color: '#6b6b6b' }); });
      poly.on('click', onUnitClick(poly, pageHref(childLevel, child.stem)));
      var label = el('span', null, child.name);
      if (rate !== null && childLevel === 'town') append(label, el('small', null, ' ' + pct(rate)));
      var b = poly.getBounds(), item = mapLabel(child.label, label, 'bm-label-' + childLevel);
      item.size = (b.getNorth() - b.getSouth()) * (b.getEast() - b.getWest());
      item.tip.addTo(bm.map);
      labels.push(item);
    });
    labels.sort(function (a, b) { return b.size - a.size; });
    if (bm.D.g) {
      L.polygon(bm.D.g, { renderer: unitRenderer, interactive: false, color: '#111', weight: 3,
        fill: !(bm.D.children && bm.D.children.length), fillColor: '#fffdf5',
        fillOpacity: bm.S.basemap ? 0.3 : 0.9 }).addTo(bm.map);
    }
  }

  // A river's line; on its own page it is drawn above its cases (pane bmRiverTop) with a
  // white casing, so that thousands of dots do not hide it. Where the map's child units
  // open on click (district, town, village), the lines and their labels take no clicks
  // (a click in a town, beside a river, on it or on its name, opens the town); there a
  // river opens from the panel's 流经河涌 list and the search. On grid pages the line
  // and its label open the river.
  function drawRivers() {
    var unitsClick = !!(bm.D.children && bm.D.children.length);
    var overview = bm.D.overview;
    bm.S.rivers.forEach(function (river, k) {
      var stem = river[0], name = river[1], kind = river[2];
      var geom = overview ? overview.rivers[k] : river[3];
      if (!geom || !geom.length) return;
      var main = kind === 'main', mine = bm.LEVEL === 'river' && stem === bm.STEM;
      var text = name + (main ? '（干流）' : ''), href = pageHref('river', stem);
      riverLabel(text, geom, mine ? 0 : (main ? 1 : 2), mine || unitsClick ? null : href);
      if (mine) {
        L.polyline(geom, { renderer: topRenderer, interactive: false, color: '#fff', weight: 9,
          opacity: 0.9, lineCap: 'round' }).addTo(bm.map);
        L.polyline(geom, { renderer: topRenderer, interactive: false, color: '#08306b', weight: 5,
          opacity: 1, lineCap: 'round' }).addTo(bm.map);
        return;
      }
      var line = L.polyline(geom, { renderer: unitRenderer, interactive: !unitsClick, smoothFactor: smoothing(),
        color: main ? '#1565c0' : '#1f7fd0', weight: main ? 4.5 : 2.5,
        opacity: bm.LEVEL === 'river' ? 0.5 : 0.95, lineCap: 'round' }).addTo(bm.map);
      if (unitsClick) return;
      line.bindTooltip(el('span', null, text), { sticky: true, className: 'bm-river-tip' });
      line.on('click', onUnitClick(line, href));
    });
    riverLabels.sort(function (a, b) { return a.rank - b.rank || b.size - a.size; });
  }

  // River labels (on grid pages a link to the river's page): main stems and a river
  // page's own river at every zoom, tributaries from TRIBUTARY_LABEL_ZOOM in (on the
  // district overview 33 tributary names would bury the towns). Each sits halfway along
  // the part of its river in view (segments clipped to the view) or, where that clashes
  // with a label already shown, at the next of LABEL_PLACES (declutter); placed again
  // after every pan and zoom.
  var TRIBUTARY_LABEL_ZOOM = 11;
  // (its marker is made when it is first placed: on the district overview most never are)
  function riverLabel(text, geom, rank, href) {
    var parts = typeof geom[0][0] === 'number' ? [geom] : geom;
    var size = 0;
    parts.forEach(function (p) { size += p.length; });
    riverLabels.push({ tip: null, node: null, parts: parts, rank: rank, size: size, off: false,
      make: function () {
        return mapLabel(null, el('span', null, text), 'bm-label-river' + (rank < 2 ? ' bm-label-main' : ''), href);
      } });
  }
  // points at these shares of the way along the river's segments inside `view` (pixel
  // bounds), halfway first; [] when none of the river is in view
  var LABEL_PLACES = [0.5, 0.3, 0.7, 0.15, 0.85];
  function placesInView(parts, view) {
    var pieces = [], total = 0, m = bm.map;
    parts.forEach(function (part) {
      var prev = null;
      part.forEach(function (ll) {
        var pt = m.latLngToLayerPoint(ll);
        if (prev) {
          var seg = L.LineUtil.clipSegment(prev, pt, view, false, true);
          if (seg) { var len = seg[0].distanceTo(seg[1]); pieces.push([seg, len]); total += len; }
        }
        prev = pt;
      });
    });
    if (!total) return [];
    return LABEL_PLACES.map(function (share) {
      var left = share * total, k = 0;
      while (k < pieces.length - 1 && left > pieces[k][1]) { left -= pieces[k][1]; k++; }
      var seg = pieces[k][0], len = pieces[k][1], t = len ? Math.min(left / len, 1) : 0;
      return m.layerPointToLatLng(seg[0].add(seg[1].subtract(seg[0]).multiplyBy(t)));
    });
  }
  function placeRiverLabels() {
    var m = bm.map, size = m.getSize(), zoom = m.getZoom();
    var margin = Math.min(40, size.x / 8, size.y / 8);
    var view = L.bounds(m.containerPointToLayerPoint([margin, margin]),
      m.containerPointToLayerPoint([size.x - margin, size.y - margin]));
    riverLabels.forEach(function (item) {
      item.places = item.rank < 2 || zoom >= TRIBUTARY_LABEL_ZOOM ? placesInView(item.parts, view) : [];
      item.off = !item.places.length;
      if (item.off) { if (item.tip) m.removeLayer(item.tip); return; }
      if (!item.tip) { var made = item.make(); item.tip = made.tip; item.node = made.node; }
      item.tip.setLatLng(item.places[0]);
      if (!m.hasLayer(item.tip)) item.tip.addTo(m);
    });
  }
  function relabel() { placeRiverLabels(); declutter(); }

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
    map.createPane('bmCases').style.zIndex = 450;
    map.getPane('bmCases').style.pointerEvents = 'none';
    map.createPane('bmRiverTop').style.zIndex = 460;
    map.getPane('bmRiverTop').style.pointerEvents = 'none';
    map.createPane('bmContextPoints').style.zIndex = 620;
    map.createPane('bmHighlight').style.zIndex = 630;
    map.getPane('bmHighlight').style.pointerEvents = 'none';
    map.createPane('bmLabels').style.zIndex = 640;     // names: below tooltips (650), popups
    unitRenderer = L.canvas({ padding: 0.1, tolerance: 3 });
    topRenderer = L.canvas({ pane: 'bmRiverTop', padding: 0.1 });
    map.getContainer().addEventListener('pointerdown', function (e) { lastPointer = e.pointerType || 'mouse'; });
    map.fitBounds(bm.D.bounds, { padding: [24, 24], animate: false });
    L.control.scale({ imperial: false, position: 'bottomleft' }).addTo(map);
    bm.basemap = drawBasemap();
    drawContext();
    drawUnits();
    drawRivers();
    drawContextPoints();
    bm.addCaseLayer();
    map.on('moveend', relabel);
    relabel();
  };
  bm.contextKinds = contextKinds;
})(window.battlemap);
