// form.js: the generic profile form, generated from a plugin's form schema
// (ABI.md 10.2). Any plugin's profile type gets a working form from its
// schema alone: field order, labels (title), help (description and
// x-sam-ui.help), groups (x-sam-ui.groups), defaults, read-only fields,
// write-only secrets (x-sam-secret: never filled back, shown as set/not set)
// and process toggles (x-sam-ui.processes; a locked one cannot be cleared).
//
// The first half is pure (no DOM): schema -> field model, client-side
// validation mirroring the schema keywords form schemas use (required,
// type, enum, const, pattern, format uri/email, minLength, maxLength,
// minimum, maximum), and building the request body. It runs under Node for
// the unit test (tests/e2e/form.test.mjs). The second half renders it.

// ---------------------------------------------------------------- model ---

function typeOf(prop) {
  let t = prop.type;
  if (Array.isArray(t)) t = t.find((x) => x !== 'null');
  if (typeof t === 'string') return t;
  if (prop.const !== undefined) return typeof prop.const === 'boolean' ? 'boolean' : 'string';
  if (Array.isArray(prop.enum) && prop.enum.length) {
    const v = prop.enum[0];
    return typeof v === 'number' ? 'number' : typeof v === 'boolean' ? 'boolean' : 'string';
  }
  return 'string';
}

function enumOptions(prop) {
  if (Array.isArray(prop.oneOf) && prop.oneOf.every((o) => o && o.const !== undefined)) {
    return prop.oneOf.map((o) => ({ value: o.const, label: o.title || String(o.const) }));
  }
  if (Array.isArray(prop.enum)) {
    return prop.enum.map((v) => ({ value: v, label: String(v) }));
  }
  return null;
}

/**
 * fieldModel(schema) -> {title, description, fields, groups, actions}
 *  fields: ordered array of field descriptors:
 *    {name, pointer, title, description, help, type, widget, required,
 *     readOnly, secret, locked, process, options, default, const,
 *     constraints: {minLength, maxLength, pattern, format, minimum,
 *                   maximum, exclusiveMinimum, exclusiveMaximum,
 *                   enum, const}}
 *  groups: [{id, title, fields: [names]}]; fields in no group land in a
 *    last group {id: "other", title: null}.
 * Throws on a schema that is not an object schema with properties.
 */
export function fieldModel(schema) {
  if (!schema || typeof schema !== 'object' || typeof schema.properties !== 'object') {
    throw new Error('the form schema has no properties');
  }
  const ui = (schema['x-sam-ui'] && typeof schema['x-sam-ui'] === 'object') ? schema['x-sam-ui'] : {};
  const props = schema.properties;
  const required = new Set(Array.isArray(schema.required) ? schema.required : []);
  const help = ui.help && typeof ui.help === 'object' ? ui.help : {};
  const procs = new Map();
  for (const p of Array.isArray(ui.processes) ? ui.processes : []) {
    if (p && typeof p.field === 'string') procs.set(p.field, p);
  }
  const order = [];
  for (const n of Array.isArray(ui.order) ? ui.order : []) {
    if (Object.prototype.hasOwnProperty.call(props, n) && !order.includes(n)) order.push(n);
  }
  for (const n of Object.keys(props)) if (!order.includes(n)) order.push(n);

  const fields = order.map((name) => {
    const p = props[name] || {};
    const type = typeOf(p);
    const secret = p['x-sam-secret'] === true;
    const options = enumOptions(p);
    const proc = procs.get(name);
    let widget = 'text';
    if (type === 'boolean') widget = 'checkbox';
    else if (secret || p.writeOnly === true) widget = 'password';
    else if (options && options.length) widget = 'select';
    else if (type === 'integer' || type === 'number') widget = 'number';
    else if (p.format === 'uri') widget = 'url';
    else if (p.format === 'email') widget = 'email';
    const locked = (proc && proc.locked === true) || (type === 'boolean' && p.const === true && !p.readOnly);
    const c = {};
    for (const k of ['minLength', 'maxLength', 'pattern', 'format', 'minimum', 'maximum',
      'exclusiveMinimum', 'exclusiveMaximum', 'enum', 'const']) {
      if (p[k] !== undefined) c[k] = p[k];
    }
    return {
      name,
      pointer: `/${name.replace(/~/g, '~0').replace(/\//g, '~1')}`,
      title: typeof p.title === 'string' && p.title ? p.title : name,
      description: typeof p.description === 'string' ? p.description : '',
      help: typeof help[name] === 'string' ? help[name] : '',
      type,
      widget,
      required: required.has(name),
      readOnly: p.readOnly === true,
      secret,
      locked: Boolean(locked),
      process: proc ? proc.process : null,
      options,
      default: p.default,
      const: p.const,
      constraints: c,
    };
  });

  const byName = new Map(fields.map((f) => [f.name, f]));
  const grouped = new Set();
  const groups = [];
  for (const g of Array.isArray(ui.groups) ? ui.groups : []) {
    if (!g || !Array.isArray(g.fields)) continue;
    const names = g.fields.filter((n) => byName.has(n) && !grouped.has(n));
    // keep the x-sam-ui.order inside a group
    names.sort((a, b) => order.indexOf(a) - order.indexOf(b));
    names.forEach((n) => grouped.add(n));
    groups.push({ id: String(g.id || `group${groups.length}`), title: g.title || null, fields: names });
  }
  const rest = order.filter((n) => !grouped.has(n));
  if (rest.length) groups.push({ id: 'other', title: groups.length ? 'Other' : null, fields: rest });
  return {
    title: schema.title || '',
    description: schema.description || '',
    fields,
    groups,
    actions: Array.isArray(ui.actions) ? ui.actions.slice() : [],
  };
}

/**
 * initialValues(model, form) -> {values, secretsSet}
 *  form: the profile's stored form (a read shows {"set": bool} for secrets)
 *  or null for a new profile (defaults apply; a locked toggle is on).
 *  values holds strings for text inputs, booleans for check boxes; secrets
 *  always start empty (never filled back).
 */
export function initialValues(model, form) {
  const values = {};
  const secretsSet = {};
  for (const f of model.fields) {
    const have = form && Object.prototype.hasOwnProperty.call(form, f.name);
    let v = have ? form[f.name] : undefined;
    if (f.secret) {
      secretsSet[f.name] = Boolean(v && typeof v === 'object' && v.set === true);
      values[f.name] = '';
      continue;
    }
    if (v === undefined && !form) v = f.default !== undefined ? f.default : f.const;
    if (f.type === 'boolean') {
      values[f.name] = f.locked ? true : v === true;
    } else {
      values[f.name] = v === undefined || v === null ? '' : String(v);
    }
  }
  return { values, secretsSet };
}

const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

function isUri(s) {
  if (!/^[A-Za-z][A-Za-z0-9+.-]*:/.test(s)) return false;
  try {
    // eslint-disable-next-line no-new
    new URL(s);
    return true;
  } catch {
    return false;
  }
}

/** The length in code points (what JSON Schema's minLength counts). */
function cpLength(s) {
  return Array.from(s).length;
}

/**
 * coerce(field, raw) -> the JSON value to send, or undefined when empty.
 * Text inputs give strings; numbers become numbers (NaN stays a string so
 * validation reports it).
 */
export function coerce(field, raw) {
  if (field.type === 'boolean') return raw === true;
  if (raw === undefined || raw === null) return undefined;
  const s = String(raw);
  if (s === '') return undefined;
  if (field.type === 'integer' || field.type === 'number') {
    const n = Number(s.trim());
    return s.trim() !== '' && Number.isFinite(n) ? n : s;
  }
  return s;
}

/**
 * validateField(field, value, opts) -> an error message, or null.
 *  value: the coerced value (undefined = empty).
 *  opts.secretSet: a secret already stored may be left empty.
 * Mirrors the schema's keywords; the server's validator has the last word.
 */
export function validateField(field, value, opts = {}) {
  if (field.readOnly) return null;
  if (value === undefined) {
    if (field.required && !(field.secret && opts.secretSet)) return 'is required';
    return null;
  }
  const c = field.constraints;
  const t = field.type;
  if (t === 'boolean' && typeof value !== 'boolean') return 'must be true or false';
  if (t === 'integer' && !(typeof value === 'number' && Number.isInteger(value))) return 'must be a whole number';
  if (t === 'number' && typeof value !== 'number') return 'must be a number';
  if (t === 'string' && typeof value !== 'string') return 'must be text';
  if (c.const !== undefined && value !== c.const) {
    return field.type === 'boolean' ? `must stay ${c.const ? 'on' : 'off'}` : `must be ${JSON.stringify(c.const)}`;
  }
  if (Array.isArray(c.enum) && !c.enum.some((e) => e === value)) {
    return `must be one of: ${c.enum.map((e) => String(e)).join(', ')}`;
  }
  if (typeof value === 'string') {
    const n = cpLength(value);
    if (c.minLength !== undefined && n < c.minLength) {
      return c.minLength === 1 ? 'is required' : `must be at least ${c.minLength} characters`;
    }
    if (c.maxLength !== undefined && n > c.maxLength) return `must be at most ${c.maxLength} characters`;
    if (c.format === 'uri' && !isUri(value)) return 'must be a URL (https://...)';
    if (c.format === 'email' && !EMAIL_RE.test(value)) return 'must be an e-mail address';
    if (typeof c.pattern === 'string') {
      let re = null;
      try {
        re = new RegExp(c.pattern, 'u');
      } catch {
        re = null; // the server judges patterns the browser cannot compile
      }
      if (re && !re.test(value)) return 'does not have the expected format';
    }
  }
  if (typeof value === 'number') {
    if (c.minimum !== undefined && value < c.minimum) return `must be at least ${c.minimum}`;
    if (c.maximum !== undefined && value > c.maximum) return `must be at most ${c.maximum}`;
    if (c.exclusiveMinimum !== undefined && value <= c.exclusiveMinimum) return `must be more than ${c.exclusiveMinimum}`;
    if (c.exclusiveMaximum !== undefined && value >= c.exclusiveMaximum) return `must be less than ${c.exclusiveMaximum}`;
  }
  return null;
}

/**
 * validateForm(model, values, secretsSet) -> [{pointer, message}], in form
 * order; empty when the form may be sent.
 */
export function validateForm(model, values, secretsSet = {}) {
  const errs = [];
  for (const f of model.fields) {
    const msg = validateField(f, coerce(f, values[f.name]), { secretSet: Boolean(secretsSet[f.name]) });
    if (msg) errs.push({ pointer: f.pointer, message: msg });
  }
  return errs;
}

/**
 * buildForm(model, values, original) -> the "form" object of a request.
 *  original null (create): every non-empty editable field.
 *  original given (update, a PATCH): only the fields that changed; an
 *  optional field emptied becomes null (the API clears it); a secret is
 *  sent only when typed (left out, it keeps its sealed value).
 * Read-only fields are never sent (the API refuses them).
 */
export function buildForm(model, values, original) {
  const out = {};
  for (const f of model.fields) {
    if (f.readOnly) continue;
    const v = coerce(f, values[f.name]);
    if (f.secret) {
      if (v !== undefined) out[f.name] = v;
      continue;
    }
    if (!original) {
      if (v !== undefined) out[f.name] = v;
      continue;
    }
    const was = original[f.name];
    if (v === undefined) {
      if (was !== undefined && was !== null && !f.required) out[f.name] = null;
      continue;
    }
    if (was !== v) out[f.name] = v;
  }
  return out;
}

/**
 * errorsByField(model, errors) -> {byName: {name: [msg]}, general: [msg]}
 * Matches the server's per-field errors to fields by JSON Pointer (a
 * deeper pointer belongs to its top-level field).
 */
export function errorsByField(model, errors) {
  const byPtr = new Map(model.fields.map((f) => [f.pointer, f.name]));
  const byName = {};
  const general = [];
  for (const e of Array.isArray(errors) ? errors : []) {
    const ptr = typeof e.pointer === 'string' ? e.pointer : '';
    const top = ptr.match(/^\/[^/]*/);
    const name = top ? byPtr.get(top[0]) : undefined;
    const msg = typeof e.message === 'string' ? e.message : 'is not valid';
    if (name) (byName[name] = byName[name] || []).push(msg);
    else general.push(ptr ? `${ptr}: ${msg}` : msg);
  }
  return { byName, general };
}

// --------------------------------------------------------------- render ---
// Everything below touches the DOM; it is imported lazily by nothing in the
// pure half, so Node can import this module for the unit test.

/**
 * renderForm(model, opts) -> {el, getValues, showErrors, clearErrors,
 *                             setSecretsSet, focusFirstError}
 *  opts.values, opts.secretsSet: from initialValues
 *  opts.idPrefix: prefix of element ids (default "f")
 *  opts.onChange(): called on any edit
 * Every input has a <label for>, its help and error are tied to it with
 * aria-describedby, and errors set aria-invalid.
 */
export function renderForm(model, opts) {
  const { h, replace } = opts.dom;
  const prefix = opts.idPrefix || 'f';
  const values = { ...opts.values };
  let secretsSet = { ...(opts.secretsSet || {}) };
  const inputs = new Map();
  const errEls = new Map();
  const secretEls = new Map();
  const summary = h('div', { class: 'form-errors', role: 'alert', 'aria-live': 'assertive', hidden: true });
  const root = h('div', { class: 'schema-form' }, summary);

  const fieldById = (f) => `${prefix}-${f.name.replace(/[^A-Za-z0-9_-]/g, '_')}`;

  for (const g of model.groups) {
    const fs = h('fieldset', { class: `group group-${g.id.replace(/[^A-Za-z0-9_-]/g, '_')}` });
    if (g.title) fs.appendChild(h('legend', null, g.title));
    for (const name of g.fields) {
      const f = model.fields.find((x) => x.name === name);
      const id = fieldById(f);
      const helpId = `${id}-help`;
      const errId = `${id}-err`;
      const describedBy = [];
      const helpText = [f.description, f.help && f.help !== f.description ? f.help : ''].filter(Boolean);
      let input;
      if (f.widget === 'checkbox') {
        input = h('input', { type: 'checkbox', id, name: f.name, checked: values[f.name] === true });
        if (f.locked) {
          input.disabled = true;
          input.checked = true;
          input.setAttribute('aria-disabled', 'true');
        }
      } else if (f.widget === 'select') {
        input = h('select', { id, name: f.name });
        if (!f.required) input.appendChild(h('option', { value: '' }, '(none)'));
        for (const o of f.options) {
          input.appendChild(h('option', { value: String(o.value) }, o.label));
        }
        input.value = values[f.name] === '' && f.required && f.options.length ? String(f.options[0].value) : String(values[f.name]);
        values[f.name] = input.value;
      } else {
        const type = f.widget === 'number' ? 'text' : f.widget; // text + inputmode: our own checks
        input = h('input', {
          type,
          id,
          name: f.name,
          value: f.secret ? '' : values[f.name],
          autocomplete: f.secret ? 'new-password' : 'off',
          inputmode: f.widget === 'number' ? 'numeric' : null,
          spellcheck: 'false',
        });
        if (f.secret) input.setAttribute('placeholder', secretsSet[f.name] ? 'set; type to replace' : 'not set');
      }
      if (f.readOnly) {
        input.readOnly = true;
        if (input.tagName === 'SELECT' || input.type === 'checkbox') input.disabled = true;
        input.setAttribute('aria-readonly', 'true');
      }
      if (f.required && !f.readOnly) input.setAttribute('aria-required', 'true');
      const help = helpText.length ? h('p', { id: helpId, class: 'help' }, helpText.join(' ')) : null;
      if (help) describedBy.push(helpId);
      let secretState = null;
      if (f.secret) {
        const sid = `${id}-state`;
        secretState = h('span', { id: sid, class: 'secret-state' });
        secretEls.set(f.name, secretState);
        describedBy.push(sid);
      }
      const err = h('p', { id: errId, class: 'field-error', hidden: true });
      errEls.set(f.name, err);
      describedBy.push(errId);
      input.setAttribute('aria-describedby', describedBy.join(' '));
      input.addEventListener(f.widget === 'checkbox' ? 'change' : 'input', () => {
        values[f.name] = f.widget === 'checkbox' ? input.checked : input.value;
        setError(f.name, null);
        if (opts.onChange) opts.onChange();
      });
      inputs.set(f.name, input);
      const label = h('label', { for: id }, f.title,
        f.required && !f.readOnly ? h('span', { class: 'req', 'aria-hidden': 'true' }, ' *') : null,
        f.readOnly ? h('span', { class: 'tag' }, 'read-only') : null,
        f.locked ? h('span', { class: 'tag' }, 'always on') : null);
      const row = f.widget === 'checkbox'
        ? h('div', { class: 'field field-checkbox', 'data-field': f.name }, input, label, help, err)
        : h('div', { class: 'field', 'data-field': f.name }, label, input, secretState, help, err);
      fs.appendChild(row);
    }
    root.appendChild(fs);
  }

  function renderSecretStates() {
    for (const [name, el] of secretEls) {
      replace(el, secretsSet[name] ? 'set' : 'not set');
      el.className = `secret-state ${secretsSet[name] ? 'is-set' : 'not-set'}`;
      const inp = inputs.get(name);
      inp.setAttribute('placeholder', secretsSet[name] ? 'set; type to replace' : 'not set');
    }
  }
  renderSecretStates();

  function setError(name, msgs) {
    const el = errEls.get(name);
    const inp = inputs.get(name);
    if (!el) return;
    if (msgs && msgs.length) {
      replace(el, msgs.join('; '));
      el.hidden = false;
      inp.setAttribute('aria-invalid', 'true');
    } else {
      replace(el);
      el.hidden = true;
      inp.removeAttribute('aria-invalid');
    }
  }

  function clearErrors() {
    for (const n of errEls.keys()) setError(n, null);
    replace(summary);
    summary.hidden = true;
  }

  function showErrors(errors, headline) {
    clearErrors();
    const { byName, general } = errorsByField(model, errors);
    for (const [n, msgs] of Object.entries(byName)) setError(n, msgs);
    const items = [];
    for (const f of model.fields) {
      if (byName[f.name]) items.push(h('li', null, `${f.title}: ${byName[f.name].join('; ')}`));
    }
    for (const g of general) items.push(h('li', null, g));
    if (items.length || headline) {
      replace(summary, headline ? h('p', null, headline) : null, items.length ? h('ul', null, items) : null);
      summary.hidden = false;
    }
  }

  function focusFirstError() {
    for (const f of model.fields) {
      const inp = inputs.get(f.name);
      if (inp && inp.getAttribute('aria-invalid') === 'true') {
        inp.focus();
        return;
      }
    }
  }

  return {
    el: root,
    getValues: () => ({ ...values }),
    showErrors,
    clearErrors,
    focusFirstError,
    setSecretsSet(s) {
      secretsSet = { ...s };
      for (const name of secretEls.keys()) {
        inputs.get(name).value = '';
        values[name] = '';
      }
      renderSecretStates();
    },
  };
}
