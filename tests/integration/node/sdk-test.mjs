// The official DocuSign Node SDK (npm docusign-esign, pinned 10.0.0) as an
// independent client of tools/docusign-sim: list every user with paging,
// read one, close one, reopen it, and a few account calls (DOCUSIGN.md 12).
// The SDK's OAuth helpers hard-code https, so the token comes from the
// simulator's OAuth endpoints directly, as DOCUSIGN.md 12 says.
//
// usage: node sdk-test.mjs <docusign-sim executable>
// exit 77 (ctest SKIP) when the module is not installed: run `npm ci` in
// tests/integration/node first.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';

const require = createRequire(import.meta.url);
let docusign;
try {
  docusign = require('docusign-esign');
} catch {
  console.log('SKIP test-sim-node-sdk: docusign-esign is not installed; run `npm ci` in tests/integration/node');
  process.exit(77);
}
const exe = process.argv[2];
const USERS = 250;

function fail(msg) {
  console.error(`test-sim-node-sdk: ${msg}`);
  process.exit(1);
}
function expect(cond, msg) {
  if (!cond) fail(msg);
}

const child = spawn(exe, ['--port', '0', '--users', String(USERS), '--seed', '4',
                          '--auto-consent', '--redirect-uri', 'http://127.0.0.1:9/cb'],
                    { stdio: ['ignore', 'pipe', 'inherit'] });
const info = await new Promise((res, rej) => {
  createInterface({ input: child.stdout }).once('line', (l) => res(JSON.parse(l)));
  child.once('exit', (c) => rej(new Error(`sim exited ${c}`)));
});
child.removeAllListeners('exit');

const b64url = (b) => b.toString('base64').replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const verifier = b64url(randomBytes(32));
const q = new URLSearchParams({ response_type: 'code', scope: 'signature extended',
  client_id: 'sim-integration-key', redirect_uri: 'http://127.0.0.1:9/cb', state: 'n',
  code_challenge: b64url(createHash('sha256').update(verifier).digest()),
  code_challenge_method: 'S256' });
const auth = await fetch(`${info.auth_base}/oauth/auth?${q}`, { redirect: 'manual' });
const code = new URL(auth.headers.get('location')).searchParams.get('code');
const tok = await (await fetch(`${info.auth_base}/oauth/token`, {
  method: 'POST',
  headers: { Authorization: 'Basic ' + Buffer.from('sim-integration-key:sim-secret').toString('base64'),
             'Content-Type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams({ grant_type: 'authorization_code', code, code_verifier: verifier }),
})).json();
expect(tok.access_token, 'no access token');

const api = new docusign.ApiClient({ basePath: info.rest_base });
api.addDefaultHeader('Authorization', `Bearer ${tok.access_token}`);
const users = new docusign.UsersApi(api);
const accountId = info.account_id;

// every user, page by page, computing offsets (A2)
const seen = new Map();
for (let start = 0, pages = 0; ; pages++) {
  expect(pages <= Math.ceil(USERS / 100) + 1, 'too many pages');
  const page = await users.list(accountId, { count: '100', startPosition: String(start),
    additionalInfo: 'true', includeLicense: 'true' });
  expect(page.totalSetSize === String(USERS), `totalSetSize ${page.totalSetSize}`);
  if (page.resultSetSize === '0' || !page.users) break;
  for (const u of page.users) seen.set(u.userId, u);
  start += page.users.length;
  if (!page.nextUri) break;
}
expect(seen.size === USERS, `listed ${seen.size} users, want ${USERS}`);

// rate headers through the callback form
await new Promise((res) => {
  users.list(accountId, { count: '1' }, (err, data, response) => {
    expect(!err, `callback list failed: ${err}`);
    expect(response.headers['x-ratelimit-remaining'] !== undefined, 'no x-ratelimit-remaining');
    res();
  });
});

const target = [...seen.values()].find((u) => u.userStatus === 'Active' && u.isAdmin === 'False');
const one = await users.getInformation(accountId, target.userId, { includeLicense: 'true' });
expect(one.userId === target.userId && one.email === target.email, 'getInformation returned another user');

const closed = await users._delete(accountId, { userInfoList: { users: [{ userId: target.userId }] } });
expect(closed.users[0].userStatus === 'Closed' && !closed.users[0].errorDetails, 'close failed');
expect((await users.getInformation(accountId, target.userId)).userStatus === 'Closed', 'not closed');

// A12: reopen with the SDK's update call
await users.updateUsers(accountId, { userInformationList:
  { users: [{ userId: target.userId, sendActivationEmail: 'send' }] } });
expect((await users.getInformation(accountId, target.userId)).userStatus === 'ActivationSent', 'not reopened');

// a few other documented calls
const acct = await new docusign.AccountsApi(api).getAccountInformation(accountId);
expect(acct.accountIdGuid === accountId, 'account id');
const plan = await new docusign.BillingApi(api).getPlan(accountId);
expect(plan.billingPlan && plan.billingPlan.planName, 'billing plan');
const charges = await new docusign.AccountsApi(api).getBillingCharges(accountId);
expect(charges.billingChargeItems.some((c) => c.chargeName === 'seats'), 'seats charge');
const envs = await new docusign.EnvelopesApi(api).listStatusChanges(accountId, { fromDate: '2000-01-01' });
expect(envs.resultSetSize !== undefined, 'envelopes');

// an error surfaces as an axios error with DocuSign's body
try {
  await users.list(accountId, { count: '101' });
  fail('count=101 accepted');
} catch (e) {
  expect(e.response && e.response.status === 400, `status ${e.response && e.response.status}`);
  expect(e.response.data.errorCode === 'INVALID_REQUEST_PARAMETER', 'errorCode');
}

const exit = await new Promise((res) => { child.once('exit', res); child.kill('SIGTERM'); });
expect(exit === 0, `simulator exit ${exit}`);
console.log(`ok test-sim-node-sdk (${seen.size} users listed with docusign-esign ${require('docusign-esign/package.json').version})`);
