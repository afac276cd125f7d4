/*
 * dsg_consumption.h: the profile's docusign_consumption record
 * (schemas/docusign-consumption.schema.json) from the accountInformation,
 * billing_plan and billing_charges replies (DOCUSIGN.md 5, A25-A27). Pure.
 */
#ifndef DSG_CONSUMPTION_H
#define DSG_CONSUMPTION_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

/* billing_message of an account bought through a reseller (issue 6 item 7) */
#define DSG_RESELLER_MESSAGE "unavailable: purchased through a reseller"

typedef struct dsg_consumption_in {
  const char *account_id; /* required: the profile's Technical account id */
  const char *run_id;     /* may be NULL */
  int64_t now;            /* fetched_at, Unix seconds */
  /* GET /v2.1/accounts/{id}: the body, or NULL when the call failed */
  json_object *account;
  /* GET .../billing_plan: the accountBillingPlanResponse (its billingPlan
   * member is used) or a bare billingPlan; NULL when the call failed */
  json_object *billing_plan;
  /* GET .../billing_charges: the final HTTP status after retries (0 = no
   * reply) and the body (NULL when none or not JSON). 401 and rate limits
   * are the caller's to handle first; passed here they count as errors. */
  int charges_status;
  json_object *charges;
} dsg_consumption_in;

/*
 * Builds the record:
 *   - account_name, plan (id, name, classification, payment cycle,
 *     currency, start/end), seats allowed/in use, included seats, per-seat
 *     price, billing period and envelopes, copied verbatim as strings
 *     (DocuSign strings; JSON numbers are written as text; values longer
 *     than the schema allows are left out);
 *   - envelopes_allowed: a whole number as given; "unlimited" when DocuSign
 *     says so (any case); "unknown" for any other non-numeric or empty value
 *     or when absent from an available account. Never "0" unless DocuSign
 *     said "0" (A26);
 *   - seat_charge from the billingChargeItems entry whose chargeName is
 *     "seats".
 * billing_status:
 *   - "unavailable_reseller" when billing_charges answered with a 4xx other
 *     than 401/429 (and other than A19's USER_LACKS_PERMISSIONS and
 *     USER_DOES_NOT_BELONG_TO_SPECIFIED_ACCOUNT, which are errors), or
 *     with no "seats" item, or with an empty
 *     includedQuantity (A25). The record then carries only the account's
 *     identity and plan id/name plus billing_message DSG_RESELLER_MESSAGE:
 *     no seat, price, period or envelope figure (never zeros);
 *   - "unavailable_error" when billing_charges gave no reply, a 5xx, 401,
 *     429, or a 2xx body that is not an object with a billingChargeItems
 *     array; the account figures are kept, billing_message says what
 *     failed;
 *   - "available" otherwise.
 *
 * Thread:    any; pure.
 * Ownership: everything in `in` is borrowed; *out is a new json-c object
 *            the caller puts.
 * Returns:   0; SAM_EINVAL when in, out or account_id is NULL or empty (err
 *            says which); SAM_ENOMEM.
 */
int dsg_consumption_build(const dsg_consumption_in *in,
                          json_object **out,
                          char *err,
                          size_t errlen);

/*
 * Normalises an envelopes-allowed value as dsg_consumption_build does into
 * buf (at least 33 bytes): digits as given, "unlimited", or "unknown".
 * v may be NULL.
 */
void dsg_envelopes_allowed(json_object *v, char *buf, size_t len);

#endif /* DSG_CONSUMPTION_H */
