/*
 * hostsvc_oauth.c: the host's half of the OAuth flow (ABI.md 9.4): single-
 * use states bound to (plugin, profile) and /oauth_redirect.do.
 *
 * States are kept in memory only, as SHA-256 hashes: a state is a bearer
 * capability for ten minutes, so a memory dump or a debug print of the
 * table must not yield a usable one, and a fixed-length hash makes the
 * constant-time compare (CRYPTO_memcmp) independent of the input's length.
 * A restart forgets pending states; the admin clicks Get OAuth Token again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "hostsvc_int.h"

#define MAX_STATES 1024

static int sha256(const char *s, unsigned char out[32]) {
  unsigned int n = 0;

  if (EVP_Digest(s, strlen(s), out, &n, EVP_sha256(), NULL) != 1 || n != 32)
    return SAM_EIO;
  return 0;
}

static void state_drop(sam_hostsvc *svc, size_t i) {
  free(svc->states[i].plugin);
  free(svc->states[i].profile_id);
  svc->states[i] = svc->states[--svc->n_states];
}

static void expire(sam_hostsvc *svc, uint64_t now) {
  size_t i = 0;

  while (i < svc->n_states) {
    if (svc->states[i].expires_ms <= now)
      state_drop(svc, i);
    else
      i++;
  }
}

int sam__hs_oauth_state_new(sam_hostsvc *svc,
                            const char *plugin,
                            const char *profile_id,
                            char out[64]) {
  static const char b64[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  unsigned char raw[33];
  sam__hs_oauth_state *st;
  size_t i, o = 0;
  uint64_t now = uv_now(svc->loop);

  expire(svc, now);
  if (svc->n_states == MAX_STATES)
    return SAM_EAGAIN;
  if (RAND_bytes(raw, 32) != 1)
    return SAM_EIO;
  raw[32] = 0;
  /* 32 bytes -> 43 base64url characters, no padding. */
  for (i = 0; i < 32; i += 3) {
    uint32_t v = ((uint32_t)raw[i] << 16) |
                 ((uint32_t)(i + 1 < 32 ? raw[i + 1] : 0) << 8) |
                 (uint32_t)(i + 2 < 32 ? raw[i + 2] : 0);

    out[o++] = b64[(v >> 18) & 63];
    out[o++] = b64[(v >> 12) & 63];
    if (i + 1 < 32)
      out[o++] = b64[(v >> 6) & 63];
    if (i + 2 < 32)
      out[o++] = b64[v & 63];
  }
  out[o] = '\0';
  OPENSSL_cleanse(raw, sizeof(raw));
  if (svc->n_states == svc->cap_states) {
    size_t cap = svc->cap_states ? svc->cap_states * 2 : 8;
    sam__hs_oauth_state *p = realloc(svc->states, cap * sizeof(*p));

    if (p == NULL)
      return SAM_ENOMEM;
    svc->states = p;
    svc->cap_states = cap;
  }
  st = &svc->states[svc->n_states];
  memset(st, 0, sizeof(*st));
  if (sha256(out, st->hash) != 0)
    return SAM_EIO;
  st->plugin = strdup(plugin);
  st->profile_id = strdup(profile_id);
  st->expires_ms = now + svc->oauth_ttl_ms;
  if (st->plugin == NULL || st->profile_id == NULL) {
    free(st->plugin);
    free(st->profile_id);
    return SAM_ENOMEM;
  }
  svc->n_states++;
  return 0;
}

int sam__hs_oauth_state_take(sam_hostsvc *svc,
                             const char *state,
                             char **plugin,
                             char **profile_id) {
  unsigned char h[32];
  uint64_t now = uv_now(svc->loop);
  size_t i;

  *plugin = NULL;
  *profile_id = NULL;
  if (state == NULL || sha256(state, h) != 0)
    return SAM_ENOENT;
  for (i = 0; i < svc->n_states; i++) {
    if (CRYPTO_memcmp(svc->states[i].hash, h, 32) == 0) {
      int expired = svc->states[i].expires_ms <= now;

      if (!expired) {
        *plugin = svc->states[i].plugin;
        *profile_id = svc->states[i].profile_id;
        svc->states[i].plugin = NULL;
        svc->states[i].profile_id = NULL;
      }
      state_drop(svc, i); /* single use, expired or not */
      return expired ? SAM_ETIMEDOUT : 0;
    }
  }
  return SAM_ENOENT;
}

void sam__hs_oauth_states_free(sam_hostsvc *svc) {
  while (svc->n_states > 0)
    state_drop(svc, 0);
  free(svc->states);
  svc->states = NULL;
  svc->cap_states = 0;
}

/* ---- the reply page ---- */

static void
page(sam__hs_call *c, int ok, const char *title, const char *detail) {
  char *t = sam__hs_html_escape(title);
  char *d = sam__hs_html_escape(detail != NULL ? detail : "");
  const char *raw_pid =
      c->work2 != NULL ? sam__hs_str(c->work2, "profile_id") : NULL;
  char *pid = sam__hs_html_escape(raw_pid != NULL ? raw_pid : "");
  size_t n = 1024 + (t ? strlen(t) : 0) + (d ? strlen(d) : 0) +
             (pid ? strlen(pid) : 0) * 2;
  char *html = malloc(n);

  if (t == NULL || d == NULL || pid == NULL || html == NULL) {
    free(t);
    free(d);
    free(pid);
    free(html);
    sam__hs_reply_html(c, 500, "<!doctype html><title>Error</title>");
    return;
  }
  if (pid[0] != '\0')
    snprintf(html, n,
             "<!doctype html><html><head><meta charset=\"utf-8\">"
             "<title>%s</title></head><body><h1>%s</h1><p>%s</p>"
             "<p><a href=\"/ui/profiles/%s\">Back to the profile</a></p>"
             "</body></html>",
             t, t, d, pid);
  else
    snprintf(html, n,
             "<!doctype html><html><head><meta charset=\"utf-8\">"
             "<title>%s</title></head><body><h1>%s</h1><p>%s</p>"
             "<p>Open the profile and run Get OAuth Token again.</p>"
             "</body></html>",
             t, t, d);
  sam__hs_reply_html(c, ok ? 200 : 400, html);
  free(t);
  free(d);
  free(pid);
  free(html);
}

/* ---- the redirect ---- */

static void finish_saved(sam__hs_call *c, int status) {
  const char *err = sam__hs_str(c->work2, "error");

  if (err != NULL) {
    page(c, 0, "Authorization failed", err);
    return;
  }
  if (status != 0) {
    char msg[200];

    snprintf(msg, sizeof(msg),
             "the connection worked but the profile could not be saved [%s]",
             sam_err_name(status));
    page(c, 0, "Authorization failed", msg);
    return;
  }
  page(c, 1, "Connected",
       "The authorization succeeded and the profile is connected. Run "
       "Validate Connection next.");
}

static void fail_and_save(sam__hs_call *c, const char *msg);

static void materialized(sam__hs_call *c, int status) {
  if (status != 0) {
    char msg[200];

    snprintf(msg, sizeof(msg),
             "connected, but the model catalog could not be created [%s]",
             sam_err_name(status));
    fail_and_save(c, msg);
    return;
  }
  finish_saved(c, 0);
}

static void connected_saved(sam__hs_call *c, int status) {
  int rc;

  if (status != 0) {
    finish_saved(c, status);
    return;
  }
  rc = sam__hs_materialize(c, materialized);
  if (rc != 0)
    materialized(c, rc);
}

static void fail_and_save(sam__hs_call *c, const char *msg) {
  int rc;

  json_object_object_add(c->work2, "error", json_object_new_string(msg));
  json_object_object_add(c->profile, "last_error", json_object_new_string(msg));
  rc = sam__hs_save_profile(c, finish_saved);
  if (rc != 0)
    finish_saved(c, rc);
}

static void patch_refused(sam__hs_call *c, int status) {
  char msg[1200];

  (void)status;
  snprintf(msg, sizeof(msg), "%s", sam__hs_str(c->work2, "error"));
  fail_and_save(c, msg);
}

static void on_callback_done(const sam_job_outcome *o, void *ud) {
  sam__hs_call *c = ud;
  json_object *res = NULL, *patch = NULL, *errs = NULL, *form = NULL;
  char msg[1200];
  int rc;

  c->pending--;
  c->job_running = 0;
  if (sam__hs_outcome_status(c, o->status) != SAM_OK) {
    snprintf(msg, sizeof(msg),
             "the authorization could not be completed: %s [%s]",
             o->message != NULL ? o->message : "",
             sam_err_name(sam__hs_outcome_status(c, o->status)));
    fail_and_save(c, msg);
    return;
  }
  if (o->result_json != NULL)
    res = sam__hs_parse(o->result_json, o->result_len);
  json_object_object_get_ex(c->profile, "form", &form);
  if (res != NULL && json_object_object_get_ex(res, "profile_patch", &patch) &&
      patch != NULL) {
    rc = sam__hs_patch_check(c->plugin, patch, form, &errs);
    if (rc != 0 || errs != NULL) {
      const char *first =
          errs != NULL
              ? sam__hs_str(json_object_array_get_idx(errs, 0), "message")
              : NULL;

      snprintf(msg, sizeof(msg),
               "the plugin returned an invalid profile_patch: %s",
               first != NULL ? first : sam_err_name(rc));
      json_object_put(errs);
      json_object_put(res);
      /* The connection is refused as a whole: the tokens the plugin just
       * stored go too, so nothing of a failed authorization remains. */
      json_object_object_add(c->work2, "error", json_object_new_string(msg));
      rc = sam__hs_drop_secrets(c, sam__hs_str(c->profile, "profile_id"), 0,
                                patch_refused);
      if (rc != 0)
        patch_refused(c, rc);
      return;
    }
    json_object_object_foreach(patch, k, v) {
      json_object_object_add(form, k, json_object_get(v));
    }
  }
  json_object_put(res);
  json_object_object_add(c->profile, "connection_status",
                         json_object_new_string("connected"));
  json_object_object_add(c->profile, "last_error", NULL);
  rc = sam__hs_save_profile(c, connected_saved);
  if (rc != 0)
    finish_saved(c, rc);
}

static void redirect_loaded(sam__hs_call *c, int status) {
  const char *err = sam__hs_str(c->qs, "error");
  const char *code = sam__hs_str(c->qs, "code");
  json_object *a;
  sam_job_request req;
  char msg[600];
  char *pjson;
  int rc;

  if (status != 0) {
    page(c, 0, "Authorization failed",
         "the profile of this authorization no longer exists");
    return;
  }
  if (err != NULL) {
    const char *desc = sam__hs_str(c->qs, "error_description");

    snprintf(msg, sizeof(msg), "authorization refused [error=%.100s]%s%.300s",
             err, desc != NULL ? ": " : "", desc != NULL ? desc : "");
    fail_and_save(c, msg);
    return;
  }
  if (strcmp(sam__hs_str(c->work2, "plugin"),
             sam__hs_str(c->profile, "plugin")) != 0) {
    fail_and_save(c, "the state was issued for another plugin");
    return;
  }
  a = sam__hs_plugin_action(c->plugin, NULL, SAM_ACTION_OAUTH_CALLBACK);
  if (c->plugin == NULL || a == NULL) {
    fail_and_save(c, "the plugin has no OAuth callback action");
    return;
  }
  if (c->svc->closing) {
    page(c, 0, "Authorization failed",
         "the host is shutting down; start again with Get OAuth Token");
    return;
  }
  pjson = sam__hs_profile_plugin_json(c->svc, c->profile);
  if (pjson == NULL) {
    page(c, 0, "Authorization failed", "out of memory");
    return;
  }
  memset(&req, 0, sizeof(req));
  req.kind = SAM_JOB_ACTION;
  req.plugin = sam__hs_str(c->profile, "plugin");
  req.id = sam__hs_str(a, "action_id");
  req.profile_id = sam__hs_str(c->profile, "profile_id");
  req.profile_json = pjson;
  req.profile_len = strlen(pjson);
  req.redirect_uri = c->svc->redirect_uri;
  req.oauth_state = sam__hs_str(c->qs, "state");
  req.oauth_code = code;
  /* The code lives about two minutes at the provider: keep it short. */
  req.timeout_ms = SAM__HS_CALLBACK_TIMEOUT_MS;
  req.done = on_callback_done;
  req.ud = c;
  rc = sam_runtime_job_start(c->svc->rt, &req, c->job_id);
  free(pjson);
  if (rc != 0) {
    snprintf(msg, sizeof(msg), "the OAuth callback could not start [%s]",
             sam_err_name(rc));
    fail_and_save(c, msg);
    return;
  }
  c->pending++;
  c->job_running = 1;
}

void sam__hs_route_oauth_redirect(sam__hs_call *c) {
  const char *state = sam__hs_str(c->qs, "state");
  const char *code = sam__hs_str(c->qs, "code");
  const char *err = sam__hs_str(c->qs, "error");
  char *plugin = NULL, *pid = NULL;
  int rc;

  c->work2 = json_object_new_object();
  if (state == NULL || state[0] == '\0') {
    page(c, 0, "Authorization failed",
         "the redirect carries no state; start again with Get OAuth Token");
    return;
  }
  rc = sam__hs_oauth_state_take(c->svc, state, &plugin, &pid);
  if (rc != 0) {
    page(c, 0, "Authorization failed",
         rc == SAM_ETIMEDOUT
             ? "this authorization expired (10 minutes); start again with "
               "Get OAuth Token"
             : "unknown or already used state; start again with Get OAuth "
               "Token");
    return;
  }
  json_object_object_add(c->work2, "profile_id", json_object_new_string(pid));
  json_object_object_add(c->work2, "plugin", json_object_new_string(plugin));
  free(plugin);
  if (err == NULL && (code == NULL || code[0] == '\0')) {
    free(pid);
    page(c, 0, "Authorization failed",
         "the redirect carries neither a code nor an error");
    return;
  }
  rc = sam__hs_load_profile(c, pid, redirect_loaded);
  free(pid);
  if (rc != 0)
    page(c, 0, "Authorization failed", "the profile could not be read");
}
