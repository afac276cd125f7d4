/*
 * loader_manifest.c: load steps 1 and 2 (ABI.md 8.2). Reads the plugin
 * manifest, validates it against schemas/plugin-manifest.schema.json with
 * the host's validator, and copies out the fields the later steps need.
 * Nothing here runs plugin code: the manifest is read before dlopen.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "loader_internal.h"
#include "sam_schema.h"

#ifndef SAM_SCHEMA_DIR
#define SAM_SCHEMA_DIR "schemas"
#endif

#define MANIFEST_SCHEMA_FILE "plugin-manifest.schema.json"
/* A manifest is a few hundred bytes; anything this large is not one. */
#define MANIFEST_MAX_BYTES (1u << 20)

/* Reads a whole file into a NUL-terminated malloc'd buffer. Returns 0, or
 * a negative SAM_E* code with errno-based detail in `why`. */
static int read_text(
    const char *path, char **out, size_t *out_len, char *why, size_t why_len) {
  FILE *f = NULL;
  char *buf = NULL;
  size_t len = 0;
  size_t cap = 4096;
  int rc = SAM_EIO;

  f = fopen(path, "rb");
  if (f == NULL) {
    rc = errno == ENOENT ? SAM_ENOENT : SAM_EIO;
    snprintf(why, why_len, "%s", strerror(errno));
    goto fail;
  }
  buf = malloc(cap);
  if (buf == NULL) {
    rc = SAM_ENOMEM;
    snprintf(why, why_len, "out of memory");
    goto fail;
  }
  for (;;) {
    size_t n = fread(buf + len, 1, cap - len - 1, f);
    len += n;
    if (n == 0)
      break;
    if (len + 1 == cap) {
      char *bigger;
      if (cap >= MANIFEST_MAX_BYTES) {
        rc = SAM_EINVAL;
        snprintf(why, why_len, "larger than [%u] bytes", MANIFEST_MAX_BYTES);
        goto fail;
      }
      bigger = realloc(buf, cap * 2);
      if (bigger == NULL) {
        rc = SAM_ENOMEM;
        snprintf(why, why_len, "out of memory");
        goto fail;
      }
      buf = bigger;
      cap *= 2;
    }
  }
  if (ferror(f)) {
    snprintf(why, why_len, "read error");
    goto fail;
  }
  fclose(f);
  buf[len] = '\0';
  *out = buf;
  *out_len = len;
  return 0;

fail:
  if (f != NULL)
    fclose(f);
  free(buf);
  return rc;
}

/* Parses JSON text; on failure writes json-c's reason and the offset. */
static json_object *
parse_json(const char *text, size_t len, char *why, size_t why_len) {
  json_tokener *tok = json_tokener_new();
  json_object *root = NULL;
  enum json_tokener_error jerr;
  size_t end;

  if (tok == NULL) {
    snprintf(why, why_len, "out of memory");
    return NULL;
  }
  root = json_tokener_parse_ex(tok, text, (int)len);
  jerr = json_tokener_get_error(tok);
  end = json_tokener_get_parse_end(tok);
  if (root == NULL) {
    snprintf(why, why_len, "%s [offset=%zu]",
             jerr == json_tokener_continue ? "unexpected end of data"
                                           : json_tokener_error_desc(jerr),
             end);
  } else {
    /* Trailing whitespace after the document is fine, anything else not. */
    while (end < len && text[end] != '\0' &&
           strchr(" \t\r\n", text[end]) != NULL)
      end++;
    if (end < len) {
      snprintf(why, why_len, "trailing data after the document [offset=%zu]",
               end);
      json_object_put(root);
      root = NULL;
    }
  }
  json_tokener_free(tok);
  return root;
}

/* The directory the manifest schema is read from. */
static const char *schema_dir(void) {
  const char *env = getenv("SAM_SCHEMA_DIR");
  return env != NULL && env[0] != '\0' ? env : SAM_SCHEMA_DIR;
}

/* Copies a string member at `key` of `obj`; 0, or -1 when it is missing, not
 * a string, empty, or too long. */
static int
get_str(json_object *obj, const char *key, char *out, size_t out_len) {
  json_object *v = NULL;
  const char *s;

  if (!json_object_object_get_ex(obj, key, &v) ||
      !json_object_is_type(v, json_type_string))
    return -1;
  s = json_object_get_string(v);
  if (s[0] == '\0' || strlen(s) >= out_len)
    return -1;
  memcpy(out, s, strlen(s) + 1);
  return 0;
}

/* Copies a non-negative integer member that fits 32 bits. */
static int get_u32(json_object *obj, const char *key, uint32_t *out) {
  json_object *v = NULL;
  int64_t n;

  if (!json_object_object_get_ex(obj, key, &v) ||
      !json_object_is_type(v, json_type_int))
    return -1;
  errno = 0;
  n = json_object_get_int64(v);
  if (errno != 0 || n < 0 || n > (int64_t)UINT32_MAX)
    return -1;
  *out = (uint32_t)n;
  return 0;
}

/* Step 2: the manifest schema. Returns 0 or fills res. */
static int
check_schema(const char *who, json_object *root, sam_load_result *res) {
  char path[4096];
  char why[256] = "";
  char cerr[512] = "";
  char *text = NULL;
  size_t len = 0;
  sam__schema *schema = NULL;
  sam__schema_error first;
  size_t n_errs = 0;
  int rc;

  snprintf(path, sizeof(path), "%s/%s", schema_dir(), MANIFEST_SCHEMA_FILE);
  rc = read_text(path, &text, &len, why, sizeof(why));
  if (rc != 0) {
    rc = sam__load_fail(res, who, SAM_LOAD_STEP_MANIFEST_SCHEMA, SAM_EIO,
                        "cannot read the manifest schema [%s] [%s]; set "
                        "SAM_SCHEMA_DIR to the directory that holds [%s]",
                        path, why, MANIFEST_SCHEMA_FILE);
    goto done;
  }
  rc = sam__schema_compile(text, len, 0, &schema, cerr, sizeof(cerr));
  if (rc != 0) {
    rc = sam__load_fail(res, who, SAM_LOAD_STEP_MANIFEST_SCHEMA, SAM_EINVAL,
                        "the manifest schema [%s] does not compile [%s]", path,
                        cerr);
    goto done;
  }
  memset(&first, 0, sizeof(first));
  rc = sam__schema_validate_obj(schema, root, &first, 1, &n_errs);
  if (rc != 0) {
    first.pointer[sizeof(first.pointer) - 1] = '\0';
    first.reason[sizeof(first.reason) - 1] = '\0';
    rc = sam__load_fail(res, who, SAM_LOAD_STEP_MANIFEST_SCHEMA, SAM_EINVAL,
                        "manifest does not match the schema at [%s]: %s",
                        n_errs > 0 ? first.pointer : "",
                        n_errs > 0 ? first.reason : "invalid");
    goto done;
  }
  rc = 0;

done:
  sam__schema_free(schema);
  free(text);
  return rc;
}

/* Copies the fields and resolves the library path. A schema that is laxer
 * than the loader's needs must not let a bad field through, so each one is
 * checked again, reported like a schema failure with its pointer. */
static int extract(json_object *root, sam__manifest *m, sam_load_result *res) {
  const char *who = m->path;
  json_object *abi = NULL;
  char lib[4096];
  const char *slash;
  size_t dir_len;
  size_t lib_len;

  if (!json_object_is_type(root, json_type_object))
    return sam__load_fail(res, who, SAM_LOAD_STEP_MANIFEST_SCHEMA, SAM_EINVAL,
                          "manifest does not match the schema at []: not an "
                          "object");
  if (get_str(root, "name", m->name, sizeof(m->name)) != 0)
    return sam__load_fail(res, who, SAM_LOAD_STEP_MANIFEST_SCHEMA, SAM_EINVAL,
                          "manifest does not match the schema at [/name]: "
                          "missing, empty or not a string");
  if (get_str(root, "version", m->version, sizeof(m->version)) != 0)
    return sam__load_fail(res, who, SAM_LOAD_STEP_MANIFEST_SCHEMA, SAM_EINVAL,
                          "manifest does not match the schema at [/version]: "
                          "missing, empty or not a string");
  if (!json_object_object_get_ex(root, "abi", &abi) ||
      !json_object_is_type(abi, json_type_object))
    return sam__load_fail(res, who, SAM_LOAD_STEP_MANIFEST_SCHEMA, SAM_EINVAL,
                          "manifest does not match the schema at [/abi]: "
                          "missing or not an object");
  if (get_u32(abi, "major", &m->abi_major) != 0)
    return sam__load_fail(res, who, SAM_LOAD_STEP_MANIFEST_SCHEMA, SAM_EINVAL,
                          "manifest does not match the schema at "
                          "[/abi/major]: missing or not a 32-bit unsigned "
                          "integer");
  if (get_u32(abi, "minor_min", &m->abi_minor_min) != 0)
    return sam__load_fail(res, who, SAM_LOAD_STEP_MANIFEST_SCHEMA, SAM_EINVAL,
                          "manifest does not match the schema at "
                          "[/abi/minor_min]: missing or not a 32-bit "
                          "unsigned integer");
  if (get_str(root, "library", lib, sizeof(lib)) != 0)
    return sam__load_fail(res, who, SAM_LOAD_STEP_MANIFEST_SCHEMA, SAM_EINVAL,
                          "manifest does not match the schema at [/library]: "
                          "missing, empty or not a string");

  /* `library` is relative to the manifest's directory (ABI.md 8.1). */
  slash = lib[0] == '/' ? NULL : strrchr(m->path, '/');
  dir_len = lib[0] == '/' ? 0 : slash == NULL ? 1 : (size_t)(slash - m->path);
  lib_len = strlen(lib);
  if (dir_len + 1 + lib_len + 1 > sizeof(m->library))
    return sam__load_fail(res, who, SAM_LOAD_STEP_MANIFEST_SCHEMA, SAM_EINVAL,
                          "manifest does not match the schema at "
                          "[/library]: resolved path too long");
  if (lib[0] != '/') {
    memcpy(m->library, slash == NULL ? "." : m->path, dir_len);
    m->library[dir_len++] = '/';
  }
  memcpy(m->library + dir_len, lib, lib_len + 1);
  return 0;
}

int sam__loader_manifest(const char *manifest_path,
                         sam__manifest *m,
                         sam_load_result *res) {
  char why[256] = "";
  char *text = NULL;
  size_t len = 0;
  json_object *root = NULL;
  int rc;

  memset(m, 0, sizeof(*m));
  if (manifest_path == NULL || manifest_path[0] == '\0' ||
      strlen(manifest_path) >= sizeof(m->path))
    return sam__load_fail(res, manifest_path ? manifest_path : "",
                          SAM_LOAD_STEP_MANIFEST_READ, SAM_EINVAL,
                          "manifest path empty or too long");
  memcpy(m->path, manifest_path, strlen(manifest_path) + 1);

  /* Step 1: the manifest exists and parses as JSON. */
  rc = read_text(m->path, &text, &len, why, sizeof(why));
  if (rc != 0) {
    rc = sam__load_fail(res, m->path, SAM_LOAD_STEP_MANIFEST_READ, rc,
                        "cannot read manifest [%s] [%s]", m->path, why);
    goto done;
  }
  root = parse_json(text, len, why, sizeof(why));
  if (root == NULL) {
    rc = sam__load_fail(res, m->path, SAM_LOAD_STEP_MANIFEST_READ, SAM_EINVAL,
                        "manifest is not JSON [%s] [%s]", m->path, why);
    goto done;
  }

  /* Step 2: the schema, then the fields the loader uses. */
  rc = check_schema(m->path, root, res);
  if (rc != 0)
    goto done;
  rc = extract(root, m, res);

done:
  if (rc != 0)
    m->name[0] = '\0';
  json_object_put(root);
  free(text);
  return rc;
}

void sam__loader_manifest_name(const char *manifest_path,
                               char *out,
                               size_t out_len) {
  char why[256];
  char *text = NULL;
  size_t len = 0;
  json_object *root = NULL;
  char name[SAM__LOADER_STR_MAX] = "";

  if (read_text(manifest_path, &text, &len, why, sizeof(why)) == 0)
    root = parse_json(text, len, why, sizeof(why));
  if (root != NULL && json_object_is_type(root, json_type_object) &&
      get_str(root, "name", name, sizeof(name)) == 0)
    snprintf(out, out_len, "%s", name);
  else
    snprintf(out, out_len, "%s", manifest_path);
  json_object_put(root);
  free(text);
}
