/*
 * dsg_consumption.c: account, plan, seats and billing consumption.
 */
#include "dsg_consumption.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "dsg_dates.h"
#include "sam/sam_plugin.h"

static json_object *member(json_object *o, const char *key) {
  json_object *v = NULL;

  if (o == NULL || !json_object_is_type(o, json_type_object) ||
      !json_object_object_get_ex(o, key, &v))
    return NULL;
  return v;
}

/* The scalar as text: strings verbatim, integers and doubles as JSON
 * writes them; NULL for anything else. */
static const char *scalar_text(json_object *v) {
  if (v == NULL)
    return NULL;
  switch (json_object_get_type(v)) {
  case json_type_string:
  case json_type_int:
  case json_type_double:
    return json_object_get_string(v);
  default:
    return NULL;
  }
}

/* Copies src[key] to dst[out_key] when it is a scalar that fits max. */
static int copy_field(json_object *dst,
                      const char *out_key,
                      json_object *src,
                      const char *key,
                      size_t max) {
  const char *s = scalar_text(member(src, key));
  json_object *v;

  if (s == NULL || strlen(s) > max)
    return 0;
  v = json_object_new_string(s);
  if (v == NULL || json_object_object_add(dst, out_key, v) != 0) {
    json_object_put(v);
    return SAM_ENOMEM;
  }
  return 0;
}

static int put_str(json_object *o, const char *key, const char *s) {
  json_object *v = json_object_new_string(s);

  if (v == NULL || json_object_object_add(o, key, v) != 0) {
    json_object_put(v);
    return SAM_ENOMEM;
  }
  return 0;
}

static int all_digits(const char *s) {
  if (*s == '\0')
    return 0;
  for (; *s; s++)
    if (*s < '0' || *s > '9')
      return 0;
  return 1;
}

void dsg_envelopes_allowed(json_object *v, char *buf, size_t len) {
  const char *s = NULL;

  if (v != NULL && json_object_is_type(v, json_type_string))
    s = json_object_get_string(v);
  else if (v != NULL && json_object_is_type(v, json_type_int) &&
           json_object_get_int64(v) >= 0)
    s = json_object_get_string(v);
  if (s != NULL && all_digits(s) && strlen(s) <= 32)
    snprintf(buf, len, "%s", s);
  else if (s != NULL && strcasecmp(s, "unlimited") == 0)
    snprintf(buf, len, "unlimited");
  else
    snprintf(buf, len, "unknown");
}

/* The billingChargeItems entry named "seats", or NULL. */
static json_object *seats_item(json_object *items) {
  size_t i, n = json_object_array_length(items);

  for (i = 0; i < n; i++) {
    json_object *it = json_object_array_get_idx(items, i);
    const char *name = scalar_text(member(it, "chargeName"));

    if (name != NULL && strcmp(name, "seats") == 0)
      return it;
  }
  return NULL;
}

typedef enum { BILL_AVAILABLE, BILL_RESELLER, BILL_ERROR } bill_status;

static bill_status classify(const dsg_consumption_in *in,
                            json_object **seats,
                            char *msg,
                            size_t msglen) {
  json_object *items = member(in->charges, "billingChargeItems");
  const char *inc;

  *seats = NULL;
  if (in->charges_status == 0) {
    snprintf(msg, msglen, "billing_charges gave no reply");
    return BILL_ERROR;
  }
  if (in->charges_status == 401 || in->charges_status == 429 ||
      in->charges_status >= 500 || in->charges_status < 200 ||
      (in->charges_status >= 300 && in->charges_status < 400)) {
    snprintf(msg, msglen, "billing_charges failed [http=%d]",
             in->charges_status);
    return BILL_ERROR;
  }
  if (in->charges_status >= 400) {
    const char *code = scalar_text(member(in->charges, "errorCode"));

    /* A19's configuration errors are not a reseller account: say so,
     * rather than label the account. */
    if (code != NULL &&
        (strcmp(code, "USER_LACKS_PERMISSIONS") == 0 ||
         strcmp(code, "USER_DOES_NOT_BELONG_TO_SPECIFIED_ACCOUNT") == 0)) {
      snprintf(msg, msglen,
               "billing_charges refused [http=%d] [errorCode=%s]: the "
               "consenting user must be an administrator of this account",
               in->charges_status, code);
      return BILL_ERROR;
    }
    return BILL_RESELLER; /* A25: any other 4xx means no billing data */
  }
  if (items == NULL || !json_object_is_type(items, json_type_array)) {
    snprintf(msg, msglen,
             "billing_charges reply has no billingChargeItems array [http=%d]",
             in->charges_status);
    return BILL_ERROR;
  }
  *seats = seats_item(items);
  if (*seats == NULL)
    return BILL_RESELLER;
  inc = scalar_text(member(*seats, "includedQuantity"));
  if (inc == NULL || *inc == '\0') {
    *seats = NULL;
    return BILL_RESELLER;
  }
  return BILL_AVAILABLE;
}

static int add_seat_charge(json_object *rec, json_object *seats) {
  json_object *sc = json_object_new_object();

  if (sc == NULL)
    return SAM_ENOMEM;
  if (copy_field(sc, "included_quantity", seats, "includedQuantity", 32) ||
      copy_field(sc, "used_quantity", seats, "usedQuantity", 32) ||
      copy_field(sc, "allowed_quantity", seats, "allowedQuantity", 32) ||
      copy_field(sc, "unit_price", seats, "unitPrice", 32) ||
      json_object_object_add(rec, "seat_charge", sc) != 0) {
    json_object_put(sc);
    return SAM_ENOMEM;
  }
  return 0;
}

/* Figures that only a direct (non-reseller) account has. */
static int add_figures(json_object *rec, json_object *acct, json_object *plan) {
  char env[40];

  if (copy_field(rec, "plan_classification", plan, "planClassification", 64) ||
      copy_field(rec, "payment_cycle", plan, "paymentCycle", 32) ||
      copy_field(rec, "currency_code", plan, "currencyCode", 8) ||
      copy_field(rec, "plan_start_date", plan, "planStartDate", 40) ||
      copy_field(rec, "plan_end_date", plan, "renewalDate", 40) ||
      copy_field(rec, "included_seats", plan, "includedSeats", 32) ||
      copy_field(rec, "per_seat_price", plan, "perSeatPrice", 32))
    return SAM_ENOMEM;
  /* accountInformation wins where both have the field */
  if (copy_field(rec, "plan_classification", acct, "planClassification", 64) ||
      copy_field(rec, "currency_code", acct, "currencyCode", 8) ||
      copy_field(rec, "plan_start_date", acct, "planStartDate", 40) ||
      copy_field(rec, "plan_end_date", acct, "planEndDate", 40) ||
      copy_field(rec, "seats_allowed", acct, "seatsAllowed", 32) ||
      copy_field(rec, "seats_in_use", acct, "seatsInUse", 32) ||
      copy_field(rec, "billing_period_start", acct, "billingPeriodStartDate",
                 40) ||
      copy_field(rec, "billing_period_end", acct, "billingPeriodEndDate", 40) ||
      copy_field(rec, "envelopes_sent", acct, "billingPeriodEnvelopesSent", 32))
    return SAM_ENOMEM;
  if (acct != NULL) {
    dsg_envelopes_allowed(member(acct, "billingPeriodEnvelopesAllowed"), env,
                          sizeof(env));
    if (put_str(rec, "envelopes_allowed", env) != 0)
      return SAM_ENOMEM;
  }
  return 0;
}

int dsg_consumption_build(const dsg_consumption_in *in,
                          json_object **out,
                          char *err,
                          size_t errlen) {
  json_object *rec = NULL, *plan, *acct, *seats = NULL;
  char when[DSG_DATE_BUF], msg[300] = "";
  bill_status st;
  int rc = SAM_EINVAL;

  if (out != NULL)
    *out = NULL;
  if (in == NULL || out == NULL || in->account_id == NULL ||
      in->account_id[0] == '\0' || strlen(in->account_id) > 64) {
    snprintf(err, errlen, "consumption: account_id is required [%.64s]",
             in != NULL && in->account_id != NULL ? in->account_id : "");
    return SAM_EINVAL;
  }
  if (dsg_date_format(in->now, when, sizeof(when)) != 0) {
    snprintf(err, errlen, "consumption: now is not a writable time [%lld]",
             (long long)in->now);
    return SAM_EINVAL;
  }
  rc = SAM_ENOMEM;
  acct =
      in->account != NULL && json_object_is_type(in->account, json_type_object)
          ? in->account
          : NULL;
  plan = member(in->billing_plan, "billingPlan");
  if (plan == NULL && in->billing_plan != NULL &&
      json_object_is_type(in->billing_plan, json_type_object))
    plan = in->billing_plan; /* a bare billingPlan */
  st = classify(in, &seats, msg, sizeof(msg));

  rec = json_object_new_object();
  if (rec == NULL || put_str(rec, "account_id", in->account_id) != 0)
    goto fail;
  if (in->run_id != NULL && strlen(in->run_id) <= 64 &&
      put_str(rec, "run_id", in->run_id) != 0)
    goto fail;
  if (put_str(rec, "fetched_at", when) != 0)
    goto fail;
  if (copy_field(rec, "account_name", acct, "accountName", 200) ||
      copy_field(rec, "plan_id", plan, "planId", 64) ||
      copy_field(rec, "plan_id", acct, "currentPlanId", 64) ||
      copy_field(rec, "plan_name", plan, "planName", 200) ||
      copy_field(rec, "plan_name", acct, "planName", 200))
    goto fail;
  switch (st) {
  case BILL_RESELLER:
    /* A25: no figure at all, so nobody reads a 0 as "no seats" */
    if (put_str(rec, "billing_status", "unavailable_reseller") != 0 ||
        put_str(rec, "billing_message", DSG_RESELLER_MESSAGE) != 0)
      goto fail;
    break;
  case BILL_ERROR:
    if (add_figures(rec, acct, plan) != 0 ||
        put_str(rec, "billing_status", "unavailable_error") != 0 ||
        put_str(rec, "billing_message", msg) != 0)
      goto fail;
    break;
  case BILL_AVAILABLE:
    if (add_figures(rec, acct, plan) != 0 || add_seat_charge(rec, seats) ||
        put_str(rec, "billing_status", "available") != 0)
      goto fail;
    break;
  }
  *out = rec;
  return 0;

fail:
  snprintf(err, errlen, "consumption: out of memory");
  json_object_put(rec);
  return rc;
}
