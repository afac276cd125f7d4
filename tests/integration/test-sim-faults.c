/*
 * test-sim-faults.c: tools/docusign-sim limits (A20-A22), every scripted
 * fault, account changes during a download, stats, and HTTPS with a
 * throwaway CA (tests/common/test_tls.h).
 */
#include "sam_test.h"
#include "sim/sim_child.h"
#include "test_tls.h"

#include <curl/curl.h>
#include <time.h>
#include <unistd.h>

#define REDIRECT "http://127.0.0.1:9/cb"

static sim_child S;
static char AT[256], RT[256], BEARER[300];

static void sim_start(const char *const *extra, const char *cainfo) {
  const char *args[48];
  int n = 0, i;
  const char *base;

  args[n++] = "--auto-consent";
  args[n++] = "--redirect-uri";
  args[n++] = REDIRECT;
  for (i = 0; extra != NULL && extra[i] != NULL; i++)
    args[n++] = extra[i];
  args[n] = NULL;
  EXPECT_EQ_INT(0, sim_child_start(&S, SIM_EXE, args));
  base = S.https[0] ? S.https : S.http;
  EXPECT_EQ_INT(0, sim_child_login(base, "sim-integration-key", "sim-secret",
                                   REDIRECT, cainfo, AT, sizeof(AT), RT,
                                   sizeof(RT)));
  snprintf(BEARER, sizeof(BEARER), "Bearer %s", AT);
}

static void stop(void) {
  EXPECT_EQ_INT(0, sim_child_stop(&S));
}

static long users_call(sim_resp *r) {
  char url[512];

  snprintf(url, sizeof(url), "%s/users?count=5", S.rest);
  sim_http("GET", url, BEARER, NULL, NULL, NULL, r);
  return r->status;
}

static long hdr_long(const sim_resp *r, const char *name) {
  char v[64];

  if (!sim_resp_header(r, name, v, sizeof(v)))
    SAM_T_FAIL("expected header [%s]", name);
  return atol(v);
}

static void expect_code(const sim_resp *r, const char *code) {
  json_object *o = sim_resp_json(r);

  EXPECT_EQ_STR(code, sim_jstr(o, "errorCode"));
  json_object_put(o);
}

static void expect_rate_headers(const sim_resp *r) {
  hdr_long(r, "X-RateLimit-Limit");
  hdr_long(r, "X-RateLimit-Remaining");
  hdr_long(r, "X-RateLimit-Reset");
  hdr_long(r, "X-BurstLimit-Limit");
  hdr_long(r, "X-BurstLimit-Remaining");
}

/* ---- limits ---- */

static void test_limits(void) {
  /* day-long windows: no window boundary can fall inside the checks */
  const char *args[] = {"--users",
                        "5",
                        "--burst-limit",
                        "3",
                        "--burst-window-s",
                        "86400",
                        "--hourly-window-s",
                        "86400",
                        NULL};
  sim_resp r;
  char v[32];
  int i;
  long reset;

  sim_start(args, NULL);
  for (i = 0; i < 3; i++) {
    EXPECT_EQ_INT(200, users_call(&r));
    expect_rate_headers(&r);
    EXPECT_EQ_INT(3000, hdr_long(&r, "X-RateLimit-Limit"));
    EXPECT_EQ_INT(2999 - i, hdr_long(&r, "X-RateLimit-Remaining"));
    EXPECT_EQ_INT(2 - i, hdr_long(&r, "X-BurstLimit-Remaining"));
    reset = hdr_long(&r, "X-RateLimit-Reset");
    EXPECT_TRUE(reset > (long)time(NULL) && reset % 86400 == 0);
    sim_resp_free(&r);
  }
  for (i = 0; i < 2; i++) {
    /* A20: burst -> 429; A22: headers on errors; rejected calls are not
     * counted */
    EXPECT_EQ_INT(429, users_call(&r));
    expect_code(&r, "BURST_APIINVOCATION_LIMIT_EXCEEDED");
    EXPECT_EQ_INT(2997, hdr_long(&r, "X-RateLimit-Remaining"));
    EXPECT_EQ_INT(0, hdr_long(&r, "X-BurstLimit-Remaining"));
    EXPECT_EQ_INT(0, sim_resp_header(&r, "Retry-After", v, sizeof(v)));
    sim_resp_free(&r);
  }
  /* the switches: swapped statuses and Retry-After */
  EXPECT_EQ_INT(
      200,
      sim_control(&S, "limits", "{\"swap_status\":true,\"retry_after\":true}"));
  EXPECT_EQ_INT(400, users_call(&r));
  expect_code(&r, "BURST_APIINVOCATION_LIMIT_EXCEEDED");
  EXPECT_TRUE(hdr_long(&r, "Retry-After") >= 1);
  sim_resp_free(&r);
  /* hourly: 400 by default, 429 swapped */
  EXPECT_EQ_INT(200, sim_control(&S, "limits",
                                 "{\"swap_status\":false,\"burst\":100,"
                                 "\"hourly\":2,\"reset\":true}"));
  EXPECT_EQ_INT(200, users_call(&r));
  sim_resp_free(&r);
  EXPECT_EQ_INT(200, users_call(&r));
  sim_resp_free(&r);
  EXPECT_EQ_INT(400, users_call(&r));
  expect_code(&r, "HOURLY_APIINVOCATION_LIMIT_EXCEEDED");
  EXPECT_EQ_INT(0, hdr_long(&r, "X-RateLimit-Remaining"));
  EXPECT_TRUE(hdr_long(&r, "Retry-After") >= 1);
  sim_resp_free(&r);
  EXPECT_EQ_INT(200, sim_control(&S, "limits", "{\"swap_status\":true}"));
  EXPECT_EQ_INT(429, users_call(&r));
  expect_code(&r, "HOURLY_APIINVOCATION_LIMIT_EXCEEDED");
  sim_resp_free(&r);
  /* a short window for tests: the quota comes back at X-RateLimit-Reset */
  EXPECT_EQ_INT(
      200, sim_control(&S, "limits", "{\"hourly_window_s\":2,\"reset\":true}"));
  EXPECT_EQ_INT(200, users_call(&r));
  sim_resp_free(&r);
  EXPECT_EQ_INT(200, users_call(&r));
  sim_resp_free(&r);
  EXPECT_EQ_INT(429, users_call(&r));
  reset = hdr_long(&r, "X-RateLimit-Reset");
  sim_resp_free(&r);
  while ((long)time(NULL) < reset)
    nanosleep(&(struct timespec){0, 50 * 1000 * 1000}, NULL);
  EXPECT_EQ_INT(200, users_call(&r));
  sim_resp_free(&r);
  /* a window moved off the clock's boundary: it ends when asked, fresh */
  EXPECT_EQ_INT(200, sim_control(&S, "limits",
                                 "{\"hourly_window_s\":3600,"
                                 "\"hourly_resets_in_s\":100}"));
  EXPECT_EQ_INT(200, users_call(&r));
  reset = hdr_long(&r, "X-RateLimit-Reset") - (long)time(NULL);
  EXPECT_TRUE(reset >= 99 && reset <= 100);
  EXPECT_EQ_INT(1, hdr_long(&r, "X-RateLimit-Remaining"));
  sim_resp_free(&r);
  EXPECT_EQ_INT(400, sim_control(&S, "limits", "{\"hourly_resets_in_s\":0}"));
  /* the burst window too: two calls, a refusal, then the window ends when
   * asked although 30 s windows would end on a multiple of 30 s */
  EXPECT_EQ_INT(
      200, sim_control(&S, "limits",
                       "{\"hourly\":1000,\"burst\":2,\"swap_status\":false,"
                       "\"burst_window_s\":30,\"reset\":true,"
                       "\"burst_resets_in_s\":2}"));
  {
    time_t until = time(NULL) + 2;

    EXPECT_EQ_INT(200, users_call(&r));
    sim_resp_free(&r);
    EXPECT_EQ_INT(200, users_call(&r));
    sim_resp_free(&r);
    EXPECT_EQ_INT(429, users_call(&r));
    sim_resp_free(&r);
    while (time(NULL) < until)
      nanosleep(&(struct timespec){0, 50 * 1000 * 1000}, NULL);
    EXPECT_EQ_INT(200, users_call(&r));
    EXPECT_EQ_INT(1, hdr_long(&r, "X-BurstLimit-Remaining"));
    sim_resp_free(&r);
  }
  EXPECT_EQ_INT(400, sim_control(&S, "limits", "{\"burst_resets_in_s\":31}"));
  EXPECT_EQ_INT(200, sim_control(&S, "limits", "{\"burst\":1000}"));
  /* disabled limits: never refused, headers still sent */
  EXPECT_EQ_INT(200, sim_control(&S, "limits", "{\"enabled\":false}"));
  for (i = 0; i < 5; i++) {
    EXPECT_EQ_INT(200, users_call(&r));
    expect_rate_headers(&r);
    sim_resp_free(&r);
  }
  /* OAuth replies carry no rate headers even then */
  {
    char url[256];
    snprintf(url, sizeof(url), "%s/oauth/userinfo", S.http);
    sim_http("GET", url, BEARER, NULL, NULL, NULL, &r);
    EXPECT_EQ_INT(200, r.status);
    EXPECT_EQ_INT(0, sim_resp_header(&r, "X-RateLimit-Limit", v, sizeof(v)));
    sim_resp_free(&r);
  }
  stop();
}

/* ---- wire faults ---- */

static double now_ms(void) {
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static void test_faults(void) {
  const char *args[] = {"--users", "40", "--no-limits", NULL};
  sim_resp r;
  json_object *o;
  double t0;

  sim_start(args, NULL);
  EXPECT_EQ_INT(200, sim_control(&S, "faults",
                                 "{\"next_500\":1,\"next_502\":1,"
                                 "\"next_503\":1,\"next_429\":1}"));
  EXPECT_EQ_INT(500, users_call(&r));
  expect_code(&r, "UNSPECIFIED_ERROR");
  expect_rate_headers(&r);
  sim_resp_free(&r);
  EXPECT_EQ_INT(502, users_call(&r));
  sim_resp_free(&r);
  EXPECT_EQ_INT(503, users_call(&r));
  sim_resp_free(&r);
  EXPECT_EQ_INT(429, users_call(&r));
  expect_code(&r, "BURST_APIINVOCATION_LIMIT_EXCEEDED");
  sim_resp_free(&r);
  EXPECT_EQ_INT(200, users_call(&r));
  sim_resp_free(&r);
  /* a reset connection: no HTTP reply at all */
  EXPECT_EQ_INT(200, sim_control(&S, "faults", "{\"next_reset\":1}"));
  users_call(&r);
  EXPECT_TRUE(r.curl_rc == CURLE_GOT_NOTHING || r.curl_rc == CURLE_RECV_ERROR ||
              r.curl_rc == CURLE_SEND_ERROR);
  sim_resp_free(&r);
  /* a truncated body: the connection ends before Content-Length */
  EXPECT_EQ_INT(200, sim_control(&S, "faults", "{\"next_truncate\":1}"));
  users_call(&r);
  EXPECT_EQ_INT(CURLE_PARTIAL_FILE, r.curl_rc);
  sim_resp_free(&r);
  /* a malformed body: HTTP 200, JSON that does not parse */
  EXPECT_EQ_INT(200, sim_control(&S, "faults", "{\"next_malformed\":1}"));
  EXPECT_EQ_INT(200, users_call(&r));
  o = sim_resp_json(&r);
  EXPECT_TRUE(o == NULL);
  sim_resp_free(&r);
  /* a slow body arrives whole, piece by piece */
  EXPECT_EQ_INT(200, sim_control(&S, "faults",
                                 "{\"next_slow\":1,\"slow_chunk_ms\":5,"
                                 "\"slow_chunk_bytes\":300}"));
  EXPECT_EQ_INT(200, users_call(&r));
  EXPECT_EQ_INT(CURLE_OK, r.curl_rc);
  o = sim_resp_json(&r);
  EXPECT_EQ_STR("5", sim_jstr(o, "resultSetSize"));
  json_object_put(o);
  sim_resp_free(&r);
  /* latency: the reply cannot come before the timer fires */
  EXPECT_EQ_INT(
      200, sim_control(&S, "faults", "{\"latency_ms\":200,\"jitter_ms\":50}"));
  t0 = now_ms();
  EXPECT_EQ_INT(200, users_call(&r));
  EXPECT_TRUE(now_ms() - t0 >= 199.0);
  sim_resp_free(&r);
  /* rates: 1.0 means every call */
  EXPECT_EQ_INT(200, sim_control(&S, "faults",
                                 "{\"latency_ms\":0,\"jitter_ms\":0,"
                                 "\"rate_503\":1}"));
  EXPECT_EQ_INT(503, users_call(&r));
  sim_resp_free(&r);
  EXPECT_EQ_INT(503, users_call(&r));
  sim_resp_free(&r);
  {
    char url[256];
    sim_resp d;
    snprintf(url, sizeof(url), "%s/_sim/faults", S.http);
    sim_http("DELETE", url, NULL, NULL, NULL, NULL, &d);
    EXPECT_EQ_INT(200, d.status);
    sim_resp_free(&d);
  }
  EXPECT_EQ_INT(200, users_call(&r));
  sim_resp_free(&r);
  /* scope oauth: the token endpoint fails, REST does not */
  EXPECT_EQ_INT(
      200, sim_control(&S, "faults", "{\"scope\":\"oauth\",\"next_503\":1}"));
  EXPECT_EQ_INT(200, users_call(&r));
  sim_resp_free(&r);
  {
    char url[256];
    snprintf(url, sizeof(url), "%s/oauth/token", S.http);
    sim_http("POST", url, "Basic eDp5", "grant_type=refresh_token",
             "application/x-www-form-urlencoded", NULL, &r);
    EXPECT_EQ_INT(503, r.status);
    sim_resp_free(&r);
  }
  EXPECT_EQ_INT(400, sim_control(&S, "faults", "{\"scope\":\"bogus\"}"));
  /* a bad field changes nothing, not even the good ones beside it */
  EXPECT_EQ_INT(200, sim_control(&S, "faults", "{\"latency_ms\":0}"));
  EXPECT_EQ_INT(400, sim_control(&S, "faults", "{\"rate500\":1}"));
  EXPECT_EQ_INT(400,
                sim_control(&S, "faults", "{\"latency_ms\":5,\"rate_500\":2}"));
  EXPECT_EQ_INT(400, sim_control(&S, "faults", "{\"next_429\":1.5}"));
  EXPECT_EQ_INT(400, sim_control(&S, "faults", "{\"jitter_ms\":\"5x\"}"));
  EXPECT_EQ_INT(400, sim_control(&S, "limits", "{\"burst_window_s\":0}"));
  EXPECT_EQ_INT(400, sim_control(&S, "limits", "{\"hourly\":\"abc\"}"));
  EXPECT_EQ_INT(400, sim_control(&S, "users/add", "{\"count\":\"abc\"}"));
  EXPECT_EQ_INT(400, sim_control(&S, "users/remove", "{\"count\":-1}"));
  {
    char url[300];
    sim_resp f;

    snprintf(url, sizeof(url), "%s/_sim/faults", S.http);
    sim_http("GET", url, NULL, NULL, NULL, NULL, &f);
    EXPECT_EQ_INT(200, f.status);
    EXPECT_TRUE(strstr(f.body, "\"latency_ms\":0,") != NULL);
    EXPECT_TRUE(strstr(f.body, "\"rate_500\":0,") != NULL);
    sim_resp_free(&f);
  }
  stop();
}

/* Bad command-line values stop the simulator with a message that names
 * the option and the value. */
static void test_bad_options(void) {
  static const char *const cases[][2] = {
      {"--users abc", "bad --users [abc]"},
      {"--users -5", "bad --users [-5]"},
      {"--port 99999", "bad --port [99999]"},
      {"--seed x1", "bad --seed [x1]"},
      {"--burst-window-s 0", "bad --burst-window-s [0]"},
      {"--latency-ms 10x", "bad --latency-ms [10x]"},
      {"--rate-500 2", "bad --rate-500 [2]"},
      {"--fault-scope nope", "bad --fault-scope [nope]"},
      {"--cert only.pem", "--cert and --key go together"},
  };
  size_t i;

  for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    char cmd[600], out[1024] = "";
    size_t n;
    FILE *p;

    /* timeout: a simulator that took the value would serve forever */
    snprintf(cmd, sizeof(cmd), "timeout 10 %s %s 2>&1", SIM_EXE, cases[i][0]);
    p = popen(cmd, "r");
    EXPECT_TRUE(p != NULL);
    n = fread(out, 1, sizeof(out) - 1, p);
    out[n] = '\0';
    EXPECT_TRUE(pclose(p) != 0); /* exited non-zero, never served */
    if (strstr(out, cases[i][1]) == NULL)
      fprintf(stderr, "case [%s] printed [%s]\n", cases[i][0], out);
    EXPECT_TRUE(strstr(out, cases[i][1]) != NULL);
  }
}

/* ---- the account changes while a download runs ---- */

static void test_changes_during_download(void) {
  const char *args[] = {"--users", "250", NULL};
  sim_resp r;
  json_object *o;
  char url[512];
  long total1, total2;

  sim_start(args, NULL);
  EXPECT_EQ_INT(
      200, sim_control(&S, "schedule", "{\"after_users_list\":1,\"add\":7}"));
  snprintf(url, sizeof(url), "%s/users?count=100&start_position=0", S.rest);
  sim_http("GET", url, BEARER, NULL, NULL, NULL, &r);
  o = sim_resp_json(&r);
  total1 = atol(sim_jstr(o, "totalSetSize"));
  json_object_put(o);
  sim_resp_free(&r);
  snprintf(url, sizeof(url), "%s/users?count=100&start_position=100", S.rest);
  sim_http("GET", url, BEARER, NULL, NULL, NULL, &r);
  o = sim_resp_json(&r);
  total2 = atol(sim_jstr(o, "totalSetSize"));
  json_object_put(o);
  sim_resp_free(&r);
  EXPECT_EQ_INT(250, total1);
  EXPECT_EQ_INT(257, total2);
  EXPECT_EQ_INT(200, sim_control(&S, "schedule",
                                 "{\"after_users_list\":1,\"remove\":10}"));
  sim_http("GET", url, BEARER, NULL, NULL, NULL, &r);
  sim_resp_free(&r);
  sim_http("GET", url, BEARER, NULL, NULL, NULL, &r);
  o = sim_resp_json(&r);
  EXPECT_EQ_INT(247, atol(sim_jstr(o, "totalSetSize")));
  json_object_put(o);
  sim_resp_free(&r);
  /* direct adds and removes */
  {
    char body[256];
    const char *id;
    snprintf(url, sizeof(url), "%s/_sim/users/add", S.http);
    sim_http("POST", url, NULL,
             "{\"count\":2,\"userStatus\":\"ActivationSent\","
             "\"permissionProfileName\":\"DocuSign Viewer\"}",
             "application/json", NULL, &r);
    EXPECT_EQ_INT(200, r.status);
    o = sim_resp_json(&r);
    id = json_object_get_string(
        json_object_array_get_idx(json_object_object_get(o, "userIds"), 0));
    snprintf(body, sizeof(body), "{\"userIds\":[\"%s\"]}", id);
    json_object_put(o);
    sim_resp_free(&r);
    EXPECT_EQ_INT(200, sim_control(&S, "users/remove", body));
  }
  snprintf(url, sizeof(url), "%s/_sim/stats", S.http);
  sim_http("GET", url, NULL, NULL, NULL, NULL, &r);
  o = sim_resp_json(&r);
  EXPECT_EQ_INT(248, json_object_get_int(json_object_object_get(
                         json_object_object_get(o, "users"), "total")));
  json_object_put(o);
  sim_resp_free(&r);
  stop();
}

static size_t discard(char *p, size_t size, size_t n, void *ud) {
  (void)p;
  (void)ud;
  return size * n;
}

/* ---- stats: counts per endpoint and status, peak concurrency ---- */

static void test_stats(void) {
  const char *args[] = {"--users", "20", NULL};
  CURLM *m;
  CURL *e[4];
  struct curl_slist *h;
  char url[512], auth[320];
  int running = 1, i;
  sim_resp r;
  json_object *o, *eps;
  size_t k;
  long peak, ok200 = 0;

  sim_start(args, NULL);
  EXPECT_EQ_INT(200, sim_control(&S, "stats/reset", "{}"));
  /* long enough that all four requests arrive while the first waits */
  EXPECT_EQ_INT(200, sim_control(&S, "faults", "{\"latency_ms\":2000}"));
  m = curl_multi_init();
  snprintf(auth, sizeof(auth), "Authorization: %s", BEARER);
  h = curl_slist_append(NULL, auth);
  snprintf(url, sizeof(url), "%s/users?count=2", S.rest);
  for (i = 0; i < 4; i++) {
    e[i] = curl_easy_init();
    curl_easy_setopt(e[i], CURLOPT_URL, url);
    curl_easy_setopt(e[i], CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(e[i], CURLOPT_WRITEFUNCTION, discard);
    curl_multi_add_handle(m, e[i]);
  }
  while (running) {
    curl_multi_perform(m, &running);
    if (running)
      curl_multi_poll(m, NULL, 0, 100, NULL);
  }
  for (i = 0; i < 4; i++) {
    curl_multi_remove_handle(m, e[i]);
    curl_easy_cleanup(e[i]);
  }
  curl_multi_cleanup(m);
  curl_slist_free_all(h);
  EXPECT_EQ_INT(200, sim_control(&S, "faults", "{\"latency_ms\":0}"));
  users_call(&r);
  sim_resp_free(&r);
  {
    char u2[512];
    snprintf(u2, sizeof(u2), "%s/users?count=0", S.rest);
    sim_http("GET", u2, BEARER, NULL, NULL, NULL, &r);
    sim_resp_free(&r);
  }
  snprintf(url, sizeof(url), "%s/_sim/stats", S.http);
  sim_http("GET", url, NULL, NULL, NULL, NULL, &r);
  o = sim_resp_json(&r);
  peak = json_object_get_int(json_object_object_get(o, "peak_concurrent"));
  printf("peak concurrent requests seen: %ld\n", peak);
  EXPECT_TRUE(peak >= 2);
  eps = json_object_object_get(o, "endpoints");
  for (k = 0; k < json_object_array_length(eps); k++) {
    json_object *x = json_object_array_get_idx(eps, k);
    if (strcmp(sim_jstr(x, "endpoint"), "GET /v2.1/users") == 0) {
      int st = json_object_get_int(json_object_object_get(x, "status"));
      long n = json_object_get_int(json_object_object_get(x, "count"));
      if (st == 200)
        ok200 = n;
      else
        EXPECT_EQ_INT(400, st);
    }
  }
  EXPECT_EQ_INT(5, ok200);
  EXPECT_EQ_INT(
      6,
      json_object_get_int(json_object_object_get(o, "users_list_calls")) + 1);
  json_object_put(o);
  sim_resp_free(&r);
  stop();
}

/* ---- shutdown while a delayed reply waits: exits at once, cleanly ---- */

static void test_shutdown_pending(void) {
  const char *args[] = {"--users", "5", NULL};
  CURLM *m;
  CURL *e;
  struct curl_slist *h;
  char url[512], auth[320];
  int running = 1;
  long inflight = 0;
  sim_resp r;

  sim_start(args, NULL);
  EXPECT_EQ_INT(200, sim_control(&S, "faults", "{\"latency_ms\":600000}"));
  m = curl_multi_init();
  e = curl_easy_init();
  snprintf(auth, sizeof(auth), "Authorization: %s", BEARER);
  h = curl_slist_append(NULL, auth);
  snprintf(url, sizeof(url), "%s/users", S.rest);
  curl_easy_setopt(e, CURLOPT_URL, url);
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
  curl_multi_add_handle(m, e);
  /* until the simulator holds the request (control calls are not delayed) */
  while (inflight < 1) {
    json_object *o;
    curl_multi_perform(m, &running);
    curl_multi_poll(m, NULL, 0, 20, NULL);
    snprintf(url, sizeof(url), "%s/_sim/stats", S.http);
    sim_http("GET", url, NULL, NULL, NULL, NULL, &r);
    o = sim_resp_json(&r);
    inflight = json_object_get_int(json_object_object_get(o, "inflight"));
    json_object_put(o);
    sim_resp_free(&r);
  }
  stop(); /* SIGTERM: the 10-minute wait must not hold the exit */
  while (running) {
    curl_multi_perform(m, &running);
    if (running)
      curl_multi_poll(m, NULL, 0, 50, NULL);
  }
  curl_multi_remove_handle(m, e);
  curl_easy_cleanup(e);
  curl_multi_cleanup(m);
  curl_slist_free_all(h);
}

/* ---- HTTPS with a throwaway CA ---- */

static void test_tls(void) {
  sam_test_tls tls;
  const char *args[8];
  sim_resp r;
  json_object *o;
  char url[512];

  EXPECT_EQ_INT(0, sam_test_tls_make(&tls));
  args[0] = "--cert";
  args[1] = tls.cert;
  args[2] = "--key";
  args[3] = tls.key;
  args[4] = "--users";
  args[5] = "3";
  args[6] = NULL;
  sim_start(args, tls.ca);
  EXPECT_TRUE(strncmp(S.https, "https://127.0.0.1:", 18) == 0);
  snprintf(url, sizeof(url), "%s/oauth/userinfo", S.https);
  sim_http("GET", url, BEARER, NULL, NULL, tls.ca, &r);
  EXPECT_EQ_INT(200, r.status);
  o = sim_resp_json(&r);
  EXPECT_EQ_STR(S.https, sim_jstr(json_object_array_get_idx(
                                      json_object_object_get(o, "accounts"), 0),
                                  "base_uri"));
  json_object_put(o);
  sim_resp_free(&r);
  snprintf(url, sizeof(url), "%s/restapi/v2.1/accounts/%s/users?count=3",
           S.https, S.account_id);
  sim_http("GET", url, BEARER, NULL, NULL, tls.ca, &r);
  EXPECT_EQ_INT(200, r.status);
  sim_resp_free(&r);
  /* an untrusted client fails the handshake */
  sim_http("GET", url, BEARER, NULL, NULL, "/dev/null", &r);
  EXPECT_TRUE(r.curl_rc != CURLE_OK);
  sim_resp_free(&r);
  stop();
  sam_test_tls_cleanup(&tls);
}

int main(void) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  SAM_T_RUN(test_limits);
  SAM_T_RUN(test_faults);
  SAM_T_RUN(test_bad_options);
  SAM_T_RUN(test_changes_during_download);
  SAM_T_RUN(test_stats);
  SAM_T_RUN(test_shutdown_pending);
  SAM_T_RUN(test_tls);
  curl_global_cleanup();
  return 0;
}
