#!/usr/bin/env node
// Browser test of the admin pages against mock-host.mjs (samhost's REST
// shapes with data the real backend cannot produce yet): 100,000
// subscriptions paged by cursor, live progress with a rate-limit wait,
// Undo on reclaimed subscriptions, mapping, charts, markup as text, the
// X-SAM-CSRF header on every state change, and the /ui/<route> path.
//
// Usage: node e2e-mock.mjs --web-dir DIR --schema FILE [--shots DIR]
// Exit: 0 pass, 1 fail, 77 skip (no chromium or no playwright-core).

import { existsSync, mkdtempSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMockHost, MOCK_TOKEN, XSS } from './mock-host.mjs';

const CHROMIUM = process.env.SAM_CHROMIUM || '/usr/bin/chromium';
const arg = (n, d) => {
  const i = process.argv.indexOf(`--${n}`);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : d;
};
const webDir = arg('web-dir');
const schemaPath = arg('schema');
if (!webDir || !schemaPath) {
  console.error('usage: e2e-mock.mjs --web-dir DIR --schema FILE [--shots DIR]');
  process.exit(2);
}
if (!existsSync(CHROMIUM)) {
  console.log(`SKIP: ${CHROMIUM} not found (apt-get install chromium)`);
  process.exit(77);
}
let chromium;
try {
  ({ chromium } = await import('playwright-core'));
} catch {
  console.log('SKIP: playwright-core is not installed (run npm ci in tests/e2e)');
  process.exit(77);
}

const work = mkdtempSync(join(tmpdir(), 'sam-e2e-mock-'));
const shots = arg('shots', join(work, 'screenshots'));
mkdirSync(shots, { recursive: true });
for (const f of readdirSync(shots)) if (f.endsWith('.png')) rmSync(join(shots, f));
const results = [];
const pageErrors = [];
let page;
let n = 0;

function assert(c, m) {
  if (!c) throw new Error(`assertion failed: ${m}`);
}

async function step(name, fn) {
  const before = pageErrors.length;
  const file = () => join(shots, `${String(++n).padStart(2, '0')}-${name.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}.png`);
  try {
    const note = await fn();
    if (pageErrors.length > before) throw new Error(pageErrors.slice(before).join(' | '));
    await page.screenshot({ path: file(), fullPage: true });
    results.push(['PASS', name]);
    console.log(`PASS    ${name}${note ? ` - ${note}` : ''}`);
  } catch (e) {
    await page.screenshot({ path: file(), fullPage: true }).catch(() => {});
    results.push(['FAIL', name]);
    console.log(`FAIL    ${name} - ${e.stack || e}`);
    throw e;
  }
}

const mock = await startMockHost(webDir, schemaPath);
const { base, pid } = mock;
const context = await chromium.launchPersistentContext(join(work, 'chromium-profile'), {
  executablePath: CHROMIUM,
  headless: true,
  viewport: { width: 1280, height: 900 },
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
let failed = false;
try {
  page = context.pages()[0] || await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(`pageerror: ${e.message}`));
  page.on('dialog', (d) => {
    pageErrors.push(`unexpected dialog: ${d.message()}`);
    d.dismiss().catch(() => {});
  });
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy|Refused to/i.test(m.text())) pageErrors.push(`CSP: ${m.text()}`);
  });
  const subs = page.locator('section[data-list=subscriptions]');
  const idle = (list) => page.locator(`section[data-list=${list}]:not([aria-busy])`).waitFor();

  await step('sign in, open the profile by its /ui/ path', async () => {
    await page.goto(`${base}/`);
    await page.fill('#token', MOCK_TOKEN);
    await page.click('button[type=submit]');
    await page.locator('table[data-list=profiles]').waitFor();
    await page.goto(`${base}/ui/profiles/${pid}`);
    await page.locator('h1[data-profile-id]').waitFor();
    assert(await page.locator('h1').textContent() === `${XSS} Mock`, 'display name as text');
  });

  await step('100,000 subscriptions: one server page at a time', async () => {
    await subs.locator('tbody tr[data-key]').first().waitFor();
    assert(await subs.locator('tbody tr[data-key]').count() === 25, '25 rows on page 1');
    assert(/more/.test(await subs.locator('.page-info').textContent()), 'more pages');
    await subs.getByRole('button', { name: 'Next' }).click();
    await subs.locator('.page-info:text-matches("Page 2")').waitFor();
    assert(await subs.locator('tbody tr[data-key]').first().getAttribute('data-key') === 'u000025', 'page 2 starts at row 25');
    await subs.getByRole('button', { name: 'Previous' }).click();
    await subs.locator('.page-info:text-matches("Page 1")').waitFor();
    const row = subs.locator('tbody tr[data-key=u000003]');
    assert((await row.textContent()).includes('<img src=x onerror=alert(1)>'), 'markup in a user name shown literally');
    assert(await page.evaluate(() => document.querySelectorAll('main img, main script').length === 0 && !window.__samXss), 'no element from markup');
    const lists = mock.calls.filter((c) => c.method === 'GET' && /\/lists\//.test(c.path));
    assert(lists.every((c) => { const l = Number(new URLSearchParams(c.query).get('limit')); return l >= 1 && l <= 500; }), 'every list read is one bounded page');
  });

  await step('filter reclaimed subscriptions and Undo one', async () => {
    await subs.getByRole('combobox', { name: 'Filter' }).selectOption('state');
    await subs.getByRole('combobox', { name: 'equals' }).selectOption('reclaimed');
    await subs.getByRole('button', { name: 'Filter', exact: true }).click();
    await idle('subscriptions');
    const first = subs.locator('tbody tr[data-key]').first();
    const key = await first.getAttribute('data-key');
    assert(key === 'u000000', `first reclaimed row ${key}`);
    const undo = first.locator('button[data-undo]');
    assert(await undo.isEnabled(), 'Undo enabled when the plugin has an undo action');
    await undo.click();
    await page.locator('#action-outcome .notice-ok', { hasText: 'reopened' }).waitFor();
    await idle('subscriptions');
    assert(await subs.locator(`tbody tr[data-key=${key}]`).count() === 0, 'the undone row left the reclaimed filter');
    assert(mock.undone.has(key), 'undo called with the external user id');
  });

  await step('Run now: live progress, rate-limit wait, outcome', async () => {
    await page.click('button[data-run=download]');
    const box = page.locator('.job-progress');
    await box.locator('.progress-line', { hasText: /of 5 pages/ }).waitFor();
    await box.locator('.progress-wait', { hasText: 'Waiting for the rate-limit reset until' }).waitFor();
    await page.screenshot({ path: join(shots, `${String(++n).padStart(2, '0')}-rate-limit-wait.png`), fullPage: false });
    await page.locator('.job-progress[data-outcome=success]').waitFor({ timeout: 30000 });
    const t = await box.textContent();
    assert(/api calls/.test(t) && /100000/.test(t), `counts shown: ${t}`);
    assert(await box.locator('.progress-wait').isHidden(), 'no wait once finished');
  });

  await step('Reclaim asks first and sends confirm', async () => {
    const prev = await page.locator('.job-progress').getAttribute('data-job-id');
    await page.click('button[data-run=reclaim]');
    await page.locator('dialog[open] button[value=ok]').click();
    await page.locator(`.job-progress[data-outcome=success]:not([data-job-id="${prev}"])`).waitFor({ timeout: 30000 });
    const run = mock.calls.filter((c) => decodeURIComponent(c.path).endsWith(':reclaim/run'));
    assert(run.length === 1, 'one reclaim run');
  });

  await step('map an unrecognized identifier', async () => {
    const list = page.locator('section[data-list=unrecognized]');
    const row = list.locator('tbody tr[data-key="Legal Sender"]');
    await row.locator('select option[value="DocuSign Viewer"]').waitFor({ state: 'attached' });
    await row.locator('select').selectOption('DocuSign Viewer');
    await row.locator('button[data-map]').click();
    await page.locator('#action-outcome .notice-ok', { hasText: 'Mapped Legal Sender' }).waitFor();
    await list.locator('tbody tr[data-key="Legal Sender"] td', { hasText: 'DocuSign Viewer' }).first().waitFor();
    const xss = list.locator('tbody tr').filter({ hasText: '<img src=x' });
    assert(await xss.count() === 1, 'markup identifier shown literally');
  });

  await step('charts: subscriptions per model, candidates per state', async () => {
    const charts = page.locator('#charts figure.chart');
    await charts.nth(1).waitFor();
    assert((await charts.nth(0).textContent()).includes('88000'), 'model count');
    assert((await charts.nth(1).locator('svg rect').count()) === 8, 'eight states');
    assert((await charts.nth(1).textContent()).includes('125'), 'candidates per state counted from capped pages');
  });

  await step('per-field errors from the server shown next to their fields', async () => {
    await page.fill('#pf-client_id', 'refused-by-host');
    await page.click('#submit-draft');
    await page.locator('dialog[open] button[value=ok]').click(); // returns to Draft: confirm
    const err = page.locator('#pf-client_id-err');
    await err.waitFor({ state: 'visible' });
    assert((await err.textContent()).includes('the host refuses this client id <img src=x'), 'server message as text');
    assert(await page.locator('#pf-client_id').getAttribute('aria-invalid') === 'true', 'aria-invalid');
    assert((await page.locator('#pf-client_id').getAttribute('aria-describedby')).includes('pf-client_id-err'), 'aria-describedby');
    assert((await page.locator('.form-errors').textContent()).includes('already covers'), 'general error in the summary');
    assert(await page.evaluate(() => document.activeElement.id) === 'pf-client_id', 'focus on the field');
    assert(await page.evaluate(() => document.querySelectorAll('main img, main script').length === 0 && !window.__samXss), 'no element from markup');
  });

  await step('every state-changing call carried X-SAM-CSRF', async () => {
    const writes = mock.calls.filter((c) => c.method !== 'GET');
    assert(writes.length >= 4, `writes seen: ${writes.length}`);
    assert(writes.every((c) => c.csrf), 'X-SAM-CSRF on all writes');
  });
} catch {
  failed = true;
} finally {
  await context.close().catch(() => {});
  mock.server.close();
}
const pass = results.filter((r) => r[0] === 'PASS').length;
const fail = results.filter((r) => r[0] === 'FAIL').length + (failed && !results.some((r) => r[0] === 'FAIL') ? 1 : 0);
console.log(`\nscreenshots: ${shots}`);
console.log(`${pass} passed, ${fail} failed`);
writeFileSync(join(shots, 'results.txt'), results.map((r) => `${r[0].padEnd(7)} ${r[1]}`).join('\n') + '\n');
if (!shots.startsWith(work)) rmSync(work, { recursive: true, force: true });
process.exit(fail ? 1 : 0);
