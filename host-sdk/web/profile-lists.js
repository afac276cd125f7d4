// profile-lists.js: the related lists of the profile page (SAM-MODEL.md 5,
// plus Reclamation Rules and Candidates) and their row controls: map an
// unrecognized identifier, add/delete exclusion rules, edit a rule, move or
// reclaim a candidate, undo a reclaim. Mixed into the profile page's view
// (profile.js); `this` is that view.

import { api, seg } from './api.js';
import { h, replace, notice, confirmDialog, uid } from './dom.js';
import { RelatedList, listPath } from './lists.js';

export const CAND_STATES = ['attention_required', 'ready', 'awaiting_user', 'awaiting_approval',
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

function col(field, text, render) {
  return { field, label: text, render };
}

export const listMethods = {
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
        rowActions: (row, list) => [row.state === 'ready' ? this.reclaimCandidateButton(row, list) : null,
          this.candidateControl(row, list), row.state === 'closed_complete' ? this.undoButton(row, undo) : null],
      }),
    ];
  },

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
  },

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
  },

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
  },

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
  },

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
  },

  /** Reclaim on a Ready candidate (SAM-MODEL.md 10): Awaiting User when
   * the candidate notifies its user, else Awaiting Revocation, where the
   * reclaim process (or a person) acts. */
  reclaimCandidateButton(row, list) {
    const to = row.notify_user ? 'awaiting_user' : 'awaiting_revocation';
    return h('button', {
      type: 'button',
      'data-reclaim': row.candidate_id,
      title: `Moves the candidate to ${label(to)}`,
      onclick: async (ev) => {
        const b = ev.currentTarget;
        b.disabled = true;
        try {
          await api('PATCH', listPath(this.id, 'candidates', row.candidate_id), { body: { state: to, reason: 'Reclaim' } });
          list.reload();
          this.loadCharts();
        } catch (e) {
          this.outcome('error', `Reclaim failed: ${e.message}`);
          b.disabled = false;
        }
      },
    }, 'Reclaim');
  },

  /** The plugin's Undo action if it registers one (a UI action whose id
   * names undo/reopen, or the per-subscription "restore_subscription" the
   * host routes as POST .../lists/subscriptions/{key}/restore); null
   * otherwise. */
  undoAction() {
    return this.actions.find((a) => a.ui && /undo|reopen/i.test(a.action_id))
      || this.actions.find((a) => a.action_id === 'restore_subscription') || null;
  },

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
          const r = undo.action_id === 'restore_subscription'
            ? await api('POST', `/api/v1/profiles/${seg(this.id)}/lists/subscriptions/${seg(row.external_user_id)}/restore`, { body: {} })
            : await api('POST', `/api/v1/profiles/${seg(this.id)}/actions/${seg(undo.action_id)}`,
              { body: { external_user_id: row.external_user_id } });
          this.outcome('ok', `Undo: ${r && r.message ? r.message : 'the user was reopened'}`);
          this.refreshAll();
        } catch (e) {
          this.outcome(e.notImplemented ? 'pending' : 'error', `Undo failed: ${e.message}`);
          b.disabled = false;
        }
      },
    }, 'Undo');
  },
};
