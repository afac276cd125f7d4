// Unit test of the live-progress helpers (host-sdk/web/progress.js) under
// Node: the rate-limit wait is found in explicit fields or in the message.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rateLimitWait } from '../../host-sdk/web/progress.js';

test('rate-limit wait from explicit fields', () => {
  assert.equal(rateLimitWait({ live: { rate_limit_reset_at: '2026-11-28T18:00:00Z' } }), '2026-11-28T18:00:00Z');
  assert.equal(rateLimitWait({ result: { rate_limit: { reset_at: '2026-11-28T19:00:00Z' } } }), '2026-11-28T19:00:00Z');
  assert.equal(rateLimitWait({ live: { waiting_until: '2026-11-28T18:30:00Z' } }), '2026-11-28T18:30:00Z');
});

test('rate-limit wait from the message', () => {
  assert.equal(rateLimitWait({ live: { message: 'hourly rate limit reached; waiting until 2026-11-28T18:00:00Z' } }),
    '2026-11-28T18:00:00Z');
  assert.equal(rateLimitWait({ message: 'burst limit: resets at 2026-11-28T17:20:30Z' }), '2026-11-28T17:20:30Z');
  // the DocuSign plugin's own wording (dsg_download_pages.c + dsg_governor.c)
  assert.equal(rateLimitWait({ live: { message: 'pages [3/10]: waiting until 2026-11-28T18:00:00Z for the hourly rate limit to reset (reserve 10% kept for other integrations)' } }),
    '2026-11-28T18:00:00Z');
  assert.equal(rateLimitWait({ live: { message: 'pages [3/10]: waiting until 2026-11-28T17:00:30Z after a rate-limit error' } }),
    '2026-11-28T17:00:30Z');
  assert.equal(rateLimitWait({ live: { message: 'page 3 of 10, until 2026-11-28T18:00:00Z' } }), null,
    'a time without a rate-limit word is not a wait');
  assert.equal(rateLimitWait({ live: { message: 'page 3 of 10' } }), null);
  assert.equal(rateLimitWait({}), null);
  assert.equal(rateLimitWait(null), null);
});
