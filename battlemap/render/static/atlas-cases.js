/* battlemap atlas, part 2 of 6 — cases: the canvas layer, its filters, its popups.
 *
 * Owns the case layer: cases are compact parallel arrays drawn by ONE canvas
 * layer (CaseLayer), open states above closed and overdue on top; clicks are
 * hit-tested against a pixel-grid index. Also the filter state (bm.filters)
 * and bm.applyFilters (what the canvas shows), the case popup (details
 * loaded from the case's grid file on demand), the highlight ring, and
 * bm.openCase / bm.clickCase.
 */
(function (bm) {
  'use strict';

  var el = bm.el, append = bm.append, row = bm.row, chip = bm.chip, loadData = bm.loadData;
  var pageHref = bm.pageHref, dayToDate = bm.dayToDate, locatedNames = bm.locatedNames;
  var F_OVERDUE = bm.F_OVERDUE, F_RECURRING = bm.F_RECURRING, F_MISMATCH = bm.F_MISMATCH;
  var F_INVALID = bm.F_INVALID;

  var DRAW_ORDER = [3, 0, 1, 2];   // closed first, open states above it, overdue on top
  var PICK_PX = 3;      // a click picks a dot when within this many pixels of its edge
  var CROWD_PX = 12;    // ... and, where units open on click, no other dot within this radius

  // (defined only when Leaflet is there, so that start() can say it is missing)
  var CaseLayer = window.L && L.Layer.extend({
    initialize: function (cases) {
      var n = cases.count, scale = bm.S.scale, ox = bm.S.origin[0], oy = bm.S.origin[1];
      this.c = cases;
      this.n = n;
      // one pass: each case's Web Mercator place at zoom 0, and its group by draw order
      var px = this.px = new Float64Array(n), py = this.py = new Float64Array(n);
      var xs = cases.x, ys = cases.y, flags = cases.f, states = cases.s;
      var groups = this.groups = [[], [], [], [], []];          // [4] = overdue
      var slot = [];
      DRAW_ORDER.forEach(function (state, g) { slot[state] = g; });
      for (var i = 0; i < n; i++) {
        var lon = (xs[i] + ox) / scale, lat = (ys[i] + oy) / scale;
        var phi = Math.max(Math.min(lat, 85.05), -85.05) * Math.PI / 180;
        px[i] = 256 * (0.5 + lon / 360);
        py[i] = 256 * (0.5 - Math.log(Math.tan(Math.PI / 4 + phi / 2)) / (2 * Math.PI));
        groups[flags[i] & F_OVERDUE ? 4 : slot[states[i]]].push(i);
      }
      this.visible = new Uint8Array(n);
      // case number → position, made when first asked for (search, #case=, a click)
      var byId = null;
      Object.defineProperty(this, 'byId', { get: function () {
        if (!byId) { byId = {}; for (var k = 0; k < n; k++) byId[cases.id[k]] = k; }
        return byId;
      } });
      this.count = 0;
      this.onMap = null;
      this.buckets = null;
    },
    onAdd: function (m) {
      this._map = m;
      var canvas = this._canvas = L.DomUtil.create('canvas', 'bm-case-canvas leaflet-zoom-animated');
      m.getPane('bmCases').appendChild(canvas);
      m.on('moveend viewreset resize', this.redraw, this);
      m.on('zoomanim', this._animateZoom, this);
      if (this.count) this.redraw();        // the first drawing waits for the filters
    },
    onRemove: function (m) {
      L.DomUtil.remove(this._canvas);
      m.off('moveend viewreset resize', this.redraw, this);
      m.off('zoomanim', this._animateZoom, this);
    },
    _animateZoom: function (e) {
      var m = this._map, scale = m.getZoomScale(e.zoom);
      var offset = m._latLngBoundsToNewLayerBounds(m.getBounds(), e.zoom, e.center).min;
      L.DomUtil.setTransform(this._canvas, offset, scale);
    },
    // which cases are drawn (mask[i] 1), and how many (counted here when not given)
    setVisible: function (mask, count) {
      this.visible = mask;
      if (count === undefined) {
        count = 0;
        for (var i = 0; i < this.n; i++) count += mask[i];
      }
      this.count = count;
      if (this._map) this.redraw();
    },
    radius: function () {
      var z = this._map.getZoom();
      return Math.max(2.2, Math.min(7, 2.2 + (z - 10.5) * 0.9));
    },
    // One pass over the cases into a pixel buffer (dotRaster), put on the canvas at once:
    // the district's 31,000 arcs filled and stroked through the 2-D context took a median
    // 0.32 s to draw and rasterise, the stamped dots 0.05 s (same machine, same load).
    // The look is the path drawing's: per group (closed first, open states above, overdue
    // on top) one fill, then one outline above the group's fills, alpha on the union.
    redraw: function () {
      var m = this._map, canvas = this._canvas, size = m.getSize();
      var ratio = window.devicePixelRatio || 1;
      var topLeft = m.containerPointToLayerPoint([0, 0]);
      L.DomUtil.setPosition(canvas, topLeft);
      var W = canvas.width = Math.round(size.x * ratio), H = canvas.height = Math.round(size.y * ratio);
      canvas.style.width = size.x + 'px';
      canvas.style.height = size.y + 'px';
      var k = Math.pow(2, m.getZoom());
      var origin = m.getPixelOrigin().add(topLeft);
      var r = this.radius(), cell = 16;
      var many = this.count > 3000 && m.getZoom() < 13;   // district overview: open cases first
      var sx = new Float32Array(this.n), sy = new Float32Array(this.n), onMap = [];
      var colors = bm.S.colors, flags = this.c.f, vis = this.visible;
      var raster = bm.dotRaster(W, H, ratio);
      var ring = [], lateOn = [];
      // locals in the loop over every case: it runs before the page's code is optimised
      var px = this.px, py = this.py, ox = origin.x, oy = origin.y, xMax = size.x + 10, yMax = size.y + 10;
      for (var g = 0; g < 5; g++) {
        var list = this.groups[g], drawn = g === 4 ? lateOn : [];
        for (var a = 0; a < list.length; a++) {
          var i = list[a];
          if (!vis[i]) continue;
          var x = px[i] * k - ox, y = py[i] * k - oy;
          if (x < -10 || y < -10 || x > xMax || y > yMax) continue;
          sx[i] = x; sy[i] = y;
          onMap.push(i);
          drawn.push(i);
          if (flags[i] & F_RECURRING) ring.push(i);
        }
        if (g === 4) break;     // overdue: drawn once, above the recurring rings
        var state = bm.S.states[DRAW_ORDER[g]];
        var rr = g === 0 ? r * (many ? 0.6 : 0.75) : r;
        raster.fill(drawn, sx, sy, rr, colors[state], g === 0 ? (many ? 0.5 : 0.75) : 1);
        if (g > 0 || !many) raster.stroke(drawn, sx, sy, rr, 0.6, 'rgba(255,255,255,0.9)', 1);
      }
      // 反复 recurring: a thin mid-grey ring (as on the posters), then the overdue dots
      // on top of the rings: overdue stays the loudest mark on every map
      raster.stroke(ring, sx, sy, r + (many ? 1.2 : 2.5), many ? 0.7 : 1.1, 'rgba(85,85,85,0.6)', 1);
      raster.fill(lateOn, sx, sy, r * 1.25, colors.overdue, 1);
      raster.stroke(lateOn, sx, sy, r * 1.25, 1.2, '#5a0000', 1);
      canvas.getContext('2d').putImageData(raster.image, 0, 0);
      this.sx = sx; this.sy = sy; this.onMap = onMap; this.buckets = null; this.cell = cell; this.r = r;
    },
    // The case a click at `point` (container pixels) picks, or -1. The pick rule:
    //  - the pointer must be within PICK_PX of the dot's drawn edge (radius r);
    //  - on a page whose map opens child units (district, town, village), the dot must
    //    also be distinguishable: it is the ONLY drawn dot within CROWD_PX of the
    //    pointer. On a district-wide view of 32,000 dots every neighbourhood holds many
    //    dots, so a click there opens the unit under the pointer, never a case hidden
    //    among others; zoomed in, dots that stand apart open on click again. Dots that
    //    stay crowded at any zoom (cases at one address) open from the grid's page,
    //    the case list or the search;
    //  - on a page without child units (grid, river) the nearest dot within reach wins.
    hit: function (point, crowdMatters) {
      if (!this.onMap) return -1;
      if (!this.buckets) this.buckets = this._index();
      var cell = this.cell, best = -1, reach = this.r + PICK_PX, bestD = reach * reach;
      var crowd2 = CROWD_PX * CROWD_PX, near = 0;
      var span = Math.ceil(CROWD_PX / cell);
      var bx = Math.floor(point.x / cell), by = Math.floor(point.y / cell);
      for (var dx = -span; dx <= span; dx++) for (var dy = -span; dy <= span; dy++) {
        var list = this.buckets[(bx + dx) * 4096 + (by + dy)];
        if (!list) continue;
        for (var a = 0; a < list.length; a++) {
          var i = list[a], ex = this.sx[i] - point.x, ey = this.sy[i] - point.y;
          var d = ex * ex + ey * ey;
          if (d <= crowd2) near++;
          if (d <= bestD) { bestD = d; best = i; }
        }
      }
      if (best >= 0 && crowdMatters && near > 1) return -1;
      return best;
    },
    // the drawn dots by pixel cell, for hit(): made at the first click after a redraw
    _index: function () {
      var buckets = {}, cell = this.cell, list = this.onMap;
      for (var a = 0; a < list.length; a++) {
        var i = list[a], key = Math.floor(this.sx[i] / cell) * 4096 + Math.floor(this.sy[i] / cell);
        (buckets[key] = buckets[key] || []).push(i);
      }
      return buckets;
    },
    // a case's place: its integer coordinates as the page data give them
    lon: function (i) { return (this.c.x[i] + bm.S.origin[0]) / bm.S.scale; },
    lat: function (i) { return (this.c.y[i] + bm.S.origin[1]) / bm.S.scale; },
    latLng: function (i) { return L.latLng(this.lat(i), this.lon(i)); }
  });

  // ---------------------------------------------------------------- filters
  // set by the legend (states, overdue) and the filter section (type, channel, dates)
  bm.filters = { states: {}, overdue: true, type: -1, channel: -1, from: null, to: null };

  function passesFacets(i) {
    var c = bm.D.cases;
    if (bm.filters.type >= 0 && c.t[i] !== bm.filters.type) return false;
    if (bm.filters.channel >= 0 && c.c[i] !== bm.filters.channel) return false;
    if (bm.filters.from !== null && c.d[i] < bm.filters.from) return false;
    if (bm.filters.to !== null && c.d[i] > bm.filters.to) return false;
    return true;
  }

  function facetsOn() {
    var f = bm.filters;
    return f.type >= 0 || f.channel >= 0 || f.from !== null || f.to !== null;
  }

  // which cases the canvas draws, and the legend's counts (bm.showCounts, atlas-panel.js).
  // The counting rule, the same as the stats stage's: every case counts under its state,
  // so the four state counts add up to the total; 超期 (overdue) and 反复 (recurring) are
  // subsets of them (其中超期). Without a type/channel/date filter the counts are the page
  // data's own figures (bm.D.stats, from the stats stage), the very numbers the unit's
  // tooltip on the page above shows; with such a filter they are the same rule applied
  // to the cases that pass it (no figure is precomputed for every filter).
  // Visible: the case's state is ticked, and, when it is overdue, 超期 is ticked too.
  bm.applyFilters = function () {
    var c = bm.D.cases, n = c.count, mask = new Uint8Array(n);
    var counts = { overdue: 0, recurring: 0 }, faceted = facetsOn();
    var ticked = bm.S.states.map(function (s) { counts[s] = 0; return !!bm.filters.states[s]; });
    var lateOn = bm.filters.overdue, shown = 0;
    for (var i = 0; i < n; i++) {
      if (faceted && !passesFacets(i)) continue;
      var overdue = (c.f[i] & F_OVERDUE) !== 0;
      if (faceted) {
        counts[bm.S.states[c.s[i]]]++;
        if (overdue) counts.overdue++;
        if (c.f[i] & F_RECURRING) counts.recurring++;
      }
      if (!ticked[c.s[i]] || (overdue && !lateOn)) continue;
      mask[i] = 1;
      shown++;
    }
    if (!faceted) {
      Object.keys(counts).forEach(function (key) { counts[key] = bm.stat(bm.D.stats, key); });
    }
    bm.caseLayer.setVisible(mask, shown);
    if (bm.showCounts) bm.showCounts(counts, bm.caseLayer.count, n, faceted);
  };

  // ----------------------------------------------------------------- popups
  function caseContent(i, detail) {
    var c = bm.D.cases, state = bm.S.states[c.s[i]], f = c.f[i];
    var box = el('div', 'bm-pop bm-case-pop');
    var head = append(el('div', 'bm-pop-head'), el('span', 'bm-pop-id', c.id[i]),
      chip(state, bm.S.labels[state]));
    if (f & F_OVERDUE) head.appendChild(chip('overdue', bm.S.labels.overdue + ' ' + c.o[i] + ' 天'));
    if (f & F_RECURRING) head.appendChild(chip('recurring', bm.S.labels.recurring || '反复'));
    box.appendChild(head);
    var t = el('table', 'bm-pop-table');
    row(t, '问题类型', bm.S.types[c.t[i]] || '（未填）');
    row(t, '上报渠道', bm.S.channels[c.c[i]] || '（未填）');
    row(t, '上报时间', detail ? detail[0] : (c.d[i] >= 0 ? dayToDate(c.d[i]) : ''));
    if (detail) {
      row(t, '整改期限', detail[1] || '（未设）');
      row(t, '办结时间', detail[2]);
      row(t, '超期天数', (f & F_OVERDUE) ? c.o[i] + ' 天' : '0', (f & F_OVERDUE) ? 'bm-warn' : null);
      row(t, '已历时', detail[9] + ' 天（' + detail[10] + '）');
      row(t, '原始状态', detail[11]);
    }
    var names = locatedNames(c.g[i]);
    if (names) {
      row(t, '所在位置', [names.town && names.town[1], names.village && names.village[1], names.grid[1]]
        .filter(Boolean).join(' › '));
    }
    if (detail) {
      var declared = [detail[3], detail[4]].filter(Boolean).join(' › ') || '（未填）';
      var tr = row(t, '申报镇村', declared, (f & F_MISMATCH) ? 'bm-warn' : null);
      if (f & F_MISMATCH) tr.lastChild.appendChild(el('span', 'bm-flag', ' ⚠ 与定位不符'));
      var river = detail[6] ? detail[6] + (detail[7] !== null ? '（距 ' + detail[7] + ' 米）' : '') : '';
      row(t, '所属河涌', river || detail[5]);
      if (detail[5] && detail[5] !== detail[6]) row(t, '上报河涌', detail[5]);
    }
    if (f & F_INVALID) row(t, '线索', '无效线索', 'bm-warn');
    box.appendChild(t);
    if (detail) {
      box.appendChild(el('div', 'bm-pop-label', '问题描述'));
      box.appendChild(el('div', 'bm-pop-desc', detail[8] || '（无）'));
    } else {
      box.appendChild(el('div', 'bm-pop-loading', '正在加载详情…'));
    }
    if (names && bm.LEVEL !== 'grid') {
      var a = el('a', 'bm-pop-link', '打开所在网格图 ›');
      a.href = pageHref('grid', names.grid[0]);
      box.appendChild(a);
    }
    return box;
  }

  var popup = null;
  function openCase(i) {
    var latlng = bm.caseLayer.latLng(i), c = bm.D.cases;
    popup = L.popup({ maxWidth: 360, minWidth: 260, autoPanPadding: [20, 20] })
      .setLatLng(latlng).setContent(caseContent(i, c.detail ? c.detail[i] : null)).openOn(bm.map);
    bm.lastPopup = c.id[i];
    highlight(i);
    if (c.detail) { bm.popupLoaded = c.id[i]; return; }
    var names = locatedNames(c.g[i]);
    if (!names) { setDetail(i, null); return; }
    var opened = popup;
    loadData('grid', names.grid[0], function (grid) {
      if (popup !== opened || !bm.map.hasLayer(opened)) return;
      var detail = null;
      if (grid) {
        var k = grid.cases.id.indexOf(c.id[i]);
        if (k >= 0) detail = grid.cases.detail[k];
      }
      setDetail(i, detail);
    });
    function setDetail(idx, detail) {
      var box = caseContent(idx, detail);
      if (!detail) box.appendChild(el('div', 'bm-pop-loading', '详情文件缺失'));
      opened.setContent(box);
      bm.popupLoaded = c.id[idx];
    }
  }
  // a ring around the case that was searched for or opened (removed with its popup)
  var marked = null;
  function highlight(i) {
    if (marked) bm.map.removeLayer(marked);
    var icon = L.divIcon({ className: 'bm-hl', iconSize: [30, 30], html: '' });
    marked = L.marker(bm.caseLayer.latLng(i), { icon: icon, interactive: false, keyboard: false,
      pane: 'bmHighlight' }).addTo(bm.map);
    bm.highlighted = bm.D.cases.id[i];
  }
  function unhighlight() {
    if (marked) bm.map.removeLayer(marked);
    marked = null;
    bm.highlighted = null;
  }

  // a click on the map: the case under the pointer, if any, opens (true) or not (false)
  // (on pages whose map opens child units, only a distinguishable dot: see CaseLayer.hit)
  bm.clickCase = function (e) {
    var i = bm.caseLayer.hit(e.containerPoint, !!(bm.D.children && bm.D.children.length));
    if (i >= 0) { openCase(i); return true; }
    return false;
  };

  bm.openCase = function (id) {
    var i = bm.caseLayer.byId[id];
    if (i === undefined) return false;
    var latlng = bm.caseLayer.latLng(i);
    if (!bm.map.getBounds().pad(-0.1).contains(latlng) || bm.map.getZoom() < 14) {
      bm.map.setView(latlng, Math.max(bm.map.getZoom(), 15), { animate: false });
    }
    openCase(i);
    return true;
  };

  // the layer on the map, and its popup's ring removed with the popup
  bm.addCaseLayer = function () {
    bm.caseLayer = new CaseLayer(bm.D.cases);
    bm.caseLayer.addTo(bm.map);
    bm.map.on('click', bm.clickCase);
    bm.map.on('popupclose', function (e) { if (e.popup === popup) unhighlight(); });
  };
})(window.battlemap);
