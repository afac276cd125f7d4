/*
 * hostsvc.c: the service layer's lifecycle, the router, and reply delivery.
 * Every reply is queued and delivered from a zero-delay timer, so a call's
 * callback never runs inside sam_hostsvc_call (C4's rule, applied to the
 * transport).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "hostsvc_int.h"
#include "sam_backend_sqlite.h"
#include "sam_core.h"

/* ---- replies ---- */

int sam__hs_http_status(int status) {
  switch (status) {
  case SAM_OK:
    return 200;
  case SAM_EINVAL:
    return 400;
  case SAM_EAUTH:
    return 403;
  case SAM_ENOENT:
    return 404;
  case SAM_ECONFLICT:
  case SAM_EEXIST:
  case SAM_EBUSY:
    return 409;
  case SAM_EAGAIN:
    return 503;
  case SAM_ETIMEDOUT:
    return 504;
  case SAM_EREMOTE:
  case SAM_EPROTO:
    return 502;
  default:
    return 500;
  }
}

int sam__hs_outcome_status(sam__hs_call *c, int status) {
  /* The runtime reports what the plugin completed with; a cancel the
   * service did not ask for was the action's deadline (ABI.md 9.4: 504),
   * and one it asked for while closing means "retry later". */
  if (status != SAM_ECANCELED)
    return status;
  return c->svc->closing ? SAM_EAGAIN : SAM_ETIMEDOUT;
}

static void on_timer(uv_timer_t *t);

/* Appends a changing call to the audit log: who, what (method and path;
 * never the query, which may hold an OAuth code, nor the body), which
 * profile, and the outcome. Fire and forget: the store reports its own
 * failures in its log. */
static void audit(sam__hs_call *c, int status, int http) {
  const char *pid = NULL;
  char action[300], detail[96];

  if (c->svc->audit.vt == NULL ||
      (strcmp(c->method, "GET") == 0 &&
       strcmp(c->path, "/oauth_redirect.do") != 0) ||
      strcmp(c->method, "START") == 0)
    return;
  if (c->profile != NULL)
    pid = sam__hs_str(c->profile, "profile_id");
  if (pid == NULL && c->n_segs > 3 && strcmp(c->segs[2], "profiles") == 0)
    pid = c->segs[3];
  if (pid == NULL && c->work2 != NULL)
    pid = sam__hs_str(c->work2, "profile_id"); /* the OAuth redirect */
  snprintf(action, sizeof(action), "%s %.280s", c->method, c->path);
  snprintf(detail, sizeof(detail), "{\"http\":%d,\"status\":\"%s\"}", http,
           sam_err_name(status));
  (void)sam__sqlite_audit_append(&c->svc->audit, 0, c->actor, action, pid,
                                 detail, NULL, NULL);
}

static void queue_ready(sam__hs_call *c) {
  sam_hostsvc *svc = c->svc;
  sam__hs_call **pp;

  /* Unlink from the in-flight list, append to the ready queue. */
  for (pp = &svc->calls; *pp != NULL; pp = &(*pp)->next) {
    if (*pp == c) {
      *pp = c->next;
      break;
    }
  }
  c->next = NULL;
  if (svc->ready_tail != NULL)
    svc->ready_tail->next = c;
  else
    svc->ready = c;
  svc->ready_tail = c;
  if (svc->timer_open && !uv_is_active((uv_handle_t *)&svc->timer))
    (void)uv_timer_start(&svc->timer, on_timer, 0, 0);
}

static void set_reply(
    sam__hs_call *c, int status, int http, const char *ctype, char *body) {
  if (c->replied) {
    free(body);
    return;
  }
  c->replied = 1;
  audit(c, status, http);
  c->r_status = status;
  c->r_http = http;
  c->r_ctype = ctype;
  c->r_body = body;
  queue_ready(c);
}

void sam__hs_reply_json(sam__hs_call *c, int http, json_object *body) {
  char *text;

  if (body == NULL)
    body = json_object_new_object();
  text = strdup(json_object_to_json_string_ext(
      body, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
  json_object_put(body);
  set_reply(c, http >= 400 ? SAM_EINVAL : SAM_OK, http, "application/json",
            text);
}

void sam__hs_reply_page(sam__hs_call *c, const sam_store_result *res) {
  json_object *out = json_object_new_object();
  json_object *items = json_object_new_array();
  size_t i;

  for (i = 0; i < res->n; i++) {
    json_object *o = sam__hs_parse(res->recs[i].json, res->recs[i].json_len);

    if (o != NULL)
      json_object_array_add(items, o);
  }
  json_object_object_add(out, "items", items);
  json_object_object_add(out, "next_cursor",
                         res->next_cursor != NULL
                             ? json_object_new_string(res->next_cursor)
                             : NULL);
  sam__hs_reply_json(c, 200, out);
}

int sam__hs_reply_cursor_err(sam__hs_call *c, int status) {
  const char *cur = sam__hs_str(c->qs, "cursor");
  json_object *errs, *e;

  if (status != SAM_EINVAL || cur == NULL || cur[0] == '\0')
    return 0;
  errs = json_object_new_array();
  e = json_object_new_object();
  json_object_object_add(e, "pointer", json_object_new_string("/cursor"));
  json_object_object_add(
      e, "message",
      json_object_new_string("not a cursor of this list and filter"));
  json_object_array_add(errs, e);
  sam__hs_reply_err(c, status, errs,
                    "the cursor is not one of this list's: it is malformed, "
                    "or it came from another list or filter; start again "
                    "without it [cursor=%.120s%s]",
                    cur, strlen(cur) > 120 ? "..." : "");
  return 1;
}

void sam__hs_reply_err(
    sam__hs_call *c, int status, json_object *errors, const char *fmt, ...) {
  char msg[1024];
  json_object *o = json_object_new_object();
  char *text;
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  json_object_object_add(o, "status",
                         json_object_new_string(sam_err_name(status)));
  json_object_object_add(o, "message", json_object_new_string(msg));
  if (errors != NULL)
    json_object_object_add(o, "errors", errors);
  text = strdup(json_object_to_json_string_ext(
      o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
  json_object_put(o);
  set_reply(c, status, sam__hs_http_status(status), "application/json", text);
  if (status == SAM_EAGAIN)
    c->r_retry_after = 5;
}

void sam__hs_reply_html(sam__hs_call *c, int http, const char *html) {
  set_reply(c, http == 200 ? SAM_OK : SAM_EINVAL, http, "text/html",
            strdup(html));
}

/* ---- calls ---- */

static void call_free(sam__hs_call *c) {
  int i;

  if (c == NULL)
    return;
  free(c->method);
  free(c->path);
  free(c->query);
  if (c->body != NULL)
    OPENSSL_cleanse(c->body, c->body_len); /* may hold a form secret */
  free(c->body);
  free(c->actor);
  for (i = 0; i < c->n_segs; i++)
    free(c->segs[i]);
  if (c->claim != NULL) {
    json_object_object_del(c->svc->claims, c->claim);
    free(c->claim);
  }
  json_object_put(c->qs);
  json_object_put(c->req);
  json_object_put(c->profile);
  json_object_put(c->plugin);
  json_object_put(c->registry);
  json_object_put(c->work);
  json_object_put(c->work2);
  free(c->cursor);
  free(c->r_body);
  free(c->r_location);
  free(c);
}

static void maybe_closed(sam_hostsvc *svc);

static void on_timer(uv_timer_t *t) {
  sam_hostsvc *svc = t->data;
  sam__hs_call *c = svc->ready;

  svc->ready = NULL;
  svc->ready_tail = NULL;
  while (c != NULL) {
    sam__hs_call *next = c->next;
    sam_hostsvc_reply r;

    memset(&r, 0, sizeof(r));
    r.status = c->r_status;
    r.http_status = c->r_http;
    r.content_type = c->r_ctype;
    r.body = c->r_body != NULL ? c->r_body : "{}";
    r.body_len = strlen(r.body);
    r.location = c->r_location;
    r.retry_after_s = c->r_retry_after;
    c->cb(&r, c->ud);
    call_free(c);
    c = next;
  }
  maybe_closed(svc);
}

static int split_path(sam__hs_call *c) {
  const char *p = c->path;

  while (*p == '/')
    p++;
  while (*p != '\0') {
    const char *e = strchr(p, '/');
    size_t n = e != NULL ? (size_t)(e - p) : strlen(p);

    if (c->n_segs == SAM__HS_MAX_SEGS)
      return SAM_ENOENT;
    c->segs[c->n_segs] = sam__hs_url_decode(p, n, 0);
    if (c->segs[c->n_segs] == NULL)
      return SAM_ENOMEM;
    c->n_segs++;
    p += n;
    while (*p == '/')
      p++;
  }
  return 0;
}

static int is(const sam__hs_call *c, const char *m) {
  return strcmp(c->method, m) == 0;
}

static void route_plugins(sam__hs_call *c, int types_only) {
  json_object *out = json_object_new_array();
  json_object *plugins, *v;
  size_t i, n;

  if (sam__hs_registry(c) != 0) {
    json_object_put(out);
    sam__hs_reply_err(c, SAM_ENOMEM, NULL, "out of memory");
    return;
  }
  json_object_object_get_ex(c->registry, "plugins", &plugins);
  n = plugins != NULL ? json_object_array_length(plugins) : 0;
  for (i = 0; i < n; i++) {
    json_object *p = json_object_array_get_idx(plugins, i);
    json_object *o = json_object_new_object();

    if (types_only) {
      /* The profile type with its form schema; no secret value exists in
       * the registry, only the names of the secret fields. */
      if (json_object_object_get_ex(p, "profile_type", &v))
        json_object_object_add(o, "profile_type", json_object_get(v));
      json_object_object_add(
          o, "plugin", json_object_get(json_object_object_get(p, "name")));
      if (json_object_object_get_ex(p, "processes", &v))
        json_object_object_add(o, "processes", json_object_get(v));
      if (json_object_object_get_ex(p, "actions", &v))
        json_object_object_add(o, "actions", json_object_get(v));
    } else {
      json_object_object_foreach(p, k, val) {
        if (strcmp(k, "record_types") == 0)
          continue; /* long schemas; see /api/v1/profile-types */
        json_object_object_add(o, k, json_object_get(val));
      }
      json_object_object_add(o, "abi_major",
                             json_object_new_int(SAM_ABI_MAJOR));
    }
    json_object_array_add(out, o);
  }
  v = json_object_new_object();
  json_object_object_add(v, "items", out);
  sam__hs_reply_json(c, 200, v);
}

static void route(sam__hs_call *c) {
  char qerr[200];
  int rc;

  c->qs = sam__hs_parse_query(c->query, qerr, sizeof(qerr));
  if (c->qs == NULL) {
    if (qerr[0] != '\0')
      sam__hs_reply_err(c, SAM_EINVAL, NULL, "%s", qerr);
    else
      sam__hs_reply_err(c, SAM_ENOMEM, NULL, "out of memory");
    return;
  }
  rc = split_path(c);
  if (rc != 0) {
    sam__hs_reply_err(c, rc, NULL, "no such resource [path=%s]", c->path);
    return;
  }
  if (c->body != NULL && c->body_len > 0) {
    c->req = sam__hs_parse(c->body, c->body_len);
    if (c->req == NULL) {
      sam__hs_reply_err(c, SAM_EINVAL, NULL,
                        "the body is not JSON; send a JSON object");
      return;
    }
  }
  if (c->n_segs == 1 && strcmp(c->segs[0], "oauth_redirect.do") == 0) {
    if (!is(c, "GET")) {
      sam__hs_reply_err(c, SAM_EINVAL, NULL, "method not allowed [%s]",
                        c->method);
      return;
    }
    sam__hs_route_oauth_redirect(c);
    return;
  }
  if (c->n_segs < 3 || strcmp(c->segs[0], "api") != 0 ||
      strcmp(c->segs[1], "v1") != 0) {
    sam__hs_reply_err(c, SAM_ENOENT, NULL, "no such resource [path=%s]",
                      c->path);
    return;
  }
  if (c->n_segs == 3 && strcmp(c->segs[2], "plugins") == 0 && is(c, "GET")) {
    route_plugins(c, 0);
    return;
  }
  if (c->n_segs == 3 && strcmp(c->segs[2], "profile-types") == 0 &&
      is(c, "GET")) {
    route_plugins(c, 1);
    return;
  }
  if (strcmp(c->segs[2], "profiles") == 0) {
    if (c->n_segs >= 5 && strcmp(c->segs[4], "lists") == 0) {
      sam__hs_route_list(c);
      return;
    }
    if (c->n_segs == 6 && strcmp(c->segs[4], "actions") == 0 && is(c, "POST")) {
      sam__hs_route_action(c, c->segs[5]);
      return;
    }
    if (c->n_segs == 5 && strcmp(c->segs[4], "publish") == 0 && is(c, "POST")) {
      sam__hs_route_publish(c);
      return;
    }
    if (c->n_segs <= 4) {
      sam__hs_route_profiles(c);
      return;
    }
  }
  if (strcmp(c->segs[2], "jobs") == 0 ||
      strcmp(c->segs[2], "job-results") == 0) {
    sam__hs_route_jobs(c);
    return;
  }
  sam__hs_reply_err(c, SAM_ENOENT, NULL, "no such resource [%s %s]", c->method,
                    c->path);
}

int sam__hs_call_new(sam_hostsvc *svc,
                     const char *method,
                     const char *path,
                     sam_hostsvc_cb cb,
                     void *ud,
                     sam__hs_call **out) {
  sam__hs_call *c = calloc(1, sizeof(*c));

  if (c == NULL)
    return SAM_ENOMEM;
  c->svc = svc;
  c->cb = cb;
  c->ud = ud;
  c->method = strdup(method);
  c->path = strdup(path);
  c->actor = strdup("host");
  c->qs = json_object_new_object();
  if (c->method == NULL || c->path == NULL || c->actor == NULL ||
      c->qs == NULL) {
    call_free(c);
    return SAM_ENOMEM;
  }
  c->next = svc->calls;
  svc->calls = c;
  *out = c;
  return 0;
}

int sam_hostsvc_call(sam_hostsvc *svc,
                     const char *method,
                     const char *path,
                     const char *query,
                     const char *body,
                     size_t body_len,
                     const char *actor,
                     sam_hostsvc_cb cb,
                     void *ud) {
  sam__hs_call *c;

  if (svc == NULL || method == NULL || path == NULL || cb == NULL)
    return SAM_EINVAL;
  if (!svc->timer_open)
    return SAM_EBUSY; /* closed: no turn left to answer on */
  c = calloc(1, sizeof(*c));
  if (c == NULL)
    return SAM_ENOMEM;
  c->svc = svc;
  c->cb = cb;
  c->ud = ud;
  c->method = strdup(method);
  c->path = strdup(path);
  c->query = query != NULL ? strdup(query) : NULL;
  c->actor = strdup(actor != NULL && actor[0] != '\0' ? actor : "admin");
  if (body != NULL) {
    c->body = malloc(body_len + 1);
    if (c->body != NULL) {
      memcpy(c->body, body, body_len);
      c->body[body_len] = '\0';
      c->body_len = body_len;
    }
  }
  if (c->method == NULL || c->path == NULL || c->actor == NULL ||
      (query != NULL && c->query == NULL) ||
      (body != NULL && c->body == NULL)) {
    call_free(c);
    return SAM_ENOMEM;
  }
  c->next = svc->calls;
  svc->calls = c;
  if (svc->closing) {
    sam__hs_reply_err(c, SAM_EAGAIN, NULL, "the host is shutting down");
    return 0;
  }
  route(c);
  return 0;
}

/* ---- lifecycle ---- */

int sam_hostsvc_new(const sam_hostsvc_config *cfg,
                    sam_hostsvc **out,
                    char *err,
                    size_t err_len) {
  sam_hostsvc *svc = NULL;
  size_t n;
  int rc = SAM_ENOMEM;

  if (cfg == NULL || cfg->rt == NULL || out == NULL) {
    snprintf(err, err_len, "sam_hostsvc_new: missing runtime");
    return SAM_EINVAL;
  }
  svc = calloc(1, sizeof(*svc));
  if (svc == NULL)
    goto fail;
  svc->rt = cfg->rt;
  svc->sched = cfg->sched;
  svc->loop = sam_runtime_loop(cfg->rt);
  svc->api = sam__host_api();
  svc->host = sam_runtime_host_handle(cfg->rt);
  svc->test_mode = cfg->test_mode;
  if (cfg->audit != NULL)
    svc->audit = *cfg->audit;
  svc->oauth_ttl_ms = cfg->oauth_state_ttl_ms != 0 ? cfg->oauth_state_ttl_ms
                                                   : SAM__HS_OAUTH_TTL_MS;
  svc->public_url =
      strdup(cfg->public_url != NULL ? cfg->public_url : "http://127.0.0.1");
  if (svc->public_url == NULL)
    goto fail;
  n = strlen(svc->public_url);
  while (n > 0 && svc->public_url[n - 1] == '/')
    svc->public_url[--n] = '\0';
  svc->redirect_uri = malloc(n + sizeof("/oauth_redirect.do"));
  if (svc->redirect_uri == NULL)
    goto fail;
  snprintf(svc->redirect_uri, n + sizeof("/oauth_redirect.do"),
           "%s/oauth_redirect.do", svc->public_url);
  if (svc->host == NULL) {
    snprintf(err, err_len, "sam_hostsvc_new: the runtime has no host handle");
    rc = SAM_EINVAL;
    goto fail;
  }
  svc->claims = json_object_new_object();
  if (svc->claims == NULL)
    goto fail;
  rc = sam__hs_types_register(svc, err, err_len);
  if (rc != 0)
    goto fail;
  if (uv_timer_init(svc->loop, &svc->timer) != 0) {
    snprintf(err, err_len, "sam_hostsvc_new: uv_timer_init failed");
    rc = SAM_EIO;
    goto fail;
  }
  svc->timer.data = svc;
  svc->timer_open = 1;
  *out = svc;
  return 0;

fail:
  if (rc == SAM_ENOMEM && err != NULL && err_len > 0)
    snprintf(err, err_len, "sam_hostsvc_new: out of memory");
  sam_hostsvc_free(svc);
  return rc;
}

static void on_timer_closed(uv_handle_t *h) {
  sam_hostsvc *svc = h->data;
  void (*done)(void *) = svc->close_done;

  svc->close_done = NULL;
  if (done != NULL)
    done(svc->close_ud);
}

static void maybe_closed(sam_hostsvc *svc) {
  if (!svc->closing || svc->calls != NULL || svc->ready != NULL ||
      !svc->timer_open)
    return;
  svc->timer_open = 0;
  uv_close((uv_handle_t *)&svc->timer, on_timer_closed);
}

void sam_hostsvc_close(sam_hostsvc *svc, void (*done)(void *ud), void *ud) {
  sam__hs_call *c;

  /* A waiting action would hold the close up to its deadline: ask it to
   * stop; its completion still answers the call (C3). */
  for (c = svc->calls; c != NULL; c = c->next) {
    if (c->job_running)
      (void)sam_runtime_job_cancel(svc->rt, c->job_id);
  }
  svc->closing = 1;
  svc->close_done = done;
  svc->close_ud = ud;
  /* Always finish on a later turn: the timer delivers what is ready and
   * then closes once nothing is in flight. */
  if (svc->timer_open)
    (void)uv_timer_start(&svc->timer, on_timer, 0, 0);
}

void sam_hostsvc_free(sam_hostsvc *svc) {
  if (svc == NULL)
    return;
  sam__hs_types_free(svc);
  sam__hs_oauth_states_free(svc);
  json_object_put(svc->claims);
  free(svc->public_url);
  free(svc->redirect_uri);
  free(svc);
}
