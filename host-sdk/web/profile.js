// profile.js: one integration profile: its form (generated from the form
// schema), its actions (Submit, Get OAuth Token, Validate Connection,
// Publish, Run now, Reclaim dry run, Reclaim, Delete), live job progress,
// two small charts and the related lists of SAM-MODEL.md 5 plus
// Reclamation Rules and Candidates.

import { api, ApiError, seg } from './api.js';
import * as dom from './dom.js';
import { h, replace, notice, fmtTime, confirmDialog } from './dom.js';
import { fieldModel, initialValues, renderForm, validateForm, buildForm } from './form.js';
import { listPath } from './lists.js';
import { listMethods, CAND_STATES } from './profile-lists.js';
import { watchJob } from './progress.js';
import { barChart } from './charts.js';
import { go } from './router.js';

const label = (s) => String(s ?? '').replace(/_/g, ' ');
const OAUTH_KEY = 'sam.oauthReturn';

/**
 * profilePage(id, ctx): renders the page. ctx.page(title, ...nodes) shows
 * a page; ctx.typeById(type_id) gives the profile type with its schema.
 */
export async function profilePage(id, ctx) {
  const body = h('div', null, notice('info', 'Loading…'));
  ctx.page('Profile', body);
  let profile;
  let type;
  try {
    profile = await api('GET', `/api/v1/profiles/${seg(id)}`);
    type = await ctx.typeById(profile.type_id);
  } catch (e) {
    replace(body, notice('error', e.message));
    return;
  }
  if (!type) {
    replace(body, notice('error', `The plugin of profile type ${profile.type_id} is not loaded.`));
    return;
  }
  const view = new ProfileView(id, profile, type, ctx);
  view.mount();
}

class ProfileView {
  constructor(id, profile, type, ctx) {
    this.id = id;
    this.profile = profile;
    this.type = type;
    this.ctx = ctx;
    this.model = fieldModel(type.profile_type.form_schema);
    this.actions = Array.isArray(type.actions) ? type.actions : [];
    this.processes = Array.isArray(type.processes) ? type.processes : [];
    this.lists = {};
    this.watcher = null;
    this.headerEl = h('div', { class: 'profile-header' });
    this.outcomeEl = h('div', { class: 'action-outcome', 'aria-live': 'polite', id: 'action-outcome' });
    this.progressEl = h('div', { class: 'progress-area', id: 'progress' });
    this.chartsEl = h('div', { class: 'charts', id: 'charts' });
  }

  mount() {
    const h1 = this.ctx.page(this.profile.display_name || this.id,
      this.headerEl,
      this.actionBar(),
      this.outcomeEl,
      this.progressEl,
      h('section', { class: 'form-section', 'aria-labelledby': 'form-h' },
        h('h2', { id: 'form-h' }, 'Integration profile'), this.formEl()),
      h('section', { 'aria-labelledby': 'charts-h' }, h('h2', { id: 'charts-h' }, 'Overview'), this.chartsEl),
      h('section', { class: 'lists', 'aria-labelledby': 'lists-h' },
        h('h2', { id: 'lists-h' }, 'Related lists'), this.relatedLists()));
    h1.setAttribute('data-profile-id', this.id);
    this.renderHeader();
    this.loadCharts();
    this.resumeRunningJob();
    this.reportOAuthReturn();
    window.addEventListener('hashchange', () => this.stopWatching(), { once: true });
  }

  /** Back from a same-tab consent: compares the profile with what it was
   * before and says how Get OAuth Token ended. */
  reportOAuthReturn() {
    let before = null;
    try {
      before = JSON.parse(sessionStorage.getItem(OAUTH_KEY) || 'null');
    } catch {
      before = null;
    }
    if (!before || before.id !== this.id) return;
    sessionStorage.removeItem(OAUTH_KEY);
    const p = this.profile;
    if (p.last_error && p.last_error !== before.err) {
      this.outcome('error', `Get OAuth Token failed: ${p.last_error}`);
    } else if (p.connection_status !== before.cs || p.updated_at !== before.at) {
      this.outcome('ok', `Connected: connection status is ${label(p.connection_status)}.`);
    } else {
      this.outcome('info', 'Back from the consent page; the profile did not change (consent declined or still pending).');
    }
  }

  stopWatching() {
    if (this.watcher) this.watcher.stop();
    this.watcher = null;
    if (this.oauthTimer) clearInterval(this.oauthTimer);
  }

  renderHeader() {
    const p = this.profile;
    replace(this.headerEl,
      h('dl', { class: 'summary' },
        h('dt', null, 'State'), h('dd', null, h('span', { class: `badge state-${p.state}`, id: 'profile-state' }, p.state ?? '')),
        h('dt', null, 'Connection'), h('dd', null, h('span', { class: `badge conn-${p.connection_status}`, id: 'connection-status' }, label(p.connection_status))),
        h('dt', null, 'Profile type'), h('dd', null, this.type.profile_type.display_name ?? p.type_id),
        h('dt', null, 'Updated'), h('dd', null, fmtTime(p.updated_at))),
      p.last_error ? h('p', { class: 'notice notice-error', id: 'last-error', role: 'alert' }, 'Last error: ', p.last_error) : null);
    if (this.publishBtn) this.publishBtn.disabled = p.connection_status !== 'validated' || p.state === 'published';
  }

  async refreshProfile() {
    this.profile = await api('GET', `/api/v1/profiles/${seg(this.id)}`);
    this.renderHeader();
    if (this.form) this.form.setSecretsSet(initialValues(this.model, this.profile.form).secretsSet);
    return this.profile;
  }

  outcome(kind, ...text) {
    replace(this.outcomeEl, h('p', { class: `notice notice-${kind}`, role: kind === 'error' ? 'alert' : 'status' }, ...text));
  }

  // ------------------------------------------------------------- form

  formEl() {
    const init = initialValues(this.model, this.profile.form || {});
    this.secretsSet = init.secretsSet;
    this.form = renderForm(this.model, { dom, values: init.values, secretsSet: init.secretsSet, idPrefix: 'pf' });
    const status = h('div', { 'aria-live': 'polite' });
    const save = h('button', { type: 'submit', class: 'primary', id: 'submit-draft' }, 'Submit (Draft)');
    const el = h('form', { class: 'profile-form', novalidate: true }, this.form.el, h('div', { class: 'buttons' }, save), status);
    el.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const values = this.form.getValues();
      const errs = validateForm(this.model, values, this.profile.form ? initialValues(this.model, this.profile.form).secretsSet : {});
      if (errs.length) {
        this.form.showErrors(errs, 'Fix the fields marked below.');
        this.form.focusFirstError();
        return;
      }
      this.form.clearErrors();
      const changed = buildForm(this.model, values, this.profile.form || {});
      if (!Object.keys(changed).length) {
        replace(status, notice('info', 'Nothing changed.'));
        return;
      }
      const risky = this.resetFields(changed);
      if (risky.length) {
        const ok = await confirmDialog('Return the profile to Draft?', [
          h('p', null, `Changing ${risky.join(', ')} returns the profile to Draft.`),
          h('p', null, 'Changed credentials drop the stored tokens (Get OAuth Token again); a cleared process loses its scheduled job. Validate Connection and Publish again afterwards.'),
        ], 'Save', true);
        if (!ok) return;
      }
      save.disabled = true;
      replace(status, notice('info', 'Saving…'));
      try {
        this.profile = await api('PATCH', `/api/v1/profiles/${seg(this.id)}`, { body: { form: changed } });
        replace(status, notice('ok', `Saved. The profile is ${this.profile.state}.`));
        this.renderHeader();
        this.form.setSecretsSet(initialValues(this.model, this.profile.form).secretsSet);
        const h1 = document.querySelector('main h1');
        if (h1) replace(h1, this.profile.display_name || this.id);
      } catch (e) {
        replace(status);
        if (e instanceof ApiError && e.errors.length) {
          this.form.showErrors(e.errors, `The host refused the form: ${e.message}`);
          this.form.focusFirstError();
        } else {
          replace(status, notice('error', e.message));
        }
      } finally {
        save.disabled = false;
      }
    });
    return el;
  }

  /** Titles of the changed fields that send a connected or published
   * profile back to Draft (x-sam-ui.reset_on_change, or an optional
   * process switched off). */
  resetFields(changed) {
    const p = this.profile;
    if (p.state !== 'published' && !['connected', 'validated'].includes(p.connection_status)) return [];
    const ui = this.type.profile_type.form_schema['x-sam-ui'] || {};
    const reset = new Set(Array.isArray(ui.reset_on_change) ? ui.reset_on_change : []);
    return this.model.fields
      .filter((f) => Object.prototype.hasOwnProperty.call(changed, f.name))
      .filter((f) => reset.has(f.name) || (f.process && !f.locked && changed[f.name] === false))
      .map((f) => f.title);
  }

  // ---------------------------------------------------------- actions

  actionBar() {
    const bar = h('div', { class: 'action-bar', role: 'group', 'aria-label': 'Profile actions' });
    const uiIds = this.model.actions.length ? this.model.actions : this.actions.filter((a) => a.ui).map((a) => a.action_id);
    for (const aid of uiIds) {
      const a = this.actions.find((x) => x.action_id === aid);
      if (!a || !a.ui) continue;
      const b = h('button', { type: 'button', 'data-action': aid }, a.display_name || label(aid));
      b.addEventListener('click', () => (a.oauth_start ? this.oauthStart(b, a) : this.runAction(b, a)));
      bar.appendChild(b);
    }
    this.publishBtn = h('button', { type: 'button', 'data-action': 'publish', onclick: (ev) => this.publish(ev.currentTarget) }, 'Publish');
    bar.appendChild(this.publishBtn);
    for (const p of this.processes) {
      const name = p.display_name || label(p.process_id);
      if (p.mutates_remote) {
        if (p.dry_run) {
          bar.appendChild(h('button', { type: 'button', 'data-run': `${p.process_id}-dry`, onclick: (ev) => this.run(ev.currentTarget, p, { dry_run: true }) },
            `${shortName(p)} dry run`));
        }
        bar.appendChild(h('button', { type: 'button', class: 'danger', 'data-run': p.process_id, onclick: (ev) => this.confirmRun(ev.currentTarget, p) },
          shortName(p)));
      } else {
        bar.appendChild(h('button', { type: 'button', 'data-run': p.process_id, onclick: (ev) => this.run(ev.currentTarget, p, {}) },
          `Run now (${name})`));
      }
    }
    bar.appendChild(h('button', { type: 'button', class: 'danger', 'data-action': 'delete', onclick: () => this.deleteProfile() }, 'Delete profile'));
    return bar;
  }

  async runAction(btn, a) {
    const name = a.display_name || a.action_id;
    btn.disabled = true;
    this.outcome('info', `${name}: running…`);
    let kind;
    let text;
    try {
      const r = await api('POST', `/api/v1/profiles/${seg(this.id)}/actions/${seg(a.action_id)}`, { body: {} });
      kind = 'ok';
      text = `${name}: ${r && r.message ? r.message : 'done'}`;
    } catch (e) {
      kind = e.notImplemented ? 'pending' : 'error';
      text = `${name} failed: ${e.message}`;
    }
    try {
      await this.refreshProfile(); // the header shows the new connection status first
    } catch {
      /* the outcome line says what happened */
    }
    btn.disabled = false;
    this.outcome(kind, text);
  }

  /**
   * Get OAuth Token: the host creates the state and the plugin answers the
   * consent URL. It opens in a pop-up (same tab if pop-ups are blocked: the
   * host's /oauth_redirect.do page links back to the profile). While the
   * pop-up is open the profile is re-read every second, and the outcome
   * (connection status or last_error) is shown once it changes or the
   * pop-up closes.
   */
  async oauthStart(btn, a) {
    btn.disabled = true;
    this.outcome('info', 'Asking the plugin for the consent page…');
    let r;
    try {
      r = await api('POST', `/api/v1/profiles/${seg(this.id)}/actions/${seg(a.action_id)}`, { body: {} });
    } catch (e) {
      btn.disabled = false;
      this.outcome(e.notImplemented ? 'pending' : 'error', `${a.display_name || a.action_id} failed: ${e.message}`);
      this.refreshProfile().catch(() => {});
      return;
    }
    const url = r && r.result && typeof r.result.redirect_url === 'string' ? r.result.redirect_url : '';
    if (!/^https?:\/\//i.test(url)) {
      btn.disabled = false;
      this.outcome('error', 'The plugin returned no usable consent URL.');
      return;
    }
    const before = { cs: this.profile.connection_status, err: this.profile.last_error, at: this.profile.updated_at };
    const w = window.open('', 'sam-oauth', 'popup,width=640,height=760');
    if (!w) {
      // Same tab: the host's /oauth_redirect.do page links back to
      // /ui/profiles/<id>, where reportOAuthReturn() shows the outcome.
      try {
        sessionStorage.setItem(OAUTH_KEY, JSON.stringify({ id: this.id, ...before }));
      } catch {
        /* no storage: the header still shows the status */
      }
      this.outcome('info', 'Pop-ups are blocked: opening the consent page in this tab…');
      location.assign(url);
      return;
    }
    try {
      w.opener = null; // the consent page cannot reach back into this page
    } catch {
      /* ignore */
    }
    w.location.href = url;
    this.outcome('info', 'Waiting for consent in the pop-up window…');
    let ticks = 0;
    this.oauthTimer = setInterval(async () => {
      ticks += 1;
      let p;
      try {
        p = await api('GET', `/api/v1/profiles/${seg(this.id)}`);
      } catch {
        return;
      }
      const changed = p.connection_status !== before.cs || p.last_error !== before.err || p.updated_at !== before.at;
      if (changed || w.closed || ticks > 600) {
        clearInterval(this.oauthTimer);
        this.oauthTimer = null;
        btn.disabled = false;
        this.profile = p;
        this.renderHeader();
        if (!w.closed && changed) w.close();
        if (p.last_error && p.last_error !== before.err) {
          this.outcome('error', `Get OAuth Token failed: ${p.last_error}`);
        } else if (changed) {
          this.outcome('ok', `Connected: connection status is ${label(p.connection_status)}.`);
        } else {
          this.outcome('info', 'The consent window closed without a change.');
        }
      }
    }, 1000);
  }

  async publish(btn) {
    btn.disabled = true;
    this.outcome('info', 'Publishing…');
    try {
      const r = await api('POST', `/api/v1/profiles/${seg(this.id)}/publish`, { body: {} });
      this.profile = r;
      this.renderHeader();
      this.outcome('ok', 'Published: the scheduled jobs exist and the first download started.');
      if (r.run_job_id) this.watch(r.run_job_id);
    } catch (e) {
      this.outcome('error', `Publish failed: ${e.message}`);
      btn.disabled = false;
    }
  }

  async confirmRun(btn, p) {
    const ok = await confirmDialog(`${shortName(p)}?`, [
      h('p', null, `${p.display_name || p.process_id} changes the remote service: users that are Awaiting Revocation are closed in the remote account.`),
      h('p', null, 'Run a dry run first to see what it would do. Closed users can be reopened (Undo) afterwards.'),
    ], shortName(p), true);
    if (ok) this.run(btn, p, { confirm: true });
  }

  async run(btn, p, body) {
    btn.disabled = true;
    const what = body.dry_run ? `${shortName(p)} dry run` : (p.display_name || p.process_id);
    this.outcome('info', `${what}: starting…`);
    try {
      const r = await api('POST', `/api/v1/jobs/${seg(`${this.id}:${p.process_id}`)}/run`, { body });
      this.outcome('info', `${what}: started.`);
      this.watch(r.job_id, what);
    } catch (e) {
      const hint = e.http === 404 ? ' (publish the profile first: its jobs are created at Publish)' : '';
      this.outcome(e.notImplemented ? 'pending' : 'error', `${what} failed: ${e.message}${hint}`);
    } finally {
      btn.disabled = false;
    }
  }

  watch(jobId, what) {
    if (this.watcher) this.watcher.stop();
    this.watcher = watchJob(this.progressEl, jobId, {
      onDone: (rec) => {
        const kind = rec.outcome === 'success' ? 'ok' : rec.status === 'SAM_ENOTSUP' ? 'pending' : 'error';
        this.outcome(kind, `${what || 'Job'} finished: ${rec.outcome}${rec.message ? ` (${rec.message})` : ''}`);
        this.refreshAll();
      },
    });
  }

  async resumeRunningJob() {
    try {
      const r = await api('GET', '/api/v1/jobs', { query: { profile: this.id, limit: 50 } });
      const running = (r.items || []).find((j) => j.running_job_id);
      if (running) this.watch(running.running_job_id, running.name);
    } catch {
      /* no jobs yet */
    }
  }

  async deleteProfile() {
    const ok = await confirmDialog(`Delete ${this.profile.display_name || this.id}?`, [
      h('p', null, 'This removes:'),
      h('ul', null,
        h('li', null, "the profile's software subscriptions,"),
        h('li', null, 'its scheduled jobs,'),
        h('li', null, 'its consumption summaries and stored tokens.')),
      h('p', null, 'Open removal candidates become Closed Skipped. Reclamation rules are kept. This cannot be undone.'),
    ], 'Delete profile', true);
    if (!ok) return;
    this.outcome('info', 'Deleting…');
    try {
      await api('DELETE', `/api/v1/profiles/${seg(this.id)}`);
      this.stopWatching();
      go('/profiles');
    } catch (e) {
      this.outcome('error', `Delete failed: ${e.message}`);
    }
  }

  refreshAll() {
    this.refreshProfile().catch(() => {});
    for (const l of Object.values(this.lists)) l.reload();
    this.loadCharts();
  }

  // ----------------------------------------------------------- charts

  async loadCharts() {
    const path = (l) => listPath(this.id, l);
    try {
      const [models, unrec] = await Promise.all([
        api('GET', path('models'), { query: { limit: 500 } }),
        api('GET', path('unrecognized'), { query: { limit: 500 } }),
      ]);
      // Subscriptions per model: the models' own counts; a model without
      // one is counted with one capped page (filter.software_model).
      const all = [...(models.items || []), ...(unrec.items || [])].slice(0, 40);
      const perModel = (await Promise.all(all.map(async (m) => {
        const d = { label: m.display_name || m.identifier, value: Number(m.subscription_count) || 0 };
        if (typeof m.subscription_count !== 'number' && m.source) {
          try {
            const r = await api('GET', path('subscriptions'), { query: { limit: 500, 'filter.software_model': m.identifier } });
            d.value = (r.items || []).length;
            if (r.next_cursor) d.note = `${d.value}+`;
          } catch {
            /* leave 0 */
          }
        }
        return d;
      })))
        .filter((d) => d.value > 0)
        .sort((a, b) => b.value - a.value)
        .slice(0, 12);
      // Candidates per state: one capped page per state (never the whole list).
      const counts = await Promise.all(CAND_STATES.map((s) => api('GET', path('candidates'), { query: { limit: 500, 'filter.state': s } })
        .then((r) => ({ label: label(s), value: (r.items || []).length, note: r.next_cursor ? `${(r.items || []).length}+` : undefined }))
        .catch(() => ({ label: label(s), value: 0 }))));
      replace(this.chartsEl,
        barChart('Subscriptions per software model', perModel),
        barChart('Removal candidates per state', counts));
    } catch (e) {
      replace(this.chartsEl, notice('error', e.message));
    }
  }

  // Related lists and their row controls: profile-lists.js.
}

Object.assign(ProfileView.prototype, listMethods);

function shortName(p) {
  const n = p.display_name || p.process_id;
  return n.replace(/ subscriptions$/i, '');
}

