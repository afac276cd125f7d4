/*
 * sim_account.c: account information, billing plan and charges (with the
 * A25 reseller mode), permission profiles and groups (DOCUSIGN.md 5).
 * These objects are small, so they are kept as json-c trees.
 */
#include "sim.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void set_default(json_object *o, const char *k, const char *v) {
  if (!json_object_object_get_ex(o, k, NULL))
    json_object_object_add(o, k, json_object_new_string(v));
}

static void set_default_date(json_object *o, const char *k, int64_t t) {
  char d[40];

  sim_time_fmt(t, d);
  set_default(o, k, d);
}

static const char *jstr(json_object *o, const char *k) {
  json_object *v;

  if (o == NULL || !json_object_object_get_ex(o, k, &v) ||
      !json_object_is_type(v, json_type_string))
    return NULL;
  return json_object_get_string(v);
}

/*
 * Completes the account's accountInformation and billing plan with
 * defaults for every field the generator or file did not give. Loop
 * thread, before serving.
 */
void sim_account_finish(sim_account *a, int64_t now) {
  int64_t day = 86400LL * SIM_TICKS;
  char n[32];
  size_t seats = sim_seats_in_use(a);

  if (a->info == NULL)
    a->info = json_object_new_object();
  if (a->plan == NULL)
    a->plan = json_object_new_object();
  set_default(a->info, "accountIdGuid", a->guid);
  set_default(a->info, "accountName", a->name);
  set_default(a->info, "externalAccountId", a->external_id);
  set_default(a->info, "distributorCode", "DEVCENTER_DEMO_APRIL2013");
  set_default(a->info, "planName", "DocuSign eSignature Business Pro");
  set_default(a->info, "planClassification", "business");
  set_default(a->info, "currentPlanId", "4b0f2c8e-5a3d-4c7e-9f1a-2d6b8e0c4a11");
  set_default_date(a->info, "planStartDate", now - 200 * day);
  set_default_date(a->info, "planEndDate", now + 165 * day);
  set_default(a->info, "currencyCode", "USD");
  snprintf(n, sizeof(n), "%zu", seats + seats / 10 + 5);
  set_default(a->info, "seatsAllowed", n);
  set_default_date(a->info, "billingPeriodStartDate", now - 20 * day);
  set_default_date(a->info, "billingPeriodEndDate", now + 10 * day);
  set_default(a->info, "billingPeriodDaysRemaining", "10");
  set_default(a->info, "billingPeriodEnvelopesAllowed", "unlimited");
  {
    size_t i, sent = 0;
    for (i = 0; i < a->nenvs; i++)
      if (a->envs[i].sent != SIM_T_NONE && a->envs[i].sent >= now - 20 * day)
        sent++;
    snprintf(n, sizeof(n), "%zu", sent);
    set_default(a->info, "billingPeriodEnvelopesSent", n);
  }
  set_default(a->info, "envelopeUnitPrice", "$0.00");
  set_default(a->info, "suspensionStatus", "");
  set_default(a->info, "envelopeSendingBlocked", "false");
  set_default(a->info, "canUpgrade", "false");
  set_default(a->info, "isDowngrade", "false");
  set_default(a->info, "paymentMethod", "purchase_order");
  set_default(a->info, "billingProfile", "web");
  set_default(a->info, "connectPermission", "full");
  set_default(a->info, "allowTransactionRooms", "false");
  set_default(a->info, "status21CFRPart11", "not_enabled");
  set_default_date(a->info, "createdDate", now - 900 * day);

  set_default(a->plan, "planId", jstr(a->info, "currentPlanId"));
  set_default(a->plan, "planName", jstr(a->info, "planName"));
  set_default(a->plan, "planClassification",
              jstr(a->info, "planClassification"));
  set_default(a->plan, "paymentCycle", "Annually");
  set_default(a->plan, "paymentMethod", "purchase_order");
  set_default(a->plan, "currencyCode", "USD");
  set_default(a->plan, "planStartDate", jstr(a->info, "planStartDate"));
  set_default(a->plan, "renewalDate", jstr(a->info, "planEndDate"));
  set_default(a->plan, "includedSeats", jstr(a->info, "seatsAllowed"));
  set_default(a->plan, "incrementalSeats", "0");
  set_default(a->plan, "perSeatPrice", "456.0000");
  set_default(a->plan, "otherDiscountPercent", "0.00");
  set_default(a->plan, "enableSupport", "true");
  set_default(a->plan, "canUpgrade", "false");
  set_default(a->plan, "isDowngrade", "false");
  set_default(a->plan, "renewalStatus", "auto");
  if (!json_object_object_get_ex(a->plan, "seatDiscounts", NULL)) {
    json_object *arr = json_object_new_array(), *d = json_object_new_object();
    json_object_object_add(d, "beginSeatCount", json_object_new_string("0"));
    json_object_object_add(d, "endSeatCount", json_object_new_string("0"));
    json_object_object_add(d, "discountPercent",
                           json_object_new_string("0.00"));
    json_object_array_add(arr, d);
    json_object_object_add(a->plan, "seatDiscounts", arr);
  }
}

static int reply_obj(sim_req *r, json_object *o) {
  const char *s = json_object_to_json_string_ext(
      o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
  int rc = sim_reply(r, 200, "application/json; charset=utf-8", s, strlen(s));

  json_object_put(o);
  return rc;
}

static json_object *copy(json_object *o) {
  json_object *c = NULL;

  if (json_object_deep_copy(o, &c, NULL) != 0)
    return json_object_new_object();
  return c;
}

static int caller_is_admin(sim_ctx *c) {
  const sim_user *u = sim_integ_user(c);

  return u ? (u->flags & SIM_UF_ADMIN) != 0 : c->integ_admin;
}

static int get_account(sim_req *r) {
  sim_ctx *c = r->ctx;
  json_object *o = copy(c->acct.info);
  char n[32];

  snprintf(n, sizeof(n), "%zu", sim_seats_in_use(&c->acct));
  json_object_object_add(o, "seatsInUse", json_object_new_string(n));
  if (c->reseller) {
    json_object_object_del(o, "billingPeriodEnvelopesAllowed");
    json_object_object_del(o, "billingPeriodEnvelopesSent");
  }
  return reply_obj(r, o);
}

static int get_plan(sim_req *r) {
  sim_ctx *c = r->ctx;
  json_object *o = json_object_new_object(), *p;

  if (c->reseller) {
    p = json_object_new_object();
    json_object_object_add(
        p, "planId",
        json_object_new_string(
            jstr(c->acct.plan, "planId") ? jstr(c->acct.plan, "planId") : ""));
    json_object_object_add(
        p, "planName",
        json_object_new_string(jstr(c->acct.plan, "planName")
                                   ? jstr(c->acct.plan, "planName")
                                   : ""));
  } else {
    p = copy(c->acct.plan);
    if (!sim_param_bool(r->query, "include_metadata"))
      json_object_object_del(p, "renewalStatus");
    json_object_object_add(o, "paymentMethod",
                           json_object_new_string("purchase_order"));
    json_object_object_add(o, "billingAddressIsCreditCardAddress",
                           json_object_new_string("false"));
  }
  json_object_object_add(o, "billingPlan", p);
  return reply_obj(r, o);
}

static json_object *charge(const char *name,
                           const char *type,
                           const char *unit,
                           const char *incl,
                           const char *used,
                           const char *allowed,
                           const char *price,
                           const char *from,
                           const char *to) {
  json_object *o = json_object_new_object();

  json_object_object_add(o, "chargeType", json_object_new_string(type));
  json_object_object_add(o, "chargeName", json_object_new_string(name));
  json_object_object_add(o, "chargeUnitOfMeasure",
                         json_object_new_string(unit));
  json_object_object_add(o, "unitPrice", json_object_new_string(price));
  json_object_object_add(o, "includedQuantity", json_object_new_string(incl));
  json_object_object_add(o, "incrementalQuantity", json_object_new_string("0"));
  json_object_object_add(o, "usedQuantity", json_object_new_string(used));
  json_object_object_add(o, "allowedQuantity", json_object_new_string(allowed));
  json_object_object_add(o, "blocked", json_object_new_string("false"));
  json_object_object_add(o, "firstEffectiveDate",
                         json_object_new_string(from ? from : ""));
  json_object_object_add(o, "lastEffectiveDate",
                         json_object_new_string(to ? to : ""));
  json_object_object_add(o, "prices", json_object_new_array());
  json_object_object_add(o, "discounts", json_object_new_array());
  return o;
}

static int get_charges(sim_req *r) {
  sim_ctx *c = r->ctx;
  sim_account *a = &c->acct;
  json_object *o = json_object_new_object(), *items, *out;
  char want[64], used[32];
  size_t i;

  if (!caller_is_admin(c)) {
    json_object_put(o);
    return sim_reply_error(r, 400, "USER_LACKS_PERMISSIONS",
                           "This user lacks sufficient permissions to "
                           "access this resource.");
  }
  out = json_object_new_array();
  json_object_object_add(o, "billingChargeItems", out);
  if (c->reseller) /* A25: no consumption values at all */
    return reply_obj(r, o);
  if (a->charges != NULL) {
    items = copy(a->charges);
  } else {
    const char *from = jstr(a->info, "billingPeriodStartDate");
    const char *to = jstr(a->info, "billingPeriodEndDate");
    items = json_object_new_array();
    snprintf(used, sizeof(used), "%zu", sim_seats_in_use(a));
    json_object_array_add(
        items, charge("seats", "seat", "each", jstr(a->info, "seatsAllowed"),
                      used, jstr(a->info, "seatsAllowed"), "456.00", from, to));
    json_object_array_add(
        items, charge("envelopes Included", "envelopes", "envelope",
                      "unlimited", jstr(a->info, "billingPeriodEnvelopesSent"),
                      "unlimited", "0.00", from, to));
  }
  sim_param(r->query, "include_charges", want, sizeof(want));
  for (i = 0; i < json_object_array_length(items); i++) {
    json_object *it = json_object_array_get_idx(items, i);
    const char *name = jstr(it, "chargeName");
    if (want[0] && (name == NULL || strncasecmp(name, want, 4) != 0))
      continue;
    json_object_array_add(out, json_object_get(it));
  }
  json_object_put(items);
  return reply_obj(r, o);
}

static int get_profiles(sim_req *r) {
  sim_account *a = &r->ctx->acct;
  char inc[128];
  int counts, closed, p;
  sim_buf b = {0};
  char date[40];

  sim_param(r->query, "include", inc, sizeof(inc));
  counts = strstr(inc, "user_count") != NULL;
  closed = strstr(inc, "closed_users") != NULL;
  sim_time_fmt(sim_time_now() - 300LL * 86400 * SIM_TICKS, date);
  sim_json_obj(&b);
  sim_json_key(&b, "permissionProfiles");
  sim_json_arr(&b);
  for (p = 0; p < a->nprofiles; p++) {
    sim_json_obj(&b);
    sim_json_kstr(&b, "permissionProfileId", a->profiles[p].id);
    sim_json_kstr(&b, "permissionProfileName", a->profiles[p].name);
    sim_json_kstr(&b, "modifiedDateTime", date);
    if (counts) {
      size_t i, n = 0;
      for (i = 0; i < a->nusers; i++)
        if (a->users[i].profile == p &&
            (closed || a->users[i].status != SIM_ST_CLOSED))
          n++;
      sim_json_kstrint(&b, "userCount", (long long)n);
    }
    sim_json_obj_end(&b);
  }
  sim_json_arr_end(&b);
  sim_json_obj_end(&b);
  return sim_reply_json(r, 200, &b);
}

static int
group_matches(const sim_group *g, const char *type, const char *text) {
  size_t n = strlen(text);
  const char *p;

  if (type[0] && strcasecmp(g->type, type) != 0)
    return 0;
  if (n == 0)
    return 1;
  for (p = g->name; *p; p++)
    if (strncasecmp(p, text, n) == 0)
      return 1;
  return 0;
}

static int get_groups(sim_req *r) {
  sim_account *a = &r->ctx->acct;
  char v[32], type[32], text[128];
  long count = 100, start = 0, n = 0, total = 0;
  int g, with_count = 1;
  sim_buf b = {0};

  if (sim_param(r->query, "count", v, sizeof(v))) {
    count = atol(v);
    if (count < 1 || count > 100)
      return sim_reply_error(r, 400, "INVALID_REQUEST_PARAMETER",
                             "The request contained at least one invalid "
                             "parameter. [count]");
  }
  if (sim_param(r->query, "start_position", v, sizeof(v)))
    start = atol(v) < 0 ? 0 : atol(v);
  if (sim_param(r->query, "include_usercount", v, sizeof(v)))
    with_count = strcasecmp(v, "false") != 0;
  sim_param(r->query, "group_type", type, sizeof(type));
  sim_param(r->query, "search_text", text, sizeof(text));
  sim_json_obj(&b);
  for (g = 0; g < a->ngroups; g++) {
    if (!group_matches(&a->groups[g], type, text))
      continue;
    if (total++ < start || n >= count)
      continue;
    if (n++ == 0) {
      sim_json_key(&b, "groups");
      sim_json_arr(&b);
    }
    sim_json_obj(&b);
    sim_json_kstr(&b, "groupId", a->groups[g].id);
    sim_json_kstr(&b, "groupName", a->groups[g].name);
    sim_json_kstr(&b, "groupType", a->groups[g].type);
    if (a->groups[g].profile != SIM_NO_PROFILE)
      sim_json_kstr(&b, "permissionProfileId",
                    a->profiles[a->groups[g].profile].id);
    if (with_count) {
      size_t i, k = 0;
      for (i = 0; i < a->nusers; i++)
        if (a->users[i].groups & (1u << g))
          k++;
      sim_json_kstrint(&b, "usersCount", (long long)k);
    }
    sim_json_obj_end(&b);
  }
  if (n > 0)
    sim_json_arr_end(&b);
  sim_json_kstrint(&b, "resultSetSize", n);
  sim_json_kstrint(&b, "totalSetSize", total);
  sim_json_kstrint(&b, "startPosition", start);
  sim_json_kstrint(&b, "endPosition", n ? start + n - 1 : start);
  sim_json_key(&b, "nextUri");
  if (start + n < total && n > 0) {
    char u[96];
    snprintf(u, sizeof(u), "/groups?start_position=%ld&count=%ld", start + n,
             count);
    sim_json_str(&b, u);
  } else {
    sim_json_null(&b);
  }
  sim_json_key(&b, "previousUri");
  if (start > 0) {
    char u[96];
    snprintf(u, sizeof(u), "/groups?start_position=%ld&count=%ld",
             start > count ? start - count : 0, count);
    sim_json_str(&b, u);
  } else {
    sim_json_null(&b);
  }
  sim_json_obj_end(&b);
  return sim_reply_json(r, 200, &b);
}

/*
 * Handles the account itself (`rest` = "") and /billing_plan,
 * /billing_charges, /permission_profiles and /groups (GET). Loop thread;
 * one reply. Returns 0.
 */
int sim_account_handle(sim_req *r, const char *rest) {
  if (strcmp(r->method, "GET") != 0)
    return sim_reply_error(r, 404, "RESOURCE_NOT_FOUND",
                           "The URL provided does not resolve to a "
                           "resource.");
  if (rest[0] == '\0' || strcmp(rest, "/") == 0)
    return get_account(r);
  if (strcmp(rest, "/billing_plan") == 0) {
    if (!caller_is_admin(r->ctx))
      return sim_reply_error(r, 400, "USER_LACKS_PERMISSIONS",
                             "This user lacks sufficient permissions to "
                             "access this resource.");
    return get_plan(r);
  }
  if (strcmp(rest, "/billing_charges") == 0)
    return get_charges(r);
  if (strcmp(rest, "/permission_profiles") == 0)
    return get_profiles(r);
  if (strcmp(rest, "/groups") == 0)
    return get_groups(r);
  return sim_reply_error(r, 404, "RESOURCE_NOT_FOUND",
                         "The URL provided does not resolve to a resource.");
}
