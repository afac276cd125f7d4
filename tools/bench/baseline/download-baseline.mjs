// The baseline of bench-download (tools/bench/README.md): the account's
// users paged through sequentially with the official DocuSign Node SDK
// (npm docusign-esign, pinned 10.0.0 by tests/integration/node), the way an
// admin would script it: UsersApi.list with count 100 and startPosition,
// additionalInfo (and includeLicense, so the pages are the very pages the
// plugin asks for), one page after the other until the last.
//
// usage: BENCH_TOKEN=<access token> node download-baseline.mjs
//          --base <rest base, e.g. https://127.0.0.1:PORT/restapi>
//          --account <account id> [--pages-limit N (0 = all)]
// NODE_EXTRA_CA_CERTS trusts the simulator's throwaway CA over https.
// The module is resolved from tests/integration/node (or $DOCUSIGN_ESIGN_DIR).
//
// Prints one JSON line: {"sdk", "pages", "users", "total_set_size",
// "complete", "ms"}; ms is the paging time measured here (node's start-up
// and the module's load are not in it). Exit 77 with {"skip": reason} when
// the SDK is not installed, 1 on an API error.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const modDir = process.env.DOCUSIGN_ESIGN_DIR ||
  path.resolve(here, '../../../tests/integration/node');
const require = createRequire(path.join(modDir, 'package.json'));

let docusign;
let version = '?';
try {
  docusign = require('docusign-esign');
  version = require('docusign-esign/package.json').version;
} catch {
  console.log(JSON.stringify({ skip: `docusign-esign is not installed in ${modDir}; run npm ci there` }));
  process.exit(77);
}

const args = {};
for (let i = 2; i + 1 < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
const token = process.env.BENCH_TOKEN;
if (!args.base || !args.account || !token) {
  console.error('usage: BENCH_TOKEN=... node download-baseline.mjs --base URL --account ID [--pages-limit N]');
  process.exit(2);
}
const limit = Number(args['pages-limit'] || 0);

const api = new docusign.ApiClient({ basePath: args.base });
api.addDefaultHeader('Authorization', `Bearer ${token}`);
const users = new docusign.UsersApi(api);

let start = 0;
let pages = 0;
let seen = 0;
let total = -1;
let complete = false;
const t0 = process.hrtime.bigint();
try {
  for (;;) {
    if (limit > 0 && pages >= limit) break;
    const page = await users.list(args.account, {
      count: '100', startPosition: String(start), additionalInfo: 'true', includeLicense: 'true',
    });
    pages++;
    total = Number(page.totalSetSize || 0);
    const n = page.users ? page.users.length : 0;
    seen += n;
    start += n;
    if (n === 0 || !page.nextUri || start >= total) {
      complete = true;
      break;
    }
  }
} catch (e) {
  const status = e.response ? e.response.status : 'no reply';
  const body = e.response && e.response.data ? JSON.stringify(e.response.data) : String(e);
  console.error(`download-baseline: users.list failed at startPosition ${start} [${status}] ${body}`);
  process.exit(1);
}
const ms = Number(process.hrtime.bigint() - t0) / 1e6;
console.log(JSON.stringify({
  sdk: `docusign-esign ${version}`, pages, users: seen, total_set_size: total, complete, ms,
}));
