/* battlemap atlas, part 1 of 6 — core: the shared namespace and the data.
 *
 * Owns window.battlemap (`bm`), the one namespace every atlas-*.js script
 * adds to (classic scripts: file:// pages cannot load ES modules). Here: the
 * page state (bm.S shared data, bm.D this page's data, bm.ROOT/LEVEL/STEM),
 * the data registry that data/*.js files call (battlemapShared,
 * battlemapData, case-number decoding, loading another unit's file on
 * demand), DOM and formatting helpers, and the 销号率 classes that the map and
 * the panel colour alike.
 *
 * Data arrive by <script> tags (file:// blocks fetch): data/shared.js calls
 * battlemapShared(...), data/<level>/<stem>.js calls battlemapData(...).
 * Every text from the data goes into the DOM through textContent, never
 * innerHTML. Load order (render/web ATLAS_SCRIPTS): core, cases, map, panel,
 * search, start.
 */
window.battlemap = window.battlemap || {};
(function (bm) {
  'use strict';

  bm.S = null;          // shared data (data/shared.js)
  bm.D = null;          // this page's data (data/<level>/<stem>.js)
  bm.ROOT = ''; bm.LEVEL = ''; bm.STEM = '';
  bm.map = null; bm.caseLayer = null;

  var registry = {}, waiters = {}, loading = {};

  window.battlemapShared = function (data) { bm.S = data; };
  // case numbers as encode._encode_ids writes them (n, k: comma-separated text)
  function decodeIds(enc) {
    var out = new Array(enc.c), num = 0, pads = {};
    var n = enc.c ? enc.n.split(',') : [], ks = enc.k ? enc.k.split(',') : null;
    for (var i = 0; i < enc.c; i++) {
      num += +n[i];
      var k = ks ? +ks[i] : 0, w = enc.w[k];
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

  // the case arrays as encode._pack_ints writes them: fixed-width base-64 digits above b
  var DIGITS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  var DIGIT = new Uint8Array(128);
  for (var d = 0; d < 64; d++) DIGIT[DIGITS.charCodeAt(d)] = d;
  var PACKED = ['x', 'y', 's', 't', 'c', 'd', 'f', 'g', 'o'];
  // arrays the first drawing and the filters do not read (grid, days overdue: popups,
  // search, export), decoded when first read
  var LATER = { g: true, o: true };
  // one loop per width (1 to 3 digits: every array of a district): the first decoding
  // runs before the page's code is optimised, where each inner step counts
  function unpackInts(enc) {
    var w = enc.w, v = enc.v, b = enc.b, n = w ? v.length / w : 0, out = new Int32Array(n);
    var i, p;
    if (w === 1) {
      for (i = 0; i < n; i++) out[i] = DIGIT[v.charCodeAt(i)] + b;
    } else if (w === 2) {
      for (i = 0, p = 0; i < n; i++, p += 2) out[i] = DIGIT[v.charCodeAt(p)] * 64 + DIGIT[v.charCodeAt(p + 1)] + b;
    } else if (w === 3) {
      for (i = 0, p = 0; i < n; i++, p += 3) {
        out[i] = (DIGIT[v.charCodeAt(p)] * 64 + DIGIT[v.charCodeAt(p + 1)]) * 64 + DIGIT[v.charCodeAt(p + 2)] + b;
      }
    } else {
      for (i = 0, p = 0; i < n; i++) {
        var x = 0;
        for (var k = 0; k < w; k++) x = x * 64 + DIGIT[v.charCodeAt(p++)];
        out[i] = x + b;
      }
    }
    return out;
  }
  function lazyInts(c, key, enc) {
    var ints = null;
    Object.defineProperty(c, key, { enumerable: true,
      get: function () { return ints || (ints = unpackInts(enc)); } });
  }
  function unpackCases(c) {
    PACKED.forEach(function (k) {
      if (!c[k] || typeof c[k].v !== 'string') return;
      if (LATER[k]) lazyInts(c, k, c[k]); else c[k] = unpackInts(c[k]);
    });
    // c.count: how many cases; the case numbers (c.id) are decoded when first read (a
    // popup, the search, the export), not before the map is drawn
    c.count = c.ids ? c.ids.c : c.id.length;
    if (c.ids) {
      var enc = c.ids, ids = null;
      delete c.ids;
      Object.defineProperty(c, 'id', { enumerable: true,
        get: function () { return ids || (ids = decodeIds(enc)); } });
    }
  }

  window.battlemapData = function (level, stem, data) {
    var key = level + '/' + stem;
    if (data.cases) unpackCases(data.cases);
    registry[key] = data;
    var list = waiters[key] || [];
    delete waiters[key];
    list.forEach(function (fn) { fn(data); });
  };

  // a data file already loaded (the page's own arrives by its <script> tag), or undefined
  function loaded(level, stem) { return registry[level + '/' + stem]; }

  function loadData(level, stem, done) {
    var key = level + '/' + stem;
    if (registry[key]) { done(registry[key]); return; }
    (waiters[key] = waiters[key] || []).push(done);
    if (loading[key]) return;
    loading[key] = true;
    var script = document.createElement('script');
    script.src = bm.ROOT + 'data/' + level + '/' + stem + '.js';
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
  function stat(stats, key) { return stats[bm.S.statKeys.indexOf(key)]; }
  function pageHref(level, stem) { return level === 'district' ? bm.ROOT + 'index.html' : bm.ROOT + level + '/' + stem + '.html'; }
  function levelLabel(level) { return bm.S.levels[level === 'river' ? 'tributary' : level] || level; }
  function dayToDate(day) {
    var ms = Date.parse(bm.S.epoch + 'T00:00:00Z') + day * 86400000;
    return new Date(ms).toISOString().slice(0, 10);
  }
  function dateToDay(text) {
    if (!text) return null;
    var ms = Date.parse(text + 'T00:00:00Z');
    if (isNaN(ms)) return null;
    return Math.round((ms - Date.parse(bm.S.epoch + 'T00:00:00Z')) / 86400000);
  }

  // 销号率 classes: made once per level in the stats stage (closed_class of each unit);
  // render/web sends each level's colours and legend, the posters use the same
  var RATE_NONE = '#e3e3e3';
  var rateLevel = null;
  function closureOf(level) {
    return (bm.S.closure || {})[level || (bm.D && bm.D.childLevel)] || null;
  }
  function setRateLevel(level) { rateLevel = level; }
  function rateColor(stats) {
    var c = closureOf(rateLevel), k = stats ? stat(stats, 'closed_class') : -1;
    if (!c || k === null || k === undefined || k < 0) return (bm.S.closureNone || RATE_NONE);
    return c.colors[k];
  }
  function rateLegend() { var c = closureOf(rateLevel); return c ? c.items : []; }
  function rateRule() { var c = closureOf(rateLevel); return c ? c.rule : ''; }

  // case flags, as render/web packs them
  var F_OVERDUE = 1, F_RECURRING = 2, F_MISMATCH = 4, F_INVALID = 8;

  // a table row, left out when there is no value (popups, tooltips)
  function row(table, label, value, cls) {
    if (value === '' || value === null || value === undefined) return;
    var tr = append(el('tr', cls), el('th', null, label), el('td', null, value));
    table.appendChild(tr);
    return tr;
  }

  function locatedNames(g) {
    if (g < 0 || !bm.S.index.grid[g]) return null;
    var grid = bm.S.index.grid[g], village = bm.S.index.village[grid[2]];
    var town = village ? bm.S.index.town[village[2]] : null;
    return { grid: grid, village: village, town: town };
  }

  function chip(key, text) {
    var span = el('span', 'bm-chip', text);
    var color = bm.S.colors[key] || '#333';
    span.style.background = key === 'recurring' ? '#fff' : color;
    span.style.borderColor = key === 'recurring' ? '#1b1b1b' : color;
    span.style.color = key === 'recurring' ? '#1b1b1b' : '#fff';
    return span;
  }

  // for the one string Leaflet puts into innerHTML (the basemap's attribution)
  function escapeHtml(text) {
    return String(text).replace(/[&<>"']/g, function (ch) {
      return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[ch];
    });
  }

  bm.loaded = loaded; bm.loadData = loadData;
  bm.el = el; bm.append = append; bm.row = row; bm.chip = chip; bm.escapeHtml = escapeHtml;
  bm.pct = pct; bm.stat = stat; bm.pageHref = pageHref; bm.levelLabel = levelLabel;
  bm.dayToDate = dayToDate; bm.dateToDay = dateToDay; bm.locatedNames = locatedNames;
  bm.RATE_NONE = RATE_NONE; bm.setRateLevel = setRateLevel; bm.rateColor = rateColor;
  bm.rateLegend = rateLegend; bm.rateRule = rateRule;
  bm.F_OVERDUE = F_OVERDUE; bm.F_RECURRING = F_RECURRING; bm.F_MISMATCH = F_MISMATCH;
  bm.F_INVALID = F_INVALID;
})(window.battlemap);
