/*
 * test-dsg-consumption.c: the docusign_consumption record from
 * DocuSign-shaped accountInformation, billing_plan and billing_charges
 * replies: a direct account, "unlimited" envelopes and seats, a reseller
 * account in each of A25's three forms (empty charges, no seats item,
 * empty includedQuantity, and a 4xx), billing calls that failed, and
 * missing replies. Every record is checked against the plugin's schema.
 */
#include <string.h>

#include "dlogic_schema.h"
#include "dsg_consumption.h"
#include "dsg_dates.h"
#include "sam/sam_plugin.h"
#include "sam_test.h"

#define SCHEMA "docusign-consumption.schema.json"

static const char *const ACCOUNT =
    "{\"currentPlanId\":\"d5b2c3f0-1a2b-4c5d-8e9f-0a1b2c3d4e5f\",\"planName\":"
    "\"Business Pro\",\"planStartDate\":\"2025-12-01T08:00:00.0000000Z\","
    "\"planEndDate\":\"2026-12-01T08:00:00.0000000Z\","
    "\"billingPeriodStartDate\":\"2026-11-01T07:00:00.0000000Z\","
    "\"billingPeriodEndDate\":\"2026-12-01T08:00:00.0000000Z\","
    "\"billingPeriodEnvelopesSent\":\"1234\",\"billingPeriodEnvelopesAllowed\":"
    "\"5000\",\"billingPeriodDaysRemaining\":\"3\",\"canUpgrade\":\"false\","
    "\"envelopeSendingBlocked\":\"false\",\"envelopeUnitPrice\":\"$0.00\","
    "\"suspensionStatus\":\"\",\"accountName\":\"Acme Corp – Européen\","
    "\"distributorCode\":\"DEVCENTER_DEMO_APRIL2013\",\"accountIdGuid\":"
    "\"6a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d\",\"currencyCode\":\"USD\","
    "\"seatsAllowed\":\"50\",\"seatsInUse\":\"42\",\"planClassification\":"
    "\"business\",\"paymentMethod\":\"credit_card\"}";

static const char *const PLAN =
    "{\"billingPlan\":{\"planId\":\"d5b2c3f0-1a2b-4c5d-8e9f-0a1b2c3d4e5f\","
    "\"planName\":\"Business Pro\",\"planClassification\":\"business\","
    "\"paymentCycle\":\"Annually\",\"currencyCode\":\"USD\",\"includedSeats\":"
    "\"50\",\"perSeatPrice\":\"456.0000\",\"renewalDate\":"
    "\"2026-12-01T08:00:00.0000000Z\",\"renewalStatus\":\"auto\","
    "\"seatDiscounts\":[{\"beginSeatCount\":\"0\",\"endSeatCount\":\"0\","
    "\"discountPercent\":\"0.00\"}],\"planFeatureSets\":[]},"
    "\"paymentMethod\":\"CreditCard\"}";

static const char *const CHARGES =
    "{\"billingChargeItems\":[{\"chargeName\":\"envelopes Included\","
    "\"chargeType\":\"envelopes\",\"includedQuantity\":\"5000\","
    "\"usedQuantity\":\"1234\",\"unitPrice\":\"0.00\"},{\"chargeName\":"
    "\"seats\",\"chargeType\":\"seat\",\"chargeUnitOfMeasure\":\"seat\","
    "\"includedQuantity\":\"50\",\"usedQuantity\":\"42\",\"allowedQuantity\":"
    "\"50\",\"unitPrice\":\"456.0000\",\"blocked\":\"false\","
    "\"firstEffectiveDate\":\"2025-12-01T08:00:00.0000000Z\","
    "\"lastEffectiveDate\":\"9999-12-31T00:00:00.0000000Z\","
    "\"prices\":[],\"discounts\":[]}]}";

static int64_t NOW;

static json_object *
build(const char *acct, const char *plan, int status, const char *charges) {
  dsg_consumption_in in;
  json_object *a = acct ? dl_parse(acct) : NULL;
  json_object *p = plan ? dl_parse(plan) : NULL;
  json_object *c = charges ? dl_parse(charges) : NULL;
  json_object *rec = NULL;
  char err[256] = "";
  int rc;

  memset(&in, 0, sizeof(in));
  in.account_id = "6a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
  in.run_id = "run-7";
  in.now = NOW;
  in.account = a;
  in.billing_plan = p;
  in.charges_status = status;
  in.charges = c;
  rc = dsg_consumption_build(&in, &rec, err, sizeof(err));
  if (rc != 0)
    SAM_T_FAIL("build failed [%s] [%s]", sam_err_name(rc), err);
  json_object_put(a);
  json_object_put(p);
  json_object_put(c);
  dl_expect_valid(SCHEMA, rec);
  return rec;
}

static void test_direct_account(void) {
  json_object *rec = build(ACCOUNT, PLAN, 200, CHARGES), *sc = NULL;

  EXPECT_EQ_STR("available", dl_str(rec, "billing_status"));
  EXPECT_EQ_STR("6a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
                dl_str(rec, "account_id"));
  EXPECT_EQ_STR("Acme Corp – Européen", dl_str(rec, "account_name"));
  EXPECT_EQ_STR("run-7", dl_str(rec, "run_id"));
  EXPECT_EQ_STR("2026-11-28T09:00:00Z", dl_str(rec, "fetched_at"));
  EXPECT_EQ_STR("Business Pro", dl_str(rec, "plan_name"));
  EXPECT_EQ_STR("business", dl_str(rec, "plan_classification"));
  EXPECT_EQ_STR("Annually", dl_str(rec, "payment_cycle"));
  EXPECT_EQ_STR("USD", dl_str(rec, "currency_code"));
  EXPECT_EQ_STR("50", dl_str(rec, "seats_allowed"));
  EXPECT_EQ_STR("42", dl_str(rec, "seats_in_use"));
  EXPECT_EQ_STR("50", dl_str(rec, "included_seats"));
  EXPECT_EQ_STR("456.0000", dl_str(rec, "per_seat_price"));
  EXPECT_EQ_STR("2026-11-01T07:00:00.0000000Z",
                dl_str(rec, "billing_period_start"));
  EXPECT_EQ_STR("5000", dl_str(rec, "envelopes_allowed"));
  EXPECT_EQ_STR("1234", dl_str(rec, "envelopes_sent"));
  EXPECT_TRUE(json_object_object_get_ex(rec, "seat_charge", &sc));
  EXPECT_EQ_STR("50", dl_str(sc, "included_quantity"));
  EXPECT_EQ_STR("42", dl_str(sc, "used_quantity"));
  EXPECT_EQ_STR("50", dl_str(sc, "allowed_quantity"));
  EXPECT_EQ_STR("456.0000", dl_str(sc, "unit_price"));
  EXPECT_TRUE(!dl_has(rec, "billing_message"));
  json_object_put(rec);
}

static void test_unlimited(void) {
  char acct[4096];
  char *p;
  json_object *rec;
  char buf[40];
  json_object *v;

  /* "unlimited" envelopes (and seats, as developer accounts show) */
  snprintf(acct, sizeof(acct), "%s", ACCOUNT);
  p = strstr(acct, "\"5000\"");
  EXPECT_TRUE(p != NULL);
  memmove(p + 11, p + 6, strlen(p + 6) + 1);
  memcpy(p, "\"unlimited\"", 11);
  p = strstr(acct, "\"seatsAllowed\":\"50\"");
  EXPECT_TRUE(p != NULL);
  memmove(p + 15 + 11, p + 15 + 4, strlen(p + 15 + 4) + 1);
  memcpy(p + 15, "\"unlimited\"", 11);
  rec = build(acct, PLAN, 200, CHARGES);
  EXPECT_EQ_STR("unlimited", dl_str(rec, "envelopes_allowed"));
  EXPECT_EQ_STR("unlimited", dl_str(rec, "seats_allowed"));
  json_object_put(rec);

  /* the normaliser alone: never 0 for what is not a number (A26) */
  v = json_object_new_string("UNLIMITED");
  dsg_envelopes_allowed(v, buf, sizeof(buf));
  EXPECT_EQ_STR("unlimited", buf);
  json_object_put(v);
  v = json_object_new_string("");
  dsg_envelopes_allowed(v, buf, sizeof(buf));
  EXPECT_EQ_STR("unknown", buf);
  json_object_put(v);
  v = json_object_new_string("n/a");
  dsg_envelopes_allowed(v, buf, sizeof(buf));
  EXPECT_EQ_STR("unknown", buf);
  json_object_put(v);
  v = json_object_new_string("-5");
  dsg_envelopes_allowed(v, buf, sizeof(buf));
  EXPECT_EQ_STR("unknown", buf);
  json_object_put(v);
  v = json_object_new_string("0");
  dsg_envelopes_allowed(v, buf, sizeof(buf));
  EXPECT_EQ_STR("0", buf); /* DocuSign's own 0 stays 0 */
  json_object_put(v);
  v = json_object_new_int(250);
  dsg_envelopes_allowed(v, buf, sizeof(buf));
  EXPECT_EQ_STR("250", buf);
  json_object_put(v);
  dsg_envelopes_allowed(NULL, buf, sizeof(buf));
  EXPECT_EQ_STR("unknown", buf);

  /* absent from a direct account: unknown, not 0 */
  rec =
      build("{\"accountName\":\"A\",\"seatsInUse\":\"3\"}", NULL, 200, CHARGES);
  EXPECT_EQ_STR("unknown", dl_str(rec, "envelopes_allowed"));
  json_object_put(rec);
}

/* A25's reseller account: no figures at all, never zeros. */
static void expect_reseller(json_object *rec) {
  static const char *const none[] = {
      "seats_allowed",     "seats_in_use",         "included_seats",
      "per_seat_price",    "billing_period_start", "billing_period_end",
      "envelopes_allowed", "envelopes_sent",       "seat_charge",
      "payment_cycle"};
  size_t i;

  EXPECT_EQ_STR("unavailable_reseller", dl_str(rec, "billing_status"));
  EXPECT_EQ_STR("unavailable: purchased through a reseller",
                dl_str(rec, "billing_message"));
  for (i = 0; i < sizeof(none) / sizeof(none[0]); i++)
    if (dl_has(rec, none[i]))
      SAM_T_FAIL("reseller record has [%s]: %s", none[i],
                 json_object_to_json_string(rec));
  EXPECT_NOT_CONTAINS(json_object_to_json_string(rec), "\"0\"");
}

static void test_reseller(void) {
  /* the simulator's reseller mode: reduced plan, no envelope figures,
   * empty charges */
  const char *acct = "{\"accountName\":\"Resold Inc\",\"planName\":"
                     "\"Business Pro\",\"currentPlanId\":\"p-1\","
                     "\"seatsAllowed\":\"0\",\"seatsInUse\":\"0\","
                     "\"currencyCode\":\"USD\"}";
  const char *plan = "{\"billingPlan\":{\"planId\":\"p-1\",\"planName\":"
                     "\"Business Pro\"}}";
  json_object *rec;

  rec = build(acct, plan, 200, "{\"billingChargeItems\":[]}");
  expect_reseller(rec);
  EXPECT_EQ_STR("Resold Inc", dl_str(rec, "account_name"));
  EXPECT_EQ_STR("Business Pro", dl_str(rec, "plan_name"));
  EXPECT_EQ_STR("p-1", dl_str(rec, "plan_id"));
  json_object_put(rec);
  /* charges without a seats item */
  rec = build(acct, plan, 200,
              "{\"billingChargeItems\":[{\"chargeName\":\"id_check\","
              "\"includedQuantity\":\"0\"}]}");
  expect_reseller(rec);
  json_object_put(rec);
  /* a seats item with an empty includedQuantity */
  rec = build(acct, plan, 200,
              "{\"billingChargeItems\":[{\"chargeName\":\"seats\","
              "\"includedQuantity\":\"\",\"usedQuantity\":\"0\"}]}");
  expect_reseller(rec);
  json_object_put(rec);
  /* billing_charges refused with a 4xx */
  rec = build(acct, plan, 400,
              "{\"errorCode\":\"INVALID_REQUEST_PARAMETER\",\"message\":"
              "\"x\"}");
  expect_reseller(rec);
  json_object_put(rec);
  rec = build(NULL, NULL, 404, NULL);
  expect_reseller(rec);
  EXPECT_TRUE(!dl_has(rec, "account_name"));
  json_object_put(rec);
}

static void test_billing_errors(void) {
  static const int statuses[] = {0, 500, 503, 401, 429, 302};
  size_t i;
  json_object *rec;

  for (i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
    rec = build(ACCOUNT, PLAN, statuses[i], NULL);
    EXPECT_EQ_STR("unavailable_error", dl_str(rec, "billing_status"));
    EXPECT_TRUE(dl_str(rec, "billing_message") != NULL);
    EXPECT_TRUE(!dl_has(rec, "seat_charge"));
    /* the account's own figures are still shown */
    EXPECT_EQ_STR("42", dl_str(rec, "seats_in_use"));
    json_object_put(rec);
  }
  rec = build(ACCOUNT, PLAN, 503, NULL);
  EXPECT_EQ_STR("billing_charges failed [http=503]",
                dl_str(rec, "billing_message"));
  json_object_put(rec);
  /* A19: a permission problem is an error, not a reseller account */
  rec = build(ACCOUNT, PLAN, 400,
              "{\"errorCode\":\"USER_LACKS_PERMISSIONS\",\"message\":\"This "
              "user lacks sufficient permissions to access this resource.\"}");
  EXPECT_EQ_STR("unavailable_error", dl_str(rec, "billing_status"));
  EXPECT_CONTAINS(dl_str(rec, "billing_message"),
                  "[errorCode=USER_LACKS_PERMISSIONS]");
  json_object_put(rec);
  /* a 200 whose body is not DocuSign's shape */
  rec = build(ACCOUNT, PLAN, 200, "[1,2]");
  EXPECT_EQ_STR("unavailable_error", dl_str(rec, "billing_status"));
  EXPECT_CONTAINS(dl_str(rec, "billing_message"), "billingChargeItems");
  json_object_put(rec);
  rec = build(ACCOUNT, PLAN, 200, NULL);
  EXPECT_EQ_STR("unavailable_error", dl_str(rec, "billing_status"));
  json_object_put(rec);
}

static void test_odd_inputs(void) {
  dsg_consumption_in in;
  json_object *rec = NULL;
  char err[128];

  /* a bare billingPlan, numbers instead of strings, an over-long value */
  rec = build("{\"seatsInUse\":7,\"currencyCode\":\"TOO-LONG-CODE\"}",
              "{\"planId\":\"p\",\"planName\":\"Standard\",\"includedSeats\":"
              "5,\"currencyCode\":\"EUR\"}",
              200, CHARGES);
  EXPECT_EQ_STR("7", dl_str(rec, "seats_in_use"));
  EXPECT_EQ_STR("5", dl_str(rec, "included_seats"));
  EXPECT_EQ_STR("Standard", dl_str(rec, "plan_name"));
  EXPECT_EQ_STR("EUR", dl_str(rec, "currency_code"));
  json_object_put(rec);

  memset(&in, 0, sizeof(in));
  EXPECT_EQ_INT(SAM_EINVAL, dsg_consumption_build(&in, &rec, err, sizeof(err)));
  EXPECT_CONTAINS(err, "account_id");
  EXPECT_EQ_INT(SAM_EINVAL,
                dsg_consumption_build(NULL, &rec, err, sizeof(err)));
}

int main(void) {
  EXPECT_EQ_INT(0, dsg_date_parse("2026-11-28T09:00:00Z", &NOW));
  SAM_T_RUN(test_direct_account);
  SAM_T_RUN(test_unlimited);
  SAM_T_RUN(test_reseller);
  SAM_T_RUN(test_billing_errors);
  SAM_T_RUN(test_odd_inputs);
  return 0;
}
