/* battlemap atlas: one offline Leaflet page of the 挂图作战 atlas.
 *
 * Data arrive by <script> tags (file:// blocks fetch): data/shared.js calls
 * battlemapShared(...), data/<level>/<stem>.js calls battlemapData(...).
 * Cases are compact parallel arrays drawn by ONE canvas layer (CaseLayer);
 * clicks are hit-tested against a pixel-grid index. Every text from the data
 * goes into the DOM through textContent, never innerHTML.
 *
 * A tile basemap is drawn only when the config names one (S.basemap); the
 * data are already in the basemap's coordinates (GCJ-02 shifting is done in
 * Python). Case search covers the whole district: the district data file
 * (every case number and its grid) is loaded on demand, and a case elsewhere
 * opens as grid/<stem>.html#case=<id>, which opens and highlights it.
 */
(function () {
  'use strict';

  var registry = {}, waiters = {}, loading = {};
  var S = null;          // shared data
  var D = null;          // this page's data
  var ROOT = '', LEVEL = '', STEM = '';
  var map = null, caseLayer = null, unitRenderer = null, ctxRenderer = null;
  var api = {};
  window.battlemap = api;

  window.battlemapShared = function (data) { S = data; };
  function decodeIds(enc) {
    var out = new Array(enc.n.length), num = 0, pads = {};
    for (var i = 0; i < enc.n.length; i++) {
      num += enc.n[i];
      var k = enc.k ? enc.k[i] : 0, w = enc.w[k];
      if (!w) { out[i] = enc.p[k]; continue; }
      var digits = String(num);
      if (digits.length < w) {
        var pad = pads[w] || (pads[w] = new Array(w + 1).join('0'));
        digits = pad.slice(digits.length) + digits;
      }
      out[i] = enc.p[k] + digits;
    }
    return out;
  }

  window.battlemapData = function (level, stem, data) {
    var key = level + '/' + stem;
    if (data.cases && data.cases.ids) data.cases.id = decodeIds(data.cases.ids);
    registry[key] = data;
    var list = waiters[key] || [];
    delete waiters[key];
    list.forEach(function (fn) { fn(data); });
  };

  function loadData(level, stem, done) {
    var key = level + '/' + stem;
    if (registry[key]) { done(registry[key]); return; }
    (waiters[key] = waiters[key] || []).push(done);
    if (loading[key]) return;
    loading[key] = true;
    var script = document.createElement('script');
    script.src = ROOT + 'data/' + level + '/' + stem + '.js';
    script.onerror = function () {
      loading[key] = false;
      var list = waiters[key] || [];
      delete waiters[key];
      list.forEach(function (fn) { fn(null); });
    };
    document.head.appendChild(script);
  }

  // ---------------------------------------------------------------- helpers
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  function append(parent) {
    for (var i = 1; i < arguments.length; i++) if (arguments[i]) parent.appendChild(arguments[i]);
    return parent;
  }
  function pct(rate) { return rate === null || rate === undefined ? '—' : (rate * 100).toFixed(1) + '%'; }
  function stat(stats, key) { return stats[S.statKeys.indexOf(key)]; }
  function pageHref(level, stem) { return level === 'district' ? ROOT + 'index.html' : ROOT + level + '/' + stem + '.html'; }
  function levelLabel(level) { return S.levels[level === 'river' ? 'tributary' : level] || level; }
  function dayToDate(day) {
    var ms = Date.parse(S.epoch + 'T00:00:00Z') + day * 86400000;
    return new Date(ms).toISOString().slice(0, 10);
  }
  function dateToDay(text) {
    if (!text) return null;
    var ms = Date.parse(text + 'T00:00:00Z');
    if (isNaN(ms)) return null;
    return Math.round((ms - Date.parse(S.epoch + 'T00:00:00Z')) / 86400000);
  }

  // 销号率 classes: quantiles of this page's sibling units (rankings are relative too)
  var RATE_COLORS = ['#f29e86', '#f8c99a', '#f6e9ad', '#cde5ab', '#97cd8c'];
  var RATE_NONE = '#e3e3e3';
  var rateBreaks = [];
  function setRateBreaks(rates) {
    var sorted = rates.filter(function (r) { return r !== null && r !== undefined; })
      .sort(function (a, b) { return a - b; });
    rateBreaks = [];
    if (!sorted.length) return;
    var classes = Math.min(5, sorted.length);
    for (var k = 1; k < classes; k++) {
      var b = sorted[Math.floor(k * sorted.length / classes)];
      if (b > sorted[0] && rateBreaks.indexOf(b) < 0) rateBreaks.push(b);
    }
    rateBreaks.lo = sorted[0];
    rateBreaks.hi = sorted[sorted.length - 1];
  }
  function rateClass(rate) {
    var k = 0;
    while (k < rateBreaks.length && rate >= rateBreaks[k]) k++;
    return k;
  }
  function rateColor(rate) {
    if (rate === null || rate === undefined) return RATE_NONE;
    var n = rateBreaks.length + 1, k = rateClass(rate);
    // spread the classes over the whole ramp, lowest always the warmest
    var idx = n === 1 ? RATE_COLORS.length - 1 : Math.round(k * (RATE_COLORS.length - 1) / (n - 1));
    return RATE_COLORS[idx];
  }
  function rateLegend() {
    var out = [], edges = [rateBreaks.lo].concat(rateBreaks.slice(), [rateBreaks.hi]);
    for (var k = 0; k <= rateBreaks.length; k++) {
      var lo = edges[k], hi = edges[k + 1];
      var text = k === rateBreaks.length ? pct(lo) + '–' + pct(hi) : pct(lo) + '–';
      out.push([rateColor(lo), k === rateBreaks.length ? text : pct(lo) + '起']);
    }
    return out;
  }

  // ------------------------------------------------------------- case layer
  var DRAW_ORDER = [3, 0, 1, 2];   // closed first, open states above it, overdue on top
  var F_OVERDUE = 1, F_RECURRING = 2, F_MISMATCH = 4, F_INVALID = 8;

  var CaseLayer = L.Layer.extend({
    initialize: function (cases) {
      var n = cases.id.length, scale = S.scale, ox = S.origin[0], oy = S.origin[1];
      this.c = cases;
      this.n = n;
      this.px = new Float64Array(n);
      this.py = new Float64Array(n);
      this.lat = new Float64Array(n);
      this.lon = new Float64Array(n);
      for (var i = 0; i < n; i++) {
        var lon = (cases.x[i] + ox) / scale, lat = (cases.y[i] + oy) / scale;
        this.lon[i] = lon; this.lat[i] = lat;
        var phi = Math.max(Math.min(lat, 85.05), -85.05) * Math.PI / 180;
        this.px[i] = 256 * (0.5 + lon / 360);
        this.py[i] = 256 * (0.5 - Math.log(Math.tan(Math.PI / 4 + phi / 2)) / (2 * Math.PI));
      }
      this.visible = new Uint8Array(n);
      this.groups = [[], [], [], [], []];          // by draw order; [4] = overdue
      for (var j = 0; j < n; j++) {
        if (cases.f[j] & F_OVERDUE) this.groups[4].push(j);
        else this.groups[DRAW_ORDER.indexOf(cases.s[j])].push(j);
      }
      this.byId = {};
      for (var k = 0; k < n; k++) this.byId[cases.id[k]] = k;
      this.count = 0;
      this.buckets = null;
    },
    onAdd: function (m) {
      this._map = m;
      var canvas = this._canvas = L.DomUtil.create('canvas', 'bm-case-canvas leaflet-zoom-animated');
      m.getPane('bmCases').appendChild(canvas);
      m.on('moveend viewreset resize', this.redraw, this);
      m.on('zoomanim', this._animateZoom, this);
      this.redraw();
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
    setVisible: function (mask) {
      this.visible = mask;
      var count = 0;
      for (var i = 0; i < this.n; i++) count += mask[i];
      this.count = count;
      if (this._map) this.redraw();
    },
    radius: function () {
      var z = this._map.getZoom();
      return Math.max(2.2, Math.min(7, 2.2 + (z - 10.5) * 0.9));
    },
    redraw: function () {
      var m = this._map, canvas = this._canvas, size = m.getSize();
      var ratio = window.devicePixelRatio || 1;
      var topLeft = m.containerPointToLayerPoint([0, 0]);
      L.DomUtil.setPosition(canvas, topLeft);
      canvas.width = Math.round(size.x * ratio);
      canvas.height = Math.round(size.y * ratio);
      canvas.style.width = size.x + 'px';
      canvas.style.height = size.y + 'px';
      var ctx = canvas.getContext('2d');
      ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
      ctx.clearRect(0, 0, size.x, size.y);
      var k = Math.pow(2, m.getZoom());
      var origin = m.getPixelOrigin().add(topLeft);
      var r = this.radius(), cell = 16;
      var many = this.count > 3000 && m.getZoom() < 13;   // district overview: open cases first
      var buckets = {}, sx = new Float32Array(this.n), sy = new Float32Array(this.n);
      var on = new Uint8Array(this.n);
      var colors = S.colors, c = this.c, vis = this.visible;
      for (var g = 0; g < 5; g++) {
        var list = this.groups[g];
        var state = g < 4 ? S.states[DRAW_ORDER[g]] : 'overdue';
        var rr = g === 0 ? r * (many ? 0.6 : 0.75) : (g === 4 ? r * 1.25 : r);
        ctx.beginPath();
        for (var a = 0; a < list.length; a++) {
          var i = list[a];
          if (!vis[i]) continue;
          var x = this.px[i] * k - origin.x, y = this.py[i] * k - origin.y;
          if (x < -10 || y < -10 || x > size.x + 10 || y > size.y + 10) continue;
          sx[i] = x; sy[i] = y; on[i] = 1;
          var key = Math.floor(x / cell) * 4096 + Math.floor(y / cell);
          (buckets[key] = buckets[key] || []).push(i);
          ctx.moveTo(x + rr, y);
          ctx.arc(x, y, rr, 0, 2 * Math.PI);
        }
        ctx.fillStyle = colors[state];
        ctx.globalAlpha = g === 0 ? (many ? 0.5 : 0.75) : 1;
        ctx.fill();
        ctx.globalAlpha = 1;
        if (g > 0 || !many) {
          ctx.lineWidth = g === 4 ? 1.2 : 0.6;
          ctx.strokeStyle = g === 4 ? '#5a0000' : 'rgba(255,255,255,0.9)';
          ctx.stroke();
        }
      }
      // 反复 recurring: a dark ring around the point
      var ring = r + (many ? 1.2 : 2.5);
      ctx.beginPath();
      for (var b = 0; b < this.n; b++) {
        if (!on[b] || !(c.f[b] & F_RECURRING)) continue;
        ctx.moveTo(sx[b] + ring, sy[b]);
        ctx.arc(sx[b], sy[b], ring, 0, 2 * Math.PI);
      }
      ctx.lineWidth = many ? 0.9 : 1.5;
      ctx.strokeStyle = many ? 'rgba(20,20,20,0.7)' : '#1b1b1b';
      ctx.stroke();
      this.sx = sx; this.sy = sy; this.buckets = buckets; this.cell = cell; this.r = r;
    },
    hit: function (point) {
      if (!this.buckets) return -1;
      var cell = this.cell, best = -1, bestD = (this.r + 4) * (this.r + 4);
      var bx = Math.floor(point.x / cell), by = Math.floor(point.y / cell);
      for (var dx = -1; dx <= 1; dx++) for (var dy = -1; dy <= 1; dy++) {
        var list = this.buckets[(bx + dx) * 4096 + (by + dy)];
        if (!list) continue;
        for (var a = 0; a < list.length; a++) {
          var i = list[a], ex = this.sx[i] - point.x, ey = this.sy[i] - point.y;
          var d = ex * ex + ey * ey;
          if (d <= bestD) { bestD = d; best = i; }
        }
      }
      return best;
    },
    latLng: function (i) { return L.latLng(this.lat[i], this.lon[i]); }
  });

  // ---------------------------------------------------------------- filters
  var filters = { states: {}, overdue: true, type: -1, channel: -1, from: null, to: null };

  function passesFacets(i) {
    var c = D.cases;
    if (filters.type >= 0 && c.t[i] !== filters.type) return false;
    if (filters.channel >= 0 && c.c[i] !== filters.channel) return false;
    if (filters.from !== null && c.d[i] < filters.from) return false;
    if (filters.to !== null && c.d[i] > filters.to) return false;
    return true;
  }

  function applyFilters() {
    var c = D.cases, n = c.id.length, mask = new Uint8Array(n);
    var counts = { overdue: 0, recurring: 0 };
    S.states.forEach(function (s) { counts[s] = 0; });
    // each case counts once, as on the posters: an overdue case under 超期 only,
    // so the state counts and 超期 add up to the total; 反复 is a mark on top
    for (var i = 0; i < n; i++) {
      if (!passesFacets(i)) continue;
      var state = S.states[c.s[i]], overdue = (c.f[i] & F_OVERDUE) !== 0;
      if (overdue) counts.overdue++; else counts[state]++;
      if (c.f[i] & F_RECURRING) counts.recurring++;
      if (overdue ? !filters.overdue : !filters.states[state]) continue;
      mask[i] = 1;
    }
    caseLayer.setVisible(mask);
    Object.keys(legendCounts).forEach(function (key) { legendCounts[key].textContent = counts[key]; });
    if (shownNode) shownNode.textContent = '图上显示 ' + caseLayer.count + ' / ' + n + ' 件';
  }

  // ----------------------------------------------------------------- popups
  function row(table, label, value, cls) {
    if (value === '' || value === null || value === undefined) return;
    var tr = append(el('tr', cls), el('th', null, label), el('td', null, value));
    table.appendChild(tr);
    return tr;
  }

  function locatedNames(g) {
    if (g < 0 || !S.index.grid[g]) return null;
    var grid = S.index.grid[g], village = S.index.village[grid[2]];
    var town = village ? S.index.town[village[2]] : null;
    return { grid: grid, village: village, town: town };
  }

  function caseContent(i, detail) {
    var c = D.cases, state = S.states[c.s[i]], f = c.f[i];
    var box = el('div', 'bm-pop bm-case-pop');
    var head = append(el('div', 'bm-pop-head'), el('span', 'bm-pop-id', c.id[i]),
      chip(state, S.labels[state]));
    if (f & F_OVERDUE) head.appendChild(chip('overdue', S.labels.overdue + ' ' + c.o[i] + ' 天'));
    if (f & F_RECURRING) head.appendChild(chip('recurring', S.labels.recurring || '反复'));
    box.appendChild(head);
    var t = el('table', 'bm-pop-table');
    row(t, '问题类型', S.types[c.t[i]] || '（未填）');
    row(t, '上报渠道', S.channels[c.c[i]] || '（未填）');
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
    if (names && LEVEL !== 'grid') {
      var a = el('a', 'bm-pop-link', '打开所在网格图 ›');
      a.href = pageHref('grid', names.grid[0]);
      box.appendChild(a);
    }
    return box;
  }

  function chip(key, text) {
    var span = el('span', 'bm-chip', text);
    var color = S.colors[key] || '#333';
    span.style.background = key === 'recurring' ? '#fff' : color;
    span.style.borderColor = key === 'recurring' ? '#1b1b1b' : color;
    span.style.color = key === 'recurring' ? '#1b1b1b' : '#fff';
    return span;
  }

  var popup = null;
  function openCase(i) {
    var latlng = caseLayer.latLng(i), c = D.cases;
    popup = L.popup({ maxWidth: 360, minWidth: 260, autoPanPadding: [20, 20] })
      .setLatLng(latlng).setContent(caseContent(i, c.detail ? c.detail[i] : null)).openOn(map);
    api.lastPopup = c.id[i];
    highlight(i);
    if (c.detail) { api.popupLoaded = c.id[i]; return; }
    var names = locatedNames(c.g[i]);
    if (!names) { setDetail(i, null); return; }
    var opened = popup;
    loadData('grid', names.grid[0], function (grid) {
      if (popup !== opened || !map.hasLayer(opened)) return;
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
      api.popupLoaded = c.id[idx];
    }
  }
  // a ring around the case that was searched for or opened (removed with its popup)
  var marked = null;
  function highlight(i) {
    if (marked) map.removeLayer(marked);
    var icon = L.divIcon({ className: 'bm-hl', iconSize: [30, 30], html: '' });
    marked = L.marker(caseLayer.latLng(i), { icon: icon, interactive: false, keyboard: false,
      pane: 'bmHighlight' }).addTo(map);
    api.highlighted = D.cases.id[i];
  }
  function unhighlight() {
    if (marked) map.removeLayer(marked);
    marked = null;
    api.highlighted = null;
  }

  api.openCase = function (id) {
    var i = caseLayer.byId[id];
    if (i === undefined) return false;
    var latlng = caseLayer.latLng(i);
    if (!map.getBounds().pad(-0.1).contains(latlng) || map.getZoom() < 14) {
      map.setView(latlng, Math.max(map.getZoom(), 15), { animate: false });
    }
    openCase(i);
    return true;
  };

  function unitContent(level, name, chief, stats) {
    var box = el('div', 'bm-pop bm-unit-pop');
    box.appendChild(el('div', 'bm-pop-title', levelLabel(level) + ' · ' + name));
    var t = el('table', 'bm-pop-table');
    row(t, '河长', chief);
    row(t, '案件总数', stat(stats, 'total'));
    S.states.forEach(function (s) { row(t, S.labels[s], stat(stats, s)); });
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
  function onMapClick(e) {
    var i = caseLayer.hit(e.containerPoint);
    if (i >= 0) { openCase(i); return true; }
    return false;
  }

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
  function escapeHtml(text) {
    return String(text).replace(/[&<>"']/g, function (ch) {
      return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[ch];
    });
  }
  function drawBasemap() {
    var b = S.basemap;
    if (!b) return null;
    var options = { maxNativeZoom: b.maxZoom, maxZoom: map.getMaxZoom(), minZoom: map.getMinZoom(),
      attribution: b.attribution ? escapeHtml(b.attribution) : '' };
    if (b.subdomains) options.subdomains = b.subdomains;
    var layer = L.tileLayer(b.url, options).addTo(map);
    if (b.attribution) L.control.attribution({ prefix: false }).addTo(map);
    document.body.classList.add('bm-has-basemap');
    return layer;
  }

  function drawContext() {
    // neighbouring towns, faint, for orientation (every page but the district)
    if (LEVEL !== 'district') {
      S.towns.g.forEach(function (g) {
        L.polygon(g, { renderer: ctxRenderer, interactive: false, color: '#b9b2a3', weight: 1,
          fillColor: '#ece7dc', fillOpacity: S.basemap ? 0.25 : 1 }).addTo(map);
      });
      S.towns.label.forEach(function (p, k) {
        if (S.index.town[k][0] === D.town) return;
        L.tooltip({ permanent: true, direction: 'center', className: 'bm-label bm-label-faint' })
          .setLatLng(p).setContent(el('span', null, S.index.town[k][1])).addTo(map);
      });
    }
    L.polygon(S.district.g, { renderer: ctxRenderer, interactive: false, color: '#3b3b3b', weight: 2.5,
      fill: LEVEL === 'district' && !S.basemap, fillColor: '#fbfaf6', fillOpacity: 1 }).addTo(map);
    if (D.corridor && D.corridor.length) {
      L.polygon(D.corridor, { renderer: ctxRenderer, interactive: false, color: '#2b7bba', weight: 1.5,
        dashArray: '6 4', fillColor: '#9ecae1', fillOpacity: 0.25 }).addTo(map);
    }
  }

  function drawUnits() {
    var childLevel = D.childLevel;
    setRateBreaks((D.children || []).map(function (c) { return stat(c.stats, 'closed_rate'); }));
    (D.children || []).forEach(function (child) {
      var geom = child.g || (childLevel === 'town' ? S.towns.g[child.i] : null);
      if (!geom) return;
      var rate = stat(child.stats, 'closed_rate');
      var poly = L.polygon(geom, { renderer: unitRenderer, color: '#6b6b6b', weight: 1,
        fillColor: rateColor(rate), fillOpacity: S.basemap ? 0.5 : 0.85 }).addTo(map);
      poly.bindTooltip(unitContent(childLevel, child.name, child.chief, child.stats),
        { sticky: true, direction: 'top', offset: [0, -12], className: 'bm-unit-tip', opacity: 1 });
      poly.on('mouseover', function () { poly.setStyle({ weight: 3, color: '#111' }); });
      poly.on('mouseout', function () { poly.setStyle({ weight: 1, color: '#6b6b6b' }); });
      poly.on('click', function (e) {
        L.DomEvent.stopPropagation(e);
        if (onMapClick(e)) return;
        window.location.href = pageHref(childLevel, child.stem);
      });
      var label = el('span', null, child.name);
      if (rate !== null && childLevel === 'town') append(label, el('small', null, ' ' + pct(rate)));
      var b = poly.getBounds();
      labels.push({ size: (b.getNorth() - b.getSouth()) * (b.getEast() - b.getWest()),
        tip: L.tooltip({ permanent: true, direction: 'center', className: 'bm-label bm-label-' + childLevel })
          .setLatLng(child.label).setContent(label).addTo(map) });
    });
    labels.sort(function (a, b) { return b.size - a.size; });
    if (D.g) {
      L.polygon(D.g, { renderer: unitRenderer, interactive: false, color: '#111', weight: 3,
        fill: !(D.children && D.children.length), fillColor: '#fffdf5',
        fillOpacity: S.basemap ? 0.3 : 0.9 }).addTo(map);
    }
  }

  function drawRivers() {
    S.rivers.forEach(function (river) {
      var stem = river[0], name = river[1], kind = river[2], geom = river[3];
      if (!geom || !geom.length) return;
      var main = kind === 'main', mine = LEVEL === 'river' && stem === STEM;
      var line = L.polyline(geom, { renderer: unitRenderer, color: mine ? '#08306b' : (main ? '#1565c0' : '#1f7fd0'),
        weight: mine ? 5 : (main ? 4.5 : 2.5), opacity: LEVEL === 'river' && !mine ? 0.5 : 0.95,
        lineCap: 'round' }).addTo(map);
      line.bindTooltip(el('span', null, name + (main ? '（干流）' : '')), { sticky: true, className: 'bm-river-tip' });
      line.on('click', function (e) {
        L.DomEvent.stopPropagation(e);
        if (onMapClick(e)) return;
        window.location.href = pageHref('river', stem);
      });
    });
  }

  function drawContextPoints() {
    var kinds = contextKinds();
    S.context.forEach(function (p) {
      var k = kinds.indexOf(p[2]);
      var icon = L.divIcon({ className: 'bm-ctx bm-ctx-' + (k % 4), iconSize: [14, 14], html: '' });
      var marker = L.marker(p[0], { icon: icon, keyboard: false, pane: 'bmContextPoints' }).addTo(map);
      var tip = append(el('div'), el('b', null, p[1]), el('div', null, p[3] + (p[4] ? ' · ' + p[4] : '')));
      marker.bindTooltip(tip, { direction: 'top', offset: [0, -8] });
    });
  }
  function contextKinds() {
    var kinds = [];
    S.context.forEach(function (p) { if (kinds.indexOf(p[2]) < 0) kinds.push(p[2]); });
    return kinds;
  }

  // ------------------------------------------------------------------ panel
  var legendCounts = {}, shownNode = null;

  function section(title) {
    var sec = el('section', 'bm-sec');
    sec.appendChild(el('h2', null, title));
    return sec;
  }

  function buildSummary(panel) {
    var s = D.stats, box = el('div', 'bm-summary');
    var items = [
      ['案件总数', stat(s, 'total'), ''], ['销号率', pct(stat(s, 'closed_rate')), 'bm-good'],
      [S.labels.overdue, stat(s, 'overdue'), 'bm-bad'], [S.labels.recurring || '反复', stat(s, 'recurring'), ''],
      ['本期新增', stat(s, 'new_in_period'), ''], ['本期销号', stat(s, 'closed_in_period'), '']];
    items.forEach(function (it) {
      append(box, append(el('div', 'bm-kpi ' + it[2]), el('b', null, it[1]), el('span', null, it[0])));
    });
    panel.appendChild(box);
    if (S.period) panel.appendChild(el('div', 'bm-note', '本期：' + S.period[0] + ' 至 ' + S.period[1]));
  }

  function buildSearch(panel) {
    var sec = el('div', 'bm-search');
    var input = el('input');
    input.type = 'search';
    input.id = 'bm-search';
    input.placeholder = '搜索案件编号或镇街/村居/网格/河涌名称';
    input.setAttribute('aria-label', '搜索');
    var results = el('ul', 'bm-results');
    append(sec, input, results);
    panel.appendChild(sec);
    function show() {
      var query = input.value;
      render(api.search(query));
      api.searchAll(query, function (found) { if (input.value === query) render(found); });
    }
    function render(found) {
      results.textContent = '';
      found.forEach(function (r, k) {
        var li = el('li', k === 0 ? 'bm-first' : null);
        append(li, el('span', 'bm-res-kind', r.kind), el('span', null, r.label));
        li.addEventListener('click', function () { r.go(); results.textContent = ''; });
        results.appendChild(li);
      });
      if (input.value.trim() && !found.length) results.appendChild(el('li', 'bm-none', '未找到'));
    }
    input.addEventListener('input', show);
    input.addEventListener('keydown', function (e) {
      if (e.key === 'Enter') {
        api.searchAll(input.value, function (found) {
          if (found.length) { found[0].go(); results.textContent = ''; }
        });
      } else if (e.key === 'Escape') { results.textContent = ''; }
    });
  }

  // every case number of the district, from the district data file (loaded on demand)
  var allCases = null, allWaiting = null;
  function caseIndex(done) {
    if (allCases) { done(allCases); return; }
    if (allWaiting) { allWaiting.push(done); return; }
    allWaiting = [done];
    loadData('district', S.district.stem, function (d) {
      var c = d && d.cases, lower = [], byId = {};
      if (c) for (var i = 0; i < c.id.length; i++) { lower.push(c.id[i].toLowerCase()); byId[c.id[i]] = i; }
      allCases = c ? { c: c, lower: lower, byId: byId } : { c: null, lower: [], byId: {} };
      var list = allWaiting;
      allWaiting = null;
      list.forEach(function (fn) { fn(allCases); });
    });
  }

  // what this page can answer at once: its own cases, units and rivers; plus any
  // case of the district once the district's case numbers are loaded
  api.search = function (query) {
    var q = String(query || '').trim().toLowerCase(), out = [];
    if (!q) return out;
    var ids = D.cases.id, exact = caseLayer.byId[String(query).trim()];
    var all = allCases && allCases.c ? allCases : null;
    var remote = all && exact === undefined ? all.byId[String(query).trim()] : undefined;
    // the exact case number first, wherever it is
    if (exact !== undefined) out.push(caseResult(exact));
    else if (remote !== undefined) out.push(remoteResult(remote));
    for (var i = 0; i < ids.length && out.length < 8; i++) {
      if (i !== exact && ids[i].toLowerCase().indexOf(q) >= 0) out.push(caseResult(i));
    }
    if (all && out.length < 8) {
      for (var j = 0; j < all.lower.length && out.length < 8; j++) {
        if (j === remote || all.lower[j].indexOf(q) < 0) continue;
        if (caseLayer.byId[all.c.id[j]] === undefined) out.push(remoteResult(j));
      }
    }
    ['town', 'village', 'grid'].forEach(function (level) {
      S.index[level].forEach(function (u) {
        if (out.length < 16 && u[1].toLowerCase().indexOf(q) >= 0) {
          out.push({ kind: levelLabel(level), label: u[1] + parentName(level, u),
            go: function () { window.location.href = pageHref(level, u[0]); } });
        }
      });
    });
    S.rivers.forEach(function (r) {
      if (out.length < 20 && r[1].toLowerCase().indexOf(q) >= 0) {
        out.push({ kind: levelLabel('river'), label: r[1],
          go: function () { window.location.href = pageHref('river', r[0]); } });
      }
    });
    return out;
  };
  api.searchAll = function (query, done) {
    if (!String(query || '').trim() || LEVEL === 'district') { done(api.search(query)); return; }
    caseIndex(function () { done(api.search(query)); });
  };
  function caseHref(g, id) {
    var page = g >= 0 && S.index.grid[g] ? pageHref('grid', S.index.grid[g][0]) : pageHref('district');
    return page + '#case=' + encodeURIComponent(id);
  }
  function remoteResult(j) {
    var c = allCases.c, names = locatedNames(c.g[j]), state = S.states[c.s[j]];
    var where = names ? [names.town && names.town[1], names.grid[1]].filter(Boolean).join(' › ') : '';
    var overdue = (c.f[j] & F_OVERDUE) ? S.labels.overdue : S.labels[state];
    return { kind: '案件', label: c.id[j] + ' · ' + (S.types[c.t[j]] || '') + ' · ' + overdue +
      (where ? '（' + where + '）' : ''),
      go: function () { window.location.href = caseHref(c.g[j], c.id[j]); } };
  }
  // #case=<id>: open and highlight that case (the search's landing from another page)
  function openFromHash() {
    var m = /^#case=(.+)$/.exec(window.location.hash || '');
    if (!m) return;
    var id;
    try { id = decodeURIComponent(m[1]); } catch (e) { return; }
    if (api.openCase(id)) return;
    var input = document.getElementById('bm-search');     // not on this page: search for it
    if (input) { input.value = id; input.dispatchEvent(new Event('input')); }
  }

  function caseResult(i) {
    var state = S.states[D.cases.s[i]];
    return { kind: '案件', label: D.cases.id[i] + ' · ' + (S.types[D.cases.t[i]] || '') + ' · ' + S.labels[state],
      go: function () { api.openCase(D.cases.id[i]); } };
  }
  function parentName(level, u) {
    var above = { village: 'town', grid: 'village' }[level];
    if (!above || u[2] < 0) return '';
    return '（' + S.index[above][u[2]][1] + '）';
  }

  function legendItem(list, key, label, color, kind, toggle) {
    var li = el('li', 'bm-leg');
    var box = el('input');
    box.type = 'checkbox';
    box.checked = true;
    box.dataset.state = key;
    box.setAttribute('aria-label', label);
    box.addEventListener('change', function () { toggle(box.checked); applyFilters(); });
    var sym = el('span', 'bm-sym bm-sym-' + kind);
    if (kind !== 'ring') sym.style.background = color;
    var count = el('span', 'bm-count', '0');
    legendCounts[key] = count;
    var labelNode = el('label');
    append(labelNode, toggle ? box : null, sym, el('span', 'bm-leg-label', label), count);
    li.appendChild(labelNode);
    list.appendChild(li);
  }

  function buildLegend(panel) {
    var sec = section('图例 · 案件状态');
    var list = el('ul', 'bm-legend');
    S.states.forEach(function (s) {
      filters.states[s] = true;
      legendItem(list, s, S.labels[s], S.colors[s], 'dot', function (on) { filters.states[s] = on; });
    });
    legendItem(list, 'overdue', S.labels.overdue + '（未销号且过期）', S.colors.overdue, 'big',
      function (on) { filters.overdue = on; });
    legendItem(list, 'recurring', (S.labels.recurring || '反复') + '（黑圈）', null, 'ring', null);
    sec.appendChild(list);
    shownNode = el('div', 'bm-note');
    sec.appendChild(shownNode);
    var other = el('ul', 'bm-legend bm-legend-static');
    if (D.childLevel) {
      var ramp = el('li', 'bm-ramp');
      ramp.appendChild(el('span', 'bm-leg-label', levelLabel(D.childLevel) + '销号率（按本级分档，越绿越好）'));
      var bar = el('div', 'bm-ramp-bar');
      rateLegend().forEach(function (item) {
        var cellNode = el('span', null, item[1]);
        cellNode.style.background = item[0];
        bar.appendChild(cellNode);
      });
      var none = el('span', null, '无案件');
      none.style.background = RATE_NONE;
      bar.appendChild(none);
      ramp.appendChild(bar);
      other.appendChild(ramp);
    }
    append(other, staticItem('bm-sym-main', '干流'), staticItem('bm-sym-trib', '一级支流'));
    if (D.corridor) other.appendChild(staticItem('bm-sym-corridor', '河涌影响范围（' + '案件归属距离内）'));
    contextKinds().forEach(function (kind, k) {
      var sample = null;
      S.context.forEach(function (p) { if (!sample && p[2] === kind) sample = p; });
      other.appendChild(staticItem('bm-ctx bm-ctx-' + (k % 4), sample ? sample[3] : kind));
    });
    sec.appendChild(other);
    panel.appendChild(sec);
  }
  function staticItem(cls, label) {
    var li = el('li', 'bm-leg');
    append(li, el('span', 'bm-sym ' + cls), el('span', 'bm-leg-label', label));
    return li;
  }

  function buildFilters(panel) {
    var sec = section('筛选');
    var c = D.cases;
    sec.appendChild(selectFor('问题类型', S.types, c.t, function (v) { filters.type = v; }));
    sec.appendChild(selectFor('上报渠道', S.channels, c.c, function (v) { filters.channel = v; }));
    var dates = el('div', 'bm-dates');
    var from = el('input'), to = el('input');
    from.type = to.type = 'date';
    from.id = 'bm-from'; to.id = 'bm-to';
    var minDay = Infinity, maxDay = -Infinity;
    for (var i = 0; i < c.d.length; i++) if (c.d[i] >= 0) { minDay = Math.min(minDay, c.d[i]); maxDay = Math.max(maxDay, c.d[i]); }
    if (minDay <= maxDay) { from.min = to.min = dayToDate(minDay); from.max = to.max = dayToDate(maxDay); }
    function update() { filters.from = dateToDay(from.value); filters.to = dateToDay(to.value); applyFilters(); }
    ['input', 'change'].forEach(function (ev) { from.addEventListener(ev, update); to.addEventListener(ev, update); });
    append(dates, el('span', null, '上报日期'), from, el('span', null, '至'), to);
    sec.appendChild(dates);
    var quick = el('div', 'bm-quick');
    [['近30天', 30], ['近90天', 90], ['近一年', 365], ['全部', 0]].forEach(function (q) {
      var b = el('button', null, q[0]);
      b.type = 'button';
      b.addEventListener('click', function () {
        to.value = '';
        from.value = q[1] ? dayToDate(dateToDay(S.asOf) - q[1] + 1) : '';
        update();
      });
      quick.appendChild(b);
    });
    sec.appendChild(quick);
    panel.appendChild(sec);
  }
  function selectFor(label, values, codes, set) {
    var wrap = el('label', 'bm-select');
    wrap.appendChild(el('span', null, label));
    var sel = el('select');
    var counts = values.map(function () { return 0; });
    for (var i = 0; i < codes.length; i++) if (codes[i] >= 0) counts[codes[i]]++;
    var all = el('option', null, '全部');
    all.value = '-1';
    sel.appendChild(all);
    values.forEach(function (v, k) {
      if (!counts[k]) return;
      var o = el('option', null, (v || '（未填）') + '（' + counts[k] + '）');
      o.value = String(k);
      sel.appendChild(o);
    });
    sel.addEventListener('change', function () { set(parseInt(sel.value, 10)); applyFilters(); });
    wrap.appendChild(sel);
    return wrap;
  }

  function buildRanking(panel) {
    if (!D.children || !D.children.length) return;
    var sec = section(levelLabel(D.childLevel) + '排名（销号率）');
    var table = el('table', 'bm-rank');
    append(table, append(el('tr'), el('th', null, '名次'), el('th', null, levelLabel(D.childLevel)),
      el('th', null, '销号率'), el('th', null, '案件'), el('th', null, '超期')));
    var rows = D.children.slice().sort(function (a, b) {
      return (stat(a.stats, 'rank') || 1e9) - (stat(b.stats, 'rank') || 1e9);
    });
    var last = rows.length;
    rows.forEach(function (child, k) {
      var rate = stat(child.stats, 'closed_rate');
      var tr = el('tr', k >= last - Math.min(3, Math.floor(last / 3)) && stat(child.stats, 'total') ? 'bm-last' : null);
      var a = el('a', null, child.name);
      a.href = pageHref(D.childLevel, child.stem);
      var bar = el('span', 'bm-bar');
      var fill = el('i');
      fill.style.width = rate === null ? '0' : (rate * 100).toFixed(1) + '%';
      fill.style.background = rateColor(rate);
      bar.appendChild(fill);
      var rateCell = append(el('td', 'bm-rate'), bar, el('span', null, pct(rate)));
      append(tr, el('td', 'bm-num', stat(child.stats, 'rank')), append(el('td'), a), rateCell,
        el('td', 'bm-num', stat(child.stats, 'total')),
        el('td', 'bm-num' + (stat(child.stats, 'overdue') ? ' bm-bad' : ''), stat(child.stats, 'overdue')));
      table.appendChild(tr);
    });
    sec.appendChild(table);
    if (S.rankingRule) sec.appendChild(el('div', 'bm-note', '排名规则：' + S.rankingRule));
    panel.appendChild(sec);
  }

  function buildCaseList(panel) {
    if (LEVEL !== 'grid' && LEVEL !== 'river') return;
    var c = D.cases, n = c.id.length;
    var sec = section('案件清单（' + n + ' 件）');
    var table = el('table', 'bm-cases');
    append(table, append(el('tr'), el('th', null, '编号'), el('th', null, '类型'),
      el('th', null, '状态'), el('th', null, LEVEL === 'grid' ? '整改期限' : '上报日期')));
    var order = [];
    for (var i = 0; i < n; i++) order.push(i);
    order.sort(function (a, b) { return (c.f[b] & 1) - (c.f[a] & 1) || c.o[b] - c.o[a] || c.s[a] - c.s[b] || c.d[b] - c.d[a]; });
    order.slice(0, 300).forEach(function (k) {
      var state = S.states[c.s[k]];
      var tr = el('tr', (c.f[k] & F_OVERDUE) ? 'bm-overdue-row' : null);
      var stateCell = el('td');
      stateCell.appendChild(chip((c.f[k] & F_OVERDUE) ? 'overdue' : state,
        (c.f[k] & F_OVERDUE) ? S.labels.overdue + c.o[k] + '天' : S.labels[state]));
      var when = LEVEL === 'grid' ? (c.detail[k][1] || '—') : dayToDate(c.d[k]);
      append(tr, el('td', 'bm-id', c.id[k]), el('td', null, S.types[c.t[k]]), stateCell, el('td', null, when));
      tr.addEventListener('click', function () { api.openCase(c.id[k]); });
      table.appendChild(tr);
    });
    sec.appendChild(table);
    if (n > 300) sec.appendChild(el('div', 'bm-note', '仅列出前 300 件（超期优先）；其余请在图上点选或搜索编号。'));
    panel.appendChild(sec);
  }

  function buildLinks(panel) {
    if (D.rivers && D.rivers.length) {
      var sec = section('流经河涌');
      var list = el('ul', 'bm-links');
      D.rivers.forEach(function (r) {
        var river = null;
        S.rivers.forEach(function (x) { if (x[0] === r[0]) river = x; });
        if (!river) return;
        var a = el('a', null, river[1] + (river[2] === 'main' ? '（干流）' : ''));
        a.href = pageHref('river', r[0]);
        append(list, append(el('li'), a, el('span', 'bm-count', (r[1] / 1000).toFixed(1) + ' 公里')));
      });
      sec.appendChild(list);
      panel.appendChild(sec);
    }
    if (D.crosses && D.crosses.length) {
      var sec2 = section('流经镇街');
      var list2 = el('ul', 'bm-links');
      D.crosses.forEach(function (u) {
        if (u[0] !== 'town') return;
        var a = el('a', null, u[2]);
        a.href = pageHref(u[0], u[1]);
        append(list2, append(el('li'), a, el('span', 'bm-count', (u[3] / 1000).toFixed(1) + ' 公里')));
      });
      sec2.appendChild(list2);
      var villages = D.crosses.filter(function (u) { return u[0] === 'village'; });
      if (villages.length) {
        var det = el('details', 'bm-more');
        det.appendChild(el('summary', null, '流经村居（' + villages.length + '）'));
        var list3 = el('ul', 'bm-links');
        villages.forEach(function (u) {
          var a = el('a', null, u[2]);
          a.href = pageHref(u[0], u[1]);
          append(list3, append(el('li'), a, el('span', 'bm-count', (u[3] / 1000).toFixed(1) + ' 公里')));
        });
        det.appendChild(list3);
        sec2.appendChild(det);
      }
      panel.appendChild(sec2);
    }
  }

  // ------------------------------------------------------------------ start
  function fail(message) {
    var node = document.getElementById('map') || document.body;
    node.appendChild(el('div', 'bm-error', message));
    document.body.dataset.ready = 'error';
  }

  function start() {
    var body = document.body, t0 = performance.now();
    ROOT = body.dataset.root || '';
    LEVEL = body.dataset.level;
    STEM = body.dataset.stem;
    D = registry[LEVEL + '/' + STEM];
    if (!window.L) return fail('缺少 Leaflet（assets/leaflet.js），请完整复制整个文件夹。');
    if (!S || !D) return fail('缺少数据文件（data/ 文件夹），请完整复制整个文件夹。');
    map = L.map('map', { preferCanvas: true, zoomSnap: 0.25, zoomDelta: 0.5, maxZoom: 19, minZoom: 7,
      attributionControl: false, boxZoom: true });
    map.createPane('bmContext').style.zIndex = 350;
    map.createPane('bmCases').style.zIndex = 450;
    map.getPane('bmCases').style.pointerEvents = 'none';
    map.createPane('bmContextPoints').style.zIndex = 620;
    map.createPane('bmHighlight').style.zIndex = 630;
    map.getPane('bmHighlight').style.pointerEvents = 'none';
    ctxRenderer = L.canvas({ pane: 'bmContext', padding: 0.5 });
    unitRenderer = L.canvas({ padding: 0.5, tolerance: 3 });
    map.fitBounds(D.bounds, { padding: [24, 24], animate: false });
    L.control.scale({ imperial: false, position: 'bottomleft' }).addTo(map);
    api.basemap = drawBasemap();
    drawContext();
    drawUnits();
    drawRivers();
    drawContextPoints();
    caseLayer = new CaseLayer(D.cases);
    caseLayer.addTo(map);
    map.on('click', onMapClick);
    map.on('popupclose', function (e) { if (e.popup === popup) unhighlight(); });
    map.on('zoomend', declutter);
    declutter();

    var panel = document.getElementById('panel');
    buildSummary(panel);
    buildSearch(panel);
    buildLegend(panel);
    buildRanking(panel);
    buildCaseList(panel);
    buildLinks(panel);
    buildFilters(panel);
    applyFilters();
    api.map = map;
    api.drawn = function () { return caseLayer.count; };
    api.total = function () { return D.cases.id.length; };
    api.toggle = function (key, on) {
      var box = document.querySelector('input[data-state="' + key + '"]');
      if (!box) return false;
      box.checked = on;
      box.dispatchEvent(new Event('change'));
      return true;
    };
    api.caseAt = function (id) {
      var i = caseLayer.byId[id];
      if (i === undefined) return null;
      var p = map.latLngToContainerPoint(caseLayer.latLng(i));
      return { x: p.x, y: p.y };
    };
    api.page = { level: LEVEL, stem: STEM, name: D.name };
    openFromHash();
    window.addEventListener('hashchange', openFromHash);
    api.timings = { start: Math.round(t0), drawn: Math.round(performance.now()) };
    window.requestAnimationFrame(function () {
      api.timings.ready = Math.round(performance.now());
      body.dataset.ready = '1';
    });
  }

  document.addEventListener('DOMContentLoaded', start);
})();
