// profile.js: one integration profile: its form (generated from the form
// schema), its actions (Submit, Get OAuth Token, Validate Connection,
// Publish, Run now, Reclaim dry run, Reclaim, Delete), live job progress,
// two small charts and the related lists of SAM-MODEL.md 5 plus
// Reclamation Rules and Candidates.

import { api, ApiError, seg } from './api.js';
import * as dom from './dom.js';
import { h, replace, notice, fmtTime, fmtValue, confirmDialog, uid } from './dom.js';
import { fieldModel, initialValues, renderForm, validateForm, buildForm } from './form.js';
import { RelatedList, listPath } from './lists.js';
import { watchJob } from './progress.js';
import { barChart } from './charts.js';
import { go, href } from './router.js';

const CAND_STATES = ['attention_required', 'ready', 'awaiting_user', 'awaiting_approval',
  'awaiting_revocation', 'closed_complete', 'closed_skipped', 'closed_canceled'];

// The candidate transitions the API accepts (SAM-MODEL.md 10; mirrors
// hostsvc_lists.c): any open state may also go to closed_skipped.
const CAND_NEXT = {
  attention_required: ['ready'],
  ready: ['awaiting_user', 'awaiting_revocation'],
  awaiting_user: ['awaiting_revocation', 'awaiting_approval'],
  awaiting_approval: ['closed_skipped', 'awaiting_revocation'],
  awaiting_revocation: ['closed_complete', 'attention_required', 'closed_skipped'],
};

const label = (s) => String(s ?? '').replace(/_/g, ' ');

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
    window.addEventListener('hashchange', () => this.stopWatching(), { once: true });
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
        const kind = rec.outcome === 'success' ? 'ok' : /not implemented/i.test(rec.message || '') ? 'pending' : 'error';
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

  // ----------------------------------------------------- related lists

  relatedLists() {
    const pid = this.id;
    const mk = (key, opts) => {
      const l = new RelatedList({ id: key, path: listPath(pid, key), ...opts });
      this.lists[key] = l;
      l.reload();
      return l.el;
    };
    const undo = this.undoAction();
    const modelsCache = { list: null };
    const modelOptions = async () => {
      if (!modelsCache.list) {
        const r = await api('GET', listPath(pid, 'models'), { query: { limit: 500 } });
        modelsCache.list = r.items || [];
      }
      return modelsCache.list;
    };
    return [
      mk('models', {
        title: 'Software Models', key: 'identifier',
        columns: [col('identifier', 'Identifier'), col('display_name', 'Display name'), col('publisher', 'Publisher'),
          col('product', 'Product'), col('edition', 'Edition'), col('source', 'Source'), col('subscription_count', 'Subscriptions')],
        filters: [{ field: 'source', label: 'Source', type: 'enum', options: ['catalog', 'admin'] }, { field: 'edited', label: 'Edited', type: 'boolean' }],
      }),
      mk('unrecognized', {
        title: 'Unrecognized Subscription Identifiers', key: 'identifier',
        columns: [col('identifier', 'Subscription identifier'), col('software_model', 'Software model'),
          col('subscription_count', 'Number of subscriptions'), col('exclude_from_content_service', 'Exclude from content service')],
        filters: [{ field: 'software_model', label: 'Software model', type: 'string' }],
        rowActions: (row, list) => [this.mapControl(row, list, modelOptions)],
      }),
      mk('jobs', {
        title: 'Scheduled Jobs', key: 'job_key',
        columns: [col('name', 'Name'), col('process_id', 'Process'), col('active', 'Active'), col('daily_at', 'Daily at (UTC)'),
          col('next_run_at', 'Next run'), col('last_run_at', 'Last run'), col('running_job_id', 'Running')],
        filters: [{ field: 'process_id', label: 'Process', type: 'string' }, { field: 'active', label: 'Active', type: 'boolean' }],
      }),
      mk('job-results', {
        title: 'Scheduled Job Results', key: 'job_id',
        columns: [col('job_id', 'Job'), col('process_id', 'Process'), col('trigger', 'Trigger'), col('started_at', 'Started'),
          col('ended_at', 'Ended'), col('outcome', 'Outcome'), col('dry_run', 'Dry run'), col('message', 'Message')],
        filters: [{ field: 'outcome', label: 'Outcome', type: 'enum', options: ['running', 'success', 'partial', 'failure', 'canceled'] },
          { field: 'process_id', label: 'Process', type: 'string' }],
        rowActions: (row) => (row.outcome === 'running'
          ? [h('button', { type: 'button', onclick: () => this.watch(row.job_id, row.process_id) }, 'Watch')] : []),
      }),
      mk('subscriptions', {
        title: 'Software Subscriptions', key: 'external_user_id',
        columns: [col('user_principal_name', 'User principal name'), col('display_name', 'Name'),
          col('subscription_identifier', 'Subscription identifier'), col('software_model', 'Software model'),
          col('remote_status', 'Remote status'), col('active', 'Active'), col('state', 'State'), col('assigned_at', 'Assigned'),
          col('excluded', 'Excluded'), col('external_user_id', 'External user id')],
        filters: [{ field: 'state', label: 'State', type: 'enum', options: ['active', 'inactive', 'removed', 'reclaimed'] },
          { field: 'active', label: 'Active', type: 'boolean' }, { field: 'excluded', label: 'Excluded', type: 'boolean' },
          { field: 'subscription_identifier', label: 'Subscription identifier', type: 'string' },
          { field: 'software_model', label: 'Software model', type: 'string' },
          { field: 'upn_lower', label: 'User principal name (lower case)', type: 'string' }],
        rowActions: (row) => (row.state === 'reclaimed' ? [this.undoButton(row, undo)] : []),
      }),
      mk('identifier-exclusions', {
        title: 'Subscription Identifier Exclusion Rule', key: 'rule_id',
        columns: [col('subscription_identifier', 'Subscription identifier'), col('profile_type', 'Profile type'),
          col('domain', 'Domain'), col('active', 'Active'), col('created_at', 'Created')],
        filters: [{ field: 'subscription_identifier', label: 'Subscription identifier', type: 'string' }, { field: 'active', label: 'Active', type: 'boolean' }],
        toolbar: (list) => this.addExclusionForm(list, 'identifier'),
        rowActions: (row, list) => [this.deleteRuleButton(row, list, 'identifier-exclusions')],
      }),
      mk('user-exclusions', {
        title: 'Subscription User Exclusion Rule', key: 'rule_id',
        columns: [col('user_principal_name', 'User principal name'), col('domain', 'Domain'), col('active', 'Active'),
          col('created_by', 'Created by'), col('created_at', 'Created')],
        filters: [{ field: 'user_principal_name', label: 'User principal name', type: 'string' }, { field: 'domain', label: 'Domain', type: 'string' },
          { field: 'active', label: 'Active', type: 'boolean' }],
        toolbar: (list) => this.addExclusionForm(list, 'user'),
        rowActions: (row, list) => [this.deleteRuleButton(row, list, 'user-exclusions')],
      }),
      mk('rules', {
        title: 'Reclamation Rules', key: 'rule_id',
        columns: [col('name', 'Name'), col('basis', 'Basis'), col('last_activity_threshold_days', 'Threshold (days)'),
          col('notify_user', 'Notify user'), col('days_before_auto_reclamation', 'Days before auto-reclamation'),
          col('grace_days', 'Grace (days)'), col('active', 'Active'), col('edited', 'Edited')],
        filters: [{ field: 'active', label: 'Active', type: 'boolean' }, { field: 'edited', label: 'Edited', type: 'boolean' }],
        rowActions: (row, list) => [h('button', { type: 'button', onclick: () => this.editRule(row, list) }, 'Edit')],
      }),
      mk('candidates', {
        title: 'Removal Candidates', key: 'candidate_id',
        columns: [col('number', 'Number'), col('user_principal_name', 'User'), col('subscription_identifier', 'Subscription identifier'),
          col('state', 'State', (r) => label(r.state)), col('justification', 'Justification'), col('reason', 'Reason'),
          col('opened_at', 'Opened'), col('closed_at', 'Closed'), col('error_message', 'Error')],
        filters: [{ field: 'state', label: 'State', type: 'enum', options: CAND_STATES }, { field: 'open', label: 'Open', type: 'boolean' },
          { field: 'external_user_id', label: 'External user id', type: 'string' }],
        rowActions: (row, list) => [this.candidateControl(row, list), row.state === 'closed_complete' ? this.undoButton(row, undo) : null],
      }),
    ];
  }

  mapControl(row, list, modelOptions) {
    const sid = uid('map');
    const sel = h('select', { id: sid }, h('option', { value: '' }, '(choose a model)'));
    const btn = h('button', { type: 'button', 'data-map': row.identifier }, 'Map');
    modelOptions().then((models) => {
      for (const m of models) sel.appendChild(h('option', { value: m.identifier }, m.display_name || m.identifier));
      if (row.software_model) sel.value = row.software_model;
    }).catch(() => {});
    btn.addEventListener('click', async () => {
      if (!sel.value) {
        sel.focus();
        return;
      }
      btn.disabled = true;
      try {
        await api('PATCH', listPath(this.id, 'unrecognized', row.identifier), { body: { software_model: sel.value } });
        this.outcome('ok', `Mapped ${row.identifier} to ${sel.value}.`);
        list.reload();
        if (this.lists.subscriptions) this.lists.subscriptions.reload();
        this.loadCharts();
      } catch (e) {
        this.outcome('error', `Mapping failed: ${e.message}`);
      } finally {
        btn.disabled = false;
      }
    });
    return h('span', { class: 'inline-form' }, h('label', { for: sid, class: 'visually-hidden' }, `Software model for ${row.identifier}`), sel, btn);
  }

  addExclusionForm(list, kind) {
    const fid = uid('excl');
    const status = h('span', { 'aria-live': 'polite' });
    const fields = kind === 'user'
      ? [
        ['mode', h('select', { id: `${fid}-mode` }, h('option', { value: 'user_principal_name' }, 'User principal name'), h('option', { value: 'domain' }, 'Domain')), 'Match'],
        ['value', h('input', { type: 'text', id: `${fid}-value`, required: true }), 'Value'],
      ]
      : [
        ['value', h('input', { type: 'text', id: `${fid}-value`, required: true }), 'Subscription identifier'],
        ['domain', h('input', { type: 'text', id: `${fid}-domain` }), 'Domain (optional)'],
      ];
    const active = h('input', { type: 'checkbox', id: `${fid}-active`, checked: true });
    const form = h('form', { class: 'inline-form add-form', 'data-add': kind },
      fields.map(([, el, text]) => [h('label', { for: el.id }, text), el]),
      h('span', { class: 'check' }, active, h('label', { for: active.id }, 'Active')),
      h('button', { type: 'submit' }, 'Add rule'), status);
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const get = (n) => fields.find((f) => f[0] === n)[1].value.trim();
      const body = { active: active.checked };
      if (kind === 'user') body[get('mode')] = get('value');
      else {
        body.subscription_identifier = get('value');
        if (get('domain')) body.domain = get('domain');
      }
      if (!get('value')) {
        replace(status, notice('error', 'Enter a value.'));
        return;
      }
      try {
        await api('POST', listPath(this.id, kind === 'user' ? 'user-exclusions' : 'identifier-exclusions'), { body });
        replace(status, notice('ok', 'Added.'));
        fields.find((f) => f[0] === 'value')[1].value = '';
        list.reload();
      } catch (e) {
        const detail = e.errors.length ? ` (${e.errors.map((x) => `${x.pointer}: ${x.message}`).join('; ')})` : '';
        replace(status, notice('error', `${e.message}${detail}`));
      }
    });
    return form;
  }

  deleteRuleButton(row, list, name) {
    return h('button', {
      type: 'button',
      class: 'danger',
      onclick: async () => {
        const what = row.user_principal_name || row.domain || row.subscription_identifier || row.rule_id;
        if (!(await confirmDialog('Delete this exclusion rule?', h('p', null, `The rule for ${what} is removed; matching subscriptions count again at the next download.`), 'Delete rule', true))) return;
        try {
          await api('DELETE', listPath(this.id, name, row.rule_id));
          list.reload();
        } catch (e) {
          this.outcome('error', `Delete failed: ${e.message}`);
        }
      },
    }, 'Delete');
  }

  async editRule(row, list) {
    const id = uid('rule');
    const fieldsDef = [
      ['last_activity_threshold_days', 'Last activity threshold (days)', 'int'],
      ['notify_user', 'Notify user', 'bool'],
      ['days_before_auto_reclamation', 'Days before auto-reclamation', 'int'],
      ['grace_days', 'New-user grace (days)', 'int'],
      ['active', 'Active', 'bool'],
    ];
    const inputs = {};
    const err = h('div', { role: 'alert' });
    const rows = fieldsDef.map(([f, text, t]) => {
      const iid = `${id}-${f}`;
      const inp = t === 'bool'
        ? h('input', { type: 'checkbox', id: iid, checked: row[f] === true })
        : h('input', { type: 'text', inputmode: 'numeric', id: iid, value: row[f] ?? '' });
      inputs[f] = { inp, t };
      return h('div', { class: t === 'bool' ? 'field field-checkbox' : 'field' },
        t === 'bool' ? [inp, h('label', { for: iid }, text)] : [h('label', { for: iid }, text), inp]);
    });
    const titleId = `${id}-t`;
    const save = h('button', { type: 'submit', class: 'primary' }, 'Save');
    const cancel = h('button', { type: 'button' }, 'Cancel');
    const form = h('form', null, h('h2', { id: titleId }, 'Edit rule: ', row.name || row.rule_id), rows, err, h('div', { class: 'buttons' }, cancel, save));
    const dlg = h('dialog', { 'aria-labelledby': titleId }, form);
    cancel.addEventListener('click', () => dlg.close());
    dlg.addEventListener('close', () => dlg.remove());
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const body = {};
      for (const [f, { inp, t }] of Object.entries(inputs)) {
        if (t === 'bool') {
          if (inp.checked !== (row[f] === true)) body[f] = inp.checked;
        } else if (inp.value.trim() !== String(row[f] ?? '')) {
          const n = Number(inp.value.trim());
          if (!Number.isInteger(n) || n < 0) {
            replace(err, notice('error', `${f.replace(/_/g, ' ')} must be a whole number of days`));
            inp.focus();
            return;
          }
          body[f] = n;
        }
      }
      if (!Object.keys(body).length) {
        dlg.close();
        return;
      }
      try {
        await api('PATCH', listPath(this.id, 'rules', row.rule_id), { body });
        dlg.close();
        list.reload();
      } catch (e) {
        replace(err, notice('error', `${e.message}${e.errors.length ? ` (${e.errors.map((x) => `${x.pointer}: ${x.message}`).join('; ')})` : ''}`));
      }
    });
    document.body.appendChild(dlg);
    dlg.showModal();
  }

  candidateControl(row, list) {
    const next = [...(CAND_NEXT[row.state] || [])];
    if (row.open && !next.includes('closed_skipped')) next.push('closed_skipped');
    if (!next.length) return null;
    const sid = uid('cand');
    const sel = h('select', { id: sid }, next.map((s) => h('option', { value: s }, label(s))));
    const btn = h('button', { type: 'button' }, 'Move');
    btn.addEventListener('click', async () => {
      btn.disabled = true;
      try {
        await api('PATCH', listPath(this.id, 'candidates', row.candidate_id), { body: { state: sel.value, reason: 'changed in the admin pages' } });
        list.reload();
        this.loadCharts();
      } catch (e) {
        this.outcome('error', `Moving the candidate failed: ${e.message}`);
        btn.disabled = false;
      }
    });
    return h('span', { class: 'inline-form' }, h('label', { for: sid, class: 'visually-hidden' }, `New state for ${row.number || row.candidate_id}`), sel, btn);
  }

  /** The plugin's Undo action if it registers one (a UI action whose id
   * names undo/reopen); null otherwise. */
  undoAction() {
    return this.actions.find((a) => a.ui && /undo|reopen/i.test(a.action_id)) || null;
  }

  undoButton(row, undo) {
    if (!undo) {
      return h('button', {
        type: 'button',
        disabled: true,
        title: 'Undo needs a route the host does not have yet: a UI action "undo_reclaim" (POST /api/v1/profiles/{id}/actions/undo_reclaim with {"external_user_id"}) registered by the plugin',
      }, 'Undo');
    }
    return h('button', {
      type: 'button',
      'data-undo': row.external_user_id,
      onclick: async (ev) => {
        const b = ev.currentTarget;
        b.disabled = true;
        try {
          const r = await api('POST', `/api/v1/profiles/${seg(this.id)}/actions/${seg(undo.action_id)}`,
            { body: { external_user_id: row.external_user_id } });
          this.outcome('ok', `Undo: ${r && r.message ? r.message : 'the user was reopened'}`);
          this.refreshAll();
        } catch (e) {
          this.outcome(e.notImplemented ? 'pending' : 'error', `Undo failed: ${e.message}`);
          b.disabled = false;
        }
      },
    }, 'Undo');
  }
}

function col(field, text, render) {
  return { field, label: text, render };
}

function shortName(p) {
  const n = p.display_name || p.process_id;
  return n.replace(/ subscriptions$/i, '');
}

export { fmtValue, href };
