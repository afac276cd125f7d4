/*
 * sam_copy_in.h: reading plugin -> host structs by their struct_size
 * (ABI.md 7). Pure functions, any thread.
 */
#ifndef SAM_COPY_IN_H
#define SAM_COPY_IN_H

#include <stddef.h>

/*
 * Copies the struct at `src` (whose first field is its uint32_t
 * struct_size) into `dst` (the host's view, dst_size bytes):
 * min(struct_size, dst_size) bytes are copied and the rest of `dst` is
 * zero-filled, so fields the plugin's header did not have read as zero.
 *
 * Thread:    any. Ownership: both buffers borrowed.
 * Returns:   0; SAM_EINVAL when src is NULL or struct_size < v1_0_size;
 *            SAM_ENOTSUP when struct_size > dst_size and the tail beyond
 *            dst_size is not all zero (then `dst` holds the first
 *            dst_size bytes, so the caller can still read ud/ud_free).
 *            `dst` is zeroed on SAM_EINVAL.
 */
int sam__copy_in(void *dst, size_t dst_size, size_t v1_0_size, const void *src);

/*
 * Checks a reserved field of `len` bytes at offset `off` of a struct that
 * was copied in. Returns 0 when every byte is zero, else SAM_EINVAL.
 */
int sam__reserved_zero(const void *s, size_t off, size_t len);

#endif /* SAM_COPY_IN_H */
