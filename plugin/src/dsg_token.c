/*
 * dsg_token.c: the per-profile token cache: load from the "oauth_tokens"
 * secret, single-flight refresh, rotation persisted before use (A14), and
 * the persisted "needs consent" state after a refused refresh (A17).
 *
 * One profile does one thing at a time (load, refresh or persist); every
 * caller that asks meanwhile waits in the profile's queue and is served
 * when that one thing ends (pump()).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>
#include <openssl/crypto.h>

#include "dsg_action.h"
#include "dsg_api.h"
#include "dsg_log.h"
#include "dsg_token.h"

enum { IDLE = 0, BUSY_LOAD, BUSY_SECRET, BUSY_HTTP, BUSY_PERSIST, BUSY_RETRY };

/* After SAM_EAGAIN from a secret call (the host's write queue is full,
 * ABI.md 9.6): how long to wait before asking again. */
#define RETRY_MS 50

struct dsg_profile {
  dsg_profile *next;
  dsg_ctx *ctx;
  char *profile_id;
  char *client_id; /* what the cache was loaded for */
  char *instance;
  char *base_uri; /* cached userinfo base_uri */
  /* the cache */
  int loaded;
  int has_tokens;
  uint64_t loaded_ms; /* uv_now when the cache was last read or installed */
  int needs_consent;
  char *access;
  char *refresh;
  char *scope;
  int64_t expires_at; /* Unix seconds */
  int64_t obtained_at;
  uint64_t gen;           /* bumps with every new access token */
  uint64_t seq;           /* refreshes completed */
  uint64_t epoch;         /* bumps when a new consent installs tokens */
  uint64_t refresh_epoch; /* the epoch a running refresh started in */
  uint64_t load_epoch;    /* the epoch a running load started in */
  int dirty;              /* refreshed tokens not yet persisted: never served */
  char *doc;              /* the document being (or to be) persisted */
  int doc_consent;        /* doc is the needs-consent document */
  char reason[512];
  /* the one thing in flight */
  int busy;
  dsg_op_ref op;
  dsg_http_req *req;
  dsg_token_waiter *head;
  dsg_token_waiter *tail;
};

/* ---- small helpers ---- */

static void wipe_free(char *s) {
  if (s == NULL)
    return;
  OPENSSL_cleanse(s, strlen(s));
  free(s);
}

void dsg_token_free_json(char *json) {
  wipe_free(json);
}

static int set_str(char **dst, const char *src) {
  char *c = NULL;

  if (src != NULL) {
    c = strdup(src);
    if (c == NULL)
      return SAM_ENOMEM;
  }
  wipe_free(*dst);
  *dst = c;
  return 0;
}

static int streq(const char *a, const char *b) {
  if (a == NULL || b == NULL)
    return a == b;
  return strcmp(a, b) == 0;
}

static void clear_tokens(dsg_profile *p) {
  wipe_free(p->access);
  wipe_free(p->refresh);
  free(p->scope);
  p->access = p->refresh = p->scope = NULL;
  p->has_tokens = 0;
  p->expires_at = p->obtained_at = 0;
}

static dsg_profile *find(dsg_ctx *ctx, const char *profile_id) {
  dsg_profile *p;

  for (p = ctx->profiles; p != NULL; p = p->next)
    if (strcmp(p->profile_id, profile_id) == 0)
      return p;
  return NULL;
}

static dsg_profile *find_or_add(dsg_ctx *ctx, const char *profile_id) {
  dsg_profile *p = find(ctx, profile_id);

  if (p != NULL)
    return p;
  p = calloc(1, sizeof(*p));
  if (p == NULL)
    return NULL;
  p->profile_id = strdup(profile_id);
  if (p->profile_id == NULL) {
    free(p);
    return NULL;
  }
  p->ctx = ctx;
  p->next = ctx->profiles;
  ctx->profiles = p;
  return p;
}

static void profile_free(dsg_profile *p) {
  clear_tokens(p);
  wipe_free(p->doc);
  free(p->profile_id);
  free(p->client_id);
  free(p->instance);
  free(p->base_uri);
  free(p);
}

void dsg_token_free_all(dsg_ctx *ctx) {
  dsg_profile *p;
  dsg_profile *n;

  for (p = ctx->profiles; p != NULL; p = n) {
    n = p->next;
    profile_free(p);
  }
  ctx->profiles = NULL;
}

/* ---- the token document ---- */

/* The longest token life believed: DocuSign's access tokens live hours
 * (DOCUSIGN.md 2.2). A reply's expires_in is clamped to it, so a garbage
 * value (json-c turns 1e300 into INT64_MAX) cannot overflow now + it. */
#define MAX_TOKEN_LIFE_S (366 * 86400)

static int64_t expiry_of(int64_t now, int64_t expires_in) {
  if (expires_in > MAX_TOKEN_LIFE_S)
    expires_in = MAX_TOKEN_LIFE_S;
  return now + expires_in;
}

/* Builds the connected document; *out is malloc'd (wipe before free). */
static int doc_tokens(const char *access,
                      const char *refresh,
                      int64_t expires_at,
                      int64_t obtained_at,
                      const char *scope,
                      char **out) {
  json_object *o = json_object_new_object();
  const char *t;
  int rc = SAM_ENOMEM;

  *out = NULL;
  if (o == NULL)
    return SAM_ENOMEM;
  if (json_object_object_add(o, "access_token",
                             json_object_new_string(access)) != 0 ||
      json_object_object_add(o, "refresh_token",
                             json_object_new_string(refresh)) != 0 ||
      json_object_object_add(o, "expires_at",
                             json_object_new_int64(expires_at)) != 0 ||
      json_object_object_add(o, "obtained_at",
                             json_object_new_int64(obtained_at)) != 0 ||
      json_object_object_add(
          o, "scope", json_object_new_string(scope != NULL ? scope : "")) != 0)
    goto done;
  t = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
  if (t == NULL)
    goto done;
  *out = strdup(t);
  rc = *out != NULL ? 0 : SAM_ENOMEM;
  /* json-c keeps the text in the object's buffer: wipe it too. */
  OPENSSL_cleanse((char *)t, strlen(t));

done:
  json_object_put(o);
  return rc;
}

/* Reads a stored document into the cache. Returns 0 or SAM_EPROTO. */
static int doc_load(dsg_profile *p, const char *value, size_t len) {
  json_object *o = dsg_json_parse(value, len);
  json_object *v;
  const char *state;
  int rc = SAM_EPROTO;

  clear_tokens(p);
  p->needs_consent = 0;
  if (o == NULL || !json_object_is_type(o, json_type_object))
    goto done;
  state = dsg_json_str(o, "state");
  if (state != NULL && strcmp(state, "needs_consent") == 0) {
    p->needs_consent = 1;
    rc = 0;
    goto done;
  }
  if (dsg_json_str(o, "access_token") == NULL ||
      dsg_json_str(o, "refresh_token") == NULL ||
      !json_object_object_get_ex(o, "expires_at", &v))
    goto done;
  p->expires_at = json_object_get_int64(v);
  if (json_object_object_get_ex(o, "obtained_at", &v))
    p->obtained_at = json_object_get_int64(v);
  if (set_str(&p->access, dsg_json_str(o, "access_token")) != 0 ||
      set_str(&p->refresh, dsg_json_str(o, "refresh_token")) != 0 ||
      set_str(&p->scope, dsg_json_str(o, "scope")) != 0) {
    clear_tokens(p);
    rc = SAM_ENOMEM;
    goto done;
  }
  p->has_tokens = 1;
  p->gen++;
  rc = 0;

done:
  json_object_put(o);
  return rc;
}

/* ---- the queue ---- */

static dsg_token_waiter *pop(dsg_profile *p) {
  dsg_token_waiter *w = p->head;

  if (w == NULL)
    return NULL;
  p->head = w->next;
  if (p->head != NULL)
    p->head->prev = NULL;
  else
    p->tail = NULL;
  w->next = w->prev = NULL;
  w->queued = 0;
  return w;
}

void dsg_token_cancel(dsg_token_waiter *w) {
  dsg_profile *p;
  dsg_token_waiter **head;

  if (w == NULL || !w->queued)
    return;
  if (w->failing != NULL) {
    /* Detached by fail_all, its cb not run yet: leave that list. */
    head = w->failing;
    if (w->prev != NULL)
      w->prev->next = w->next;
    else
      *head = w->next;
    if (w->next != NULL)
      w->next->prev = w->prev;
  } else {
    p = w->p;
    if (w->prev != NULL)
      w->prev->next = w->next;
    else
      p->head = w->next;
    if (w->next != NULL)
      w->next->prev = w->prev;
    else
      p->tail = w->prev;
  }
  w->next = w->prev = NULL;
  w->failing = NULL;
  w->queued = 0;
}

/* Fails every waiter with status and msg. A callback may queue again. */
static void fail_all(dsg_profile *p, int status, const char *msg) {
  dsg_token_waiter *list = p->head;
  dsg_token_waiter *w;

  /* Detach first: a callback may ask again, and that new request must wait
   * for the next pump, not be failed by this one. The detached waiters
   * stay cancellable: a callback may cancel another waiter of this list
   * (a failing download stops its other calls), whose cb must then never
   * run. */
  p->head = p->tail = NULL;
  for (w = list; w != NULL; w = w->next)
    w->failing = &list;
  while ((w = list) != NULL) {
    list = w->next;
    if (list != NULL)
      list->prev = NULL;
    w->next = w->prev = NULL;
    w->failing = NULL;
    w->queued = 0;
    w->cb(status, NULL, 0, msg, w->ud);
  }
}

static void start_load(dsg_profile *p);
static void start_refresh(dsg_profile *p);
static void start_persist(dsg_profile *p);

static int need_refresh(const dsg_profile *p, const dsg_token_waiter *w) {
  int64_t now = (int64_t)time(NULL);
  int64_t life = p->expires_at - p->obtained_at;
  int64_t threshold = DSG_TOKEN_MARGIN_S;

  if (w->force && w->stale_gen == p->gen)
    return 1; /* A18: the token that got a 401 is still the cached one */
  if (w->seq != p->seq)
    return 0; /* a refresh ended since it asked: use that token */
  /* A token issued with a life shorter than twice the margin is refreshed
   * in its second half, not at once. */
  if (p->obtained_at > 0 && life > 0 && life / 2 < threshold)
    threshold = life / 2;
  return p->expires_at - now < threshold;
}

/* Serves the queue as far as the cache allows; starts the one thing that
 * is needed next. */
static void pump(dsg_profile *p) {
  dsg_token_waiter *w;

  while (p->busy == IDLE && p->head != NULL) {
    if (p->ctx->stopping) {
      fail_all(p, SAM_ECANCELED, "the plugin is stopping");
      return;
    }
    if (!p->loaded) {
      start_load(p);
      continue;
    }
    if (p->needs_consent) {
      fail_all(p, SAM_EAUTH, DSG_NEEDS_CONSENT_MSG);
      return;
    }
    if (p->dirty) {
      start_persist(p);
      continue;
    }
    if (!p->has_tokens) {
      fail_all(p, SAM_EAUTH,
               "the profile has no OAuth token: run Get OAuth Token");
      return;
    }
    if (need_refresh(p, p->head)) {
      start_refresh(p);
      continue;
    }
    w = pop(p);
    w->cb(SAM_OK, p->access, p->gen, "", w->ud);
  }
}

int dsg_token_get(dsg_ctx *ctx,
                  const dsg_token_args *a,
                  int force,
                  uint64_t stale_gen,
                  dsg_token_waiter *w,
                  dsg_token_cb cb,
                  void *ud) {
  dsg_profile *p;

  if (ctx->stopping)
    return SAM_EBUSY;
  p = find_or_add(ctx, a->profile_id);
  if (p == NULL)
    return SAM_ENOMEM;
  /* The host drops the tokens when a credential changes: a cache loaded
   * for other credentials is stale, read the secret again. */
  if (p->busy == IDLE && (!streq(p->client_id, a->client_id) ||
                          !streq(p->instance, a->instance))) {
    if (set_str(&p->client_id, a->client_id) != 0 ||
        set_str(&p->instance, a->instance) != 0)
      return SAM_ENOMEM;
    if (p->loaded)
      dsg_logf(ctx, NULL, SAM_LOG_INFO,
               "credentials changed: reloading the tokens [profile=%s]",
               p->profile_id);
    clear_tokens(p);
    p->loaded = 0;
    p->needs_consent = 0;
    p->dirty = 0;
    free(p->base_uri);
    p->base_uri = NULL;
  }
  /* The host also drops the tokens without telling the plugin (a refused
   * profile patch, a profile returned to Draft): a cache that sat idle is
   * read again, so a dropped token is neither used nor written back by a
   * later refresh. */
  if (p->busy == IDLE && p->head == NULL && p->loaded && !p->dirty &&
      uv_now(ctx->loop) - p->loaded_ms >= ctx->cfg.token_reload_ms)
    p->loaded = 0;
  memset(w, 0, sizeof(*w));
  w->p = p;
  w->cb = cb;
  w->ud = ud;
  w->force = force;
  w->stale_gen = stale_gen;
  w->seq = p->seq;
  w->queued = 1;
  w->prev = p->tail;
  if (p->tail != NULL)
    p->tail->next = w;
  else
    p->head = w;
  p->tail = w;
  pump(p);
  return 0;
}

/* ---- load ---- */

/* Ends a host operation of the profile. While stopping it may finish the
 * shutdown and free ctx; otherwise it frees p->op for the next call. */
static void op_done(dsg_profile *p) {
  dsg_op_untrack(p->ctx, &p->op);
}

/* In an operation's callback while stopping: fails the waiters and ends the
 * operation as the very last step (ctx may be freed). Returns 1 then. */
static int stopping_end(dsg_profile *p) {
  if (!p->ctx->stopping)
    return 0;
  fail_all(p, SAM_ECANCELED, "the plugin is stopping");
  op_done(p);
  return 1;
}

/* ---- retry after SAM_EAGAIN ---- */

typedef struct retry_timer {
  uv_timer_t t;
  dsg_profile *p;
} retry_timer;

/* The retry's end: the profile is idle again and the queue is served (a
 * load, refresh or persist starts anew). While stopping, the waiters fail
 * instead and this may finish the shutdown. */
static void on_retry_closed(uv_handle_t *h) {
  retry_timer *rt = h->data;
  dsg_profile *p = rt->p;

  free(rt);
  p->busy = IDLE;
  if (stopping_end(p))
    return;
  op_done(p);
  pump(p);
}

static void on_retry(uv_timer_t *t) {
  uv_close((uv_handle_t *)t, on_retry_closed);
}

/*
 * The host refused a secret call with SAM_EAGAIN: wait RETRY_MS, then
 * serve the queue again, instead of failing every waiter (a rotated
 * refresh token would stay unstored, and a download would fail on a full
 * queue). The timer counts as a host operation, so shutdown waits for its
 * close (it has no sam_op, so shutdown does not op_cancel it). Returns 1
 * when armed, 0 when the caller must fail the waiters (stopping, no loop,
 * out of memory).
 */
static int retry_later(dsg_profile *p) {
  dsg_ctx *ctx = p->ctx;
  retry_timer *rt;

  if (ctx->stopping || ctx->loop == NULL)
    return 0;
  rt = calloc(1, sizeof(*rt));
  if (rt == NULL)
    return 0;
  if (uv_timer_init(ctx->loop, &rt->t) != 0) {
    free(rt);
    return 0;
  }
  rt->t.data = rt;
  rt->p = p;
  p->busy = BUSY_RETRY;
  p->op.op = NULL;
  dsg_op_track(ctx, &p->op);
  /* Should the start fail, closing now retries on the next turn. */
  if (uv_timer_start(&rt->t, on_retry, RETRY_MS, 0) != 0)
    uv_close((uv_handle_t *)&rt->t, on_retry_closed);
  return 1;
}

static void on_load(int status, const char *value, size_t len, void *ud) {
  dsg_profile *p = ud;
  char msg[256];
  int rc;

  p->busy = IDLE;
  if (stopping_end(p))
    return;
  op_done(p); /* not stopping: cannot free ctx; p->op is free again */
  if (p->load_epoch != p->epoch) {
    /* A new consent installed tokens while this read was out: the value
     * read is older than the cache and must not replace it. */
    pump(p);
    return;
  }
  if (status == SAM_ENOENT) {
    clear_tokens(p);
    p->loaded = 1;
    p->loaded_ms = uv_now(p->ctx->loop);
  } else if (status == 0) {
    rc = doc_load(p, value, len);
    if (rc != 0) {
      snprintf(msg, sizeof(msg),
               "the stored OAuth tokens are unreadable [%s]: run Get OAuth "
               "Token again",
               sam_err_name(rc));
      fail_all(p, SAM_EAUTH, msg);
    } else {
      p->loaded = 1;
      p->loaded_ms = uv_now(p->ctx->loop);
    }
  } else {
    snprintf(msg, sizeof(msg), "cannot read the stored OAuth tokens [%s]",
             sam_err_name(status));
    fail_all(p, status, msg);
  }
  pump(p);
}

static void start_load(dsg_profile *p) {
  dsg_ctx *ctx = p->ctx;
  char msg[128];
  int rc;

  p->op.op = NULL;
  rc = ctx->api->secret_get(ctx->host, p->profile_id, DSG_TOKEN_SECRET, on_load,
                            p, &p->op.op);
  if (rc == SAM_EAGAIN && retry_later(p))
    return;
  if (rc != 0) {
    snprintf(msg, sizeof(msg), "cannot read the stored OAuth tokens [%s]",
             sam_err_name(rc));
    fail_all(p, rc, msg);
    return;
  }
  p->busy = BUSY_LOAD;
  p->load_epoch = p->epoch;
  dsg_op_track(ctx, &p->op);
}

/* ---- persist ---- */

static void on_persist(int status, const char *value, size_t len, void *ud) {
  dsg_profile *p = ud;
  char msg[256];

  (void)value;
  (void)len;
  p->busy = IDLE;
  if (stopping_end(p))
    return;
  op_done(p);
  if (p->doc_consent) {
    /* The refresh token is dead whether or not the mark was stored. */
    p->doc_consent = 0;
    p->dirty = 0;
    wipe_free(p->doc);
    p->doc = NULL;
    if (status != 0)
      dsg_logf(p->ctx, NULL, SAM_LOG_WARN,
               "could not store the needs-consent mark [%s] [profile=%s]",
               sam_err_name(status), p->profile_id);
    fail_all(p, SAM_EAUTH, DSG_NEEDS_CONSENT_MSG);
  } else if (status != 0) {
    /* The new tokens stay in memory, never served until stored. */
    snprintf(msg, sizeof(msg),
             "the refreshed OAuth tokens could not be stored [%s]; retry later",
             sam_err_name(status));
    dsg_logf(p->ctx, NULL, SAM_LOG_ERROR, "%s [profile=%s]", msg,
             p->profile_id);
    fail_all(p, status, msg);
  } else {
    p->dirty = 0;
    wipe_free(p->doc);
    p->doc = NULL;
  }
  pump(p);
}

static void start_persist(dsg_profile *p) {
  dsg_ctx *ctx = p->ctx;
  char msg[128];
  int rc;

  p->op.op = NULL;
  rc = ctx->api->secret_put(ctx->host, p->profile_id, DSG_TOKEN_SECRET, p->doc,
                            strlen(p->doc), on_persist, p, &p->op.op);
  if (rc == SAM_EAGAIN && retry_later(p))
    return; /* doc and dirty stay: the persist starts again */
  if (rc != 0) {
    snprintf(msg, sizeof(msg),
             "the refreshed OAuth tokens could not be stored [%s]",
             sam_err_name(rc));
    if (p->doc_consent) {
      p->doc_consent = 0;
      p->dirty = 0;
      fail_all(p, SAM_EAUTH, DSG_NEEDS_CONSENT_MSG);
    } else {
      fail_all(p, rc, msg);
    }
    return;
  }
  p->busy = BUSY_PERSIST;
  dsg_op_track(ctx, &p->op);
  /* Shutdown waits for this write but must not cancel it: the refresh
   * token it stores is the only live one (A14). Without the op pointer,
   * shutdown skips op_cancel for it. */
  p->op.op = NULL;
}

/* Marks the profile as needing consent and persists the mark. */
static void needs_consent(dsg_profile *p, const char *reason) {
  json_object *o = json_object_new_object();
  const char *t;

  clear_tokens(p);
  p->needs_consent = 1;
  snprintf(p->reason, sizeof(p->reason), "%.*s", (int)sizeof(p->reason) - 1,
           reason);
  dsg_logf(p->ctx, NULL, SAM_LOG_WARN,
           "the refresh token was refused: the profile needs consent "
           "[profile=%s] %s",
           p->profile_id, reason);
  wipe_free(p->doc);
  p->doc = NULL;
  if (o != NULL &&
      json_object_object_add(o, "state",
                             json_object_new_string("needs_consent")) == 0 &&
      json_object_object_add(o, "reason", json_object_new_string(reason)) ==
          0 &&
      (t = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN)) != NULL)
    p->doc = strdup(t);
  json_object_put(o);
  if (p->doc == NULL) {
    fail_all(p, SAM_EAUTH, DSG_NEEDS_CONSENT_MSG);
    return;
  }
  p->doc_consent = 1;
  p->dirty = 1;
  start_persist(p);
}

/* ---- refresh ---- */

static void on_refresh(const dsg_http_resp *resp, void *ud) {
  dsg_profile *p = ud;
  json_object *o = NULL;
  json_object *v;
  const char *access;
  const char *refresh;
  char msg[600];
  char err[128];
  char desc[256];
  int64_t expires_in = 0;
  int64_t now = (int64_t)time(NULL);
  int rc;

  p->req = NULL;
  p->busy = IDLE;
  if (p->refresh_epoch != p->epoch) {
    /* A new consent installed other tokens meanwhile: this refresh belongs
     * to the old grant; keep the new tokens. */
    pump(p);
    return;
  }
  if (p->ctx->stopping) {
    if (resp->status == SAM_OK && resp->http_status == 200)
      dsg_logf(p->ctx, NULL, SAM_LOG_WARN,
               "a refresh ended during shutdown; its rotated token is lost "
               "[profile=%s]",
               p->profile_id);
    fail_all(p, SAM_ECANCELED, "the plugin is stopping");
    return;
  }
  if (resp->status != SAM_OK) {
    rc = dsg_api_describe(resp, "token refresh", msg, sizeof(msg), NULL);
    fail_all(p, rc, msg);
    goto done;
  }
  if (resp->http_status >= 400 && resp->http_status < 500) {
    /* A17: any 4xx from /oauth/token is final. */
    dsg_api_oauth_error(resp, err, sizeof(err), desc, sizeof(desc));
    snprintf(msg, sizeof(msg), "[http=%ld] [error=%s] [error_description=%s]",
             resp->http_status, err, desc);
    needs_consent(p, msg);
    goto done;
  }
  if (resp->http_status != 200) {
    rc = dsg_api_describe(resp, "token refresh", msg, sizeof(msg), NULL);
    fail_all(p, rc, msg);
    goto done;
  }
  o = dsg_json_parse(resp->body, resp->body_len);
  access = dsg_json_str(o, "access_token");
  refresh = dsg_json_str(o, "refresh_token");
  if (o != NULL && json_object_object_get_ex(o, "expires_in", &v))
    expires_in = json_object_get_int64(v); /* also parses "28800" */
  if (access == NULL || refresh == NULL || expires_in <= 0) {
    fail_all(p, SAM_EPROTO,
             "token refresh reply lacks access_token, refresh_token or "
             "expires_in");
    goto done;
  }
  wipe_free(p->doc);
  p->doc = NULL;
  rc = doc_tokens(access, refresh, expiry_of(now, expires_in), now,
                  dsg_json_str(o, "scope") != NULL ? dsg_json_str(o, "scope")
                                                   : p->scope,
                  &p->doc);
  if (rc == 0)
    rc = set_str(&p->access, access);
  if (rc == 0)
    rc = set_str(&p->refresh, refresh);
  if (rc != 0) {
    fail_all(p, rc, "out of memory after a token refresh");
    goto done;
  }
  p->expires_at = expiry_of(now, expires_in);
  p->obtained_at = now;
  p->has_tokens = 1;
  p->gen++;
  p->seq++;
  /* A14: the old refresh token is dead now. Store the new one, and wait for
   * the host, before anyone uses the new access token (pump sees dirty). */
  p->dirty = 1;
  dsg_logf(p->ctx, NULL, SAM_LOG_INFO, "token refreshed [profile=%s]",
           p->profile_id);

done:
  /* The reply held tokens: wipe json-c's copies. */
  dsg_json_put_wiped(o);
  pump(p);
}

static void
on_client_secret(int status, const char *value, size_t len, void *ud) {
  dsg_profile *p = ud;
  dsg_ctx *ctx = p->ctx;
  dsg_http_req_opts o;
  const char *headers[] = {"Content-Type: application/x-www-form-urlencoded",
                           "Accept: application/json", NULL};
  char url[600];
  char *body = NULL;
  char *enc = NULL;
  char *secret = NULL;
  char msg[256];
  size_t n;
  int rc;

  p->busy = IDLE;
  if (stopping_end(p))
    return;
  op_done(p);
  if (p->refresh_epoch != p->epoch) {
    /* A new consent installed tokens while the secret was read: refreshing
     * now would spend the NEW refresh token (DocuSign rotates it, A14) on
     * a reply on_refresh drops as the old grant's. Serve the new tokens. */
    goto done;
  }
  if (status != 0) {
    snprintf(msg, sizeof(msg),
             status == SAM_ENOENT
                 ? "the Client secret is not set: enter it on the profile [%s]"
                 : "cannot read the Client secret [%s]",
             sam_err_name(status));
    fail_all(p, status == SAM_ENOENT ? SAM_EINVAL : status, msg);
    goto done;
  }
  /* Zeroed: an early failure below wipes it with strlen. */
  secret = calloc(1, len + 1);
  enc = curl_easy_escape(NULL, p->refresh, 0);
  if (secret == NULL || enc == NULL) {
    fail_all(p, SAM_ENOMEM, "out of memory");
    goto done;
  }
  memcpy(secret, value, len);
  secret[len] = '\0';
  n = strlen(enc) + 64;
  body = malloc(n);
  if (body == NULL) {
    fail_all(p, SAM_ENOMEM, "out of memory");
    goto done;
  }
  snprintf(body, n, "grant_type=refresh_token&refresh_token=%s", enc);
  snprintf(url, sizeof(url), "%s/oauth/token", p->instance);
  memset(&o, 0, sizeof(o));
  o.method = "POST";
  o.url = url;
  o.headers = headers;
  o.basic_user = p->client_id;
  o.basic_password = secret;
  o.body = body;
  o.body_len = strlen(body);
  rc = dsg_http_request(ctx->http, &o, on_refresh, p, &p->req);
  if (rc != 0) {
    snprintf(msg, sizeof(msg), "cannot start the token refresh [%s]",
             sam_err_name(rc));
    fail_all(p, rc, msg);
    goto done;
  }
  p->busy = BUSY_HTTP;

done:
  wipe_free(secret);
  wipe_free(body);
  if (enc != NULL) {
    OPENSSL_cleanse(enc, strlen(enc));
    curl_free(enc);
  }
  pump(p);
}

static void start_refresh(dsg_profile *p) {
  dsg_ctx *ctx = p->ctx;
  char msg[128];
  int rc;

  p->op.op = NULL;
  rc = ctx->api->secret_get(ctx->host, p->profile_id, "client_secret",
                            on_client_secret, p, &p->op.op);
  if (rc == SAM_EAGAIN && retry_later(p))
    return;
  if (rc != 0) {
    snprintf(msg, sizeof(msg), "cannot read the Client secret [%s]",
             sam_err_name(rc));
    fail_all(p, rc, msg);
    return;
  }
  p->busy = BUSY_SECRET;
  p->refresh_epoch = p->epoch;
  dsg_op_track(ctx, &p->op);
}

/* ---- install (the OAuth callback) ---- */

int dsg_token_install_prepare(const char *access_token,
                              const char *refresh_token,
                              int64_t expires_in,
                              const char *scope,
                              char **json_out) {
  int64_t now = (int64_t)time(NULL);

  return doc_tokens(access_token, refresh_token, expiry_of(now, expires_in),
                    now, scope, json_out);
}

int dsg_token_install_commit(dsg_ctx *ctx,
                             const dsg_token_args *a,
                             char *json) {
  dsg_profile *p = find_or_add(ctx, a->profile_id);
  int rc;

  if (p == NULL)
    return SAM_ENOMEM;
  if (set_str(&p->client_id, a->client_id) != 0 ||
      set_str(&p->instance, a->instance) != 0)
    return SAM_ENOMEM;
  rc = doc_load(p, json, strlen(json));
  if (rc != 0)
    return rc;
  p->loaded = 1;
  p->loaded_ms = uv_now(ctx->loop);
  p->dirty = 0;
  p->seq++;
  p->epoch++;
  return 0;
}

/* ---- base URI cache ---- */

const char *dsg_token_base_uri(dsg_ctx *ctx, const char *profile_id) {
  dsg_profile *p = find(ctx, profile_id);

  return p != NULL ? p->base_uri : NULL;
}

void dsg_token_set_base_uri(dsg_ctx *ctx,
                            const char *profile_id,
                            const char *base_uri) {
  dsg_profile *p = find_or_add(ctx, profile_id);
  char *c;

  if (p == NULL || base_uri == NULL)
    return;
  c = strdup(base_uri);
  if (c == NULL)
    return;
  free(p->base_uri);
  p->base_uri = c;
}
