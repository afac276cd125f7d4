/*
 * sim_users.c: the Users API (DOCUSIGN.md 4, A1-A13): list with paging and
 * filters, get one, close (DELETE), update and reopen (PUT). Pages are
 * written straight from the compact user structs.
 */
#include "sim.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

int sim_isadmin_lower;

/*
 * The consenting (integration) user, or NULL when it is not in the account.
 */
const sim_user *sim_integ_user(const sim_ctx *c) {
  long i = sim_user_find(&c->acct, c->acct.integ_id);

  return i < 0 ? NULL : &c->acct.users[i];
}

static int caller_is_admin(const sim_ctx *c) {
  const sim_user *u = sim_integ_user(c);

  return u ? (u->flags & SIM_UF_ADMIN) != 0 : c->integ_admin;
}

static int lacks_permissions(sim_req *r) {
  return sim_reply_error(r, 400, "USER_LACKS_PERMISSIONS",
                         "This user lacks sufficient permissions to access "
                         "this resource.");
}

/* ,"key":"<28-char date>" unless the date is missing */
static void put_date(sim_buf *b, const char *lit, size_t litlen, int64_t t) {
  char d[40];

  if (t == SIM_T_NONE)
    return;
  sim_time_fmt(t, d);
  sim_buf_raw(b, lit, litlen);
  sim_buf_raw(b, d, strlen(d));
  SIM_LIT(b, "\"");
}

/*
 * Writes one userInformation object. `additional` adds the A4 fields,
 * `license` the A5 ones (when the user has a license). Written member by
 * member with literal keys: this is the simulator's hot path (a page of 100
 * users per call). Returns 0.
 */
int sim_user_json(sim_buf *b,
                  const sim_account *a,
                  const sim_user *u,
                  int additional,
                  int license) {
  static const char *const admin_lit[2][2] = {
      {",\"isAdmin\":\"False\",\"isNAREnabled\":\"false\"",
       ",\"isAdmin\":\"True\",\"isNAREnabled\":\"false\""},
      {",\"isAdmin\":\"false\",\"isNAREnabled\":\"false\"",
       ",\"isAdmin\":\"true\",\"isNAREnabled\":\"false\""}};
  char id[37];
  int g, first = 1;

  sim_guid_fmt(u->id, id);
  sim_json_obj(b);
  SIM_LIT(b, "\"userName\":");
  sim_buf_jstr(b, sim_str(a, u->user_name));
  SIM_LIT(b, ",\"userId\":\"");
  sim_buf_raw(b, id, 36);
  SIM_LIT(b, "\",\"userType\":\"CompanyUser\",\"userStatus\":\"");
  sim_buf_cstr(b, sim_status_names[u->status]);
  SIM_LIT(b, "\",\"uri\":\"/users/");
  sim_buf_raw(b, id, 36);
  SIM_LIT(b, "\",\"email\":");
  sim_buf_jstr(b, sim_str(a, u->email));
  put_date(b, ",\"createdDateTime\":\"", 20, u->created);
  if (u->first) {
    SIM_LIT(b, ",\"firstName\":");
    sim_buf_jstr(b, sim_str(a, u->first));
  }
  if (u->last) {
    SIM_LIT(b, ",\"lastName\":");
    sim_buf_jstr(b, sim_str(a, u->last));
  }
  if (additional) {
    sim_buf_cstr(
        b, admin_lit[sim_isadmin_lower != 0][(u->flags & SIM_UF_ADMIN) != 0]);
    if (u->profile != SIM_NO_PROFILE) {
      SIM_LIT(b, ",\"permissionProfileId\":");
      sim_buf_jstr(b, a->profiles[u->profile].id);
      SIM_LIT(b, ",\"permissionProfileName\":");
      sim_buf_jstr(b, a->profiles[u->profile].name);
    }
    SIM_LIT(b, ",\"groupList\":[");
    for (g = 0; g < a->ngroups; g++) {
      const sim_group *gr = &a->groups[g];
      if (!(u->groups & (1u << g)))
        continue;
      if (!first)
        SIM_LIT(b, ",");
      first = 0;
      SIM_LIT(b, "{\"groupId\":");
      sim_buf_jstr(b, gr->id);
      SIM_LIT(b, ",\"groupName\":");
      sim_buf_jstr(b, gr->name);
      SIM_LIT(b, ",\"groupType\":");
      sim_buf_jstr(b, gr->type);
      if (gr->profile != SIM_NO_PROFILE) {
        SIM_LIT(b, ",\"permissionProfileId\":");
        sim_buf_jstr(b, a->profiles[gr->profile].id);
      }
      SIM_LIT(b, "}");
    }
    SIM_LIT(b, "]");
    put_date(b, ",\"userAddedToAccountDateTime\":\"", 31, u->added);
    SIM_LIT(b, ",\"sendActivationOnInvalidLogin\":\"false\","
               "\"enableConnectForUser\":\"false\"");
  }
  if (license && u->license) {
    SIM_LIT(b, ",\"licenseType\":");
    sim_buf_jstr(b, a->licenses[u->license - 1].type);
    SIM_LIT(b, ",\"licenseStatus\":");
    sim_buf_jstr(b, a->licenses[u->license - 1].status);
  }
  sim_json_obj_end(b);
  return 0;
}

/* ---- list ---- */

typedef struct filt {
  unsigned status_mask; /* 0 = all */
  char email[320];
  int has_email;
  char email_sub[320];
  char name_sub[320];
  int group;
  int not_group;
} filt;

static int ci_contains(const char *hay, const char *needle) {
  size_t n = strlen(needle);

  for (; *hay; hay++)
    if (strncasecmp(hay, needle, n) == 0)
      return 1;
  return n == 0;
}

static int matches(const sim_account *a, const sim_user *u, const filt *f) {
  if (f->status_mask && !(f->status_mask & (1u << u->status)))
    return 0;
  if (f->has_email && strcasecmp(sim_str(a, u->email), f->email) != 0)
    return 0;
  if (f->email_sub[0] && !ci_contains(sim_str(a, u->email), f->email_sub))
    return 0;
  if (f->name_sub[0] && !ci_contains(sim_str(a, u->user_name), f->name_sub))
    return 0;
  if (f->group >= 0 && !(u->groups & (1u << f->group)))
    return 0;
  if (f->not_group >= 0 && (u->groups & (1u << f->not_group)))
    return 0;
  return 1;
}

static int parse_uint(const char *s, long *out) {
  long v = 0;

  if (*s == '\0')
    return -1;
  for (; *s; s++) {
    if (*s < '0' || *s > '9' || v > 100000000)
      return -1;
    v = v * 10 + (*s - '0');
  }
  *out = v;
  return 0;
}

static int group_index(const sim_account *a, const char *id) {
  int g;

  for (g = 0; g < a->ngroups; g++)
    if (strcmp(a->groups[g].id, id) == 0)
      return g;
  return SIM_MAX_GROUPS; /* unknown group: nobody is a member */
}

/* the page link with other parameters kept (A2: relative /users?...) */
static void page_uri(sim_buf *b, const char *query, long start, long count) {
  const char *p = query;

  sim_buf_printf(b, "/users?start_position=%ld&count=%ld", start, count);
  while (p && *p) {
    const char *amp = strchr(p, '&');
    size_t n = amp ? (size_t)(amp - p) : strlen(p);
    if (n && strncmp(p, "start_position=", 15) != 0 &&
        strncmp(p, "count=", 6) != 0) {
      sim_buf_raw(b, "&", 1);
      sim_buf_raw(b, p, n);
    }
    p = amp ? amp + 1 : NULL;
  }
}

static int bad_param(sim_req *r, const char *what) {
  char msg[160];

  snprintf(msg, sizeof(msg),
           "The request contained at least one invalid "
           "parameter. [%s]",
           what);
  return sim_reply_error(r, 400, "INVALID_REQUEST_PARAMETER", msg);
}

static int list_users(sim_req *r, int v2) {
  sim_ctx *c = r->ctx;
  sim_account *a = &c->acct;
  char v[320];
  long count = 100, start = 0, maxc = v2 ? 500 : 100;
  long total = 0, emitted = 0;
  int additional = sim_param_bool(r->query, "additional_info");
  int license = sim_param_bool(r->query, "include_license");
  int filtered;
  filt f;
  sim_buf *bp = &c->page;
  size_t i;

  /* one buffer for every page: it keeps its capacity, so no page faults */
  bp->len = 0;
  bp->depth = 0;
  bp->comma = 0;
  bp->after_key = 0;
  memset(&f, 0, sizeof(f));
  f.group = f.not_group = -1;
  if (sim_param(r->query, "count", v, sizeof(v)) &&
      (parse_uint(v, &count) != 0 || count < 1 || count > maxc))
    return bad_param(r, "count");
  if (sim_param(r->query, "start_position", v, sizeof(v)) &&
      parse_uint(v, &start) != 0)
    return bad_param(r, "start_position");
  if (sim_param(r->query, "status", v, sizeof(v)) && v[0]) {
    char *tok = v, *comma;
    do {
      int st;
      comma = strchr(tok, ',');
      st = sim_status_from_name(tok,
                                comma ? (size_t)(comma - tok) : strlen(tok));
      if (st < 0)
        return bad_param(r, "status");
      f.status_mask |= 1u << st;
      tok = comma ? comma + 1 : NULL;
    } while (tok);
  }
  f.has_email = sim_param(r->query, "email", f.email, sizeof(f.email)) &&
                f.email[0] != '\0';
  if (!f.has_email)
    sim_param(r->query, "email_substring", f.email_sub, sizeof(f.email_sub));
  sim_param(r->query, "user_name_substring", f.name_sub, sizeof(f.name_sub));
  if (sim_param(r->query, "group_id", v, sizeof(v)) && v[0])
    f.group = group_index(a, v);
  if (sim_param(r->query, "not_group_id", v, sizeof(v)) && v[0])
    f.not_group = group_index(a, v);
  filtered = f.status_mask || f.has_email || f.email_sub[0] || f.name_sub[0] ||
             f.group >= 0 || f.not_group >= 0;

  sim_json_obj(bp);
  /* users first, then the paging fields, as DocuSign orders them */
  if (!filtered) {
    total = (long)a->nusers;
    if (start < total) {
      long end = start + count < total ? start + count : total;
      sim_json_key(bp, "users");
      sim_json_arr(bp);
      for (i = (size_t)start; i < (size_t)end; i++)
        sim_user_json(bp, a, &a->users[i], additional, license);
      sim_json_arr_end(bp);
      emitted = end - start;
    }
  } else {
    for (i = 0; i < a->nusers; i++) {
      if (!matches(a, &a->users[i], &f))
        continue;
      if (total >= start && emitted < count) {
        if (emitted == 0) {
          sim_json_key(bp, "users");
          sim_json_arr(bp);
        }
        sim_user_json(bp, a, &a->users[i], additional, license);
        emitted++;
      }
      total++;
    }
    if (emitted > 0)
      sim_json_arr_end(bp);
  }
  if (emitted == 0 && c->quirks.users_empty_array) {
    sim_json_key(bp, "users");
    sim_json_arr(bp);
    sim_json_arr_end(bp);
  }
  sim_json_kstrint(bp, "resultSetSize", emitted);
  sim_json_kstrint(bp, "totalSetSize", total);
  sim_json_kstrint(bp, "startPosition", start);
  sim_json_kstrint(bp, "endPosition", emitted ? start + emitted - 1 : start);
  if (start + emitted < total && emitted > 0) {
    sim_json_key(bp, "nextUri");
    sim_buf u = {0};
    page_uri(&u, r->query, start + emitted, count);
    sim_json_str(bp, u.p);
    sim_buf_free(&u);
  } else if (!c->quirks.omit_null_uris) {
    sim_json_key(bp, "nextUri");
    sim_json_null(bp);
  }
  if (start > 0) {
    sim_json_key(bp, "previousUri");
    sim_buf u = {0};
    page_uri(&u, r->query, start > count ? start - count : 0, count);
    sim_json_str(bp, u.p);
    sim_buf_free(&u);
  } else if (!c->quirks.omit_null_uris) {
    sim_json_key(bp, "previousUri");
    sim_json_null(bp);
  }
  sim_json_obj_end(bp);
  sim_reply(r, 200, "application/json; charset=utf-8", bp->p, bp->len);
  c->users_list_calls++;
  sim_sched_after_list(c);
  return 0;
}

/* ---- get, close, update ---- */

static long find_user_str(const sim_account *a, const char *s) {
  uint8_t id[16];

  if (s == NULL || sim_guid_parse(s, id) != 0)
    return -1;
  return sim_user_find(a, id);
}

static int get_user(sim_req *r, const char *idstr) {
  sim_account *a = &r->ctx->acct;
  long i = find_user_str(a, idstr);
  sim_buf b = {0};

  if (i < 0)
    return sim_reply_error(r, 400, "USER_DOES_NOT_EXIST_IN_ACCOUNT",
                           "This user does not exist in this account.");
  sim_user_json(&b, a, &a->users[i], 1,
                sim_param_bool(r->query, "include_license"));
  return sim_reply_json(r, 200, &b);
}

static json_object *parse_body(sim_req *r) {
  json_tokener *tok = json_tokener_new();
  json_object *o;

  if (tok == NULL)
    return NULL;
  o = json_tokener_parse_ex(tok, r->req->entity.base, (int)r->req->entity.len);
  if (o != NULL && (json_tokener_get_error(tok) != json_tokener_success ||
                    json_tokener_get_parse_end(tok) != r->req->entity.len)) {
    json_object_put(o);
    o = NULL;
  }
  json_tokener_free(tok);
  return o;
}

/* the {"users":[...]} body with 1..100 entries, or NULL */
static json_object *users_array(json_object *body) {
  json_object *arr;
  size_t n;

  if (body == NULL || !json_object_is_type(body, json_type_object) ||
      !json_object_object_get_ex(body, "users", &arr) ||
      !json_object_is_type(arr, json_type_array))
    return NULL;
  n = json_object_array_length(arr);
  return n >= 1 && n <= 100 ? arr : NULL;
}

static const char *jstr(json_object *o, const char *k) {
  json_object *v;

  if (o == NULL || !json_object_object_get_ex(o, k, &v) ||
      !json_object_is_type(v, json_type_string))
    return NULL;
  return json_object_get_string(v);
}

static void
user_error(sim_buf *b, const char *id, const char *code, const char *msg) {
  sim_json_obj(b);
  if (id != NULL)
    sim_json_kstr(b, "userId", id);
  sim_json_key(b, "errorDetails");
  sim_json_obj(b);
  sim_json_kstr(b, "errorCode", code);
  sim_json_kstr(b, "message", msg);
  sim_json_obj_end(b);
  sim_json_obj_end(b);
}

static int close_users(sim_req *r) {
  sim_ctx *c = r->ctx;
  sim_account *a = &c->acct;
  json_object *body = parse_body(r), *arr = users_array(body);
  char del[128];
  int strip_groups = 0, strip_profile = 0;
  sim_buf b = {0};
  size_t i;

  if (arr == NULL) {
    json_object_put(body);
    return sim_reply_error(r, 400, "INVALID_REQUEST_BODY",
                           "The request body is missing or improperly "
                           "formatted.");
  }
  if (sim_param(r->query, "delete", del, sizeof(del))) {
    strip_groups = strstr(del, "Groups") != NULL;
    strip_profile = strstr(del, "PermissionSet") != NULL;
  }
  sim_json_obj(&b);
  sim_json_key(&b, "users");
  sim_json_arr(&b);
  for (i = 0; i < json_object_array_length(arr); i++) {
    json_object *e = json_object_array_get_idx(arr, i);
    const char *id = jstr(e, "userId");
    long k = find_user_str(a, id);
    sim_user *u;
    char gid[37], uri[48];
    if (k < 0) {
      user_error(&b, id, "USER_DOES_NOT_EXIST_IN_ACCOUNT",
                 "This user does not exist in this account.");
      continue;
    }
    u = &a->users[k];
    /* A9: closing a closed user succeeds and echoes it */
    u->status = SIM_ST_CLOSED;
    if (strip_groups)
      u->groups = 0;
    if (strip_profile)
      u->profile = SIM_NO_PROFILE;
    sim_guid_fmt(u->id, gid);
    snprintf(uri, sizeof(uri), "/users/%s", gid);
    sim_json_obj(&b);
    sim_json_kstr(&b, "userId", gid);
    sim_json_kstr(&b, "userName", sim_str(a, u->user_name));
    sim_json_kstr(&b, "email", sim_str(a, u->email));
    sim_json_kstr(&b, "userStatus", "Closed");
    sim_json_kstr(&b, "userType", "CompanyUser");
    sim_json_kstr(&b, "uri", uri);
    sim_json_kstr(&b, "accountId", a->guid);
    sim_json_obj_end(&b);
  }
  sim_json_arr_end(&b);
  sim_json_obj_end(&b);
  json_object_put(body);
  return sim_reply_json(r, 200, &b);
}

/* Applies one userInformation update; 0, or writes a per-user error. */
static int
update_one(sim_ctx *c, json_object *e, const char *path_id, sim_buf *b) {
  sim_account *a = &c->acct;
  const char *id = path_id ? path_id : jstr(e, "userId");
  const char *pid = jstr(e, "permissionProfileId");
  const char *pname = jstr(e, "permissionProfileName");
  long k = find_user_str(a, id);
  sim_user *u;
  int p = -1;

  if (k < 0) {
    user_error(b, id, "USER_DOES_NOT_EXIST_IN_ACCOUNT",
               "This user does not exist in this account.");
    return -1;
  }
  if (pid != NULL) {
    int i;
    for (i = 0; i < a->nprofiles; i++)
      if (strcmp(a->profiles[i].id, pid) == 0)
        p = i;
  } else if (pname != NULL) {
    p = sim_profile_find(a, pname, 0);
  }
  if ((pid != NULL || pname != NULL) && p < 0) {
    user_error(b, id, "INVALID_PERMISSION_PROFILE_ID",
               "The permission profile does not exist in this account.");
    return -1;
  }
  u = &a->users[k];
  if (p >= 0) {
    u->profile = (uint8_t)p;
    if (strcmp(a->profiles[p].name, "Account Administrator") == 0)
      u->flags |= SIM_UF_ADMIN;
    else
      u->flags &= (uint8_t)~SIM_UF_ADMIN;
  }
  /* A12: an update reopens a closed user, who must activate again */
  if (u->status == SIM_ST_CLOSED)
    u->status = SIM_ST_ACTIVATION_SENT;
  sim_user_json(b, a, u, 1, 0);
  return 0;
}

static int update_users(sim_req *r, const char *path_id) {
  json_object *body = parse_body(r), *arr;
  sim_buf b = {0};
  size_t i;

  if (path_id != NULL) {
    if (body == NULL || !json_object_is_type(body, json_type_object)) {
      json_object_put(body);
      return sim_reply_error(r, 400, "INVALID_REQUEST_BODY",
                             "The request body is missing or improperly "
                             "formatted.");
    }
    if (update_one(r->ctx, body, path_id, &b) != 0) {
      json_object_put(body);
      sim_buf_free(&b);
      return sim_reply_error(r, 400, "USER_DOES_NOT_EXIST_IN_ACCOUNT",
                             "This user does not exist in this account, or "
                             "the permission profile does not.");
    }
    json_object_put(body);
    return sim_reply_json(r, 200, &b);
  }
  arr = users_array(body);
  if (arr == NULL) {
    json_object_put(body);
    return sim_reply_error(r, 400, "INVALID_REQUEST_BODY",
                           "The request body is missing or improperly "
                           "formatted.");
  }
  sim_json_obj(&b);
  sim_json_key(&b, "users");
  sim_json_arr(&b);
  for (i = 0; i < json_object_array_length(arr); i++)
    (void)update_one(r->ctx, json_object_array_get_idx(arr, i), NULL, &b);
  sim_json_arr_end(&b);
  sim_json_obj_end(&b);
  json_object_put(body);
  return sim_reply_json(r, 200, &b);
}

/*
 * Handles .../users (`rest` = "" or "/{userId}"); `v2` selects the v2 list
 * (pages up to 500, GET only). Loop thread; one reply. Returns 0.
 */
int sim_users_handle(sim_req *r, const char *rest, int v2) {
  const char *m = r->method;

  if (!caller_is_admin(r->ctx))
    return lacks_permissions(r);
  if (rest[0] == '\0' || strcmp(rest, "/") == 0) {
    if (strcmp(m, "GET") == 0)
      return list_users(r, v2);
    if (!v2 && strcmp(m, "DELETE") == 0)
      return close_users(r);
    if (!v2 && strcmp(m, "PUT") == 0)
      return update_users(r, NULL);
  } else if (!v2 && strchr(rest + 1, '/') == NULL) {
    if (strcmp(m, "GET") == 0)
      return get_user(r, rest + 1);
    if (strcmp(m, "PUT") == 0)
      return update_users(r, rest + 1);
  }
  return sim_reply_error(r, 404, "RESOURCE_NOT_FOUND",
                         "The URL provided does not resolve to a resource.");
}
