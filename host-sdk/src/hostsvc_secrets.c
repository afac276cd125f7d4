/*
 * hostsvc_secrets.c: destroying a profile's secrets (a credential changed,
 * or the profile is deleted).
 *
 * Why names come from the form schema: the secret API (ABI.md 9.7) stores
 * secrets by (profile, name) and has no "list" call, so the host cannot
 * discover the names a plugin chose for its tokens. A plugin names them in
 * its form schema's x-sam-ui "token_secrets" (e.g. ["oauth_tokens"]); the
 * host adds "oauth_pending", which ABI.md 9.4 names. A secret a plugin
 * stores under an undeclared name survives a credential change (the
 * plugin's next OAuth flow overwrites it) and is reported by nothing.
 */
#include <stdlib.h>
#include <string.h>

#include "hostsvc_int.h"

static void on_deleted(sam__hs_call *c, int status) {
  c->pending--;
  if (status != 0 && status != SAM_ENOENT && c->first_err == 0)
    c->first_err = status;
  if (c->pending == 0)
    c->then(c, c->first_err);
}

static void on_form_secret(int status, void *ud) {
  on_deleted(ud, status);
}

static void
on_plugin_secret(int status, const char *value, size_t len, void *ud) {
  (void)value;
  (void)len;
  on_deleted(ud, status);
}

static void
del_one(sam__hs_call *c, const char *pid, const char *name, int form) {
  int rc;

  if (form)
    rc = sam_runtime_set_form_secret(c->svc->rt, pid, name, NULL, 0,
                                     on_form_secret, c);
  else
    rc = c->svc->api->secret_put(c->svc->host, pid, name, NULL, 0,
                                 on_plugin_secret, c, NULL);
  if (rc == 0)
    c->pending++;
  else if (c->first_err == 0)
    c->first_err = rc;
}

int sam__hs_drop_secrets(sam__hs_call *c,
                         const char *pid,
                         int all,
                         sam__hs_step_fn then) {
  json_object *schema = sam__hs_form_schema(c->plugin);
  json_object *ui = NULL, *names = NULL, *pt = NULL;
  size_t i, n;

  c->then = then;
  c->first_err = 0;
  c->pending++; /* guard until every delete is queued */
  del_one(c, pid, "oauth_pending", 0);
  if (schema != NULL && json_object_object_get_ex(schema, "x-sam-ui", &ui) &&
      json_object_object_get_ex(ui, "token_secrets", &names) &&
      json_object_is_type(names, json_type_array)) {
    n = json_object_array_length(names);
    for (i = 0; i < n; i++) {
      const char *s =
          json_object_get_string(json_object_array_get_idx(names, i));

      if (s != NULL && strcmp(s, "oauth_pending") != 0)
        del_one(c, pid, s, 0);
    }
  }
  if (all && c->plugin != NULL &&
      json_object_object_get_ex(c->plugin, "profile_type", &pt) &&
      json_object_object_get_ex(pt, "secret_fields", &names)) {
    n = json_object_array_length(names);
    for (i = 0; i < n; i++)
      del_one(c, pid,
              json_object_get_string(json_object_array_get_idx(names, i)), 1);
  }
  on_deleted(c, 0); /* drops the guard; may finish now */
  return 0;
}

/* ---- store access to a plugin's own record types ---- */

#include "runtime_int.h"

/*
 * The store refuses a plugin's record types to every other handle, the
 * host's included (ops.c: a type is visible to its plugin and the sam_
 * types to all). Deleting a profile must still remove that plugin's
 * records, so the service acts through the plugin's own instance, found
 * in the runtime's list (read only; nothing of the core is changed).
 */
sam_host *sam__hs_plugin_handle(sam_hostsvc *svc, const char *name) {
  sam_host *h;

  if (name == NULL)
    return NULL;
  for (h = svc->rt->plugins; h != NULL; h = h->next) {
    if (h->published && h->phase == SAM__PHASE_RUNNING && h->name != NULL &&
        strcmp(h->name, name) == 0)
      return h;
  }
  return NULL;
}
