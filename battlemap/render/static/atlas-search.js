/* battlemap atlas, part 5 of 6 — search and filters.
 *
 * Owns the search box and bm.search / bm.searchAll: case numbers first
 * (this page's, then the whole district's once the district data file is
 * loaded on demand), then towns, villages, grids and rivers by name. A case
 * elsewhere opens as grid/<stem>.html#case=<id>, which opens and highlights
 * it (bm.openFromHash). Also the filter section: problem type, channel and
 * report dates, which set bm.filters and redraw (bm.applyFilters).
 */
(function (bm) {
  'use strict';

  var el = bm.el, append = bm.append, loadData = bm.loadData, section = bm.section;
  var pageHref = bm.pageHref, levelLabel = bm.levelLabel, locatedNames = bm.locatedNames;
  var dayToDate = bm.dayToDate, dateToDay = bm.dateToDay, F_OVERDUE = bm.F_OVERDUE;

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
      render(bm.search(query));
      bm.searchAll(query, function (found) { if (input.value === query) render(found); });
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
        bm.searchAll(input.value, function (found) {
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
    loadData('district', bm.S.district.stem, function (d) {
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
  bm.search = function (query) {
    var q = String(query || '').trim().toLowerCase(), out = [];
    if (!q) return out;
    var ids = bm.D.cases.id, exact = bm.caseLayer.byId[String(query).trim()];
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
        if (bm.caseLayer.byId[all.c.id[j]] === undefined) out.push(remoteResult(j));
      }
    }
    ['town', 'village', 'grid'].forEach(function (level) {
      bm.S.index[level].forEach(function (u) {
        if (out.length < 16 && u[1].toLowerCase().indexOf(q) >= 0) {
          out.push({ kind: levelLabel(level), label: u[1] + parentName(level, u),
            go: function () { window.location.href = pageHref(level, u[0]); } });
        }
      });
    });
    bm.S.rivers.forEach(function (r) {
      if (out.length < 20 && r[1].toLowerCase().indexOf(q) >= 0) {
        out.push({ kind: levelLabel('river'), label: r[1],
          go: function () { window.location.href = pageHref('river', r[0]); } });
      }
    });
    return out;
  };
  bm.searchAll = function (query, done) {
    if (!String(query || '').trim() || bm.LEVEL === 'district') { done(bm.search(query)); return; }
    caseIndex(function () { done(bm.search(query)); });
  };
  function caseHref(g, id) {
    var page = g >= 0 && bm.S.index.grid[g] ? pageHref('grid', bm.S.index.grid[g][0]) : pageHref('district');
    return page + '#case=' + encodeURIComponent(id);
  }
  function remoteResult(j) {
    var c = allCases.c, names = locatedNames(c.g[j]), state = bm.S.states[c.s[j]];
    var where = names ? [names.town && names.town[1], names.grid[1]].filter(Boolean).join(' › ') : '';
    var overdue = (c.f[j] & F_OVERDUE) ? bm.S.labels.overdue : bm.S.labels[state];
    return { kind: '案件', label: c.id[j] + ' · ' + (bm.S.types[c.t[j]] || '') + ' · ' + overdue +
      (where ? '（' + where + '）' : ''),
      go: function () { window.location.href = caseHref(c.g[j], c.id[j]); } };
  }
  // #case=<id>: open and highlight that case (the search's landing from another page)
  function openFromHash() {
    var m = /^#case=(.+)$/.exec(window.location.hash || '');
    if (!m) return;
    var id;
    try { id = decodeURIComponent(m[1]); } catch (e) { return; }
    if (bm.openCase(id)) return;
    var input = document.getElementById('bm-search');     // not on this page: search for it
    if (input) { input.value = id; input.dispatchEvent(new Event('input')); }
  }

  // a case of this page as a search result
  function caseResult(i) {
    var state = bm.S.states[bm.D.cases.s[i]];
    return { kind: '案件', label: bm.D.cases.id[i] + ' · ' + (bm.S.types[bm.D.cases.t[i]] || '') + ' · ' + bm.S.labels[state],
      go: function () { bm.openCase(bm.D.cases.id[i]); } };
  }
  function parentName(level, u) {
    var above = { village: 'town', grid: 'village' }[level];
    if (!above || u[2] < 0) return '';
    return '（' + bm.S.index[above][u[2]][1] + '）';
  }

  // ---------------------------------------------------------------- filters
  function buildFilters(panel) {
    var sec = section('筛选');
    // the cases of each type and channel: the stats stage's counts (filterCounts), not ours
    var c = bm.D.cases, counts = bm.D.filterCounts, minDay = Infinity, maxDay = -Infinity;
    for (var i = 0; i < c.count; i++) {
      var day = c.d[i];
      if (day >= 0) { if (day < minDay) minDay = day; if (day > maxDay) maxDay = day; }
    }
    sec.appendChild(selectFor('问题类型', bm.S.types, counts.t, function (v) { bm.filters.type = v; }));
    sec.appendChild(selectFor('上报渠道', bm.S.channels, counts.c, function (v) { bm.filters.channel = v; }));
    var dates = el('div', 'bm-dates');
    var from = el('input'), to = el('input');
    from.type = to.type = 'date';
    from.id = 'bm-from'; to.id = 'bm-to';
    if (minDay <= maxDay) { from.min = to.min = dayToDate(minDay); from.max = to.max = dayToDate(maxDay); }
    function update() { bm.filters.from = dateToDay(from.value); bm.filters.to = dateToDay(to.value); bm.applyFilters(); }
    ['input', 'change'].forEach(function (ev) { from.addEventListener(ev, update); to.addEventListener(ev, update); });
    append(dates, el('span', null, '上报日期'), from, el('span', null, '至'), to);
    sec.appendChild(dates);
    var quick = el('div', 'bm-quick');
    [['近30天', 30], ['近90天', 90], ['近一年', 365], ['全部', 0]].forEach(function (q) {
      var b = el('button', null, q[0]);
      b.type = 'button';
      b.addEventListener('click', function () {
        to.value = '';
        from.value = q[1] ? dayToDate(dateToDay(bm.S.asOf) - q[1] + 1) : '';
        update();
      });
      quick.appendChild(b);
    });
    sec.appendChild(quick);
    panel.appendChild(sec);
  }
  // a select of the values that occur, each with its count of cases
  function selectFor(label, values, counts, set) {
    var wrap = el('label', 'bm-select');
    wrap.appendChild(el('span', null, label));
    var sel = el('select');
    var all = el('option', null, '全部');
    all.value = '-1';
    sel.appendChild(all);
    values.forEach(function (v, k) {
      if (!counts[k]) return;
      var o = el('option', null, (v || '（未填）') + '（' + counts[k] + '）');
      o.value = String(k);
      sel.appendChild(o);
    });
    sel.addEventListener('change', function () { set(parseInt(sel.value, 10)); bm.applyFilters(); });
    wrap.appendChild(sel);
    return wrap;
  }

  bm.buildSearch = buildSearch; bm.buildFilters = buildFilters; bm.openFromHash = openFromHash;
})(window.battlemap);
