/* battlemap atlas, part 7 — water: the water-quality panel and the sections' popup links.
 *
 * Reads bm.S.water (data/shared.js; made by battlemap/render/water.py from the
 * stats stage's figures, nothing is counted here). On the district page
 * (index.html) it adds a panel: the first section's (大墩's) latest class and
 * attainment, year to date and last 12 months, the 12 months as a coloured
 * strip, its latest warning (预警), and a line for every other section; each links to its page
 * section/<id>.html. On every map it gives the monitoring sections' points a
 * popup with the same figures and the link. Text goes in with textContent only.
 * Runs on DOMContentLoaded after atlas-start.js (script order in render/web).
 */
(function (bm) {
  'use strict';

  var el = bm.el, append = bm.append;

  function verdict(met) { return met === null ? '—' : (met ? '达标' : '不达标'); }
  function ratio(pair) { return pair[0] + '/' + pair[1] + ' 个月'; }

  function swatch(color, title) {
    var node = el('span', 'bm-water-cell');
    node.style.background = color;
    node.title = title;
    return node;
  }

  function strip(section) {
    var box = el('div', 'bm-water-strip');
    section.strip.forEach(function (m) {
      var cell = swatch(m[2], m[0] + ' ' + m[1] + (m[3] === null ? '' : ' ' + verdict(m[3])));
      if (m[3] === false) cell.className += ' bm-water-miss';
      box.appendChild(cell);
    });
    return box;
  }

  function link(section, text) {
    var a = el('a', 'bm-water-link', text);
    a.href = bm.ROOT + section.href;
    return a;
  }

  function summary(section) {
    var head = append(el('div', 'bm-water-head'), swatch(section.latestColor, section.latest),
      el('b', null, section.latest + ' ' + verdict(section.met)),
      el('span', 'bm-water-date', '（' + section.latestDate + '，目标' + section.target + '）'));
    var figures = el('div', 'bm-water-figs', bm.S.water.year + '年以来 ' + ratio(section.ytd) +
      '达标 · 近12个月 ' + ratio(section.last12) + '达标');
    var since = el('div', 'bm-water-since', section.since ? section.since + ' 起连续达标' : '最近一个月未达标');
    var nodes = [head, figures, since, strip(section)];
    if (section.warnings.length) {
      var warn = el('div', 'bm-water-warn', '近12个月预警 ' + section.warnings.length + ' 条，最近：' +
        section.warnings[0][1]);
      nodes.push(warn);
    }
    return nodes;
  }

  function buildPanel(panel) {
    var sections = bm.S.water.sections;
    if (!sections.length) return;
    var first = sections[0];
    var box = el('section', 'bm-block bm-water');
    append(box, el('h2', null, '水质 ' + first.name));
    summary(first).forEach(function (node) { box.appendChild(node); });
    box.appendChild(link(first, '断面详情、上游河涌与镇街 →'));
    if (sections.length > 1) {
      var list = el('ul', 'bm-water-list');
      sections.slice(1).forEach(function (s) {
        var item = append(el('li'), swatch(s.latestColor, s.latest), link(s, s.name),
          el('span', null, ' ' + s.latest + ' ' + verdict(s.met) + ' · 近12个月 ' + ratio(s.last12)));
        list.appendChild(item);
      });
      box.appendChild(list);
    }
    var after = panel.firstChild ? panel.firstChild.nextSibling : null;
    panel.insertBefore(box, after);
  }

  function bindPopups() {
    var sections = bm.S.water.sections;
    bm.map.eachLayer(function (layer) {
      if (!(layer instanceof L.Marker) || layer.options.pane !== 'bmContextPoints') return;
      var at = layer.getLatLng();
      sections.forEach(function (s) {
        if (Math.abs(s.at[0] - at.lat) > 1e-6 || Math.abs(s.at[1] - at.lng) > 1e-6) return;
        var box = append(el('div', 'bm-water-popup'), el('b', null, s.name),
          el('div', null, s.kind + ' · ' + s.river));
        summary(s).forEach(function (node) { box.appendChild(node); });
        box.appendChild(link(s, '断面详情 →'));
        layer.bindPopup(box, { maxWidth: 300 });
      });
    });
  }

  function start() {
    if (!bm.S || !bm.S.water || !bm.map) return;
    bindPopups();
    var panel = document.getElementById('panel');
    if (bm.LEVEL === 'district' && panel) buildPanel(panel);
  }

  document.addEventListener('DOMContentLoaded', start);
})(window.battlemap);
