// progress.js: live progress of a running job. Polls
// GET /api/v1/job-results/{job_id} once a second (no page reload) and shows
// pages done of total, the plugin's message, API calls when the plugin
// reports them, and "waiting for the rate-limit reset until <time>" when
// the message or the result says so. Stops when the outcome is final.

import { api, seg } from './api.js';
import { h, replace, fmtTime, fmtValue } from './dom.js';

const FINAL = new Set(['success', 'partial', 'failure', 'canceled']);

/**
 * rateLimitWait(rec) -> ISO time string or null. Looks for an explicit
 * field first (live/result/progress: rate_limit_reset_at, waiting_until,
 * reset_at), then for "until <time>" / "reset at <time>" in the message.
 */
export function rateLimitWait(rec) {
  const places = [rec && rec.live, rec && rec.progress, rec && rec.result];
  for (const p of places) {
    if (!p || typeof p !== 'object') continue;
    for (const k of ['rate_limit_reset_at', 'waiting_until', 'reset_at', 'wait_until']) {
      if (typeof p[k] === 'string' && p[k]) return p[k];
    }
    if (p.rate_limit && typeof p.rate_limit === 'object' && typeof p.rate_limit.reset_at === 'string') {
      return p.rate_limit.reset_at;
    }
  }
  const msg = [rec && rec.live && rec.live.message, rec && rec.message].filter((x) => typeof x === 'string').join(' ');
  if (/rate|limit|quota|429|burst/i.test(msg)) {
    const m = msg.match(/(?:until|resets?(?:\s+at)?)\s*:?\s*(\d{4}-\d\d-\d\dT[0-9:.]+Z?)/i);
    if (m) return m[1];
  }
  return null;
}

/** The API-call count if the job reports one. */
function apiCalls(rec) {
  for (const p of [rec.live, rec.counts, rec.result && rec.result.counts, rec.result]) {
    if (p && typeof p === 'object') {
      for (const k of ['api_calls', 'calls', 'http_calls', 'requests']) {
        if (typeof p[k] === 'number') return p[k];
      }
    }
  }
  return null;
}

/**
 * watchJob(container, jobId, {onDone(rec), intervalMs}) -> {stop()}
 * Renders into container; calls onDone once with the final record.
 */
export function watchJob(container, jobId, opts = {}) {
  const interval = opts.intervalMs || 1000;
  const bar = h('progress', { max: '1', value: '0', 'aria-label': 'Job progress' });
  const line = h('p', { class: 'progress-line', 'aria-live': 'polite' }, 'Starting…');
  const msg = h('p', { class: 'progress-msg' });
  const wait = h('p', { class: 'progress-wait', hidden: true });
  const counts = h('dl', { class: 'counts' });
  const cancelBtn = h('button', { type: 'button', onclick: () => cancel() }, 'Cancel job');
  const box = h('div', { class: 'job-progress', 'data-job-id': jobId, 'data-outcome': 'running' },
    h('h3', null, 'Job ', h('code', null, jobId)), bar, line, msg, wait, counts, cancelBtn);
  replace(container, box);
  let timer = null;
  let stopped = false;
  let misses = 0;

  async function cancel() {
    cancelBtn.disabled = true;
    try {
      await api('POST', `/api/v1/job-results/${seg(jobId)}/cancel`, { body: {} });
      replace(msg, 'Cancel requested.');
    } catch (e) {
      replace(msg, e.message);
      cancelBtn.disabled = false;
    }
  }

  function render(rec) {
    const live = rec.live && typeof rec.live === 'object' ? rec.live : null;
    const outcome = rec.outcome || 'running';
    box.setAttribute('data-outcome', live && !FINAL.has(outcome) ? 'running' : outcome);
    const done = live ? Number(live.done) || 0 : null;
    const total = live ? Number(live.total) || 0 : null;
    if (live) {
      if (total > 0) {
        bar.max = total;
        bar.value = Math.min(done, total);
      } else {
        bar.removeAttribute('value'); // indeterminate
      }
      const calls = apiCalls(rec);
      replace(line, `Running: ${done}${total > 0 ? ` of ${total}` : ''} pages done`,
        calls !== null ? ` · ${calls} API calls` : '',
        live.cancel_requested ? ' · cancel requested' : '');
      replace(msg, live.message || '');
    } else {
      bar.max = 1;
      bar.value = FINAL.has(outcome) ? 1 : 0;
      const calls = apiCalls(rec);
      replace(line, `Outcome: ${outcome}`, rec.ended_at ? ` at ${fmtTime(rec.ended_at)}` : '',
        calls !== null ? ` · ${calls} API calls` : '');
      replace(msg, rec.message || '');
    }
    const until = rateLimitWait(rec);
    if (until && !FINAL.has(outcome)) {
      replace(wait, `Waiting for the rate-limit reset until ${fmtTime(until)}.`);
      wait.hidden = false;
    } else {
      wait.hidden = true;
    }
    const c = rec.counts && typeof rec.counts === 'object' ? rec.counts : null;
    replace(counts, c ? Object.entries(c).flatMap(([k, v]) => [h('dt', null, k.replace(/_/g, ' ')), h('dd', null, fmtValue(v))]) : null);
    cancelBtn.hidden = !live || FINAL.has(outcome);
  }

  async function tick() {
    if (stopped) return;
    let rec;
    try {
      rec = await api('GET', `/api/v1/job-results/${seg(jobId)}`);
    } catch (e) {
      if (e.http === 404 && misses < 60) {
        // not recorded yet: the run is starting
        misses += 1;
        timer = setTimeout(tick, interval);
        return;
      }
      if (e.http === 404) {
        stopped = true;
        replace(line, 'The job result was not found.');
        return;
      }
      replace(msg, e.message);
      timer = setTimeout(tick, interval);
      return;
    }
    render(rec);
    if (FINAL.has(rec.outcome) && !rec.live) {
      stopped = true;
      if (opts.onDone) opts.onDone(rec);
      return;
    }
    timer = setTimeout(tick, interval);
  }
  tick();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
