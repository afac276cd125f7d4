/*
 * loader.c: sam_loader_load(), the ordered load steps of ABI.md 8.2.
 *
 * Steps 1-2 live in loader_manifest.c and steps 4-5 in loader_elf.c; this
 * file runs them in order and does the rest: the manifest's ABI, dlopen,
 * the two symbols, the info block, init and post_init. The first failure
 * stops the load and is reported alone, as one line with bracketed values
 * (ABI.md 8.3), and as data in sam_load_result.
 *
 * Status codes: SAM_EVERSION for a version or platform mismatch (ABI,
 * pointer size, libuv, ELF class or machine, a v2-only library);
 * SAM_ENOENT for a missing manifest or library; SAM_EIO for an unreadable
 * one; SAM_EINVAL for anything malformed; at init, whatever init returned.
 */
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "loader_internal.h"
#include "sam_core.h"

/* ---- messages ---- */

int sam__load_fail(sam_load_result *res,
                   const char *who,
                   int step,
                   int status,
                   const char *fmt,
                   ...) {
  va_list ap;
  int n;

  res->status = status;
  res->step = step;
  n = snprintf(res->message, sizeof(res->message),
               "load [%s] failed at [%s]: ", who, sam_load_step_name(step));
  if (n >= 0 && (size_t)n < sizeof(res->message)) {
    va_start(ap, fmt);
    vsnprintf(res->message + n, sizeof(res->message) - (size_t)n, fmt, ap);
    va_end(ap);
  }
  /* One line, whatever a plugin's err text or dlerror() contained. */
  for (char *p = res->message; *p != '\0'; p++)
    if (*p == '\n' || *p == '\r')
      *p = ' ';
  return status;
}

/* ---- the info block ---- */

/* The host's copy of a plugin's info block: the fields the plugin's
 * struct_size covers, the rest zero; strings copied, bounded at 256. */
typedef struct info_copy {
  sam_plugin_info info; /* string pointers cleared; use the arrays */
  char name[SAM__LOADER_STR_MAX];
  char version[SAM__LOADER_STR_MAX];
  char description[SAM__LOADER_STR_MAX];
} info_copy;

/* Copies at most out_len - 1 bytes of a plugin string; NULL reads as "". */
static void copy_bounded(char *out, size_t out_len, const char *s) {
  size_t len = 0;

  if (s != NULL)
    while (len + 1 < out_len && s[len] != '\0')
      len++;
  if (len > 0)
    memcpy(out, s, len);
  out[len] = '\0';
}

/* Step 8's copy. A string pointer is read only when struct_size covers it:
 * a short block's tail is not the plugin's to give. */
static void copy_info(const sam_plugin_info *src, info_copy *out) {
  uint32_t size = src->struct_size;
  size_t n = size < sizeof(out->info) ? size : sizeof(out->info);

  memset(out, 0, sizeof(*out));
  memcpy(&out->info, src, n);
  if (n >= offsetof(sam_plugin_info, name) + sizeof(const char *))
    copy_bounded(out->name, sizeof(out->name), out->info.name);
  if (n >= offsetof(sam_plugin_info, version) + sizeof(const char *))
    copy_bounded(out->version, sizeof(out->version), out->info.version);
  if (n >= offsetof(sam_plugin_info, description) + sizeof(const char *))
    copy_bounded(out->description, sizeof(out->description),
                 out->info.description);
  out->info.name = NULL;
  out->info.version = NULL;
  out->info.description = NULL;
}

/* [a-z0-9_]{1,32} */
static int valid_name(const char *s) {
  size_t len = strlen(s);

  if (len < 1 || len > 32)
    return 0;
  for (size_t i = 0; i < len; i++)
    if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
          s[i] == '_'))
      return 0;
  return 1;
}

/* Steps info_size to version on the copied block. */
static int
check_info(const sam__manifest *m, const info_copy *c, sam_load_result *res) {
  const char *who = m->name;
  const sam_plugin_info *in = &c->info;
  unsigned host_uv = uv_version() >> 16;

  if (in->struct_size < SAM_PLUGIN_INFO_V1_0_SIZE)
    return sam__load_fail(res, who, SAM_LOAD_STEP_INFO_SIZE, SAM_EINVAL,
                          "info block smaller than v1.0 host [%zu] plugin "
                          "[%u]",
                          (size_t)SAM_PLUGIN_INFO_V1_0_SIZE,
                          (unsigned)in->struct_size);
  /* Alone: in another major the other fields may not exist. */
  if (in->abi_major != SAM_ABI_MAJOR)
    return sam__load_fail(res, who, SAM_LOAD_STEP_ABI_MAJOR, SAM_EVERSION,
                          "ABI major differs host [%u] plugin [%u]",
                          (unsigned)SAM_ABI_MAJOR, (unsigned)in->abi_major);
  if (in->abi_minor_min > SAM_ABI_MINOR)
    return sam__load_fail(res, who, SAM_LOAD_STEP_ABI_MINOR, SAM_EVERSION,
                          "plugin needs a newer minor host [%u] plugin [%u]",
                          (unsigned)SAM_ABI_MINOR, (unsigned)in->abi_minor_min);
  if (in->ptr_size != sizeof(void *))
    return sam__load_fail(res, who, SAM_LOAD_STEP_PTR_SIZE, SAM_EVERSION,
                          "pointer size differs host [%zu] plugin [%u]",
                          sizeof(void *), (unsigned)in->ptr_size);
  if (in->uv_major != host_uv)
    return sam__load_fail(res, who, SAM_LOAD_STEP_UV_MAJOR, SAM_EVERSION,
                          "libuv major differs host [%u] plugin [%u]", host_uv,
                          (unsigned)in->uv_major);
  if (strcmp(m->name, c->name) != 0)
    return sam__load_fail(res, who, SAM_LOAD_STEP_NAME, SAM_EINVAL,
                          "name differs manifest [%s] plugin [%s]", m->name,
                          c->name);
  if (!valid_name(c->name))
    return sam__load_fail(res, who, SAM_LOAD_STEP_NAME, SAM_EINVAL,
                          "name is not [a-z0-9_]{1,32} plugin [%s]", c->name);
  if (strcmp(m->version, c->version) != 0)
    return sam__load_fail(res, who, SAM_LOAD_STEP_VERSION, SAM_EINVAL,
                          "version differs manifest [%s] plugin [%s]",
                          m->version, c->version);
  return 0;
}

/* ---- dlopen and symbols ---- */

/* The symbols step's hint: the newest other-major query symbol the library
 * exports, 0 when none. dlsym on the handle searches the library and its own
 * dependencies only (RTLD_LOCAL), never other plugins. */
static int other_major(void *lib) {
  char sym[32];

  for (int major = 9; major >= 2; major--) {
    if (major == SAM_ABI_MAJOR)
      continue;
    snprintf(sym, sizeof(sym), "sam_plugin_query_v%d", major);
    if (dlsym(lib, sym) != NULL)
      return major;
  }
  return 0;
}

/* Steps dlopen and symbols; both symbols are looked up before either is
 * called. */
static int open_library(const sam__manifest *m,
                        sam_plugin_query_fn *query,
                        sam_plugin_init_fn *init,
                        sam_load_result *res) {
  const char *who = m->name;
  const char *err;
  int flags = RTLD_NOW | RTLD_LOCAL;
  void *lib;
  void *q;
  void *i;
  int other;

#ifndef SAM_LOADER_TEST_DLCLOSE
  /* Never unloaded (ABI.md 8.2): libcurl and OpenSSL keep process-wide
   * state, and a failed init may leave close callbacks pending in the
   * library's code. A test build (-DSAM_LOADER_TEST_DLCLOSE) drops the flag
   * so that the library goes once its last handle is closed; the loader
   * itself still never calls dlclose. */
  flags |= RTLD_NODELETE;
#endif
  dlerror();
  lib = dlopen(m->library, flags);
  if (lib == NULL) {
    err = dlerror();
    return sam__load_fail(res, who, SAM_LOAD_STEP_DLOPEN, SAM_EINVAL,
                          "[%s]; check the library's dependencies with ldd",
                          err != NULL ? err : "unknown dlopen error");
  }
  /* The handle is deliberately never closed, failure or not. */
  q = dlsym(lib, "sam_plugin_query_v1");
  i = dlsym(lib, "sam_plugin_init_v1");
  if (q == NULL || i == NULL) {
    const char *missing =
        q == NULL ? "sam_plugin_query_v1" : "sam_plugin_init_v1";
    other = other_major(lib);
    if (other != 0)
      return sam__load_fail(res, who, SAM_LOAD_STEP_SYMBOLS, SAM_EVERSION,
                            "missing symbol [%s]; the library exports "
                            "[sam_plugin_query_v%d], built for ABI v%d",
                            missing, other, other);
    if (q == NULL && i == NULL)
      return sam__load_fail(res, who, SAM_LOAD_STEP_SYMBOLS, SAM_EINVAL,
                            "missing symbols [sam_plugin_query_v1] "
                            "[sam_plugin_init_v1]; not a SAM plugin for ABI "
                            "v%d",
                            SAM_ABI_MAJOR);
    return sam__load_fail(res, who, SAM_LOAD_STEP_SYMBOLS, SAM_EINVAL,
                          "missing symbol [%s]; not a SAM plugin for ABI v%d",
                          missing, SAM_ABI_MAJOR);
  }
  /* POSIX guarantees that dlsym's void * converts to a function pointer. */
  *query = (sam_plugin_query_fn)q;
  *init = (sam_plugin_init_fn)i;
  return 0;
}

/* ---- init and post_init ---- */

/* Steps init and post_init on a fresh plugin instance. */
static int run_init(sam_runtime *rt,
                    const sam__manifest *m,
                    sam_plugin_init_fn init,
                    const char *config_json,
                    sam_load_result *res,
                    sam_host **out) {
  const char *who = m->name;
  sam_host *h = NULL;
  char err[384];
  int rc;

  rc = sam__plugin_create(rt, m->name, m->version, m->path, &h);
  if (rc != 0)
    return sam__load_fail(res, who, SAM_LOAD_STEP_INIT, rc,
                          "the host refused a new plugin instance [%s]%s",
                          sam_err_name(rc),
                          rc == SAM_EBUSY    ? "; the host is stopping"
                          : rc == SAM_EEXIST ? "; a plugin with this name is "
                                               "already loaded"
                                             : "");
  memset(err, 0, sizeof(err));
  rc = sam__plugin_run_init(h, init, config_json, err, sizeof(err));
  err[sizeof(err) - 1] = '\0';
  if (rc != 0) {
    /* A positive return is outside the contract: still a failure. */
    int status = rc < 0 ? rc : SAM_EINVAL;
    const char *reg = sam__plugin_last_error(h);
    /* The plugin only learns a registration's status code; the host's own
     * reason (the bad keyword, the short struct_size) goes with it. */
    if (reg != NULL && reg[0] != '\0' && strstr(err, reg) == NULL)
      sam__load_fail(res, who, SAM_LOAD_STEP_INIT, status,
                     "init returned [%s]: [%s]; the host refused a "
                     "registration [%s]",
                     rc < 0 ? sam_err_name(rc) : "positive value", err, reg);
    else
      sam__load_fail(res, who, SAM_LOAD_STEP_INIT, status,
                     "init returned [%s]: [%s]",
                     rc < 0 ? sam_err_name(rc) : "positive value", err);
    sam__plugin_rollback(h);
    return status;
  }
  memset(err, 0, sizeof(err));
  rc = sam__plugin_post_init(h, err, sizeof(err));
  err[sizeof(err) - 1] = '\0';
  /* The host's own text (no plugin string), so it is not bracketed.
   * post_init has run the shutdown and rolled back. */
  if (rc != 0)
    return sam__load_fail(res, who, SAM_LOAD_STEP_POST_INIT,
                          rc < 0 ? rc : SAM_EINVAL, "%s", err);
  if (out != NULL)
    *out = h;
  return 0;
}

/* ---- the load ---- */

int sam_loader_load(sam_runtime *rt,
                    const char *manifest_path,
                    const char *config_json,
                    sam_load_result *res,
                    sam_host **out) {
  sam__manifest *m = NULL;
  sam_plugin_query_fn query = NULL;
  sam_plugin_init_fn init = NULL;
  const sam_plugin_info *info;
  info_copy copy;
  int rc;

  memset(res, 0, sizeof(*res));
  if (out != NULL)
    *out = NULL;
  /* Large (two paths of 4 KiB): not on the loop thread's stack. */
  m = calloc(1, sizeof(*m));
  if (m == NULL)
    return sam__load_fail(res, manifest_path ? manifest_path : "",
                          SAM_LOAD_STEP_MANIFEST_READ, SAM_ENOMEM,
                          "out of memory");
  if (rt == NULL) {
    rc = sam__load_fail(res, manifest_path ? manifest_path : "",
                        SAM_LOAD_STEP_MANIFEST_READ, SAM_EINVAL,
                        "no runtime given");
    goto done;
  }

  /* Steps 1 and 2. */
  rc = sam__loader_manifest(manifest_path, m, res);
  if (rc != 0)
    goto done;

  /* Step 3, before anything of the library runs. */
  if (m->abi_major != SAM_ABI_MAJOR) {
    rc = sam__load_fail(res, m->name, SAM_LOAD_STEP_MANIFEST_ABI, SAM_EVERSION,
                        "ABI major differs host [%u] manifest [%u]",
                        (unsigned)SAM_ABI_MAJOR, (unsigned)m->abi_major);
    goto done;
  }
  if (m->abi_minor_min > SAM_ABI_MINOR) {
    rc = sam__load_fail(res, m->name, SAM_LOAD_STEP_MANIFEST_ABI, SAM_EVERSION,
                        "plugin needs a newer minor host [%u] manifest [%u]",
                        (unsigned)SAM_ABI_MINOR, (unsigned)m->abi_minor_min);
    goto done;
  }

  /* Steps 4 and 5. */
  rc = sam__loader_check_file(m, res);
  if (rc != 0)
    goto done;

  /* Steps 6 and 7. */
  rc = open_library(m, &query, &init, res);
  if (rc != 0)
    goto done;

  /* Step 8: copied at once, then only the copy is read. */
  info = query();
  if (info == NULL) {
    rc = sam__load_fail(res, m->name, SAM_LOAD_STEP_QUERY, SAM_EINVAL,
                        "sam_plugin_query_v1 returned [NULL]");
    goto done;
  }
  copy_info(info, &copy);

  /* info_size, abi_major, abi_minor, ptr_size, uv_major, name, version. */
  rc = check_info(m, &copy, res);
  if (rc != 0)
    goto done;

  /* init and post_init. */
  rc = run_init(rt, m, init, config_json, res, out);

done:
  free(m);
  return rc;
}
