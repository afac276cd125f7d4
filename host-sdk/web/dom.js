// dom.js: the only way these pages build DOM. Text always goes in through
// textContent or createTextNode, attributes through setAttribute, so data
// from the server (names, messages, identifiers) is never parsed as markup.
// Nothing here uses innerHTML, inline styles or inline event handlers (the
// host's Content-Security-Policy forbids inline script).

/**
 * h(tag, attrs, ...children): creates an element.
 *  attrs: plain attributes (values converted to strings); "class" sets the
 *  class list; keys starting with "on" attach listeners (functions only);
 *  boolean true sets an empty attribute, false/null/undefined skips it.
 *  children: strings/numbers (become text nodes), nodes, arrays, null.
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

export function setAttrs(el, attrs) {
  if (!attrs) return el;
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') {
      el.addEventListener(k.slice(2).toLowerCase(), v);
    } else if (k === 'class') {
      el.className = String(v);
    } else if (k === 'value' && 'value' in el) {
      el.value = String(v);
    } else if (k === 'checked' || k === 'disabled' || k === 'readOnly') {
      el[k] = Boolean(v);
    } else {
      el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  return el;
}

export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** Removes every child of el, then appends children. */
export function replace(el, ...children) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return append(el, children);
}

let idSeq = 0;
/** A document-unique id with a readable prefix (for label/aria wiring). */
export function uid(prefix) {
  idSeq += 1;
  return `${prefix}-${idSeq}`;
}

/** SVG element (charts). */
export function svg(tag, attrs, ...children) {
  const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v !== null && v !== undefined) el.setAttribute(k, String(v));
  }
  return append(el, children);
}

/** "2026-11-28T17:00:00Z" -> local, readable; other values unchanged. */
export function fmtTime(s) {
  if (typeof s !== 'string' || !/^\d{4}-\d\d-\d\dT/.test(s)) return s ?? '';
  const d = new Date(s);
  return Number.isNaN(d.getTime()) ? s : d.toLocaleString();
}

/** Any JSON value as short display text. */
export function fmtValue(v) {
  if (v === null || v === undefined) return '';
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (typeof v === 'object') return JSON.stringify(v);
  return fmtTime(String(v));
}

/** A status line for messages: kind is "info", "ok", "error", "pending". */
export function notice(kind, text) {
  return h('p', { class: `notice notice-${kind}`, role: kind === 'error' ? 'alert' : 'status' }, text);
}

/**
 * A native <dialog> asking to confirm; resolves true/false. The dialog is
 * modal (the browser traps focus and Esc cancels). body: nodes or strings.
 */
export function confirmDialog(title, body, okLabel, danger) {
  return new Promise((resolve) => {
    const titleId = uid('dlg-title');
    const ok = h('button', { type: 'submit', value: 'ok', class: danger ? 'danger' : 'primary' }, okLabel);
    const cancel = h('button', { type: 'submit', value: 'cancel', formnovalidate: true }, 'Cancel');
    const form = h('form', { method: 'dialog' },
      h('h2', { id: titleId }, title),
      h('div', { class: 'dialog-body' }, body),
      h('div', { class: 'buttons' }, cancel, ok));
    const dlg = h('dialog', { 'aria-labelledby': titleId, class: 'confirm' }, form);
    dlg.addEventListener('close', () => {
      const v = dlg.returnValue === 'ok';
      dlg.remove();
      resolve(v);
    });
    document.body.appendChild(dlg);
    dlg.showModal();
    cancel.focus();
  });
}
