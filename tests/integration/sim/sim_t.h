/*
 * sim_t.h: helpers shared by test-sim.c and test-sim-oauth.c: start the
 * simulator logged in, REST calls relative to the account, OAuth calls and
 * DocuSign-format checks. One copy per test executable (static state).
 */
#ifndef SIM_T_H
#define SIM_T_H

#include "sam_test.h"
#include "sim/sim_child.h"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <time.h>
#include <unistd.h>

#define REDIRECT "http://127.0.0.1:9/cb"

static sim_child S;
static char AT[256], RT[256], BEARER[300];

static inline void sim_start(const char *const *extra) {
  const char *args[48];
  int n = 0, i;

  args[n++] = "--auto-consent";
  args[n++] = "--redirect-uri";
  args[n++] = REDIRECT;
  for (i = 0; extra != NULL && extra[i] != NULL; i++)
    args[n++] = extra[i];
  args[n] = NULL;
  EXPECT_EQ_INT(0, sim_child_start(&S, SIM_EXE, args));
  EXPECT_EQ_INT(0, sim_child_login(S.http, "sim-integration-key", "sim-secret",
                                   REDIRECT, NULL, AT, sizeof(AT), RT,
                                   sizeof(RT)));
  snprintf(BEARER, sizeof(BEARER), "Bearer %s", AT);
}

static inline void stop(void) {
  EXPECT_EQ_INT(0, sim_child_stop(&S)); /* clean exit: loop closed empty */
}

/* REST call relative to the account; returns parsed body (or NULL). */
static inline json_object *rest(const char *method,
                                const char *body,
                                long want,
                                sim_resp *keep,
                                const char *fmt,
                                ...) {
  char path[1024], url[1400];
  va_list ap;
  sim_resp r;
  json_object *o;

  va_start(ap, fmt);
  vsnprintf(path, sizeof(path), fmt, ap);
  va_end(ap);
  snprintf(url, sizeof(url), "%s%s", S.rest, path);
  sim_http(method, url, BEARER, body, "application/json", NULL, &r);
  if (want != 0 && r.status != want)
    SAM_T_FAIL("expected [%ld] got [%ld] for [%s %s] body [%s]", want, r.status,
               method, path, r.body);
  o = sim_resp_json(&r);
  if (keep != NULL)
    *keep = r;
  else
    sim_resp_free(&r);
  return o;
}

static inline json_object *get(json_object *o, const char *k) {
  json_object *v = NULL;

  if (!json_object_object_get_ex(o, k, &v))
    return NULL;
  return v;
}

static inline void expect_error(json_object *o, const char *code) {
  EXPECT_EQ_STR(code, sim_jstr(o, "errorCode"));
  EXPECT_TRUE(sim_jstr(o, "message") != NULL);
}

/* A7: YYYY-MM-DDThh:mm:ss.fffffffZ */
static inline void expect_date(const char *s) {
  int i;

  EXPECT_TRUE(s != NULL);
  EXPECT_EQ_INT(28, strlen(s));
  for (i = 0; i < 28; i++) {
    char ch = s[i];
    if (i == 4 || i == 7)
      EXPECT_TRUE(ch == '-');
    else if (i == 10)
      EXPECT_TRUE(ch == 'T');
    else if (i == 13 || i == 16)
      EXPECT_TRUE(ch == ':');
    else if (i == 19)
      EXPECT_TRUE(ch == '.');
    else if (i == 27)
      EXPECT_TRUE(ch == 'Z');
    else
      EXPECT_TRUE(ch >= '0' && ch <= '9');
  }
}

/* ---- OAuth ---- */

static inline void
basic_header(char *out, size_t n, const char *id, const char *secret) {
  char pair[256];

  snprintf(pair, sizeof(pair), "%s:%s", id, secret);
  snprintf(out, n, "Basic ");
  EVP_EncodeBlock((unsigned char *)out + 6, (const unsigned char *)pair,
                  (int)strlen(pair));
}

static inline json_object *
token_call(const char *form, const char *secret, long want) {
  char url[256], basic[512];
  sim_resp r;
  json_object *o;

  snprintf(url, sizeof(url), "%s/oauth/token", S.http);
  basic_header(basic, sizeof(basic), "sim-integration-key", secret);
  sim_http("POST", url, basic, form, "application/x-www-form-urlencoded", NULL,
           &r);
  EXPECT_EQ_INT(want, r.status);
  /* A22: no rate headers on OAuth replies */
  {
    char v[32];
    EXPECT_EQ_INT(0, sim_resp_header(&r, "X-RateLimit-Limit", v, sizeof(v)));
  }
  o = sim_resp_json(&r);
  sim_resp_free(&r);
  return o;
}

static inline void
auth_redirect(const char *query, long want, char *loc, size_t n) {
  char url[2048];
  sim_resp r;

  snprintf(url, sizeof(url), "%s/oauth/auth?%s", S.http, query);
  sim_http("GET", url, NULL, NULL, NULL, NULL, &r);
  EXPECT_EQ_INT(want, r.status);
  if (loc != NULL && !sim_resp_header(&r, "location", loc, n))
    loc[0] = '\0';
  sim_resp_free(&r);
}

#endif /* SIM_T_H */
