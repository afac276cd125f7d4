#!/usr/bin/env bash
# test-flow-rest: issue 5's "Done when" through the REST API with curl,
# against the real `samhost serve` and the real docusign-sim over HTTPS
# (throwaway CA): a profile refused with the invalid field named (400),
# created as Draft, Get OAuth Token -> the simulator's consent page (POST
# Accept) -> /oauth_redirect.do (no admin token) -> Validate Connection ->
# Publish with its scheduled jobs; a replayed redirect refused; a second
# profile for the same account refused (409); no clear secret in the data
# directory or the logs; a clean shutdown.
FL_NAME=test-flow-rest
. "$(dirname "$0")/test-flow-lib.sh"

SECRET="rest-Secret-$(openssl rand -hex 12)"
CLIENT_ID=flow-rest-key
NAME="Flow REST"

fl_make_ca
fl_start_host
fl_start_sim --users 200 --seed 5 --client-id "$CLIENT_ID" --client-secret "$SECRET"
info "host $HOST_URL, simulator $SIM_AUTH (account $SIM_ACCOUNT)"

form() { # client_id instance_url
  printf '{"type_id":"docusign_subscription","form":{"display_name":"%s","client_id":"%s","account_id":"%s","instance_url":"%s","client_secret":"%s"}}' \
    "$NAME" "$1" "$SIM_ACCOUNT" "$2" "$SECRET"
}

# ---- an invalid field: 400 naming it, nothing created
api_expect 400 POST /api/v1/profiles "$(form 'bad key with spaces!' "$SIM_AUTH")"
ptr=$(reply | j 'd.errors.map(e=>e.pointer).join(",")')
expect_eq /client_id "$ptr" "the 400 names the invalid field"
reply | j 'd.errors[0].message' | grep -q . || fail "the field error has no message"
reply | grep -qF "$SECRET" && fail "the 400 reply echoes the client secret"
api_expect 400 POST /api/v1/profiles "$(form "$CLIENT_ID" 'http://example.com')"
expect_eq /instance_url "$(reply | j 'd.errors.map(e=>e.pointer).join(",")')" "a non-https instance URL is refused by name"
api_expect 200 GET /api/v1/profiles
expect_eq 0 "$(reply | j d.items.length)" "nothing was created by the refused calls"

# ---- created as Draft; the secret is write-only
api_expect 201 POST /api/v1/profiles "$(form "$CLIENT_ID" "$SIM_AUTH")"
reply | grep -qF "$SECRET" && fail "the profile reply shows the client secret"
PID=$(reply | j d.profile_id)
expect_eq draft "$(reply | j d.state)" "a new profile"
expect_eq true "$(reply | j d.form.client_secret.set)" "client_secret shown as set"
expect_eq "$HOST_URL/oauth_redirect.do" "$(reply | j d.form.redirect_url)" "redirect_url from the host's public URL"
info "profile $PID created (Draft)"

# consent URL -> the consent page -> POST decision; prints the Location
consent() { # auth_url decision
  curl -sS --cacert "$FL_WORK/ca.pem" -o "$FL_WORK/consent.html" "$1" || fail "GET the consent page"
  grep -q 'id="accept"' "$FL_WORK/consent.html" || fail "no Accept button on the consent page"
  local txn
  txn=$(sed -n 's/.*name="txn" value="\([^"]*\)".*/\1/p' "$FL_WORK/consent.html" | head -1)
  [ -n "$txn" ] || fail "no txn on the consent page"
  curl -sS --cacert "$FL_WORK/ca.pem" -o /dev/null -w '%{redirect_url}' \
    --data-urlencode "txn=$txn" --data-urlencode "decision=$2" "$SIM_AUTH/oauth/consent" ||
    fail "POST /oauth/consent"
}

# ---- a declined consent: a clear message, nothing stored
api_expect 200 POST "/api/v1/profiles/$PID/actions/get_oauth_token" '{}'
LOC=$(consent "$(reply | j d.result.redirect_url)" decline)
case "$LOC" in "$HOST_URL/oauth_redirect.do?"*error=*) ;; *) fail "Decline did not redirect to the host with an error: [$LOC]" ;; esac
curl -sS -o "$FL_WORK/redirect.html" "$LOC" || fail "GET /oauth_redirect.do (declined)"
grep -qi 'declin\|denied' "$FL_WORK/redirect.html" || fail "the declined page does not say so: $(sed 's/<[^>]*>/ /g' "$FL_WORK/redirect.html" | head -c 300)"
api_expect 200 GET "/api/v1/profiles/$PID"
expect_eq not_connected "$(reply | j d.connection_status)" "after a declined consent"
reply | j 'd.last_error && (d.last_error.message || d.last_error)' | grep -qi 'declin\|denied' ||
  fail "no declined message on the profile: $(reply | j d.last_error)"

# ---- Get OAuth Token: the authorization URL
api_expect 200 POST "/api/v1/profiles/$PID/actions/get_oauth_token" '{}'
AUTH_URL=$(reply | j d.result.redirect_url)
for want in "$SIM_AUTH/oauth/auth?" response_type=code scope=signature%20extended \
  "client_id=$CLIENT_ID" code_challenge_method=S256 code_challenge= state=; do
  case "$AUTH_URL" in *"$want"*) ;; *) fail "the authorization URL lacks [$want]: $AUTH_URL" ;; esac
done
STATE=$(node -e 'console.log(new URL(process.argv[1]).searchParams.get("state"))' "$AUTH_URL")

# ---- the consent page, Accept (a browser's POST)
LOC=$(consent "$AUTH_URL" accept)
case "$LOC" in "$HOST_URL/oauth_redirect.do?"*) ;; *) fail "Accept did not redirect to the host: [$LOC]" ;; esac
CODE=$(node -e 'console.log(new URL(process.argv[1]).searchParams.get("code"))' "$LOC")
expect_eq "$STATE" "$(node -e 'console.log(new URL(process.argv[1]).searchParams.get("state"))' "$LOC")" "the state came back"

# ---- /oauth_redirect.do without the admin token
st=$(curl -sS -o "$FL_WORK/redirect.html" -w '%{http_code}' "$LOC")
expect_eq 200 "$st" "GET /oauth_redirect.do"
grep -q '<h1>Connected</h1>' "$FL_WORK/redirect.html" || fail "the redirect page does not say Connected: $(head -c 300 "$FL_WORK/redirect.html")"
grep -qF "$CODE" "$FL_WORK/redirect.html" && fail "the redirect page shows the code"
st=$(curl -sS -o /dev/null -w '%{http_code}' "$LOC")
expect_eq 400 "$st" "a replayed redirect (state is single use)"
api_expect 200 GET "/api/v1/profiles/$PID"
expect_eq connected "$(reply | j d.connection_status)" "after the consent"

# ---- Validate Connection -> Publish with its jobs
api_expect 200 POST "/api/v1/profiles/$PID/actions/validate_connection" '{}'
expect_eq SAM_OK "$(reply | j d.status)" "validate_connection"
api_expect 200 GET "/api/v1/profiles/$PID"
expect_eq validated "$(reply | j d.connection_status)" "after Validate Connection"
expect_eq "$SIM_ACCOUNT" "$(reply | j d.account_key)" "account key"
api_expect 200 POST "/api/v1/profiles/$PID/publish" '{}'
expect_eq published "$(reply | j d.state)" "after Publish"
RUN=$(reply | j d.run_job_id)
api_expect 200 GET "/api/v1/jobs?profile=$PID"
names=$(reply | j 'd.items.map(i=>i.name).join("|")')
case "|$names|" in *"|SAM - Refresh $NAME Subscriptions|"*) ;; *) fail "no scheduled download job in GET /api/v1/jobs: [$names]" ;; esac
expect_eq true "$(reply | j 'd.items.every(i=>i.active&&i.next_run_at)')" "jobs active and scheduled"
info "published; jobs: $names"
if [ -n "$RUN" ]; then
  wait_job "$RUN"
  expect_eq success "$JOB_OUTCOME" "the first download ($(j d.message <"$FL_WORK/job.json"))"
fi

# ---- a second profile for the same account: 409
api_expect 409 POST /api/v1/profiles "$(form "$CLIENT_ID" "$SIM_AUTH")"
reply | j d.message | grep -qi 'already' || fail "the 409 does not say the account already has a profile: $(reply)"
api_expect 200 GET /api/v1/profiles
expect_eq 1 "$(reply | j d.items.length)" "still one profile"

# ---- secrets: never in clear on disk or in the logs
no_clear_secrets "$SECRET" "$CODE"
stop_all
no_clear_secrets "$SECRET" "$CODE"
info "PASS"
