/* copy_in.c: sam__copy_in, the one place struct_size rules live (ABI.md 7). */
#include <stdint.h>
#include <string.h>

#include "sam/sam_plugin.h"
#include "sam_copy_in.h"

int sam__copy_in(void *dst,
                 size_t dst_size,
                 size_t v1_0_size,
                 const void *src) {
  const unsigned char *s = src;
  uint32_t size;
  size_t i;

  memset(dst, 0, dst_size);
  if (src == NULL)
    return SAM_EINVAL;
  memcpy(&size, src, sizeof(size));
  if (size < v1_0_size || size < sizeof(uint32_t))
    return SAM_EINVAL;
  if (size > dst_size) {
    /* A newer plugin set a field this host cannot honour: refuse rather
     * than silently ignore it. An all-zero tail means "absent". */
    for (i = dst_size; i < size; i++) {
      if (s[i] != 0) {
        /* Keep the known part so the caller can still take ownership of
         * the descriptor's ud (it is the host's, even on failure). */
        memcpy(dst, src, dst_size);
        return SAM_ENOTSUP;
      }
    }
  }
  memcpy(dst, src, size < dst_size ? size : dst_size);
  return 0;
}

int sam__reserved_zero(const void *s, size_t off, size_t len) {
  const unsigned char *p = (const unsigned char *)s + off;
  size_t i;

  for (i = 0; i < len; i++) {
    if (p[i] != 0)
      return SAM_EINVAL;
  }
  return 0;
}
