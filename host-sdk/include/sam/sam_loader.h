/*
 * sam_loader.h: the host-side plugin loader (never included by plugins).
 *
 * The loader reads and validates a plugin manifest before dlopen, checks the
 * ABI facts in a fixed order, runs init, and rolls back every registration
 * of a plugin whose init fails. See ABI.md section 8.
 */
#ifndef SAM_LOADER_H
#define SAM_LOADER_H

#include <stdint.h>

#include "sam/sam_plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The ordered load steps; the third column is the stable step code. */
#define SAM_LOAD_STEP_MAP(XX)                                                  \
  XX(MANIFEST_READ, 1, "manifest_read")                                        \
  XX(MANIFEST_SCHEMA, 2, "manifest_schema")                                    \
  XX(MANIFEST_ABI, 3, "manifest_abi")                                          \
  XX(LIBRARY_FILE, 4, "library_file")                                          \
  XX(LIBRARY_ELF, 5, "library_elf")                                            \
  XX(DLOPEN, 6, "dlopen")                                                      \
  XX(SYMBOLS, 7, "symbols")                                                    \
  XX(QUERY, 8, "query")                                                        \
  XX(INFO_SIZE, 9, "info_size")                                                \
  XX(ABI_MAJOR, 10, "abi_major")                                               \
  XX(ABI_MINOR, 11, "abi_minor")                                               \
  XX(PTR_SIZE, 12, "ptr_size")                                                 \
  XX(UV_MAJOR, 13, "uv_major")                                                 \
  XX(NAME, 14, "name")                                                         \
  XX(VERSION, 15, "version")                                                   \
  XX(INIT, 16, "init")                                                         \
  XX(POST_INIT, 17, "post_init")

enum {
  SAM_LOAD_STEP_NONE = 0,
#define SAM__LOAD_STEP_ENUM(name, value, code) SAM_LOAD_STEP_##name = (value),
  SAM_LOAD_STEP_MAP(SAM__LOAD_STEP_ENUM)
#undef SAM__LOAD_STEP_ENUM
};

/* Returns the step code ("manifest_read"), or "" for SAM_LOAD_STEP_NONE. */
const char *sam_load_step_name(int step);

/* The outcome of a load, as data, so tests need not parse wording. */
typedef struct sam_load_result {
  int32_t status; /* SAM_OK or a SAM_E* code */
  int32_t step;   /* SAM_LOAD_STEP_* of the failing step, or 0 */
  int32_t signal; /* probe only: the signal that killed the child, or 0 */
  int32_t reserved0;
  char message[512]; /* "load [<name>] failed at [<step>]: ..." or "" */
} sam_load_result;

typedef struct sam_runtime sam_runtime; /* sam/sam_runtime.h */

/*
 * Loads the plugin whose manifest is at `manifest_path` into `rt`.
 *
 * Thread:    the runtime's loop thread; the loop must not be running inside
 *            this call (init runs synchronously, as ABI.md 13.2 says).
 * Ownership: `config_json` is borrowed. *out (may be NULL) is owned by the
 *            runtime and lives until the runtime is freed.
 * Returns:   0, or the failure status; `res` always describes the outcome.
 *            A failed load leaves the runtime's registry unchanged.
 */
int sam_loader_load(sam_runtime *rt,
                    const char *manifest_path,
                    const char *config_json,
                    sam_load_result *res,
                    sam_host **out);

/*
 * Runs the whole load (init and async shutdown) in a child process, the
 * `sam-plugin-probe` helper at `probe_exe`, so that a plugin crashing in
 * init cannot take the caller down. Blocking: call it before the loop runs
 * or from a worker thread.
 * Returns: 0 when the plugin loaded and shut down cleanly; else the status,
 *          with res->signal set when the child died from a signal
 *          ("plugin crashed [signal=SIGSEGV]").
 */
int sam_loader_probe(const char *probe_exe,
                     const char *manifest_path,
                     sam_load_result *res);

#ifdef __cplusplus
}
#endif

#endif /* SAM_LOADER_H */
