// charts.js: a small horizontal SVG bar chart, no library. Labels and
// values are text nodes (escaped); sizes come from attributes, never from
// inline styles (CSP).

import { h, svg } from './dom.js';

/**
 * barChart(title, data) -> <figure>
 *  data: [{label, value, note?}] (value a number; note e.g. "500+").
 * The chart is decorative for screen readers' sake: the same numbers are
 * given in a visually hidden table.
 */
export function barChart(title, data) {
  const rowH = 22;
  const labelW = 190;
  const barW = 260;
  const width = labelW + barW + 70;
  const height = Math.max(1, data.length) * rowH + 8;
  const max = Math.max(1, ...data.map((d) => d.value));
  const g = svg('svg', {
    viewBox: `0 0 ${width} ${height}`, width, height, role: 'img', 'aria-hidden': 'true', class: 'bar-chart',
  });
  data.forEach((d, i) => {
    const y = 4 + i * rowH;
    const w = Math.round((d.value / max) * barW);
    const label = d.label.length > 28 ? `${d.label.slice(0, 27)}…` : d.label;
    g.appendChild(svg('text', { x: labelW - 6, y: y + 15, 'text-anchor': 'end', class: 'bar-label' }, label));
    g.appendChild(svg('rect', { x: labelW, y: y + 3, width: Math.max(w, 1), height: rowH - 8, class: 'bar', rx: 2 }));
    g.appendChild(svg('text', { x: labelW + Math.max(w, 1) + 6, y: y + 15, class: 'bar-value' }, d.note || String(d.value)));
  });
  if (!data.length) g.appendChild(svg('text', { x: 8, y: 18, class: 'bar-label' }, 'No data yet.'));
  const table = h('table', { class: 'visually-hidden' },
    h('caption', null, title),
    h('tbody', null, data.map((d) => h('tr', null, h('th', { scope: 'row' }, d.label), h('td', null, d.note || String(d.value))))));
  return h('figure', { class: 'chart' }, h('figcaption', null, title), g, table);
}
