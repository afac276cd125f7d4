/*
 * test-dsg-candidates.c: reclamation rule evaluation (threshold boundaries
 * in whole UTC days, offsets in the input date, placeholder and unknown
 * dates, grace, protections: admins, the integration user, exclusions,
 * inactive subscriptions, an open candidate, kept-on-approval), the
 * candidate state machine (every allowed transition, a set of refused
 * ones), candidate records and history against the schema, and the cap.
 */
#include <string.h>

#include "dlogic_schema.h"
#include "dsg_candidates.h"
#include "dsg_dates.h"
#include "sam/sam_plugin.h"
#include "sam_test.h"

static int64_t T(const char *s) {
  int64_t t;

  if (dsg_date_parse(s, &t) != 0)
    SAM_T_FAIL("bad test date [%s]", s);
  return t;
}

static json_object *sub(const char *assigned, const char *extra) {
  char buf[2048];

  snprintf(buf, sizeof(buf),
           "{\"external_user_id\":\"2d3f8a0e-7d5c-4a3b-9f1e-0c6b5a4d3e2f\","
           "\"user_principal_name\":\"Tanya.Cooper@Example.COM\","
           "\"subscription_identifier\":\"DocuSign Sender\","
           "\"software_model\":\"DocuSign Sender\",\"state\":\"active\","
           "\"active\":true,\"is_admin\":false,\"excluded\":false,"
           "\"first_seen_at\":\"2026-01-01T00:00:00Z\",\"last_seen_at\":"
           "\"2026-11-28T09:00:00Z\",\"assigned_at\":%s%s%s%s}",
           assigned ? "\"" : "", assigned ? assigned : "null",
           assigned ? "\"" : "", extra ? extra : "");
  return dl_parse(buf);
}

static dsg_rule_view RULE = {"rule-sender", 1, 1, 0, 60, 0, 0};

static int eval(json_object *s, const char *now, char *why, size_t len) {
  dsg_eval_in in;

  memset(&in, 0, sizeof(in));
  in.subscription = s;
  in.rule = &RULE;
  in.integration_user_id = "11111111-2222-3333-4444-555555555555";
  in.now = T(now);
  in.last_skipped_at = DSG_TIME_UNKNOWN;
  return dsg_cand_evaluate(&in, why, len);
}

static void expect_eval(const char *assigned,
                        const char *extra,
                        const char *now,
                        int want,
                        const char *reason) {
  json_object *s = sub(assigned, extra);
  char why[1001];
  int got = eval(s, now, why, sizeof(why));

  if (got != want)
    SAM_T_FAIL("expected [%d] got [%d] for assigned [%s] now [%s]: %s", want,
               got, assigned ? assigned : "null", now, why);
  EXPECT_CONTAINS(why, reason);
  json_object_put(s);
}

static void test_threshold_boundaries(void) {
  /* the example */
  expect_eval("2026-07-02T10:00:00Z", NULL, "2026-11-28T09:00:00Z", 1,
              "assigned 2026-07-02, 149 days ago, threshold 60");
  /* exactly 60 UTC days qualifies, whatever the hours */
  expect_eval("2026-09-29T23:59:59Z", NULL, "2026-11-28T00:00:00Z", 1,
              "60 days ago, threshold 60");
  expect_eval("2026-09-29T00:00:00Z", NULL, "2026-11-28T23:59:59Z", 1,
              "60 days ago");
  /* 59 days does not */
  expect_eval("2026-09-30T00:00:00Z", NULL, "2026-11-28T23:59:59Z", 0,
              "assigned 2026-09-30, 59 days ago, threshold 60: not yet");
  /* time zones of the input date: counted by the UTC date */
  expect_eval("2026-09-29T20:00:00-05:00", NULL, "2026-11-28T12:00:00Z", 0,
              "assigned 2026-09-30, 59 days ago");
  expect_eval("2026-09-30T01:00:00+02:00", NULL, "2026-11-28T12:00:00Z", 1,
              "assigned 2026-09-29, 60 days ago");
  expect_eval("2026-09-29T23:30:00.1234567+00:00", NULL, "2026-11-28T00:00:01Z",
              1, "60 days ago");
  /* assigned today, or in the future (clock skew): never */
  expect_eval("2026-11-28T08:00:00Z", NULL, "2026-11-28T09:00:00Z", 0,
              "0 days ago");
  expect_eval("2027-01-01T00:00:00Z", NULL, "2026-11-28T09:00:00Z", 0,
              "not yet");
}

static void test_unknown_dates(void) {
  /* the placeholder never makes anyone 2000 years old */
  expect_eval("0001-01-01T08:00:00.0000000Z", NULL, "2026-11-28T09:00:00Z", 0,
              "assigned date unknown");
  expect_eval(NULL, NULL, "2026-11-28T09:00:00Z", 0, "assigned date unknown");
  expect_eval("", NULL, "2026-11-28T09:00:00Z", 0, "assigned date unknown");
  expect_eval("garbage", NULL, "2026-11-28T09:00:00Z", 0,
              "assigned date unknown");
  /* a missing assigned_at key altogether */
  {
    json_object *s = sub(NULL, NULL);
    char why[200];

    json_object_object_del(s, "assigned_at");
    EXPECT_EQ_INT(0, eval(s, "2026-11-28T09:00:00Z", why, sizeof(why)));
    EXPECT_CONTAINS(why, "unknown");
    json_object_put(s);
  }
}

static void test_protections(void) {
  const char *old = "2025-01-01T00:00:00Z", *now = "2026-11-28T09:00:00Z";
  json_object *s;
  char why[300];

  expect_eval(old, ",\"is_admin\":true", now, 0,
              "account administrator: never a candidate");
  expect_eval(old,
              ",\"excluded\":true,\"exclusion_reason\":\"excluded by "
              "user exclusion rule [ux-1]: domain [x.example]\"",
              now, 0, "[ux-1]");
  expect_eval(old, ",\"state\":\"inactive\"", now, 0, "not active");
  expect_eval(old, ",\"active\":false", now, 0, "not active");
  expect_eval(old, ",\"state\":\"removed\"", now, 0, "[state=removed]");
  expect_eval(old, ",\"state\":\"reclaimed\"", now, 0, "not active");
  /* the integration's own user (userinfo sub) */
  s = dl_parse("{\"external_user_id\":\"11111111-2222-3333-4444-555555555555\","
               "\"state\":\"active\",\"active\":true,\"assigned_at\":"
               "\"2020-01-01T00:00:00Z\"}");
  EXPECT_EQ_INT(0, eval(s, now, why, sizeof(why)));
  EXPECT_CONTAINS(why, "the integration's own DocuSign user");
  json_object_put(s);
  s = dl_parse("{\"external_user_id\":\"11111111-2222-3333-4444-555555555555\","
               "\"state\":\"active\",\"active\":true,\"assigned_at\":"
               "\"2020-01-01T00:00:00Z\"}");
  {
    dsg_eval_in in;

    memset(&in, 0, sizeof(in));
    in.subscription = s;
    in.rule = &RULE;
    in.integration_user_id = "11111111-2222-3333-4444-555555555555";
    in.now = T(now);
    in.last_skipped_at = DSG_TIME_UNKNOWN;
    /* the sub in upper case still protects */
    json_object_object_add(
        s, "external_user_id",
        json_object_new_string("aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"));
    in.integration_user_id = "AAAAAAAA-BBBB-4CCC-8DDD-EEEEEEEEEEEE";
    EXPECT_EQ_INT(0, dsg_cand_evaluate(&in, why, sizeof(why)));
  }
  json_object_put(s);
  /* rules: none, inactive, no candidates */
  {
    dsg_eval_in in;
    dsg_rule_view r = RULE;

    s = sub(old, NULL);
    memset(&in, 0, sizeof(in));
    in.subscription = s;
    in.now = T(now);
    in.last_skipped_at = DSG_TIME_UNKNOWN;
    EXPECT_EQ_INT(0, dsg_cand_evaluate(&in, why, sizeof(why)));
    EXPECT_EQ_STR("no reclamation rule for model [DocuSign Sender]", why);
    in.rule = &r;
    r.active = 0;
    EXPECT_EQ_INT(0, dsg_cand_evaluate(&in, why, sizeof(why)));
    EXPECT_EQ_STR("rule [rule-sender] is not active", why);
    r.active = 1;
    r.create_candidate = 0;
    EXPECT_EQ_INT(0, dsg_cand_evaluate(&in, why, sizeof(why)));
    r.create_candidate = 1;
    in.has_open_candidate = 1;
    EXPECT_EQ_INT(0, dsg_cand_evaluate(&in, why, sizeof(why)));
    EXPECT_EQ_STR("already has an open candidate", why);
    in.has_open_candidate = 0;
    /* kept on approval 30 days ago: not again until 60 days have passed */
    in.last_skipped_at = T("2026-10-29T12:00:00Z");
    EXPECT_EQ_INT(0, dsg_cand_evaluate(&in, why, sizeof(why)));
    EXPECT_CONTAINS(why, "kept on approval 2026-10-29, 30 days ago");
    in.last_skipped_at = T("2026-09-29T12:00:00Z");
    EXPECT_EQ_INT(1, dsg_cand_evaluate(&in, why, sizeof(why)));
    /* grace for new users longer than the threshold */
    in.last_skipped_at = DSG_TIME_UNKNOWN;
    r.grace_days = 1000;
    EXPECT_EQ_INT(0, dsg_cand_evaluate(&in, why, sizeof(why)));
    EXPECT_CONTAINS(why, "within the 1000-day grace");
    r.grace_days = 60;
    EXPECT_EQ_INT(1, dsg_cand_evaluate(&in, why, sizeof(why)));
    EXPECT_EQ_INT(SAM_EINVAL, dsg_cand_evaluate(NULL, why, sizeof(why)));
    json_object_put(s);
  }
}

/* With the activity extension: the threshold applies to the last envelope
 * sent, the grace to the assigned date. */
static void test_activity(void) {
  const char *now = "2026-11-28T09:00:00Z";

  expect_eval("2025-01-01T00:00:00Z",
              ",\"last_activity_at\":\"2026-11-01T00:00:00Z\"", now, 0,
              "last activity 2026-11-01, 27 days ago, threshold 60: not yet");
  expect_eval("2025-01-01T00:00:00Z",
              ",\"last_activity_at\":\"2026-08-01T00:00:00Z\"", now, 1,
              "last activity 2026-08-01, 119 days ago, threshold 60");
  /* a user assigned 27 days ago: only the grace protects them */
  expect_eval("2026-11-01T00:00:00Z",
              ",\"last_activity_at\":\"2026-08-01T00:00:00Z\"", now, 1,
              "assigned 2026-11-01");
  RULE.grace_days = 60;
  expect_eval("2026-11-01T00:00:00Z",
              ",\"last_activity_at\":\"2026-08-01T00:00:00Z\"", now, 0,
              "assigned 2026-11-01, 27 days ago, within the 60-day grace");
  RULE.grace_days = 0;
}

static void test_rule_view(void) {
  json_object *r = dl_parse(
      "{\"rule_id\":\"docusign_assigned_60d_docusign_sender\",\"name\":\"x\","
      "\"basis\":\"subscription_assigned_date\","
      "\"last_activity_threshold_days\":60,\"notify_user\":true,"
      "\"days_before_auto_reclamation\":7,\"grace_days\":30,\"active\":true}");
  dsg_rule_view v;
  char err[200];

  EXPECT_EQ_INT(0, dsg_rule_view_from_json(r, &v, err, sizeof(err)));
  EXPECT_EQ_STR("docusign_assigned_60d_docusign_sender", v.rule_id);
  EXPECT_EQ_INT(60, v.threshold_days);
  EXPECT_EQ_INT(30, v.grace_days);
  EXPECT_EQ_INT(7, v.days_before_auto_reclamation);
  EXPECT_EQ_INT(1, v.notify_user);
  EXPECT_EQ_INT(1, v.active);
  EXPECT_EQ_INT(1, v.create_candidate);
  json_object_object_add(r, "last_activity_threshold_days",
                         json_object_new_int(0));
  EXPECT_EQ_INT(SAM_EINVAL, dsg_rule_view_from_json(r, &v, err, sizeof(err)));
  EXPECT_CONTAINS(err, "last_activity_threshold_days");
  json_object_object_del(r, "last_activity_threshold_days");
  EXPECT_EQ_INT(SAM_EINVAL, dsg_rule_view_from_json(r, &v, err, sizeof(err)));
  json_object_put(r);
}

/* ---- the state machine ---- */

typedef struct tr {
  dsg_cand_state from, to;
  dsg_cand_trigger trig;
} tr;

#define A DSG_CAND_ATTENTION_REQUIRED
#define R DSG_CAND_READY
#define AU DSG_CAND_AWAITING_USER
#define AA DSG_CAND_AWAITING_APPROVAL
#define AR DSG_CAND_AWAITING_REVOCATION
#define CC DSG_CAND_CLOSED_COMPLETE
#define CS DSG_CAND_CLOSED_SKIPPED
#define CX DSG_CAND_CLOSED_CANCELED

static const tr ALLOWED[] = {
    {DSG_CAND_NONE, R, DSG_TRIG_RULE_MATCH},
    {DSG_CAND_NONE, A, DSG_TRIG_RULE_MATCH},
    {A, R, DSG_TRIG_RESOLVED},
    {R, AU, DSG_TRIG_RECLAIM},
    {R, AR, DSG_TRIG_RECLAIM},
    {AU, AR, DSG_TRIG_USER_REMOVE},
    {AU, AR, DSG_TRIG_USER_NO_ANSWER},
    {AU, AA, DSG_TRIG_USER_KEEP},
    {AA, CS, DSG_TRIG_APPROVER_KEEP},
    {AA, AR, DSG_TRIG_APPROVER_REJECT},
    {AR, CC, DSG_TRIG_RECLAIM_SUCCESS},
    {AR, A, DSG_TRIG_RECLAIM_FAILURE},
    {AR, CS, DSG_TRIG_SUBSCRIPTION_GONE},
    {R, A, DSG_TRIG_CAP_REACHED},
    {AR, A, DSG_TRIG_CAP_REACHED},
};

static const char *nm(dsg_cand_state s) {
  const char *n = dsg_cand_state_name(s);

  return n != NULL ? n : "(new)";
}

static void test_transitions(void) {
  static const dsg_cand_state open[] = {A, R, AU, AA, AR};
  static const tr refused[] = {
      {DSG_CAND_NONE, AR, DSG_TRIG_RULE_MATCH}, /* never straight to revoke */
      {DSG_CAND_NONE, CC, DSG_TRIG_RECLAIM_SUCCESS},
      {R, CC, DSG_TRIG_RECLAIM_SUCCESS}, /* must be Awaiting Revocation */
      {A, CC, DSG_TRIG_RECLAIM_SUCCESS},
      {AU, CC, DSG_TRIG_RECLAIM_SUCCESS},
      {AU, AR, DSG_TRIG_USER_KEEP},
      {AA, CC, DSG_TRIG_APPROVER_REJECT},
      {R, AA, DSG_TRIG_USER_KEEP},
      {CC, R, DSG_TRIG_RESOLVED}, /* closed stays closed */
      {CS, R, DSG_TRIG_RULE_MATCH},
      {CS, CC, DSG_TRIG_RECLAIM_SUCCESS},
      {CX, CS, DSG_TRIG_MANUAL_SKIP},
      {CC, CS, DSG_TRIG_PROFILE_DELETED},
      {A, AR, DSG_TRIG_RECLAIM}, /* attention must be resolved first */
      {R, AU, DSG_TRIG_USER_REMOVE},
      {AU, A, DSG_TRIG_CAP_REACHED},
      {R, CS, DSG_TRIG_APPROVER_KEEP},
      {R, CX, DSG_TRIG_MANUAL_SKIP},
      {R, CS, DSG_TRIG_ACTIVITY},
  };
  size_t i, j;

  for (i = 0; i < sizeof(ALLOWED) / sizeof(ALLOWED[0]); i++)
    if (!dsg_cand_allowed(ALLOWED[i].from, ALLOWED[i].to, ALLOWED[i].trig))
      SAM_T_FAIL("refused [%s -> %s by %s]", nm(ALLOWED[i].from),
                 dsg_cand_state_name(ALLOWED[i].to),
                 dsg_cand_trigger_name(ALLOWED[i].trig));
  /* any open state -> Closed Skipped / Canceled */
  for (i = 0; i < sizeof(open) / sizeof(open[0]); i++) {
    EXPECT_EQ_INT(1, dsg_cand_allowed(open[i], CS, DSG_TRIG_SUBSCRIPTION_GONE));
    EXPECT_EQ_INT(1, dsg_cand_allowed(open[i], CS, DSG_TRIG_MANUAL_SKIP));
    EXPECT_EQ_INT(1, dsg_cand_allowed(open[i], CS, DSG_TRIG_PROFILE_DELETED));
    EXPECT_EQ_INT(1, dsg_cand_allowed(open[i], CX, DSG_TRIG_ACTIVITY));
    EXPECT_EQ_INT(1, dsg_cand_is_open(open[i]));
  }
  for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
    if (dsg_cand_allowed(refused[i].from, refused[i].to, refused[i].trig))
      SAM_T_FAIL("allowed [%s -> %s by %s]", nm(refused[i].from),
                 dsg_cand_state_name(refused[i].to),
                 dsg_cand_trigger_name(refused[i].trig));
  /* nothing leaves a closed state */
  for (i = CC; i <= CX; i++)
    for (j = 0; j <= CX; j++) {
      int t;

      EXPECT_EQ_INT(0, dsg_cand_is_open((dsg_cand_state)i));
      for (t = DSG_TRIG_RULE_MATCH; t <= DSG_TRIG_ACTIVITY; t++)
        EXPECT_EQ_INT(0, dsg_cand_allowed((dsg_cand_state)i, (dsg_cand_state)j,
                                          (dsg_cand_trigger)t));
    }
  EXPECT_EQ_INT(AU, dsg_cand_reclaim_target(1, 7));
  EXPECT_EQ_INT(AR, dsg_cand_reclaim_target(1, 0));
  EXPECT_EQ_INT(AR, dsg_cand_reclaim_target(0, 7));
  EXPECT_EQ_INT(A, dsg_cand_initial_state(1, 0));
  EXPECT_EQ_INT(R, dsg_cand_initial_state(1, 1));
  EXPECT_EQ_INT(R, dsg_cand_initial_state(0, 0));
  for (i = A; i <= CX; i++)
    EXPECT_EQ_INT(i,
                  dsg_cand_state_parse(dsg_cand_state_name((dsg_cand_state)i)));
  EXPECT_EQ_INT(DSG_CAND_NONE, dsg_cand_state_parse("open"));
  EXPECT_EQ_INT(DSG_CAND_NONE, dsg_cand_state_parse(NULL));
  EXPECT_TRUE(dsg_cand_state_name(DSG_CAND_NONE) == NULL);
}

static json_object *new_candidate(int notify, int resolved) {
  json_object *s = sub("2026-07-02T10:00:00Z", NULL), *c = NULL;
  dsg_rule_view r = RULE;
  dsg_cand_savings sv = {456.0, "USD"};
  char err[200];

  r.notify_user = notify;
  EXPECT_EQ_INT(0, dsg_cand_new("cand-0001", s, &r, resolved,
                                T("2026-11-28T09:00:00Z"), "system",
                                "assigned 2026-07-02, 149 days ago, "
                                "threshold 60",
                                &c, err, sizeof(err)));
  EXPECT_EQ_INT(0, dsg_cand_set_savings(c, notify ? NULL : &sv));
  json_object_put(s);
  dl_expect_valid("sam-candidate.schema.json", c);
  return c;
}

static void apply_ok(json_object *c,
                     dsg_cand_state to,
                     dsg_cand_trigger t,
                     const char *at,
                     const char *reason) {
  char err[200] = "";
  int rc = dsg_cand_apply(c, to, t, T(at), "sam_user:alice", reason, err,
                          sizeof(err));

  if (rc != 0)
    SAM_T_FAIL("apply failed [%s] [%s]", sam_err_name(rc), err);
  dl_expect_valid("sam-candidate.schema.json", c);
}

static void test_records(void) {
  json_object *c = new_candidate(0, 0), *hist = NULL, *e;
  char err[200];

  EXPECT_EQ_STR("ready", dl_str(c, "state"));
  EXPECT_TRUE(dl_bool(c, "open"));
  EXPECT_EQ_STR("2d3f8a0e-7d5c-4a3b-9f1e-0c6b5a4d3e2f",
                dl_str(c, "external_user_id"));
  EXPECT_EQ_STR("rule-sender", dl_str(c, "rule_id"));
  EXPECT_EQ_STR("Low Usage", dl_str(c, "justification"));
  EXPECT_EQ_STR("2026-11-28T09:00:00Z", dl_str(c, "opened_at"));
  EXPECT_TRUE(dl_is_null(c, "closed_at"));
  EXPECT_CONTAINS(dl_str(c, "reason"), "149 days ago");
  EXPECT_EQ_STR("456.0", dl_str(c, "potential_savings"));
  EXPECT_EQ_STR("USD", dl_str(c, "currency"));
  /* Ready -> Awaiting Revocation -> (failure) Attention -> Ready -> ... */
  apply_ok(c, AR, DSG_TRIG_RECLAIM, "2026-11-28T09:05:00Z", "reclaim run");
  apply_ok(c, A, DSG_TRIG_RECLAIM_FAILURE, "2026-11-28T09:06:00Z",
           "USER_DOES_NOT_EXIST_IN_ACCOUNT: no such user");
  EXPECT_EQ_STR("USER_DOES_NOT_EXIST_IN_ACCOUNT: no such user",
                dl_str(c, "error_message"));
  apply_ok(c, R, DSG_TRIG_RESOLVED, "2026-11-29T09:00:00Z", "fixed");
  EXPECT_TRUE(dl_is_null(c, "error_message"));
  apply_ok(c, AR, DSG_TRIG_RECLAIM, "2026-11-29T09:05:00Z", "reclaim run");
  /* a refused transition leaves the record as it was */
  EXPECT_EQ_INT(SAM_ECONFLICT, dsg_cand_apply(c, R, DSG_TRIG_USER_KEEP,
                                              T("2026-11-29T09:06:00Z"), "x",
                                              "y", err, sizeof(err)));
  EXPECT_CONTAINS(err, "[from=awaiting_revocation] [to=ready] "
                       "[trigger=user_keep]");
  apply_ok(c, CC, DSG_TRIG_RECLAIM_SUCCESS, "2026-11-29T09:07:00Z",
           "user closed in DocuSign");
  EXPECT_EQ_STR("closed_complete", dl_str(c, "state"));
  EXPECT_TRUE(!dl_bool(c, "open"));
  EXPECT_EQ_STR("2026-11-29T09:07:00Z", dl_str(c, "closed_at"));
  EXPECT_TRUE(json_object_object_get_ex(c, "history", &hist));
  EXPECT_EQ_INT(6, json_object_array_length(hist));
  e = json_object_array_get_idx(hist, 0);
  EXPECT_TRUE(dl_is_null(e, "from"));
  EXPECT_EQ_STR("ready", dl_str(e, "to"));
  EXPECT_EQ_STR("system", dl_str(e, "actor"));
  e = json_object_array_get_idx(hist, 5);
  EXPECT_EQ_STR("awaiting_revocation", dl_str(e, "from"));
  EXPECT_EQ_STR("closed_complete", dl_str(e, "to"));
  EXPECT_EQ_STR("sam_user:alice", dl_str(e, "actor"));
  EXPECT_EQ_STR("2026-11-29T09:07:00Z", dl_str(e, "at"));
  EXPECT_EQ_STR("user closed in DocuSign", dl_str(e, "reason"));
  /* closed: nothing more */
  EXPECT_EQ_INT(SAM_ECONFLICT, dsg_cand_apply(c, CS, DSG_TRIG_MANUAL_SKIP,
                                              T("2026-11-30T00:00:00Z"), "x",
                                              "y", err, sizeof(err)));
  EXPECT_EQ_INT(6, json_object_array_length(hist));
  json_object_put(c);

  /* notify on, no user: Attention Required; the user path to Skipped */
  c = new_candidate(1, 0);
  EXPECT_EQ_STR("attention_required", dl_str(c, "state"));
  EXPECT_TRUE(dl_is_null(c, "potential_savings"));
  EXPECT_TRUE(dl_is_null(c, "currency"));
  EXPECT_TRUE(dl_bool(c, "notify_user"));
  apply_ok(c, R, DSG_TRIG_RESOLVED, "2026-11-28T10:00:00Z", "user resolved");
  apply_ok(c, AU, DSG_TRIG_RECLAIM, "2026-11-28T10:01:00Z", "e-mail sent");
  apply_ok(c, AA, DSG_TRIG_USER_KEEP, "2026-11-29T10:00:00Z",
           "user wants to keep it");
  apply_ok(c, CS, DSG_TRIG_APPROVER_KEEP, "2026-11-30T10:00:00Z",
           "approved by manager");
  EXPECT_EQ_STR("closed_skipped", dl_str(c, "state"));
  json_object_put(c);

  /* bad records */
  c = dl_parse("{\"state\":\"ready\"}");
  EXPECT_EQ_INT(SAM_EINVAL, dsg_cand_apply(c, AR, DSG_TRIG_RECLAIM, 0, "x", "y",
                                           err, sizeof(err)));
  json_object_put(c);
  c = dl_parse("{\"state\":\"bogus\",\"history\":[]}");
  EXPECT_EQ_INT(SAM_EINVAL, dsg_cand_apply(c, AR, DSG_TRIG_RECLAIM, 0, "x", "y",
                                           err, sizeof(err)));
  json_object_put(c);
  EXPECT_EQ_INT(SAM_EINVAL, dsg_cand_new("", NULL, &RULE, 0, 0, NULL, NULL, &c,
                                         err, sizeof(err)));
  EXPECT_EQ_INT(SAM_EINVAL, dsg_cand_set_savings(NULL, NULL));
  EXPECT_EQ_INT(SAM_EINVAL,
                dsg_cand_history_entry(R, DSG_CAND_NONE, 0, "a", "b", &c));
  EXPECT_EQ_INT(SAM_EINVAL,
                dsg_cand_history_entry(R, AR, DSG_TIME_UNKNOWN, "a", "b", &c));
}

static void test_cap(void) {
  EXPECT_EQ_U64(1, dsg_cand_close_cap(0, 5, 1));
  EXPECT_EQ_U64(1, dsg_cand_close_cap(19, 5, 1));
  EXPECT_EQ_U64(1, dsg_cand_close_cap(39, 5, 1));
  EXPECT_EQ_U64(2, dsg_cand_close_cap(40, 5, 1));
  EXPECT_EQ_U64(250, dsg_cand_close_cap(5000, 5, 1));
  EXPECT_EQ_U64(50000, dsg_cand_close_cap(1000000, 5, 1));
  EXPECT_EQ_U64(10, dsg_cand_close_cap(100, 10, 1));
  EXPECT_EQ_U64(5, dsg_cand_close_cap(10, 0, 5));
  EXPECT_EQ_U64(10, dsg_cand_close_cap(10, 250, 1)); /* capped at 100 % */
  EXPECT_EQ_U64(UINT64_MAX / 100 * 5 + (UINT64_MAX % 100) * 5 / 100,
                dsg_cand_close_cap(UINT64_MAX, 5, 1)); /* no overflow */
}

int main(void) {
  SAM_T_RUN(test_threshold_boundaries);
  SAM_T_RUN(test_unknown_dates);
  SAM_T_RUN(test_protections);
  SAM_T_RUN(test_activity);
  SAM_T_RUN(test_rule_view);
  SAM_T_RUN(test_transitions);
  SAM_T_RUN(test_records);
  SAM_T_RUN(test_cap);
  return 0;
}
