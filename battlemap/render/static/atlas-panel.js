/* battlemap atlas, part 4 of 6 — panel: the side panel beside the map.
 *
 * Owns the panel's sections except search and filters (atlas-search.js): the
 * summary figures, the legend (its state boxes switch bm.filters, its counts
 * come from bm.showCounts), the ranking of the child units, the case list of
 * a grid or river page, and the links to the rivers and towns a page crosses.
 * Every figure is the stats stage's; the panel only lays it out.
 */
(function (bm) {
  'use strict';

  var el = bm.el, append = bm.append, chip = bm.chip, pct = bm.pct, stat = bm.stat;
  var pageHref = bm.pageHref, levelLabel = bm.levelLabel, dayToDate = bm.dayToDate;
  var contextKinds = bm.contextKinds;
  // the cases the figures leave out (invalid tips, status void), in the stats stage's words
  function uncountedNote() { return bm.D.uncountedNote ? bm.D.uncountedNote + '（未绘出）。' : ''; }
  var rateColor = bm.rateColor, rateLegend = bm.rateLegend, rateRule = bm.rateRule;
  var F_OVERDUE = bm.F_OVERDUE;

  var legendCounts = {}, shownNode = null;

  // the legend's counts and the "shown" line, after every change of the filters
  // (faceted: a type/channel/date filter is on, and the counts are of the cases passing it)
  bm.showCounts = function (counts, shown, total, faceted) {
    Object.keys(legendCounts).forEach(function (key) { legendCounts[key].textContent = counts[key]; });
    if (shownNode) {
      shownNode.textContent = '图上显示 ' + shown + ' / ' + total + ' 件' +
        (faceted ? '；图例计数为符合筛选条件的案件' : '');
    }
  };

  function section(title) {
    var sec = el('section', 'bm-sec');
    sec.appendChild(el('h2', null, title));
    return sec;
  }

  function buildSummary(panel) {
    var s = bm.D.stats, box = el('div', 'bm-summary');
    var items = [
      ['案件总数', stat(s, 'total'), ''], ['销号率', pct(stat(s, 'closed_rate')), 'bm-good'],
      ['其中' + bm.S.labels.overdue, stat(s, 'overdue'), 'bm-bad'], ['其中' + (bm.S.labels.recurring || '反复'), stat(s, 'recurring'), ''],
      ['本期新增', stat(s, 'new_in_period'), ''], ['本期销号', stat(s, 'closed_in_period'), '']];
    items.forEach(function (it) {
      append(box, append(el('div', 'bm-kpi ' + it[2]), el('b', null, it[1]), el('span', null, it[0])));
    });
    panel.appendChild(box);
    if (bm.S.period) panel.appendChild(el('div', 'bm-note', '本期：' + bm.S.period[0] + ' 至 ' + bm.S.period[1]));
  }

  function legendItem(list, key, label, color, kind, toggle) {
    var li = el('li', 'bm-leg');
    var box = el('input');
    box.type = 'checkbox';
    box.checked = true;
    box.dataset.state = key;
    box.setAttribute('aria-label', label);
    box.addEventListener('change', function () {
      li.classList.toggle('bm-off', !box.checked);      // greyed, also on paper
      toggle(box.checked);
      bm.applyFilters();
    });
    var sym = el('span', 'bm-sym bm-sym-' + kind);
    if (kind !== 'ring') sym.style.background = color;
    var count = el('span', 'bm-count', '0');
    legendCounts[key] = count;
    var labelNode = el('label');
    append(labelNode, toggle ? box : null, sym, el('span', 'bm-leg-label', label), count);
    li.appendChild(labelNode);
    list.appendChild(li);
    return li;
  }

  function buildLegend(panel) {
    var sec = section('图例 · 案件状态');
    var list = el('ul', 'bm-legend');
    bm.S.states.forEach(function (s) {
      bm.filters.states[s] = true;
      legendItem(list, s, bm.S.labels[s], bm.S.colors[s], 'dot', function (on) { bm.filters.states[s] = on; });
    });
    // 超期 and 反复 are subsets of the states above (indented): see bm.applyFilters
    legendItem(list, 'overdue', '其中' + bm.S.labels.overdue + '（未销号且过期）', bm.S.colors.overdue, 'big',
      function (on) { bm.filters.overdue = on; }).classList.add('bm-leg-sub');
    legendItem(list, 'recurring', '其中' + (bm.S.labels.recurring || '反复') + '（灰圈）', null, 'ring', null)
      .classList.add('bm-leg-sub');
    sec.appendChild(list);
    sec.appendChild(el('div', 'bm-note bm-rule', bm.S.countRule + '。' + uncountedNote()));
    shownNode = el('div', 'bm-note');
    sec.appendChild(shownNode);
    var other = el('ul', 'bm-legend bm-legend-static');
    if (bm.D.childLevel) {
      var ramp = el('li', 'bm-ramp');
      ramp.appendChild(el('span', 'bm-leg-label', levelLabel(bm.D.childLevel) + '销号率（' + (rateRule() || '按本级分档') + '，越绿越好）'));
      var bar = el('div', 'bm-ramp-bar');
      rateLegend().forEach(function (item) {
        var cellNode = el('span', null, item[1]);
        cellNode.style.background = item[0];
        bar.appendChild(cellNode);
      });
      var none = el('span', null, '无案件');
      none.style.background = bm.S.closureNone || bm.RATE_NONE;
      bar.appendChild(none);
      ramp.appendChild(bar);
      other.appendChild(ramp);
    }
    append(other, staticItem('bm-sym-main', '干流'), staticItem('bm-sym-trib', '一级支流'));
    if (bm.D.corridor) other.appendChild(staticItem('bm-sym-corridor', '河涌影响范围（' + '案件归属距离内）'));
    contextKinds().forEach(function (kind, k) {
      var sample = null;
      bm.S.context.forEach(function (p) { if (!sample && p[2] === kind) sample = p; });
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

  function buildRanking(panel) {
    if (!bm.D.children || !bm.D.children.length) return;
    var sec = section(levelLabel(bm.D.childLevel) + '排名（销号率）');
    var table = el('table', 'bm-rank');
    append(table, append(el('tr'), el('th', null, '名次'), el('th', null, levelLabel(bm.D.childLevel)),
      el('th', null, '销号率'), el('th', null, '案件'), el('th', null, '超期')));
    var rows = bm.D.children.slice().sort(function (a, b) {
      return (stat(a.stats, 'rank') || 1e9) - (stat(b.stats, 'rank') || 1e9);
    });
    var last = rows.length;
    rows.forEach(function (child, k) {
      var rate = stat(child.stats, 'closed_rate');
      var tr = el('tr', k >= last - Math.min(3, Math.floor(last / 3)) && stat(child.stats, 'total') ? 'bm-last' : null);
      var a = el('a', null, child.name);
      a.href = pageHref(bm.D.childLevel, child.stem);
      var bar = el('span', 'bm-bar');
      var fill = el('i');
      fill.style.width = rate === null ? '0' : (rate * 100).toFixed(1) + '%';
      fill.style.background = rateColor(child.stats);
      bar.appendChild(fill);
      var rateCell = append(el('td', 'bm-rate'), bar, el('span', null, pct(rate)));
      append(tr, el('td', 'bm-num', stat(child.stats, 'rank')), append(el('td'), a), rateCell,
        el('td', 'bm-num', stat(child.stats, 'total')),
        el('td', 'bm-num' + (stat(child.stats, 'overdue') ? ' bm-bad' : ''), stat(child.stats, 'overdue')));
      table.appendChild(tr);
    });
    sec.appendChild(table);
    if (bm.S.rankingRule) sec.appendChild(el('div', 'bm-note', '排名规则：' + bm.S.rankingRule));
    panel.appendChild(sec);
  }

  function buildCaseList(panel) {
    if (bm.LEVEL !== 'grid' && bm.LEVEL !== 'river') return;
    var c = bm.D.cases, n = c.id.length;
    var sec = section('案件清单（' + n + ' 件）');
    var table = el('table', 'bm-cases');
    append(table, append(el('tr'), el('th', null, '编号'), el('th', null, '类型'),
      el('th', null, '状态'), el('th', null, bm.LEVEL === 'grid' ? '整改期限' : '上报日期')));
    var order = [];
    for (var i = 0; i < n; i++) order.push(i);
    order.sort(function (a, b) { return (c.f[b] & 1) - (c.f[a] & 1) || c.o[b] - c.o[a] || c.s[a] - c.s[b] || c.d[b] - c.d[a]; });
    order.slice(0, 300).forEach(function (k) {
      var state = bm.S.states[c.s[k]];
      var tr = el('tr', (c.f[k] & F_OVERDUE) ? 'bm-overdue-row' : null);
      var stateCell = el('td');
      stateCell.appendChild(chip((c.f[k] & F_OVERDUE) ? 'overdue' : state,
        (c.f[k] & F_OVERDUE) ? bm.S.labels.overdue + c.o[k] + '天' : bm.S.labels[state]));
      var when = bm.LEVEL === 'grid' ? (c.detail[k][1] || '—') : dayToDate(c.d[k]);
      append(tr, el('td', 'bm-id', c.id[k]), el('td', null, bm.S.types[c.t[k]]), stateCell, el('td', null, when));
      tr.addEventListener('click', function () { bm.openCase(c.id[k]); });
      table.appendChild(tr);
    });
    sec.appendChild(table);
    if (n > 300) sec.appendChild(el('div', 'bm-note', '仅列出前 300 件（超期优先）；其余请在图上点选或搜索编号。'));
    panel.appendChild(sec);
  }

  function buildLinks(panel) {
    if (bm.D.rivers && bm.D.rivers.length) {
      var sec = section('流经河涌');
      var list = el('ul', 'bm-links');
      bm.D.rivers.forEach(function (r) {
        var river = null;
        bm.S.rivers.forEach(function (x) { if (x[0] === r[0]) river = x; });
        if (!river) return;
        var a = el('a', null, river[1] + (river[2] === 'main' ? '（干流）' : ''));
        a.href = pageHref('river', r[0]);
        append(list, append(el('li'), a, el('span', 'bm-count', (r[1] / 1000).toFixed(1) + ' 公里')));
      });
      sec.appendChild(list);
      panel.appendChild(sec);
    }
    if (bm.D.crosses && bm.D.crosses.length) {
      var sec2 = section('流经镇街');
      var list2 = el('ul', 'bm-links');
      bm.D.crosses.forEach(function (u) {
        if (u[0] !== 'town') return;
        var a = el('a', null, u[2]);
        a.href = pageHref(u[0], u[1]);
        append(list2, append(el('li'), a, el('span', 'bm-count', (u[3] / 1000).toFixed(1) + ' 公里')));
      });
      sec2.appendChild(list2);
      var villages = bm.D.crosses.filter(function (u) { return u[0] === 'village'; });
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

  bm.section = section;
  bm.buildSummary = buildSummary; bm.buildLegend = buildLegend; bm.buildRanking = buildRanking;
  bm.buildCaseList = buildCaseList; bm.buildLinks = buildLinks;
})(window.battlemap);
