/*
 * dsg_reclaim_check.c: see dsg_reclaim_check.h.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "dsg_dates.h"
#include "dsg_reclaim_check.h"

static const char *jstr(json_object *o, const char *k) {
  json_object *v = NULL;

  if (o == NULL || !json_object_object_get_ex(o, k, &v) ||
      !json_object_is_type(v, json_type_string))
    return NULL;
  return json_object_get_string(v);
}

static int jbool(json_object *o, const char *k) {
  json_object *v = NULL;

  if (o == NULL || !json_object_object_get_ex(o, k, &v))
    return 0;
  if (json_object_is_type(v, json_type_boolean))
    return json_object_get_boolean(v);
  /* A8: "True"/"true"; anything else is false */
  return json_object_is_type(v, json_type_string) &&
         strcasecmp(json_object_get_string(v), "true") == 0;
}

static const char *nz(const char *s) {
  return s != NULL ? s : "";
}

dsg_recheck dsg_reclaim_recheck(json_object *user,
                                json_object *sub,
                                const dsg_rule_view *rule,
                                const char *integration_user_id,
                                const dsg_exclusions *excl,
                                int64_t now,
                                char *reason,
                                size_t len) {
  const char *uid = jstr(user, "userId");
  const char *want = jstr(sub, "external_user_id");
  const char *status = jstr(user, "userStatus");
  const char *email = jstr(user, "email");
  const char *upn = jstr(sub, "user_principal_name");
  const char *lic = jstr(user, "licenseType");
  const char *ident =
      lic != NULL && lic[0] != '\0' ? lic : jstr(user, "permissionProfileName");
  const char *had = jstr(sub, "subscription_identifier");
  char why[400];
  int64_t added;

  if (uid == NULL || want == NULL || strcasecmp(uid, want) != 0) {
    snprintf(reason, len,
             "re-check: DocuSign returned another user [userId=%s] "
             "[expected=%s]",
             nz(uid), nz(want));
    return DSG_RECHECK_SKIP;
  }
  if (status != NULL && strcmp(status, "Closed") == 0) {
    snprintf(reason, len, "re-check: the user is already Closed in DocuSign");
    return DSG_RECHECK_ALREADY_CLOSED;
  }
  if (status == NULL ||
      (strcmp(status, "Active") != 0 && strcmp(status, "ActivationSent") != 0 &&
       strcmp(status, "ActivationRequired") != 0)) {
    snprintf(reason, len,
             "re-check: the user is no longer active [userStatus=%s]",
             nz(status));
    return DSG_RECHECK_SKIP;
  }
  if (jbool(user, "isAdmin")) {
    snprintf(reason, len,
             "re-check: the user is now an account administrator: never "
             "closed");
    return DSG_RECHECK_SKIP;
  }
  if (integration_user_id != NULL &&
      strcasecmp(uid, integration_user_id) == 0) {
    snprintf(reason, len,
             "re-check: the integration's own DocuSign user: never closed");
    return DSG_RECHECK_SKIP;
  }
  if (upn != NULL && upn[0] != '\0' &&
      (email == NULL || strcasecmp(email, upn) != 0)) {
    snprintf(reason, len,
             "re-check: the user's e-mail changed [was=%s] [now=%s]", upn,
             nz(email));
    return DSG_RECHECK_SKIP;
  }
  if (had != NULL && (ident == NULL || strcmp(had, ident) != 0)) {
    snprintf(reason, len,
             "re-check: the subscription identifier changed [was=%s] "
             "[now=%s]",
             had, nz(ident));
    return DSG_RECHECK_SKIP;
  }
  if (excl != NULL &&
      dsg_exclusions_match(excl, ident, email, why, sizeof(why))) {
    snprintf(reason, len, "re-check: %s", why);
    return DSG_RECHECK_SKIP;
  }
  if (rule != NULL &&
      dsg_date_parse(jstr(user, "userAddedToAccountDateTime"), &added) == 0 &&
      dsg_days_between(added, now) < (int64_t)rule->threshold_days) {
    char day[16];

    dsg_date_format_day(added, day, sizeof(day));
    snprintf(reason, len,
             "re-check: fresh activity: added to the account again %s, %lld "
             "days ago, threshold %u",
             day, (long long)dsg_days_between(added, now),
             rule->threshold_days);
    return DSG_RECHECK_CANCEL;
  }
  snprintf(reason, len, "re-check passed [userStatus=%s]", status);
  return DSG_RECHECK_CLOSE;
}

int dsg_reclaim_close_outcome(json_object *reply,
                              const char *uid,
                              char *code,
                              size_t code_len,
                              char *msg,
                              size_t msg_len) {
  json_object *users = NULL;
  size_t i;

  if (code_len > 0)
    code[0] = '\0';
  if (msg_len > 0)
    msg[0] = '\0';
  if (reply == NULL || uid == NULL ||
      !json_object_object_get_ex(reply, "users", &users) ||
      !json_object_is_type(users, json_type_array))
    return -1;
  for (i = 0; i < json_object_array_length(users); i++) {
    json_object *e = json_object_array_get_idx(users, i);
    json_object *ed = NULL;
    const char *id = jstr(e, "userId");

    if (id == NULL || strcasecmp(id, uid) != 0)
      continue;
    if (json_object_object_get_ex(e, "errorDetails", &ed) &&
        json_object_is_type(ed, json_type_object)) {
      snprintf(code, code_len, "%s", nz(jstr(ed, "errorCode")));
      snprintf(msg, msg_len, "%.400s", nz(jstr(ed, "message")));
      return 0;
    }
    return 1;
  }
  return -1;
}
