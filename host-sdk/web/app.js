// app.js: boots the admin pages: sign-in, navigation, the plugin, profile
// type and profile lists, and the new-profile form. The profile page lives
// in profile.js. Plain ES modules, no build step, served by samhost.

import { api, ApiError, getToken, setToken, clearToken, setUnauthorizedHandler } from './api.js';
import { h, replace, notice, fmtTime } from './dom.js';
import { route, setNotFound, start, go, href } from './router.js';
import { fieldModel, initialValues, renderForm, validateForm, buildForm } from './form.js';
import { profilePage } from './profile.js';
import * as dom from './dom.js';

const main = document.getElementById('main');
const nav = document.getElementById('nav');

let typesCache = null;
/** The profile types with their form schemas (cached for the session). */
export async function profileTypes(force) {
  if (!typesCache || force) {
    const r = await api('GET', '/api/v1/profile-types');
    typesCache = (r && Array.isArray(r.items) ? r.items : []).filter((t) => t && t.profile_type);
  }
  return typesCache;
}

export async function typeById(typeId) {
  const types = await profileTypes();
  return types.find((t) => t.profile_type.type_id === typeId) || null;
}

/** Shows a page: title + nodes; moves focus to the heading. */
export function page(title, ...nodes) {
  document.title = `${title} · samhost`;
  const h1 = h('h1', { tabindex: '-1' }, title);
  replace(main, h1, ...nodes);
  h1.focus();
  return h1;
}

function renderNav() {
  if (!getToken()) {
    replace(nav);
    return;
  }
  replace(nav, h('ul', null,
    h('li', null, h('a', { href: href('/profiles') }, 'Profiles')),
    h('li', null, h('a', { href: href('/types') }, 'Profile types')),
    h('li', null, h('a', { href: href('/plugins') }, 'Plugins')),
    h('li', null, h('button', { type: 'button', id: 'sign-out', onclick: signOut }, 'Sign out'))));
}

function signOut() {
  clearToken();
  typesCache = null;
  renderNav();
  go('/signin');
}

function needToken(fn) {
  return (params) => {
    if (!getToken()) {
      go('/signin');
      return undefined;
    }
    renderNav();
    return fn(params);
  };
}

// ---------------------------------------------------------------- sign-in

function signInPage() {
  renderNav();
  const status = h('div', { 'aria-live': 'polite' });
  const input = h('input', {
    type: 'password', id: 'token', name: 'token', autocomplete: 'off', required: true, spellcheck: 'false',
    'aria-describedby': 'token-help',
  });
  const form = h('form', { class: 'signin' },
    h('div', { class: 'field' },
      h('label', { for: 'token' }, 'Admin token'),
      input,
      h('p', { id: 'token-help', class: 'help' },
        'The token samhost printed once on its first start (or after `samhost token reset`). ',
        'It is kept in this tab only and forgotten when you sign out or close the tab.')),
    h('button', { type: 'submit', class: 'primary' }, 'Sign in'),
    status);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const t = input.value.trim();
    if (!t) {
      replace(status, notice('error', 'Enter the admin token.'));
      return;
    }
    setToken(t);
    try {
      await api('GET', '/api/v1/plugins');
      input.value = '';
      renderNav();
      go('/profiles');
    } catch (e) {
      clearToken();
      replace(status, notice('error', e.http === 401 ? 'That token was refused.' : e.message));
      input.focus();
    }
  });
  page('Sign in', form);
  input.focus();
}

// ---------------------------------------------------------------- plugins

async function pluginsPage() {
  const body = h('div', null, notice('info', 'Loading…'));
  page('Plugins', body);
  try {
    const r = await api('GET', '/api/v1/plugins');
    const items = r && Array.isArray(r.items) ? r.items : [];
    replace(body, h('table', { class: 'data', 'data-list': 'plugins' },
      h('caption', null, 'Loaded plugins'),
      h('thead', null, h('tr', null, ['Name', 'Version', 'ABI', 'Degraded', 'Profile type', 'Processes', 'Actions']
        .map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', null, items.map((p) => h('tr', null,
        h('td', null, p.name ?? ''),
        h('td', null, p.version ?? ''),
        h('td', null, p.abi_major !== undefined ? `v${p.abi_major}` : ''),
        h('td', null, p.degraded ? h('span', { class: 'badge badge-warn' }, 'degraded') : 'no'),
        h('td', null, p.profile_type ? p.profile_type.display_name ?? p.profile_type.type_id : ''),
        h('td', null, (p.processes || []).map((x) => x.display_name || x.process_id).join(', ')),
        h('td', null, (p.actions || []).filter((a) => a.ui).map((x) => x.display_name || x.action_id).join(', ')))))));
    if (!items.length) body.appendChild(notice('info', 'No plugin is loaded.'));
  } catch (e) {
    replace(body, notice('error', e.message));
  }
}

// ---------------------------------------------------------- profile types

async function typesPage() {
  const body = h('div', null, notice('info', 'Loading…'));
  page('Profile types', body);
  try {
    const types = await profileTypes(true);
    replace(body, h('table', { class: 'data', 'data-list': 'types' },
      h('caption', null, 'Profile types registered by the loaded plugins'),
      h('thead', null, h('tr', null, ['Type', 'Id', 'Plugin', 'Form version', ''].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', null, types.map((t) => h('tr', null,
        h('td', null, t.profile_type.display_name ?? ''),
        h('td', null, h('code', null, t.profile_type.type_id ?? '')),
        h('td', null, t.plugin ?? ''),
        h('td', null, String(t.profile_type.form_schema_version ?? '')),
        h('td', null, h('a', { href: href(`/profiles/new/${encodeURIComponent(t.profile_type.type_id)}`), class: 'button' },
          'New profile')))))));
  } catch (e) {
    replace(body, notice('error', e.message));
  }
}

// --------------------------------------------------------------- profiles

async function profilesPage() {
  const tbody = h('tbody');
  const status = h('div', { 'aria-live': 'polite' });
  const pager = h('div', { class: 'pager' });
  const newLinks = h('p', { class: 'new-links' });
  page('Profiles', newLinks, status,
    h('table', { class: 'data', 'data-list': 'profiles' },
      h('caption', null, 'Integration profiles'),
      h('thead', null, h('tr', null, ['Display name', 'Type', 'State', 'Connection', 'Updated'].map((c) => h('th', { scope: 'col' }, c)))),
      tbody),
    pager);
  profileTypes().then((types) => {
    replace(newLinks, types.map((t) => h('a', {
      href: href(`/profiles/new/${encodeURIComponent(t.profile_type.type_id)}`), class: 'button primary',
    }, `New ${t.profile_type.display_name || t.profile_type.type_id} profile`)));
  }).catch((e) => replace(newLinks, notice('error', e.message)));
  const cursors = [null];
  let next = null;
  async function load() {
    replace(status, notice('info', 'Loading…'));
    try {
      const r = await api('GET', '/api/v1/profiles', { query: { limit: 50, cursor: cursors[cursors.length - 1] } });
      const items = r && Array.isArray(r.items) ? r.items : [];
      next = r ? r.next_cursor : null;
      replace(status);
      replace(tbody, items.map((p) => h('tr', { 'data-key': p.profile_id },
        h('td', null, h('a', { href: href(`/profiles/${encodeURIComponent(p.profile_id)}`) }, p.display_name || p.profile_id)),
        h('td', null, p.type_id ?? ''),
        h('td', null, h('span', { class: `badge state-${p.state}` }, p.state ?? '')),
        h('td', null, p.connection_status ?? ''),
        h('td', null, fmtTime(p.updated_at)))));
      if (!items.length) tbody.appendChild(h('tr', null, h('td', { colspan: '5', class: 'empty' }, 'No profiles yet.')));
      replace(pager,
        h('button', { type: 'button', disabled: cursors.length < 2, onclick: () => { cursors.pop(); load(); } }, 'Previous'),
        h('span', { class: 'page-info' }, `Page ${cursors.length}`),
        h('button', { type: 'button', disabled: !next, onclick: () => { cursors.push(next); load(); } }, 'Next'));
    } catch (e) {
      replace(status, notice('error', e.message));
    }
  }
  load();
}

// ------------------------------------------------------------ new profile

async function newProfilePage({ type }) {
  const body = h('div', null, notice('info', 'Loading…'));
  page('New profile', body);
  let t;
  try {
    t = await typeById(type);
  } catch (e) {
    replace(body, notice('error', e.message));
    return;
  }
  if (!t) {
    replace(body, notice('error', `No such profile type: ${type}`));
    return;
  }
  const pt = t.profile_type;
  let model;
  try {
    model = fieldModel(pt.form_schema);
  } catch (e) {
    replace(body, notice('error', `The form schema of ${pt.type_id} cannot be shown: ${e.message}`));
    return;
  }
  page(`New ${pt.display_name || pt.type_id} profile`, body);
  const init = initialValues(model, null);
  const form = renderForm(model, { dom, values: init.values, secretsSet: init.secretsSet, idPrefix: 'pf' });
  const status = h('div', { 'aria-live': 'polite' });
  const submit = h('button', { type: 'submit', class: 'primary', id: 'submit-draft' }, 'Submit (Draft)');
  const el = h('form', { class: 'profile-form', novalidate: true },
    model.description ? h('p', { class: 'lead' }, model.description) : null,
    form.el, h('div', { class: 'buttons' }, submit), status);
  el.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const values = form.getValues();
    const errs = validateForm(model, values, init.secretsSet);
    if (errs.length) {
      form.showErrors(errs, 'Fix the fields marked below.');
      form.focusFirstError();
      replace(status);
      return;
    }
    form.clearErrors();
    submit.disabled = true;
    replace(status, notice('info', 'Saving…'));
    try {
      const formBody = buildForm(model, values, null);
      const req = { type_id: pt.type_id, form: formBody };
      const p = await api('POST', '/api/v1/profiles', { body: req });
      go(`/profiles/${encodeURIComponent(p.profile_id)}`);
    } catch (e) {
      submit.disabled = false;
      replace(status);
      if (e instanceof ApiError && e.errors.length) {
        form.showErrors(e.errors, `The host refused the form: ${e.message}`);
        form.focusFirstError();
      } else {
        replace(status, notice('error', e.message));
      }
    }
  });
  replace(body, el);
}

// ------------------------------------------------------------------ boot

setUnauthorizedHandler(() => {
  clearToken();
  renderNav();
  if (!location.hash.startsWith('#/signin')) go('/signin');
});

route('/signin', signInPage);
route('/', needToken(() => go('/profiles')));
route('/plugins', needToken(pluginsPage));
route('/types', needToken(typesPage));
route('/profiles', needToken(profilesPage));
route('/profiles/new/:type', needToken(newProfilePage));
route('/profiles/:id', needToken((p) => profilePage(p.id, { page, typeById })));
setNotFound(needToken((path) => page('Not found', notice('error', `No page at ${path}.`),
  h('p', null, h('a', { href: href('/profiles') }, 'Back to the profiles')))));

start();
