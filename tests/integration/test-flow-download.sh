#!/usr/bin/env bash
# test-flow-download: issues 6 and 7 end to end through the real `samhost
# serve` and the real docusign-sim over HTTPS (throwaway CA), REST with curl:
# after Publish the first download fills the related lists correctly
# (subscriptions = the simulator's non-Closed users with their identifiers
# and admin flags, unrecognized identifiers for the custom permission
# profiles with their counts, candidates for exactly the users assigned
# longer ago than the threshold, none for admins or the integration user);
# then a reclaim dry run changes nothing in DocuSign (no DELETE/PUT, same
# statuses) nor any candidate; a reclaim without confirm is refused; the
# reclaim closes at most the cap (5% of active seats) and exactly the users
# it reports; Undo reopens one (the simulator shows it ActivationSent).
FL_NAME=test-flow-download
. "$(dirname "$0")/test-flow-lib.sh"

SECRET="dl-Secret-$(openssl rand -hex 12)"
CLIENT_ID=flow-dl-key
USERS=1000

fl_make_ca
fl_start_host
fl_start_sim --users "$USERS" --seed 13 --auto-consent --client-id "$CLIENT_ID" --client-secret "$SECRET"
info "host $HOST_URL, simulator $SIM_AUTH (account $SIM_ACCOUNT, $USERS users)"

# ---- profile (Reclaim subscriptions off: the first download only creates
# candidates), consent, validate, publish, the first download
api_expect 201 POST /api/v1/profiles "$(printf '{"type_id":"docusign_subscription","form":{"display_name":"Flow download","client_id":"%s","account_id":"%s","instance_url":"%s","client_secret":"%s","reclaim_enabled":false}}' \
  "$CLIENT_ID" "$SIM_ACCOUNT" "$SIM_AUTH" "$SECRET")"
PID=$(reply | j d.profile_id)
api_expect 200 POST "/api/v1/profiles/$PID/actions/get_oauth_token" '{}'
follow_consent "$(reply | j d.result.redirect_url)"
api_expect 200 POST "/api/v1/profiles/$PID/actions/validate_connection" '{}'
api_expect 200 POST "/api/v1/profiles/$PID/publish" '{}'
RUN=$(reply | j d.run_job_id)
[ -n "$RUN" ] || fail "publish started no download"
wait_job "$RUN"
expect_eq success "$JOB_OUTCOME" "the first download ($(j d.message <"$FL_WORK/job.json"))"
cp "$FL_WORK/job.json" "$FL_WORK/download.json"
info "download: $(j d.message <"$FL_WORK/download.json")"
api_expect 200 GET "/api/v1/job-results?profile=$PID"
expect_eq 1 "$(reply | j 'd.items.length')" "no reclaim chained while Reclaim subscriptions is off"

# ---- the related lists against the simulator's account
all_items subscriptions "$PID" >"$FL_WORK/subs.json"
all_items unrecognized "$PID" >"$FL_WORK/unrec.json"
all_items candidates "$PID" >"$FL_WORK/cands.json"
all_items rules "$PID" >"$FL_WORK/rules.json"
sim_users >"$FL_WORK/users.json"
INTEGRATION_USER="$SIM_INTEGRATION_USER" node -e '
const fs = require("fs");
const W = process.argv[1];
const rd = (f) => JSON.parse(fs.readFileSync(`${W}/${f}`, "utf8"));
const subs = rd("subs.json"), unrec = rd("unrec.json"), cands = rd("cands.json");
const rules = rd("rules.json"), users = rd("users.json"), dl = rd("download.json");
const errs = [];
const check = (ok, msg) => { if (!ok) errs.push(msg); };
const open = users.filter((u) => u.userStatus !== "Closed");
check(dl.counts.users_seen === users.length, `users_seen ${dl.counts.users_seen} != ${users.length} users`);
check(subs.length === open.length, `subscriptions ${subs.length} != ${open.length} non-Closed users`);
const byId = new Map(subs.map((s) => [s.external_user_id.toLowerCase(), s]));
for (const u of open) {
  const s = byId.get(u.userId.toLowerCase());
  if (!s) { check(false, `no subscription for ${u.userId}`); continue; }
  const ident = u.licenseType ? u.licenseType : u.permissionProfileName;
  check(s.subscription_identifier === ident, `${u.userId}: identifier ${s.subscription_identifier} != ${ident}`);
  check(s.is_admin === (u.isAdmin === "True"), `${u.userId}: is_admin ${s.is_admin} != ${u.isAdmin}`);
  check(s.user_principal_name.toLowerCase() === u.email.toLowerCase(), `${u.userId}: upn ${s.user_principal_name} != ${u.email}`);
  check(s.remote_status === u.userStatus, `${u.userId}: status ${s.remote_status} != ${u.userStatus}`);
}
// unrecognized identifiers: the custom permission profiles (no license)
const custom = {};
for (const s of subs) if (!s.software_model) custom[s.subscription_identifier] = (custom[s.subscription_identifier] || 0) + 1;
check(unrec.length > 0, "no unrecognized identifier");
for (const u of unrec) {
  check(["Legal Sender", "Finance Viewer"].includes(u.identifier), `unexpected unrecognized identifier ${u.identifier}`);
  const want = open.filter((x) => !x.licenseType && x.permissionProfileName === u.identifier).length;
  check(u.subscription_count === want, `${u.identifier}: subscription_count ${u.subscription_count} != ${want}`);
  check(custom[u.identifier] === want, `${u.identifier}: ${custom[u.identifier]} subscriptions without a model != ${want}`);
}
// candidates: exactly the eligible subscriptions older than the threshold
const rule = new Map(rules.map((r) => [r.software_model, r]));
const day = 86400000, now = Date.now();
const cset = new Map(cands.map((c) => [c.external_user_id.toLowerCase(), c]));
check(cset.size === cands.length, "two candidates for one user");
let boundary = 0, expected = 0;
for (const s of subs) {
  const uid = s.external_user_id.toLowerCase();
  const c = cset.get(uid);
  const r = rule.get(s.software_model);
  const never = s.state !== "active" || !s.active || s.is_admin || s.excluded || !r ||
    uid === process.env.INTEGRATION_USER.toLowerCase();
  if (never) {
    check(!c, `candidate for ${uid} (admin ${s.is_admin}, state ${s.state}, model ${s.software_model})`);
    continue;
  }
  const age = (now - Date.parse(s.assigned_at)) / day;
  const need = Math.max(r.last_activity_threshold_days, r.grace_days || 0);
  if (Math.abs(age - need) < 1.5) { boundary++; continue; } // day rounding
  if (age > need) expected++;
  check(age > need ? !!c : !c, `${uid}: assigned ${s.assigned_at} (${age.toFixed(1)} days, threshold ${need}): candidate ${!!c}`);
  if (c) check(/assigned \d{4}-\d\d-\d\d, \d+ days ago, threshold \d+/.test(c.reason), `${uid}: reason [${c.reason}]`);
}
check(expected > 0, "no candidate expected: the account is too young for this test");
check(!cset.has(process.env.INTEGRATION_USER.toLowerCase()), "the integration user is a candidate");
if (errs.length) { console.error(errs.slice(0, 20).join("\n")); console.error(`${errs.length} mismatch(es)`); process.exit(1); }
console.log(`[test-flow-download] lists OK: ${subs.length} subscriptions, ${unrec.map((u) => `${u.identifier} ${u.subscription_count}`).join(", ")}, ${cands.length} candidates (${boundary} at the threshold boundary not judged)`);
' "$FL_WORK" || fail "the related lists do not match the simulator's account"

# ---- Reclaim subscriptions on (the profile stays published)
api_expect 200 PATCH "/api/v1/profiles/$PID" '{"form":{"reclaim_enabled":true}}'
expect_eq published "$(reply | j d.state)" "switching Reclaim subscriptions on"

status_counts() { sim_get /stats | j 'JSON.stringify(d.users)'; }
changing_calls() { sim_get /stats | j 'd.endpoints.filter(e=>/^(DELETE|PUT|POST) \/v2/.test(e.endpoint)).reduce((a,e)=>a+e.count,0)'; }
cand_states() { all_items candidates "$PID" | j 'd.map(c=>c.external_user_id+"="+c.state).sort().join("\n")'; }

# ---- dry run: nothing changes anywhere
sim_post /stats/reset '{}' >/dev/null
before_users=$(status_counts)
before_cands=$(cand_states)
api_expect 202 POST "/api/v1/jobs/$PID:reclaim/run" '{"dry_run":true}'
wait_job "$(reply | j d.job_id)"
expect_eq success "$JOB_OUTCOME" "the dry run ($(j d.message <"$FL_WORK/job.json"))"
cp "$FL_WORK/job.json" "$FL_WORK/dry.json"
expect_eq true "$(j d.result.dry_run <"$FL_WORK/dry.json")" "result.dry_run"
WOULD=$(j 'd.result.report.filter(x=>x.action==="would close").length' <"$FL_WORK/dry.json")
[ "$WOULD" -gt 0 ] || fail "the dry run would close nobody: $(j d.message <"$FL_WORK/dry.json")"
expect_eq 0 "$(changing_calls)" "DELETE/PUT calls during the dry run"
expect_eq "$before_users" "$(status_counts)" "the simulator's user statuses after the dry run"
[ "$before_cands" = "$(cand_states)" ] || fail "the dry run changed candidate states"
info "dry run: $(j d.message <"$FL_WORK/dry.json")"

# ---- a reclaim needs confirm
api "POST" "/api/v1/jobs/$PID:reclaim/run" '{"dry_run":false}'
case "$API_STATUS" in 4??) ;; *) fail "a reclaim without confirm: want 4xx, got $API_STATUS: $(reply)" ;; esac
expect_eq 0 "$(changing_calls)" "DELETE calls after a refused reclaim"

# ---- reclaim: at most the cap, exactly the reported users
api_expect 202 POST "/api/v1/jobs/$PID:reclaim/run" '{"confirm":true}'
wait_job "$(reply | j d.job_id)"
expect_eq success "$JOB_OUTCOME" "the reclaim ($(j d.message <"$FL_WORK/job.json"))"
cp "$FL_WORK/job.json" "$FL_WORK/reclaim.json"
sim_users >"$FL_WORK/users-after.json"
sim_get /stats >"$FL_WORK/stats.json"
all_items subscriptions "$PID" >"$FL_WORK/subs-after.json"
INTEGRATION_USER="$SIM_INTEGRATION_USER" node -e '
const fs = require("fs");
const W = process.argv[1];
const rd = (f) => JSON.parse(fs.readFileSync(`${W}/${f}`, "utf8"));
const r = rd("reclaim.json").result, dry = rd("dry.json").result;
const before = new Map(rd("users.json").map((u) => [u.userId, u]));
const after = rd("users-after.json"), subs = rd("subs-after.json"), st = rd("stats.json");
const errs = [];
const check = (ok, msg) => { if (!ok) errs.push(msg); };
const cap = Math.max(1, Math.floor(r.active_seats * 5 / 100));
check(r.cap === cap, `cap ${r.cap} != max(1, 5% of ${r.active_seats})`);
check(r.closed > 0 && r.closed <= r.cap, `closed ${r.closed} not in 1..cap ${r.cap}`);
const newlyClosed = after.filter((u) => u.userStatus === "Closed" && before.get(u.userId).userStatus !== "Closed").map((u) => u.userId).sort();
const ids = [...r.closed_user_ids].sort();
check(JSON.stringify(newlyClosed) === JSON.stringify(ids), `closed in DocuSign ${newlyClosed.length} != reported ${ids.length}`);
check(ids.length === r.closed, "closed_user_ids length != closed");
for (const id of ids) {
  const u = before.get(id);
  check(u.isAdmin !== "True", `an administrator was closed: ${id}`);
  check(id !== process.env.INTEGRATION_USER, "the integration user was closed");
  const s = subs.find((x) => x.external_user_id === id);
  check(s && s.state === "reclaimed", `subscription of ${id}: state ${s && s.state}`);
}
const wouldClose = dry.report.filter((x) => x.action === "would close").map((x) => x.user_id).sort();
check(JSON.stringify(wouldClose) === JSON.stringify(ids), `the dry run said ${wouldClose.length} would close, the reclaim closed ${ids.length} (or others)`);
const dels = st.endpoints.filter((e) => e.endpoint === "DELETE /v2.1/users").reduce((a, e) => a + e.count, 0);
check(dels >= 1 && dels <= Math.ceil(r.closed / 50) + 1, `DELETE users calls ${dels} for ${r.closed} users`);
if (errs.length) { console.error(errs.join("\n")); process.exit(1); }
console.log(`[test-flow-download] reclaim OK: closed ${r.closed} of ${r.considered} (cap ${r.cap} of ${r.active_seats} active seats) in ${dels} DELETE call(s)`);
' "$FL_WORK" || fail "the reclaim did not close exactly the reported users within the cap"

# ---- Undo: reopened in DocuSign (ActivationSent), the subscription active
UID1=$(j 'd.result.closed_user_ids[0]' <"$FL_WORK/reclaim.json")
api_expect 200 POST "/api/v1/profiles/$PID/lists/subscriptions/$UID1/restore" '{}'
expect_eq SAM_OK "$(reply | j d.status)" "restore_subscription ($(reply | j d.message))"
sim_users >"$FL_WORK/users-undo.json"
expect_eq ActivationSent "$(j "d.find(u=>u.userId===\"$UID1\").userStatus" <"$FL_WORK/users-undo.json")" "the reopened user in DocuSign"
api_expect 200 GET "/api/v1/profiles/$PID/lists/subscriptions/$UID1"
expect_eq active "$(reply | j 'd.state')" "the restored subscription"
info "undo: $UID1 reopened (ActivationSent), subscription active"

no_clear_secrets "$SECRET"
stop_all
info "PASS"
