/*
 * sam_backend_memory.h: the in-memory storage backend (test host, probe).
 * Requests run on the loop, on a later turn than their submit; the queue
 * is bounded so a test can drive SAM_EAGAIN.
 */
#ifndef SAM_BACKEND_MEMORY_H
#define SAM_BACKEND_MEMORY_H

#include <stddef.h>
#include <stdint.h>

#include "sam_backend.h"

struct uv_loop_s;

/*
 * Creates the backend on `loop` (borrowed) with a queue of at most
 * queue_max requests not yet run (0 = 1024). *out receives the vtable and
 * its state; vt->close frees it (after its done callback is queued).
 * Thread: loop thread. Returns 0 or SAM_ENOMEM / SAM_EIO.
 *
 * Results: GET gives one record; QUERY a page (records in creation order,
 * cursors "m<seq>" that never expire); PUT_BATCH on success gives each
 * written key with its new version (json NULL); ECONFLICT lists the
 * conflicting keys with their current versions (0 when absent).
 */
int sam__backend_memory_new(struct uv_loop_s *loop,
                            uint32_t queue_max,
                            sam__backend *out);

/*
 * Test helper: copies the sealed blob stored under (from_profile,
 * from_name) to (to_profile, to_name), synchronously, as an attacker with
 * database access could. Returns 0 or SAM_ENOENT / SAM_ENOMEM.
 */
int sam__backend_memory_blob_copy(sam__backend *b,
                                  const char *from_profile,
                                  const char *from_name,
                                  const char *to_profile,
                                  const char *to_name);

/* Number of live records in (profile, type) (tests). */
size_t sam__backend_memory_count(sam__backend *b,
                                 const char *profile_id,
                                 const char *record_type);

#endif /* SAM_BACKEND_MEMORY_H */
