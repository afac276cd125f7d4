#!/usr/bin/env bash
# test-flow-cli: issue 5's "Done when" through the samhost CLI against the
# real `samhost serve` and the real docusign-sim over HTTPS (throwaway CA),
# with auto-consent (the consent URL followed by curl, as a browser would):
# profile create (an invalid field first: exit 2, the field named), action
# get_oauth_token, action validate_connection, profile publish, job list,
# job run --wait, list subscriptions; every step's --json reply checked; a
# second profile for the same account refused; exit codes for a wrong token
# and an unreachable server; no clear secret on disk; a clean shutdown.
FL_NAME=test-flow-cli
. "$(dirname "$0")/test-flow-lib.sh"

SECRET="cli-Secret-$(openssl rand -hex 12)"
CLIENT_ID=flow-cli-key
NAME="Flow CLI"

fl_make_ca
fl_start_host
fl_start_sim --users 300 --seed 9 --auto-consent --client-id "$CLIENT_ID" --client-secret "$SECRET"
info "host $HOST_URL, simulator $SIM_AUTH (account $SIM_ACCOUNT)"

# cli EXPECTED_EXIT ARGS...: runs samhost; stdout in $FL_WORK/cli.out
cli() {
  local want=$1 rc=0
  shift
  "$SAMHOST" "$@" >"$FL_WORK/cli.out" 2>"$FL_WORK/cli.err" <"${CLI_STDIN:-/dev/null}" || rc=$?
  [ "$rc" = "$want" ] || fail "samhost $*: want exit $want, got $rc: $(head -c 600 "$FL_WORK/cli.err") $(head -c 300 "$FL_WORK/cli.out")"
}
out() { cat "$FL_WORK/cli.out"; }
create() { # client_id expected_exit
  printf '%s\n' "$SECRET" >"$FL_WORK/secret.in"
  CLI_STDIN="$FL_WORK/secret.in" cli "$2" --json profile create --type docusign_subscription \
    --field "display_name=$NAME" --field "client_id=$1" --field "account_id=$SIM_ACCOUNT" \
    --field "instance_url=$SIM_AUTH" --secret-stdin client_secret
}

# ---- exit codes: a wrong token (4), no server (3)
cli 4 --token wrong-token plugins
# a port just bound to 0 and closed again: nobody listens there
closed=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{const p=s.address().port;s.close(()=>console.log(p))})')
cli 3 --server "http://127.0.0.1:$closed" plugins
cli 0 --json plugins
out | j 'JSON.stringify(d)' | grep -q docusign_subscription || fail "samhost plugins lists no docusign_subscription type"

# ---- an invalid field: exit 2, named on stderr, nothing created
printf '%s\n' "$SECRET" >"$FL_WORK/secret.in"
CLI_STDIN="$FL_WORK/secret.in" cli 2 profile create --type docusign_subscription \
  --field "display_name=$NAME" --field "client_id=bad key!" --field "account_id=$SIM_ACCOUNT" \
  --field "instance_url=$SIM_AUTH" --secret-stdin client_secret
grep -q 'client_id' "$FL_WORK/cli.err" || fail "the refusal does not name client_id: $(cat "$FL_WORK/cli.err")"
grep -qF "$SECRET" "$FL_WORK/cli.err" "$FL_WORK/cli.out" && fail "the CLI printed the client secret"
cli 0 --json profile list
expect_eq 0 "$(out | j d.items.length)" "nothing created by the refused call"

# ---- create (Draft)
create "$CLIENT_ID" 0
grep -qF "$SECRET" "$FL_WORK/cli.out" && fail "profile create printed the client secret"
PID=$(out | j d.profile_id)
expect_eq draft "$(out | j d.state)" "a new profile"
expect_eq true "$(out | j d.form.client_secret.set)" "client_secret shown as set"
expect_eq "$HOST_URL/oauth_redirect.do" "$(out | j d.form.redirect_url)" "redirect_url"

# ---- Get OAuth Token (human output names the URL), then --json
cli 0 action "$PID" get_oauth_token
grep -q 'open this URL in a browser' "$FL_WORK/cli.out" || fail "get_oauth_token output: $(out)"
cli 0 --json action "$PID" get_oauth_token
expect_eq SAM_OK "$(out | j d.status)" "get_oauth_token"
follow_consent "$(out | j d.result.redirect_url)"
cli 0 --json profile show "$PID"
expect_eq connected "$(out | j d.connection_status)" "after the consent"

# ---- Publish before Validate Connection is refused
cli 2 profile publish "$PID"

# ---- Validate Connection, Publish, jobs
cli 0 --json action "$PID" validate_connection
expect_eq SAM_OK "$(out | j d.status)" "validate_connection"
expect_eq validated "$(out | j d.result.connection_status)" "validate_connection result"
cli 0 --json profile publish "$PID"
expect_eq published "$(out | j d.state)" "after publish"
cli 0 job list --profile "$PID"
grep -qF "SAM - Refresh $NAME Subscriptions" "$FL_WORK/cli.out" || fail "job list: $(out)"
cli 0 --json job list --profile "$PID"
expect_eq "download,reclaim" "$(out | j 'd.items.map(i=>i.process_id).sort().join()')" "scheduled jobs"

# ---- job run --wait, once the publish run and the reclaim it chained are
# over: a reclaim still closing users beside the run-now download leaves
# the list and that download's counts apart (CI saw both directions)
jobs_idle() {
  for i in $(seq 1 150); do
    cli 0 --json job list --profile "$PID"
    [ "$(out | j 'd.items.every(i=>!i.running_job_id)')" = true ] && return 0
    sleep 0.2
  done
  fail "the profile's jobs still running after 30 s: $(out)"
}
jobs_idle
for i in $(seq 1 100); do
  rc=0
  "$SAMHOST" job run --profile "$PID" --wait >"$FL_WORK/cli.out" 2>"$FL_WORK/cli.err" || rc=$?
  grep -q 'started job' "$FL_WORK/cli.out" && break
  sleep 0.2
done
expect_eq 0 "$rc" "job run --wait ($(cat "$FL_WORK/cli.err"))"
grep -q ': success' "$FL_WORK/cli.out" || fail "job run --wait: $(out)"
JOB=$(sed -n 's/^started job //p' "$FL_WORK/cli.out")
cli 0 --json job results "$JOB"
expect_eq success "$(out | j d.outcome)" "the run-now download"
expect_eq 300 "$(out | j d.counts.users_seen)" "users seen"
CREATED_OR_SEEN=$(out | j '(d.counts.created + d.counts.updated + d.counts.unchanged)')
jobs_idle
cli 0 --json list subscriptions --profile "$PID" --limit 500
# the publish run chained a reclaim (on by default): its users are Closed
# in DocuSign now, their subscriptions kept as reclaimed (for Undo)
expect_eq "$CREATED_OR_SEEN" "$(out | j 'd.items.filter(s=>s.state!=="reclaimed").length')" "subscriptions listed (not reclaimed)"
cli 0 list subscriptions --profile "$PID" --limit 5
cli 0 --json list rules --profile "$PID"
[ "$(out | j d.items.length)" -gt 0 ] || fail "no reclamation rule after publish"

# ---- rules and exclusions are editable from the CLI (issue 7 item 1)
RULE=$(out | j 'd.items[0].rule_id')
cli 0 --json list rules --profile "$PID" --update "$RULE" \
  --field last_activity_threshold_days:=90 --field active:=false
expect_eq 90 "$(out | j d.last_activity_threshold_days)" "edited threshold"
expect_eq false "$(out | j d.active)" "deactivated rule"
cli 2 list rules --profile "$PID" --update "$RULE" --field last_activity_threshold_days:=0
cli 1 list rules --profile "$PID" --update "$RULE"
cli 0 --json list user-exclusions --profile "$PID" --add \
  --field domain=excluded.example.com --field active:=true
EXCL=$(out | j d.rule_id)
[ -n "$EXCL" ] || fail "the new user exclusion has no rule_id: $(out)"
cli 0 --json list user-exclusions --profile "$PID"
out | j 'd.items.map(x=>x.rule_id).join(" ")' | grep -q "$EXCL" || fail "the exclusion is not listed"
cli 0 list user-exclusions --profile "$PID" --delete "$EXCL"

# ---- a second profile for the same account
create "$CLIENT_ID" 2
grep -qi 'already' "$FL_WORK/cli.err" || fail "the duplicate is not explained: $(cat "$FL_WORK/cli.err")"

no_clear_secrets "$SECRET"
stop_all
no_clear_secrets "$SECRET"
info "PASS"
