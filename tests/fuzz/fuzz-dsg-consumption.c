/*
 * fuzz-dsg-consumption.c: libFuzzer target for the consumption record a
 * download builds from three DocuSign replies (dsg_consumption_build: the
 * account, billing_plan and billing_charges bodies, DOCUSIGN.md 5). The
 * input is up to three JSON texts separated by NUL bytes, in that order
 * (a missing or unparsable one is passed as NULL, a failed call); its
 * first byte picks billing_charges' HTTP status. The record is then
 * printed, as the store put does. Any crash, leak or sanitizer report is
 * a bug; error returns are expected.
 *
 * Built only with clang and -DSAM_FUZZ=ON (tests/fuzz/fuzz.cmake):
 *   build-fuzz/tests/fuzz-dsg-consumption tests/fuzz/corpus-dsg-consumption
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <json-c/json.h>

#include "dsg_consumption.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const int statuses[] = {0, 200, 400, 401, 403, 404, 429, 500, 503};

static json_object *parse_part(const uint8_t **p, const uint8_t *end) {
  const uint8_t *nul = memchr(*p, 0, (size_t)(end - *p));
  const uint8_t *stop = nul != NULL ? nul : end;
  json_tokener *tok = json_tokener_new();
  json_object *o = NULL;

  if (tok != NULL && stop > *p) {
    o = json_tokener_parse_ex(tok, (const char *)*p, (int)(stop - *p));
    if (o != NULL && json_tokener_get_error(tok) != json_tokener_success) {
      json_object_put(o);
      o = NULL;
    }
  }
  if (tok != NULL)
    json_tokener_free(tok);
  *p = nul != NULL ? nul + 1 : end;
  return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const uint8_t *p = data + 1, *end = data + size;
  dsg_consumption_in in;
  json_object *out = NULL;
  char err[256];
  char buf[64];

  if (size == 0 || size > 1 << 20)
    return 0;
  memset(&in, 0, sizeof(in));
  in.account_id = "f0f0f0f0-0000-4000-8000-000000000001";
  in.run_id = data[0] & 0x80 ? "run-1" : NULL;
  in.now = 1796000000;
  in.charges_status =
      statuses[data[0] % (sizeof(statuses) / sizeof(statuses[0]))];
  in.account = parse_part(&p, end);
  in.billing_plan = parse_part(&p, end);
  in.charges = parse_part(&p, end);
  if (dsg_consumption_build(&in, &out, err, sizeof(err)) == 0) {
    (void)json_object_to_json_string_ext(out, JSON_C_TO_STRING_PLAIN);
    json_object_put(out);
  }
  dsg_envelopes_allowed(in.account, buf, sizeof(buf));
  json_object_put(in.account);
  json_object_put(in.billing_plan);
  json_object_put(in.charges);
  return 0;
}
