/*
 * test-copy-in.c: sam__copy_in, the struct_size rules of ABI.md 7 (14.2):
 * short descriptors are zero-filled, below-v1.0 ones rejected, larger ones
 * accepted with a zero tail and refused (SAM_ENOTSUP) with a non-zero one;
 * a non-zero reserved field gives SAM_EINVAL.
 */
#include <stdint.h>
#include <string.h>

#include "sam/sam_plugin.h"
#include "sam_copy_in.h"
#include "sam_test.h"

/* The host's view of a descriptor: v1.0 ends after `b`; `c` is v1.1. */
typedef struct host_view {
  uint32_t struct_size;
  uint32_t reserved0;
  uint64_t a;
  uint64_t b;
  /* ---- v1.1 ---- */
  uint64_t c;
} host_view;

#define V1_0 (offsetof(host_view, b) + sizeof(uint64_t))

/* A newer plugin's view: one more field after c. */
typedef struct newer_view {
  host_view base;
  uint64_t d;
} newer_view;

static void short_descriptor_is_zero_filled(void) {
  host_view src, dst;

  memset(&src, 0xAB, sizeof(src));
  src.struct_size = V1_0; /* a v1.0 plugin: no `c` */
  src.reserved0 = 0;
  src.a = 1;
  src.b = 2;
  memset(&dst, 0xCD, sizeof(dst));
  EXPECT_EQ_INT(0, sam__copy_in(&dst, sizeof(dst), V1_0, &src));
  EXPECT_EQ_U64(1, dst.a);
  EXPECT_EQ_U64(2, dst.b);
  EXPECT_EQ_U64(0, dst.c); /* not read from src: zero means absent */
}

static void below_v1_0_rejected(void) {
  host_view src, dst;
  uint32_t sizes[] = {0, 4, 8, V1_0 - 1};
  size_t i;

  memset(&src, 0, sizeof(src));
  for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
    src.struct_size = sizes[i];
    EXPECT_EQ_INT(SAM_EINVAL, sam__copy_in(&dst, sizeof(dst), V1_0, &src));
  }
  EXPECT_EQ_INT(SAM_EINVAL, sam__copy_in(&dst, sizeof(dst), V1_0, NULL));
}

static void exact_size_accepted(void) {
  host_view src, dst;

  memset(&src, 0, sizeof(src));
  src.struct_size = sizeof(src);
  src.c = 7;
  EXPECT_EQ_INT(0, sam__copy_in(&dst, sizeof(dst), V1_0, &src));
  EXPECT_EQ_U64(7, dst.c);
}

static void larger_zero_tail_accepted(void) {
  newer_view src;
  host_view dst;

  memset(&src, 0, sizeof(src));
  src.base.struct_size = sizeof(src);
  src.base.a = 5;
  EXPECT_EQ_INT(0, sam__copy_in(&dst, sizeof(dst), V1_0, &src));
  EXPECT_EQ_U64(5, dst.a);
}

static void larger_nonzero_tail_not_supported(void) {
  newer_view src;
  host_view dst;

  memset(&src, 0, sizeof(src));
  src.base.struct_size = sizeof(src);
  src.d = 1;
  EXPECT_EQ_INT(SAM_ENOTSUP, sam__copy_in(&dst, sizeof(dst), V1_0, &src));
}

static void reserved_nonzero_is_einval(void) {
  host_view src, dst;

  memset(&src, 0, sizeof(src));
  src.struct_size = sizeof(src);
  src.reserved0 = 1;
  EXPECT_EQ_INT(0, sam__copy_in(&dst, sizeof(dst), V1_0, &src));
  EXPECT_EQ_INT(SAM_EINVAL,
                sam__reserved_zero(&dst, offsetof(host_view, reserved0),
                                   sizeof(uint32_t)));
  dst.reserved0 = 0;
  EXPECT_EQ_INT(0, sam__reserved_zero(&dst, offsetof(host_view, reserved0),
                                      sizeof(uint32_t)));
}

/* A real ABI descriptor: sam_process_desc with struct_size 4. */
static void real_descriptor_short(void) {
  sam_process_desc src, dst;

  memset(&src, 0, sizeof(src));
  src.struct_size = 4;
  EXPECT_EQ_INT(SAM_EINVAL, sam__copy_in(&dst, sizeof(dst),
                                         offsetof(sam_process_desc, ud_free) +
                                             sizeof(sam_free_fn),
                                         &src));
}

int main(void) {
  SAM_T_RUN(short_descriptor_is_zero_filled);
  SAM_T_RUN(below_v1_0_rejected);
  SAM_T_RUN(exact_size_accepted);
  SAM_T_RUN(larger_zero_tail_accepted);
  SAM_T_RUN(larger_nonzero_tail_not_supported);
  SAM_T_RUN(reserved_nonzero_is_einval);
  SAM_T_RUN(real_descriptor_short);
  return 0;
}
