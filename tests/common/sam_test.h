/*
 * sam_test.h: the assertions every C test uses. Each failure prints both
 * values and the place, e.g. "expected [3] got [2] at test-download.c:88",
 * and aborts the test process (ctest then reports it failed).
 */
#ifndef SAM_TEST_H
#define SAM_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SAM_T_FAIL(...)                                                        \
  do {                                                                         \
    fprintf(stderr, __VA_ARGS__);                                              \
    fprintf(stderr, " at %s:%d\n", __FILE__, __LINE__);                        \
    fflush(stderr);                                                            \
    abort();                                                                   \
  } while (0)

#define EXPECT_TRUE(c)                                                         \
  do {                                                                         \
    if (!(c))                                                                  \
      SAM_T_FAIL("expected [%s] to hold", #c);                                 \
  } while (0)

#define EXPECT_EQ_INT(exp, got)                                                \
  do {                                                                         \
    long long e_ = (long long)(exp), g_ = (long long)(got);                    \
    if (e_ != g_)                                                              \
      SAM_T_FAIL("expected [%lld] got [%lld] (%s)", e_, g_, #got);             \
  } while (0)

#define EXPECT_EQ_U64(exp, got)                                                \
  do {                                                                         \
    uint64_t e_ = (uint64_t)(exp), g_ = (uint64_t)(got);                       \
    if (e_ != g_)                                                              \
      SAM_T_FAIL("expected [%" PRIu64 "] got [%" PRIu64 "] (%s)", e_, g_,      \
                 #got);                                                        \
  } while (0)

#define EXPECT_EQ_STR(exp, got)                                                \
  do {                                                                         \
    const char *e_ = (exp), *g_ = (got);                                       \
    if (e_ == NULL || g_ == NULL || strcmp(e_, g_) != 0)                       \
      SAM_T_FAIL("expected [%s] got [%s] (%s)", e_ ? e_ : "(null)",            \
                 g_ ? g_ : "(null)", #got);                                    \
  } while (0)

/* `hay` contains `needle`. */
#define EXPECT_CONTAINS(hay, needle)                                           \
  do {                                                                         \
    const char *h_ = (hay), *n_ = (needle);                                    \
    if (h_ == NULL || strstr(h_, n_) == NULL)                                  \
      SAM_T_FAIL("expected [%s] to contain [%s]", h_ ? h_ : "(null)", n_);     \
  } while (0)

#define EXPECT_NOT_CONTAINS(hay, needle)                                       \
  do {                                                                         \
    const char *h_ = (hay), *n_ = (needle);                                    \
    if (h_ != NULL && strstr(h_, n_) != NULL)                                  \
      SAM_T_FAIL("expected [%s] not to contain [%s]", h_, n_);                 \
  } while (0)

/* Prints "ok <name>" so the output shows what ran. */
#define SAM_T_RUN(fn)                                                          \
  do {                                                                         \
    fn();                                                                      \
    printf("ok %s\n", #fn);                                                    \
    fflush(stdout);                                                            \
  } while (0)

#endif /* SAM_TEST_H */
