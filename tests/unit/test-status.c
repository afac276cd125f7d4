/*
 * test-status.c: every status code's value, name and text against a golden
 * table (ABI.md 5). Values are unique and never change; an unknown code
 * gives SAM_UNKNOWN.
 */
#include <stdio.h>
#include <string.h>

#include "sam/sam_plugin.h"
#include "sam_test.h"

static const struct {
  int value;
  const char *name;
  const char *text;
} golden[] = {
    {0, "SAM_OK", "success"},
    {-1, "SAM_EINVAL", "invalid argument"},
    {-2, "SAM_ENOMEM", "out of memory"},
    {-3, "SAM_ENOTSUP", "not supported by this host or plugin"},
    {-4, "SAM_EBUSY", "not allowed in the current phase"},
    {-5, "SAM_ECANCELED", "operation canceled"},
    {-6, "SAM_ETIMEDOUT", "operation timed out"},
    {-7, "SAM_EAGAIN", "temporarily unavailable, retry later"},
    {-8, "SAM_ENOENT", "not found"},
    {-9, "SAM_EEXIST", "already exists"},
    {-10, "SAM_ECONFLICT", "version conflict"},
    {-11, "SAM_EIO", "storage failure"},
    {-12, "SAM_EAUTH", "credentials rejected or consent required"},
    {-13, "SAM_EREMOTE", "remote service returned an error"},
    {-14, "SAM_EPROTO", "malformed remote response"},
    {-15, "SAM_EVERSION", "incompatible version"},
};
#define N_GOLDEN (sizeof(golden) / sizeof(golden[0]))

static void constants_match(void) {
  static const int values[] = {
      SAM_OK,     SAM_EINVAL,    SAM_ENOMEM,    SAM_ENOTSUP,
      SAM_EBUSY,  SAM_ECANCELED, SAM_ETIMEDOUT, SAM_EAGAIN,
      SAM_ENOENT, SAM_EEXIST,    SAM_ECONFLICT, SAM_EIO,
      SAM_EAUTH,  SAM_EREMOTE,   SAM_EPROTO,    SAM_EVERSION};
  size_t i;

  EXPECT_EQ_INT(N_GOLDEN, sizeof(values) / sizeof(values[0]));
  for (i = 0; i < N_GOLDEN; i++)
    EXPECT_EQ_INT(golden[i].value, values[i]);
}

static void names_and_texts(void) {
  size_t i;

  for (i = 0; i < N_GOLDEN; i++) {
    EXPECT_EQ_STR(golden[i].name, sam_err_name(golden[i].value));
    EXPECT_EQ_STR(golden[i].text, sam_strerror(golden[i].value));
  }
}

/* The map itself: count entries and check uniqueness of values. */
static void map_is_complete_and_unique(void) {
  static const int map_values[] = {
#define XX(name, value, text) (value),
      SAM_STATUS_MAP(XX)
#undef XX
  };
  size_t n = sizeof(map_values) / sizeof(map_values[0]), i, k;

  EXPECT_EQ_INT(N_GOLDEN, n);
  for (i = 0; i < n; i++) {
    EXPECT_EQ_INT(-(int)i, map_values[i]); /* dense, never renumbered */
    for (k = i + 1; k < n; k++)
      EXPECT_TRUE(map_values[i] != map_values[k]);
  }
}

static void unknown_code(void) {
  EXPECT_EQ_STR("SAM_UNKNOWN", sam_err_name(-16));
  EXPECT_EQ_STR("SAM_UNKNOWN", sam_err_name(1));
  EXPECT_EQ_STR("SAM_UNKNOWN", sam_err_name(-1000));
  EXPECT_EQ_STR("unknown status", sam_strerror(-16));
}

int main(void) {
  SAM_T_RUN(constants_match);
  SAM_T_RUN(names_and_texts);
  SAM_T_RUN(map_is_complete_and_unique);
  SAM_T_RUN(unknown_code);
  return 0;
}
