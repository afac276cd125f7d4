/*
 * sim_envelopes.c: envelope status changes, GET .../envelopes (DOCUSIGN.md
 * 6 and A28): the caller's own envelopes, or a user's with user_id (admin),
 * in a from_date/to_date window on the event from_to_status picks.
 */
#include "sim.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *const sim_env_status_names[SIM_ENV_NSTATUS] = {
    "completed", "sent", "delivered", "declined", "voided", "created"};

enum { K_CHANGED, K_CREATED, K_SENT, K_COMPLETED };

static int64_t env_time(const sim_env *e, int key) {
  switch (key) {
  case K_CREATED:
    return e->created;
  case K_SENT:
    return e->sent;
  case K_COMPLETED:
    return e->completed;
  default:
    return e->changed;
  }
}

static int key_from(const char *s, int dflt) {
  if (strcasecmp(s, "created") == 0)
    return K_CREATED;
  if (strcasecmp(s, "sent") == 0)
    return K_SENT;
  if (strcasecmp(s, "completed") == 0)
    return K_COMPLETED;
  if (strcasecmp(s, "changed") == 0 || strcasecmp(s, "status_changed") == 0 ||
      strcasecmp(s, "last_modified") == 0)
    return K_CHANGED;
  return dflt;
}

static int sort_key;
static int sort_desc;

static int cmp(const void *x, const void *y) {
  int64_t a = env_time(*(const sim_env *const *)x, sort_key);
  int64_t b = env_time(*(const sim_env *const *)y, sort_key);
  int r = a < b ? -1 : a > b ? 1 : 0;

  return sort_desc ? -r : r;
}

static int bad(sim_req *r, const char *what) {
  char msg[160];

  snprintf(msg, sizeof(msg),
           "The request contained at least one invalid "
           "parameter. [%s]",
           what);
  return sim_reply_error(r, 400, "INVALID_REQUEST_PARAMETER", msg);
}

static void kdate(sim_buf *b, const char *k, int64_t t) {
  char d[40];

  if (t == SIM_T_NONE)
    return;
  sim_time_fmt(t, d);
  sim_json_kstr(b, k, d);
}

/*
 * Handles GET .../envelopes. Loop thread; one reply. Returns 0.
 */
int sim_envelopes_handle(sim_req *r) {
  sim_ctx *c = r->ctx;
  sim_account *a = &c->acct;
  char v[256], v2[256];
  int64_t from = 0, to = sim_time_now();
  long count = -1, start = 0, ui, total = 0, n = 0, k;
  int key = K_CHANGED, status_mask = 0;
  const sim_user *u;
  const sim_env **sel = NULL;
  sim_buf b = {0};

  if (strcmp(r->method, "GET") != 0)
    return sim_reply_error(r, 404, "RESOURCE_NOT_FOUND",
                           "The URL provided does not resolve to a "
                           "resource.");
  if (!sim_param(r->query, "from_date", v, sizeof(v))) {
    if (sim_param(r->query, "envelope_ids", v, sizeof(v)) ||
        sim_param(r->query, "transaction_ids", v, sizeof(v)))
      from = INT64_MAX; /* ids are not modelled: nothing matches */
    else
      return bad(r, "from_date, envelope_ids or transaction_ids is required");
  } else if (sim_time_parse(v, &from) != 0) {
    return bad(r, "from_date");
  }
  if (sim_param(r->query, "to_date", v, sizeof(v)) &&
      sim_time_parse(v, &to) != 0)
    return bad(r, "to_date");
  if (sim_param(r->query, "from_to_status", v, sizeof(v)))
    key = key_from(v, K_CHANGED);
  if (sim_param(r->query, "count", v, sizeof(v))) {
    count = atol(v);
    if (count < 1)
      return bad(r, "count");
  }
  if (sim_param(r->query, "start_position", v, sizeof(v)))
    start = atol(v) < 0 ? 0 : atol(v);
  if (sim_param(r->query, "status", v, sizeof(v)) && v[0] &&
      strcasecmp(v, "any") != 0) {
    int s;
    for (s = 0; s < SIM_ENV_NSTATUS; s++)
      if (strstr(v, sim_env_status_names[s]) != NULL)
        status_mask |= 1 << s;
  }
  /* the sender: user_id, or email + user_name, else the caller */
  ui = sim_user_find(a, a->integ_id);
  if (sim_param(r->query, "user_id", v, sizeof(v)) && v[0]) {
    uint8_t id[16];
    if (sim_guid_parse(v, id) != 0)
      return bad(r, "user_id");
    ui = sim_user_find(a, id);
    if (ui < 0)
      return sim_reply_error(r, 400, "USER_DOES_NOT_EXIST_IN_ACCOUNT",
                             "This user does not exist in this account.");
  } else if (sim_param(r->query, "email", v, sizeof(v)) &&
             sim_param(r->query, "user_name", v2, sizeof(v2))) {
    size_t i;
    for (i = 0; i < a->nusers; i++)
      if (strcasecmp(sim_str(a, a->users[i].email), v) == 0 &&
          strcmp(sim_str(a, a->users[i].user_name), v2) == 0)
        break;
    if (i == a->nusers)
      return sim_reply_error(r, 400, "USER_DOES_NOT_EXIST_IN_ACCOUNT",
                             "This user does not exist in this account.");
    ui = (long)i;
  }
  if (ui >= 0 && memcmp(a->users[ui].id, a->integ_id, 16) != 0) {
    const sim_user *me = sim_integ_user(c);
    if (me ? !(me->flags & SIM_UF_ADMIN) : !c->integ_admin)
      return sim_reply_error(r, 400, "USER_LACKS_PERMISSIONS",
                             "This user lacks sufficient permissions to "
                             "access this resource.");
  }
  u = ui >= 0 ? &a->users[ui] : NULL;
  if (u != NULL && u->env_count > 0) {
    sel = calloc(u->env_count, sizeof(*sel));
    if (sel == NULL)
      return sim_reply(r, 500, "text/plain", "out of memory\n", 14);
    for (k = 0; k < u->env_count; k++) {
      const sim_env *e = &a->envs[u->env_first + k];
      int64_t t = env_time(e, key);
      if (t == SIM_T_NONE || t < from || t > to)
        continue;
      if (status_mask && !(status_mask & (1 << e->status)))
        continue;
      sel[total++] = e;
    }
  }
  sort_key =
      sim_param(r->query, "order_by", v, sizeof(v)) ? key_from(v, key) : key;
  sort_desc =
      sim_param(r->query, "order", v, sizeof(v)) && strcasecmp(v, "desc") == 0;
  if (total > 1)
    qsort(sel, (size_t)total, sizeof(*sel), cmp);
  sim_json_obj(&b);
  for (k = start; k < total && (count < 0 || n < count); k++, n++) {
    const sim_env *e = sel[k];
    char id[37], uid[37], uri[64];
    if (n == 0) {
      sim_json_key(&b, "envelopes");
      sim_json_arr(&b);
    }
    sim_guid_fmt(e->id, id);
    sim_guid_fmt(u->id, uid);
    snprintf(uri, sizeof(uri), "/envelopes/%s", id);
    sim_json_obj(&b);
    sim_json_kstr(&b, "envelopeId", id);
    sim_json_kstr(&b, "envelopeUri", uri);
    sim_json_kstr(&b, "status", sim_env_status_names[e->status]);
    sim_json_key(&b, "sender");
    sim_json_obj(&b);
    sim_json_kstr(&b, "userId", uid);
    sim_json_kstr(&b, "userName", sim_str(a, u->user_name));
    sim_json_kstr(&b, "email", sim_str(a, u->email));
    sim_json_kstr(&b, "accountId", a->guid);
    sim_json_obj_end(&b);
    kdate(&b, "createdDateTime", e->created);
    kdate(&b, "sentDateTime", e->sent);
    kdate(&b, "statusChangedDateTime", e->changed);
    kdate(&b, "lastModifiedDateTime", e->changed);
    kdate(&b, "completedDateTime", e->completed);
    sim_json_obj_end(&b);
  }
  if (n > 0)
    sim_json_arr_end(&b);
  sim_json_kstrint(&b, "resultSetSize", n);
  sim_json_kstrint(&b, "totalSetSize", total);
  sim_json_kstrint(&b, "startPosition", start);
  sim_json_kstrint(&b, "endPosition", n ? start + n - 1 : start);
  kdate(&b, "lastQueriedDateTime", sim_time_now());
  sim_json_obj_end(&b);
  free(sel);
  return sim_reply_json(r, 200, &b);
}
