/*
 * sim_route.c: maps a request to its handler. REST calls go through, in
 * this order: the rate limits (A20: rejected calls are not counted), the
 * Bearer token (A18), the account id (A19), then the resource.
 */
#include "sim.h"

#include <string.h>
#include <strings.h>

static int account_matches(const sim_account *a, const char *id, size_t n) {
  return (strlen(a->guid) == n && strncasecmp(a->guid, id, n) == 0) ||
         (strlen(a->external_id) == n && strncmp(a->external_id, id, n) == 0);
}

/* "GET /v2.1/users/{id}" style keys, so stats do not grow per user. */
static void stat_key(sim_req *r, const char *ver, const char *rest) {
  const char *res = rest;
  char tmp[48];
  const char *slash;

  if (*res == '\0') {
    snprintf(r->stat_key, sizeof(r->stat_key), "%s /%s/account", r->method,
             ver);
    return;
  }
  slash = strchr(res + 1, '/');
  if (slash != NULL) {
    size_t n = (size_t)(slash - res);
    if (n >= sizeof(tmp))
      n = sizeof(tmp) - 1;
    memcpy(tmp, res, n);
    tmp[n] = '\0';
    snprintf(r->stat_key, sizeof(r->stat_key), "%s /%s%s/{id}", r->method, ver,
             tmp);
  } else {
    snprintf(r->stat_key, sizeof(r->stat_key), "%s /%s%s", r->method, ver, res);
  }
}

static int route_rest(sim_req *r) {
  sim_ctx *c = r->ctx;
  const char *p = r->path + strlen("/restapi/");
  const char *ver, *id, *rest;
  size_t idlen, hl = 0;
  const char *auth;
  int v2 = 0;

  if (strncmp(p, "v2.1/accounts/", 14) == 0) {
    ver = "v2.1";
    id = p + 14;
  } else if (strncmp(p, "v2/accounts/", 12) == 0) {
    ver = "v2";
    id = p + 12;
    v2 = 1;
  } else {
    snprintf(r->stat_key, sizeof(r->stat_key), "%s /restapi/other", r->method);
    sim_limits_headers(r);
    return sim_reply_error(r, 404, "RESOURCE_NOT_FOUND",
                           "The URL provided does not resolve to a resource.");
  }
  rest = strchr(id, '/');
  if (rest == NULL)
    rest = id + strlen(id);
  idlen = (size_t)(rest - id);
  stat_key(r, ver, rest);
  if (sim_limits_check(r) != 0)
    return 0;
  auth = sim_header(r, H2O_TOKEN_AUTHORIZATION, &hl);
  if (sim_oauth_check_bearer(c, auth, hl) != 0)
    return sim_reply_error(r, 401,
                           c->quirks.auth_error_code[0]
                               ? c->quirks.auth_error_code
                               : "AUTHORIZATION_INVALID_TOKEN",
                           "The access token provided is expired, revoked "
                           "or malformed.");
  if (!account_matches(&c->acct, id, idlen))
    return sim_reply_error(r, 400, "USER_DOES_NOT_BELONG_TO_SPECIFIED_ACCOUNT",
                           "The specified User is not a member of the "
                           "specified Account.");
  if (v2) {
    if (strncmp(rest, "/users", 6) == 0 && (rest[6] == '\0' || rest[6] == '/'))
      return sim_users_handle(r, rest + 6, 1);
  } else if (strncmp(rest, "/users", 6) == 0 &&
             (rest[6] == '\0' || rest[6] == '/')) {
    return sim_users_handle(r, rest + 6, 0);
  } else if (strcmp(rest, "/envelopes") == 0) {
    return sim_envelopes_handle(r);
  } else {
    return sim_account_handle(r, rest);
  }
  return sim_reply_error(r, 404, "RESOURCE_NOT_FOUND",
                         "The URL provided does not resolve to a resource.");
}

/*
 * Dispatches one request; exactly one reply is sent (now or later).
 * Loop thread. Returns 0.
 */
int sim_route(sim_req *r) {
  if (strncmp(r->path, "/_sim/", 6) == 0 || strcmp(r->path, "/_sim") == 0)
    return sim_control_handle(r);
  if (r->is_oauth)
    return sim_oauth_handle(r);
  if (r->is_rest)
    return route_rest(r);
  snprintf(r->stat_key, sizeof(r->stat_key), "%s /other", r->method);
  return sim_reply(r, 404, "text/plain", "not found\n", 10);
}
