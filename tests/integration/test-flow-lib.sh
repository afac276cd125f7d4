# shellcheck shell=bash disable=SC2034
# test-flow-lib.sh: sourced by tests/integration/test-flow-*.sh. Starts the
# real reference host (`samhost serve`) and the real DocuSign simulator on
# 127.0.0.1:0 (ports from their JSON lines), over HTTPS with a throwaway CA
# made by the openssl CLI; every process and file dies with the test (trap).
#
# Environment (set by tests/integration/flow.cmake): SAMHOST, SIM, PLUGIN
# (the plugin manifest). Needs curl, openssl and node (JSON); exits 77 (SKIP)
# when one of them is missing.
set -euo pipefail

FL_NAME=${FL_NAME:-$(basename "$0" .sh)}
fl_host_pid=""
fl_sim_pid=""
FL_WORK=""

fail() {
  echo "FAIL [$FL_NAME]: $*" >&2
  exit 1
}
info() { echo "[$FL_NAME] $*"; }

for t in curl openssl node; do
  command -v "$t" >/dev/null || {
    echo "SKIP: $t is not installed"
    exit 77
  }
done
for v in SAMHOST SIM PLUGIN; do
  [ -n "${!v:-}" ] && [ -e "${!v}" ] || fail "\$$v is not set to an existing file [${!v:-}]"
done

fl_stop() { # pid: SIGTERM, wait; returns the exit status
  local pid=$1 rc=0
  [ -n "$pid" ] || return 0
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || rc=$?
  fi
  return "$rc"
}

fl_cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  fl_stop "$fl_host_pid" || true
  fl_stop "$fl_sim_pid" || true
  if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ] && [ -n "$FL_WORK" ]; then
    echo "--- last lines of samhost serve's stderr:" >&2
    tail -n 20 "$FL_WORK/serve.err" 2>/dev/null >&2 || true
    echo "--- last lines of docusign-sim's stderr:" >&2
    tail -n 10 "$FL_WORK/sim.err" 2>/dev/null >&2 || true
  fi
  [ -n "$FL_WORK" ] && rm -rf "$FL_WORK"
  exit "$rc"
}
trap fl_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
FL_WORK=$(mktemp -d "${TMPDIR:-/tmp}/$FL_NAME-XXXXXX")

# j EXPR: a JavaScript expression over the JSON on stdin (d); objects are
# printed as JSON, null/undefined as nothing.
j() { node -e 'let s="";process.stdin.on("data",c=>s+=c).on("end",()=>{let d;try{d=JSON.parse(s)}catch(e){console.error("not JSON: "+s.slice(0,300));process.exit(2)}const v=('"$1"');process.stdout.write(v===undefined||v===null?"":typeof v==="object"?JSON.stringify(v):String(v));});'; }

# expect_eq WANT GOT WHAT
expect_eq() { [ "$1" = "$2" ] || fail "$3: want [$1], got [$2]"; }

fl_wait_json() { # file pid name
  local i
  for i in $(seq 1 600); do
    grep -q '^{' "$1" 2>/dev/null && return 0
    kill -0 "$2" 2>/dev/null || fail "$3 exited early: $(tail -n 5 "${1%.out}.err")"
    sleep 0.1
  done
  fail "$3 printed no JSON line in 60 s"
}

# fl_make_ca: $FL_WORK/ca.pem, sim.pem (SAN IP:127.0.0.1), sim.key
fl_make_ca() {
  (
    cd "$FL_WORK"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
      -keyout ca.key -out ca.pem -days 1 -subj "/CN=$FL_NAME CA" \
      -addext "basicConstraints=critical,CA:TRUE" \
      -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
      -keyout sim.key -out sim.csr -subj "/CN=127.0.0.1" 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >ext.cnf
    openssl x509 -req -in sim.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
      -out sim.pem -days 1 -extfile ext.cnf 2>/dev/null
  ) || fail "openssl could not make the throwaway CA"
}

# fl_start_host: HOST_URL, HOST_TOKEN, HOST_DATA; SAM_SERVER/SAM_ADMIN_TOKEN
fl_start_host() {
  # only what this test sets counts, not a developer's own samhost settings
  unset SAM_DATA_DIR SAM_MASTER_KEY
  HOST_DATA="$FL_WORK/data"
  "$SAMHOST" serve --data-dir "$HOST_DATA" --listen 127.0.0.1:0 --test-mode \
    --plugin "$PLUGIN" \
    --plugin-config "{\"test_mode\":true,\"ca_file\":\"$FL_WORK/ca.pem\"}" \
    >"$FL_WORK/serve.out" 2>"$FL_WORK/serve.err" &
  fl_host_pid=$!
  fl_wait_json "$FL_WORK/serve.out" "$fl_host_pid" "samhost serve"
  HOST_URL=$(grep -m1 '^{' "$FL_WORK/serve.out" | j d.url)
  HOST_TOKEN=$(sed -n 's/^admin token (shown once): //p' "$FL_WORK/serve.out")
  [ -n "$HOST_URL" ] && [ -n "$HOST_TOKEN" ] || fail "samhost printed no URL or admin token"
  export SAM_SERVER="$HOST_URL" SAM_ADMIN_TOKEN="$HOST_TOKEN"
}

# fl_start_sim ARGS...: SIM_LINE, SIM_AUTH, SIM_CONTROL, SIM_ACCOUNT,
# SIM_INTEGRATION_USER. HTTPS with the throwaway CA; the host's redirect URI
# registered (start the host first).
fl_start_sim() {
  "$SIM" --cert "$FL_WORK/sim.pem" --key "$FL_WORK/sim.key" \
    --redirect-uri "$HOST_URL/oauth_redirect.do" "$@" \
    >"$FL_WORK/sim.out" 2>"$FL_WORK/sim.err" &
  fl_sim_pid=$!
  fl_wait_json "$FL_WORK/sim.out" "$fl_sim_pid" "docusign-sim"
  SIM_LINE=$(grep -m1 '^{' "$FL_WORK/sim.out")
  SIM_AUTH=$(j d.auth_base <<<"$SIM_LINE")
  SIM_CONTROL=$(j d.control <<<"$SIM_LINE")
  SIM_ACCOUNT=$(j d.account_id <<<"$SIM_LINE")
  SIM_INTEGRATION_USER=$(j d.integration_user <<<"$SIM_LINE")
  case "$SIM_AUTH" in https://127.0.0.1:*) ;; *) fail "the simulator is not on HTTPS [$SIM_AUTH]" ;; esac
}

# api METHOD PATH [BODY]: the host's REST API with the admin token; the
# reply body in $FL_WORK/reply.json, the status in API_STATUS.
api() {
  local args=(-sS -o "$FL_WORK/reply.json" -w '%{http_code}' -X "$1"
    -H "Authorization: Bearer $HOST_TOKEN")
  if [ $# -ge 3 ]; then
    args+=(-H 'Content-Type: application/json' -H 'X-SAM-CSRF: 1' --data-binary "$3")
  elif [ "$1" != GET ]; then
    args+=(-H 'X-SAM-CSRF: 1')
  fi
  API_STATUS=$(curl "${args[@]}" "$HOST_URL$2") || fail "curl $1 $2 failed"
}
reply() { cat "$FL_WORK/reply.json"; }

# api_ok METHOD PATH [BODY] WANT_STATUS: api, then checks the status
api_expect() {
  local want=$1
  shift
  api "$@"
  [ "$API_STATUS" = "$want" ] || fail "$1 $2: want HTTP $want, got $API_STATUS: $(head -c 600 "$FL_WORK/reply.json")"
}

# sim_get PATH: the simulator's control API (JSON on stdout)
sim_get() { curl -fsS "$SIM_CONTROL$1" || fail "GET $SIM_CONTROL$1 failed"; }
sim_post() { curl -fsS -X POST -H 'Content-Type: application/json' -d "$2" "$SIM_CONTROL$1" || fail "POST $SIM_CONTROL$1 failed"; }

# wait_job JOB_ID: polls GET /api/v1/job-results/{id} until it ends; the
# result in $FL_WORK/job.json, the outcome in JOB_OUTCOME
wait_job() {
  local i
  for i in $(seq 1 1200); do
    api_expect 200 GET "/api/v1/job-results/$1"
    JOB_OUTCOME=$(reply | j d.outcome)
    case "$JOB_OUTCOME" in
    success | partial | failure | canceled)
      cp "$FL_WORK/reply.json" "$FL_WORK/job.json"
      return 0
      ;;
    esac
    sleep 0.1
  done
  fail "job $1 did not end in 120 s"
}

# all_items LIST PROFILE: every item of a related list, as one JSON array
all_items() {
  local cursor="" out="$FL_WORK/items-$1.json" q
  echo '[]' >"$out"
  while :; do
    q="limit=500"
    [ -n "$cursor" ] && q="$q&cursor=$cursor"
    api_expect 200 GET "/api/v1/profiles/$2/lists/$1?$q"
    node -e 'const fs=require("fs");const a=JSON.parse(fs.readFileSync(process.argv[1]));const r=JSON.parse(fs.readFileSync(process.argv[2]));fs.writeFileSync(process.argv[1],JSON.stringify(a.concat(r.items)));' "$out" "$FL_WORK/reply.json"
    cursor=$(reply | j d.next_cursor)
    [ -n "$cursor" ] || break
  done
  cat "$out"
}

# sim_users: every user of the simulator, as one JSON array
sim_users() {
  local start=0 out="$FL_WORK/sim-users.json" n
  echo '[]' >"$out"
  while :; do
    sim_get "/users?start=$start&count=1000" >"$FL_WORK/sim-page.json"
    n=$(node -e 'const fs=require("fs");const a=JSON.parse(fs.readFileSync(process.argv[1]));let r=JSON.parse(fs.readFileSync(process.argv[2]));r=Array.isArray(r)?r:(r.users||[]);fs.writeFileSync(process.argv[1],JSON.stringify(a.concat(r)));console.log(r.length)' "$out" "$FL_WORK/sim-page.json")
    [ "$n" -gt 0 ] || break
    start=$((start + n))
  done
  cat "$out"
}

# follow_consent URL: the browser's trip with auto-consent: the simulator
# redirects to the host's /oauth_redirect.do, which must say Connected.
follow_consent() {
  curl -sS -L --cacert "$FL_WORK/ca.pem" -o "$FL_WORK/redirect.html" "$1" ||
    fail "following the consent URL failed"
  grep -q '<h1>Connected</h1>' "$FL_WORK/redirect.html" ||
    fail "/oauth_redirect.do did not say Connected: $(sed 's/<[^>]*>/ /g' "$FL_WORK/redirect.html" | head -c 400)"
}

# no_clear_secrets VALUE...: none of the values in the data dir or the logs
no_clear_secrets() {
  local v f
  for v in "$@"; do
    [ -n "$v" ] || continue
    for f in "$HOST_DATA"/* "$FL_WORK/serve.out" "$FL_WORK/serve.err"; do
      [ -f "$f" ] || continue
      if grep -aqF -- "$v" "$f"; then
        fail "a secret value [${v:0:6}...] is in clear in [$(basename "$f")]"
      fi
    done
  done
}

# stop_all: SIGTERM both; the host must exit 0 (clean shutdown)
stop_all() {
  local rc=0
  fl_stop "$fl_host_pid" || rc=$?
  fl_host_pid=""
  [ "$rc" -eq 0 ] || fail "samhost serve exited [$rc] on SIGTERM: $(tail -n 5 "$FL_WORK/serve.err")"
  fl_stop "$fl_sim_pid" || rc=$?
  fl_sim_pid=""
  [ "$rc" -eq 0 ] || fail "docusign-sim exited [$rc] on SIGTERM"
}
