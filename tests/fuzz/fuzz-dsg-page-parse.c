/*
 * fuzz-dsg-page-parse.c: libFuzzer target for the users-page path of a
 * download: dsg_page_parse on arbitrary bytes, then, for a page that
 * passes, every user through dsg_user_map (with a previous record, so the
 * carry-over paths run), the userId set, and the date parser on every
 * string of the page. Any crash, leak or sanitizer report is a bug; error
 * returns are expected.
 *
 * Built only with clang and -DSAM_FUZZ=ON (tests/fuzz/fuzz.cmake):
 *   build/tests/fuzz-dsg-page-parse tests/fuzz/corpus-dsg-page-parse
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <json-c/json.h>

#include "dsg_dates.h"
#include "dsg_page_parse.h"
#include "dsg_user_map.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *lookup(const char *identifier, void *ud) {
  (void)ud;
  return strcmp(identifier, "DocuSign Sender") == 0 ? "DocuSign Sender" : NULL;
}

static void dates_in(json_object *o) {
  int64_t t;

  json_object_object_foreach(o, k, v) {
    (void)k;
    if (json_object_is_type(v, json_type_string))
      (void)dsg_date_parse(json_object_get_string(v), &t);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  dsg_page page;
  dsg_idset *ids = NULL;
  json_object *prev;
  dsg_user_map_opts opts;
  char err[256];
  uint64_t start = 0;
  size_t i;

  /* The first byte picks the requested start, so mismatches get covered
   * as well as matches. */
  if (size > 0) {
    start = (uint64_t)(data[0] % 4) * 100;
    data++;
    size--;
  }
  if (dsg_page_parse((const char *)data, size, start, &page, err,
                     sizeof(err)) != 0)
    return 0;
  prev = json_tokener_parse(
      "{\"external_user_id\":\"x\",\"state\":\"reclaimed\",\"reclaimed_at\":"
      "\"2026-01-01T00:00:00Z\",\"first_seen_at\":\"2025-01-01T00:00:00Z\","
      "\"removed_at\":\"bad\"}");
  memset(&opts, 0, sizeof(opts));
  opts.now = 1795000000;
  opts.run_id = "fuzz";
  opts.model_lookup = lookup;
  if (dsg_idset_new(page.n_users, &ids) != 0)
    goto done;
  for (i = 0; i < page.n_users; i++) {
    json_object *u = dsg_page_user(&page, i), *rec = NULL, *id = NULL;

    dates_in(u);
    if (json_object_object_get_ex(u, "userId", &id) &&
        json_object_is_type(id, json_type_string))
      (void)dsg_idset_add(ids, json_object_get_string(id));
    if (dsg_user_map(u, (i & 1) ? prev : NULL, &opts, &rec, err, sizeof(err)) ==
        0) {
      (void)dsg_user_record_changed(prev, rec);
      json_object_put(rec);
    }
  }
done:
  dsg_idset_free(ids);
  json_object_put(prev);
  dsg_page_free(&page);
  return 0;
}
