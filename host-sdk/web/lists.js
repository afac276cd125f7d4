// lists.js: related-list tables paged from the server.
//
// The API pages every list by cursor (limit 1..500) in key order, filters by
// equality on indexed fields (filter.<field>=value) and sorts only by the
// key field, ascending (sam_hostsvc.h). So a table here never holds more
// than one page: "Next" follows next_cursor, "Previous" goes back through
// the cursors already seen, and a list of 100,000 rows costs one page per
// view. Sorting by the key column is the server's order; sorting by any
// other column orders the rows of the page on screen (the caption says so).

import { api, seg } from './api.js';
import { h, replace, uid, fmtValue, notice } from './dom.js';

/**
 * new RelatedList(opts)
 *  opts.title, opts.path (GET path of the list), opts.key (key field),
 *  opts.columns: [{field, label, render?(row) -> node|string}],
 *  opts.filters: [{field, label, type: "string"|"boolean"|"enum",
 *                  options?: [values]}] (indexed fields only),
 *  opts.rowActions(row, list) -> [nodes] (optional),
 *  opts.toolbar(list) -> node (optional: add forms),
 *  opts.limit (default 25), opts.id (for test hooks: data-list).
 * list.el is the section; list.reload() fetches the current page again.
 */
export class RelatedList {
  constructor(opts) {
    this.o = opts;
    this.limit = opts.limit || 25;
    this.cursors = [null]; // cursor of each page seen; last = current page
    this.next = null;
    this.rows = [];
    this.filter = { field: '', value: '' };
    this.sort = { field: opts.key, dir: 1 };
    this.loading = false;
    const tid = uid('list');
    this.status = h('div', { class: 'list-status', 'aria-live': 'polite' });
    this.table = h('table', { class: 'data', 'aria-labelledby': `${tid}-h` });
    this.pageInfo = h('span', { class: 'page-info' });
    this.prevBtn = h('button', { type: 'button', onclick: () => this.prev() }, 'Previous');
    this.nextBtn = h('button', { type: 'button', onclick: () => this.more() }, 'Next');
    this.el = h('section', { class: 'related-list', 'data-list': opts.id || '' },
      h('h3', { id: `${tid}-h` }, opts.title),
      opts.toolbar ? opts.toolbar(this) : null,
      this.filterBar(tid),
      this.status,
      h('div', { class: 'table-wrap' }, this.table),
      h('div', { class: 'pager' }, this.prevBtn, this.pageInfo, this.nextBtn));
  }

  filterBar(tid) {
    const filters = this.o.filters || [];
    const limitId = `${tid}-limit`;
    const limitSel = h('select', { id: limitId },
      [10, 25, 50, 100, 500].map((n) => h('option', { value: String(n) }, String(n))));
    limitSel.value = String(this.limit);
    limitSel.addEventListener('change', () => {
      this.limit = Number(limitSel.value);
      this.restart();
    });
    const parts = [h('label', { for: limitId }, 'Rows per page'), limitSel];
    if (filters.length) {
      const fieldId = `${tid}-ff`;
      const valueId = `${tid}-fv`;
      const fieldSel = h('select', { id: fieldId },
        h('option', { value: '' }, '(no filter)'),
        filters.map((f) => h('option', { value: f.field }, f.label)));
      const valueHolder = h('span', { class: 'filter-value' });
      let valueInput = h('input', { type: 'text', id: valueId });
      const makeValue = () => {
        const f = filters.find((x) => x.field === fieldSel.value);
        if (f && (f.type === 'boolean' || f.type === 'enum')) {
          const opts = f.type === 'boolean' ? ['true', 'false'] : f.options;
          valueInput = h('select', { id: valueId }, opts.map((v) => h('option', { value: v }, v)));
        } else {
          valueInput = h('input', { type: 'text', id: valueId, disabled: !f });
        }
        replace(valueHolder, h('label', { for: valueId }, 'equals'), valueInput);
      };
      fieldSel.addEventListener('change', makeValue);
      makeValue();
      const apply = h('button', { type: 'submit' }, 'Filter');
      const clear = h('button', {
        type: 'button',
        onclick: () => {
          fieldSel.value = '';
          makeValue();
          this.filter = { field: '', value: '' };
          this.restart();
        },
      }, 'Clear');
      const form = h('form', { class: 'filter-bar', role: 'search' },
        h('label', { for: fieldId }, 'Filter'), fieldSel, valueHolder, apply, clear, ...parts);
      form.addEventListener('submit', (ev) => {
        ev.preventDefault();
        this.filter = { field: fieldSel.value, value: fieldSel.value ? valueInput.value : '' };
        this.restart();
      });
      return form;
    }
    return h('div', { class: 'filter-bar' }, ...parts);
  }

  query(cursor) {
    const q = { limit: this.limit };
    if (cursor) q.cursor = cursor;
    if (this.filter.field && this.filter.value !== '') q[`filter.${this.filter.field}`] = this.filter.value;
    return q;
  }

  restart() {
    this.cursors = [null];
    return this.reload();
  }

  async reload() {
    const cursor = this.cursors[this.cursors.length - 1];
    // Only the newest load may render: an older reply (a refresh after a
    // job finished, the previous page size) can arrive after a newer one.
    const gen = (this.gen = (this.gen || 0) + 1);
    this.loading = true;
    this.el.setAttribute('aria-busy', 'true');
    this.prevBtn.disabled = true;
    this.nextBtn.disabled = true;
    replace(this.status, notice('info', 'Loading…'));
    try {
      const r = await api('GET', this.o.path, { query: this.query(cursor) });
      if (gen !== this.gen) return;
      this.rows = Array.isArray(r && r.items) ? r.items : [];
      this.next = r && r.next_cursor ? r.next_cursor : null;
      replace(this.status);
      this.render();
    } catch (e) {
      if (gen !== this.gen) return;
      this.rows = [];
      this.next = null;
      replace(this.status, notice('error', e.message));
      this.render();
    } finally {
      if (gen === this.gen) {
        this.loading = false;
        this.el.removeAttribute('aria-busy');
      }
    }
  }

  more() {
    if (!this.next) return;
    this.cursors.push(this.next);
    this.reload();
  }

  prev() {
    if (this.cursors.length < 2) return;
    this.cursors.pop();
    this.reload();
  }

  sortedRows() {
    const { field, dir } = this.sort;
    if (field === this.o.key && dir === 1) return this.rows; // server order
    const rows = this.rows.slice();
    rows.sort((a, b) => {
      const x = a[field];
      const y = b[field];
      if (x === y) return 0;
      if (x === undefined || x === null) return 1;
      if (y === undefined || y === null) return -1;
      if (typeof x === 'number' && typeof y === 'number') return (x - y) * dir;
      return String(x).localeCompare(String(y)) * dir;
    });
    return rows;
  }

  setSort(field) {
    if (this.sort.field === field) this.sort.dir = -this.sort.dir;
    else this.sort = { field, dir: 1 };
    this.render();
  }

  render() {
    const cols = this.o.columns;
    const head = h('tr', null, cols.map((c) => {
      const active = this.sort.field === c.field;
      const ariaSort = active ? (this.sort.dir === 1 ? 'ascending' : 'descending') : 'none';
      return h('th', { scope: 'col', 'aria-sort': ariaSort },
        h('button', { type: 'button', class: 'sort', onclick: () => this.setSort(c.field) },
          c.label, active ? (this.sort.dir === 1 ? ' ▲' : ' ▼') : ''));
    }), this.o.rowActions ? h('th', { scope: 'col' }, 'Actions') : null);
    const body = h('tbody');
    const rows = this.sortedRows();
    for (const r of rows) {
      body.appendChild(h('tr', { 'data-key': String(r[this.o.key] ?? '') },
        cols.map((c) => h('td', null, c.render ? c.render(r) : fmtValue(r[c.field]))),
        this.o.rowActions ? h('td', { class: 'row-actions' }, this.o.rowActions(r, this)) : null));
    }
    if (!rows.length) {
      body.appendChild(h('tr', null, h('td', { colspan: String(cols.length + (this.o.rowActions ? 1 : 0)), class: 'empty' }, 'No rows.')));
    }
    const serverSorted = this.sort.field === this.o.key && this.sort.dir === 1;
    const caption = h('caption', { class: 'sr-note' },
      serverSorted
        ? `Sorted by ${this.o.key} (server order).`
        : 'Sorted within this page only; the server pages in key order.');
    replace(this.table, caption, h('thead', null, head), body);
    const page = this.cursors.length;
    replace(this.pageInfo, `Page ${page} · ${rows.length} row${rows.length === 1 ? '' : 's'}${this.next ? ' · more' : ''}`);
    this.prevBtn.disabled = page < 2;
    this.nextBtn.disabled = !this.next;
  }
}

/** The path of a profile's related list, and of one of its items. */
export function listPath(profileId, list, key) {
  const base = `/api/v1/profiles/${seg(profileId)}/lists/${seg(list)}`;
  return key === undefined ? base : `${base}/${seg(key)}`;
}
