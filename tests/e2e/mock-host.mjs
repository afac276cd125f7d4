// mock-host.mjs: a stand-in for samhost's REST API (the shapes of
// host-sdk/src/hostsvc*.c) with data the real backend cannot produce yet:
// 100,000 subscriptions paged by cursor, a job whose live progress moves
// one step per poll and waits for a rate-limit reset on the way, reclaimed
// subscriptions with an Undo action. It also serves host-sdk/web with the
// host's CSP, and it enforces the contract the pages rely on: the Bearer
// token on /api/, and "X-SAM-CSRF: 1" on every state-changing call (403
// without it). Used by e2e-mock.mjs only.

import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { join, extname } from 'node:path';

export const MOCK_TOKEN = 'mock-admin-token';
export const XSS = '<img src=x onerror=alert(1)><script>window.__samXss=1</script>';
const N_SUBS = 100000;
const N_CANDS = 1000;
const CAND_STATES = ['attention_required', 'ready', 'awaiting_user', 'awaiting_approval',
  'awaiting_revocation', 'closed_complete', 'closed_skipped', 'closed_canceled'];
const MIME = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8' };

function sub(i) {
  const id = `u${String(i).padStart(6, '0')}`;
  return {
    external_user_id: id,
    user_principal_name: `user${i}@example.com`,
    display_name: i === 3 ? `${XSS} Mallory` : `User ${i}`,
    subscription_identifier: i % 10 === 0 ? 'Legal Sender' : 'DocuSign Sender',
    software_model: i % 10 === 0 ? null : 'DocuSign Sender',
    remote_status: i % 50 === 0 ? 'Closed' : 'Active',
    active: i % 50 !== 0,
    state: i % 50 === 0 ? 'reclaimed' : 'active',
    assigned_at: '2026-01-01T00:00:00Z',
    excluded: false,
  };
}

function cand(i) {
  const state = CAND_STATES[i % CAND_STATES.length];
  return {
    candidate_id: `c${String(i).padStart(5, '0')}`,
    number: `RC${String(1000 + i)}`,
    external_user_id: `u${String(i * 7).padStart(6, '0')}`,
    user_principal_name: `user${i * 7}@example.com`,
    subscription_identifier: 'DocuSign Sender',
    rule_id: 'r1',
    state,
    open: !state.startsWith('closed_'),
    notify_user: false,
    justification: 'Low Usage',
    opened_at: '2026-11-01T00:00:00Z',
    history: [],
  };
}

export function startMockHost(webDir, schemaPath) {
  const schema = JSON.parse(readFileSync(schemaPath, 'utf8'));
  const pid = 'p0000000000000000000000000000001';
  const profile = {
    profile_id: pid,
    type_id: 'docusign_subscription',
    plugin: 'docusign',
    display_name: `${XSS} Mock`,
    state: 'published',
    connection_status: 'validated',
    last_error: null,
    form: {
      display_name: `${XSS} Mock`, integration_type: 'account_level', client_id: 'k', account_id: '123',
      instance_url: 'https://account-d.docusign.com', client_secret: { set: true }, download_enabled: true,
      reclaim_enabled: true, profile_type: 'DocuSign Subscription', connection_status: 'validated',
      account_name: `${XSS} Account`, redirect_url: 'http://127.0.0.1/oauth_redirect.do',
    },
    created_at: '2026-11-01T00:00:00Z',
    updated_at: '2026-11-01T00:00:00Z',
  };
  const models = [
    { identifier: 'DocuSign Sender', display_name: 'DocuSign eSignature Sender', publisher: 'DocuSign', product: 'DocuSign eSignature', edition: 'Sender', source: 'catalog', subscription_count: 88000 },
    { identifier: 'DocuSign Viewer', display_name: 'DocuSign eSignature Viewer', publisher: 'DocuSign', product: 'DocuSign eSignature', edition: 'Viewer', source: 'catalog', subscription_count: 2000 },
  ];
  const unrec = [
    { identifier: 'Legal Sender', subscription_count: 10000, software_model: null },
    { identifier: `${XSS} Custom`, subscription_count: 1, software_model: null },
  ];
  const undone = new Set();
  const jobs = new Map(); // job_id -> {polls, key, dry}
  const calls = []; // {method, path, csrf}
  let jobSeq = 0;

  const processes = [
    { process_id: 'download', display_name: 'Download subscriptions', flags: 1, cancellable: true, mutates_remote: false, dry_run: false },
    { process_id: 'reclaim', display_name: 'Reclaim subscriptions', flags: 7, cancellable: true, mutates_remote: true, dry_run: true },
  ];
  const actions = [
    { action_id: 'get_oauth_token', display_name: 'Get OAuth Token', flags: 3, ui: true, oauth_start: true, oauth_callback: false },
    { action_id: 'validate_connection', display_name: 'Validate Connection', flags: 1, ui: true, oauth_start: false, oauth_callback: false },
    { action_id: 'undo_reclaim', display_name: 'Undo reclaim', flags: 1, ui: true, oauth_start: false, oauth_callback: false },
  ];

  function page(gen, n, q) {
    const limit = Number(q.get('limit') || 50);
    let i = q.get('cursor') ? Number(q.get('cursor')) : 0;
    const filters = [...q.entries()].filter(([k]) => k.startsWith('filter.')).map(([k, v]) => [k.slice(7), v]);
    const items = [];
    while (i < n && items.length < limit) {
      const r = gen(i);
      i += 1;
      if (filters.every(([f, v]) => String(r[f]) === v)) items.push(r);
    }
    return { items, next_cursor: i < n ? String(i) : null };
  }

  function jobResult(id) {
    const j = jobs.get(id);
    j.polls += 1;
    const steps = 6;
    if (j.polls <= steps) {
      const done = Math.min(j.polls - 1, 5);
      const msg = j.polls === 3
        ? `pages [${done}/5]: waiting until 2030-01-01T10:00:00Z for the hourly rate limit to reset (reserve 10% kept for other integrations)`
        : `pages [${done}/5]`;
      return {
        job_id: id, outcome: 'running', process_id: j.process, profile_id: pid, started_at: '2026-11-28T17:00:00Z',
        live: { job_key: j.key, trigger: 'api', started_at: '2026-11-28T17:00:00Z', done, total: 5, message: msg, cancel_requested: false },
      };
    }
    return {
      job_id: id, outcome: 'success', process_id: j.process, profile_id: pid, started_at: '2026-11-28T17:00:00Z',
      ended_at: '2026-11-28T17:00:06Z', message: `${j.dry ? 'dry run: ' : ''}5 pages, 100000 users`, dry_run: j.dry,
      counts: { users_read: 100000, subscriptions_created: 3, api_calls: 7 }, live: null,
    };
  }

  function api(method, path, q, body) {
    const seg = path.split('/').slice(1).map(decodeURIComponent); // api v1 ...
    const r = (status, obj) => ({ status, obj });
    const err = (status, code, message, errors) => r(status, { status: code, message, ...(errors ? { errors } : {}) });
    if (method === 'GET' && path === '/api/v1/plugins') {
      return r(200, { items: [{ name: 'docusign', version: '0.1.0', degraded: false, abi_major: 1, processes, actions }] });
    }
    if (method === 'GET' && path === '/api/v1/profile-types') {
      return r(200, { items: [{ profile_type: { type_id: 'docusign_subscription', display_name: 'DocuSign Subscription', form_schema_version: 1, form_schema: schema, secret_fields: ['client_secret'] }, plugin: 'docusign', processes, actions }] });
    }
    if (method === 'GET' && path === '/api/v1/profiles') return r(200, { items: [profile], next_cursor: null });
    if (method === 'GET' && path === '/api/v1/jobs') {
      return r(200, { items: processes.map((p) => ({ job_key: `${pid}:${p.process_id}`, name: `SAM - Refresh ${profile.display_name} Subscriptions`, profile_id: pid, process_id: p.process_id, active: true, daily_at: '02:00', running_job_id: null })), next_cursor: null });
    }
    if (seg[2] === 'jobs' && seg[4] === 'run' && method === 'POST') {
      const [, proc] = seg[3].split(':');
      const p = processes.find((x) => x.process_id === proc);
      if (!p) return err(404, 'SAM_ENOENT', 'no such job');
      if (p.mutates_remote && !body.dry_run && !body.confirm) return err(409, 'SAM_ECONFLICT', 'send {"confirm": true}');
      jobSeq += 1;
      const id = `job${jobSeq}`;
      jobs.set(id, { polls: 0, key: seg[3], dry: Boolean(body.dry_run), process: proc });
      return r(202, { job_id: id, job_key: seg[3] });
    }
    if (seg[2] === 'job-results' && seg.length === 4 && method === 'GET') {
      if (!jobs.has(seg[3])) return err(404, 'SAM_ENOENT', 'no such job result');
      return r(200, jobResult(seg[3]));
    }
    if (seg[2] !== 'profiles' || seg[3] !== pid) return err(404, 'SAM_ENOENT', `no such resource [${method} ${path}]`);
    if (seg.length === 4 && method === 'GET') return r(200, profile);
    if (seg.length === 4 && method === 'PATCH') {
      const f = body.form || {};
      if (f.client_id === 'refused-by-host') {
        return err(400, 'SAM_EINVAL', 'the form has [2] invalid field(s)', [
          { pointer: '/client_id', message: `the host refuses this client id ${XSS}` },
          { pointer: '', message: 'another profile of this type already covers this remote account' },
        ]);
      }
      for (const [k, v] of Object.entries(f)) {
        if (k !== 'client_secret') profile.form[k] = v;
      }
      profile.state = 'draft';
      profile.updated_at = new Date().toISOString();
      return r(200, profile);
    }
    if (seg[4] === 'actions' && method === 'POST') {
      if (seg[5] === 'undo_reclaim') {
        if (!body.external_user_id) return err(400, 'SAM_EINVAL', 'external_user_id is required', [{ pointer: '/external_user_id', message: 'is required' }]);
        undone.add(body.external_user_id);
        return r(200, { status: 'SAM_OK', message: `reopened [${body.external_user_id}]`, result: {}, job_id: 'a1' });
      }
      return r(200, { status: 'SAM_OK', message: 'connection validated', result: {}, job_id: 'a2' });
    }
    if (seg[4] === 'lists') {
      const list = seg[5];
      if (method === 'GET' && seg.length === 6) {
        if (list === 'subscriptions') {
          return r(200, page((i) => {
            const s = sub(i);
            if (undone.has(s.external_user_id)) Object.assign(s, { state: 'active', active: true, remote_status: 'Active' });
            return s;
          }, N_SUBS, q));
        }
        if (list === 'candidates') return r(200, page(cand, N_CANDS, q));
        if (list === 'models') return r(200, page((i) => models[i], models.length, q));
        if (list === 'unrecognized') return r(200, page((i) => unrec[i], unrec.length, q));
        return r(200, { items: [], next_cursor: null });
      }
      if (list === 'unrecognized' && method === 'PATCH') {
        const u = unrec.find((x) => x.identifier === seg[6]);
        if (!u) return err(404, 'SAM_ENOENT', 'no such item');
        if (!models.some((m) => m.identifier === body.software_model)) {
          return err(400, 'SAM_EINVAL', 'unknown software model', [{ pointer: '/software_model', message: 'no such software model on this profile' }]);
        }
        u.software_model = body.software_model;
        return r(200, u);
      }
    }
    return err(404, 'SAM_ENOENT', `no such resource [${method} ${path}]`);
  }

  const server = createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    res.setHeader('Content-Security-Policy', "default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'");
    res.setHeader('X-Content-Type-Options', 'nosniff');
    if (url.pathname.startsWith('/api/')) {
      let data = '';
      req.on('data', (c) => { data += c; });
      req.on('end', () => {
        const send = (status, obj) => {
          res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
          res.end(JSON.stringify(obj));
        };
        if (req.headers.authorization !== `Bearer ${MOCK_TOKEN}`) {
          send(401, { status: 'SAM_EAUTH', message: 'admin token required' });
          return;
        }
        const csrf = req.headers['x-sam-csrf'] === '1';
        calls.push({ method: req.method, path: url.pathname, query: url.search, csrf });
        if (req.method !== 'GET' && !csrf) {
          send(403, { status: 'SAM_EAUTH', message: 'X-SAM-CSRF: 1 required' });
          return;
        }
        let body = {};
        try {
          body = data ? JSON.parse(data) : {};
        } catch {
          send(400, { status: 'SAM_EINVAL', message: 'the body is not JSON' });
          return;
        }
        const out = api(req.method, url.pathname, url.searchParams, body);
        send(out.status, out.obj);
      });
      return;
    }
    let rel = url.pathname === '/' ? 'index.html' : url.pathname.replace(/^\/ui\//, '');
    if (!/^[A-Za-z0-9_-]+\.(html|js|css)$/.test(rel)) rel = 'index.html'; // fallback for /ui/<route>
    try {
      const buf = readFileSync(join(webDir, rel));
      res.writeHead(200, { 'Content-Type': MIME[extname(rel)] || 'application/octet-stream' });
      res.end(buf);
    } catch {
      res.writeHead(404);
      res.end();
    }
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve({ server, base: `http://127.0.0.1:${server.address().port}`, pid, calls, undone });
    });
  });
}
