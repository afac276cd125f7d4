/*
 * loader_internal.h: what the loader's files share (loader.c runs the
 * steps, loader_manifest.c reads the manifest, loader_elf.c checks the
 * library file, loader_probe.c runs the crash probe). Nothing here is used
 * outside the loader.
 *
 * Thread: any; none of these functions touches a loop.
 */
#ifndef SAM_LOADER_INTERNAL_H
#define SAM_LOADER_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "sam/sam_loader.h"

/* Strings copied out of a manifest or an info block are bounded at 256
 * bytes (ABI.md 8.2 step 8), NUL included. */
#define SAM__LOADER_STR_MAX 256

/* The manifest fields the loader needs, copied out of the JSON. */
typedef struct sam__manifest {
  char path[4096];                /* as given */
  char name[SAM__LOADER_STR_MAX]; /* "" until the schema check passed */
  char version[SAM__LOADER_STR_MAX];
  uint32_t abi_major;
  uint32_t abi_minor_min;
  char library[4096]; /* resolved against the manifest's directory */
} sam__manifest;

/*
 * Fills `res` with a failure: status, step, and the message
 * "load [<who>] failed at [<step>]: <detail>", where <detail> is printf'd
 * from fmt. Newlines in the result become spaces, so the message is always
 * one line. Returns `status`, so callers can `return sam__load_fail(...)`.
 */
int sam__load_fail(sam_load_result *res,
                   const char *who,
                   int step,
                   int status,
                   const char *fmt,
                   ...) __attribute__((format(printf, 5, 6)));

/*
 * Steps 1 and 2 (manifest_read, manifest_schema), plus extracting the
 * fields into `m`. The schema is read from $SAM_SCHEMA_DIR when set, else
 * from the directory compiled in as SAM_SCHEMA_DIR. On failure fills `res`
 * (named by the manifest path) and returns its status.
 * Ownership: nothing is kept; `m` is caller storage.
 */
int sam__loader_manifest(const char *manifest_path,
                         sam__manifest *m,
                         sam_load_result *res);

/*
 * Reads only the "name" of a manifest, without the schema, for messages
 * written before the child of the probe could say anything. Writes the
 * name, or the path when the manifest has no usable name, into out.
 */
void sam__loader_manifest_name(const char *manifest_path,
                               char *out,
                               size_t out_len);

/*
 * Steps 4 and 5 (library_file, library_elf) on m->library: a regular,
 * readable file with the ELF magic, a shared-object type, and the host's
 * ELF class, byte order and machine. On failure fills `res` and returns
 * its status.
 */
int sam__loader_check_file(const sam__manifest *m, sam_load_result *res);

#endif /* SAM_LOADER_INTERNAL_H */
