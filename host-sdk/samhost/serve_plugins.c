/*
 * serve_plugins.c: how `samhost serve` finds and loads its plugins: the
 * default manifest, the crash probe the first time a plugin name+version
 * is seen (remembered in DATA_DIR/probed-plugins), then sam_loader_load.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "sam/sam_loader.h"
#include "sam_core.h"
#include "samhost.h"
#include "serve.h"

#define PROBED_FILE "probed-plugins"

static int readable(const char *p) {
  return p != NULL && p[0] != '\0' && access(p, R_OK) == 0;
}

/* The directory of this executable into buf, or "" when unknown. */
static void self_dir(char *buf, size_t n) {
  ssize_t len = readlink("/proc/self/exe", buf, n - 1);
  char *slash;

  if (len <= 0) {
    buf[0] = '\0';
    return;
  }
  buf[len] = '\0';
  slash = strrchr(buf, '/');
  if (slash != NULL)
    *slash = '\0';
}

/*
 * See serve.h.
 */
int sh_running_installed(void) {
#ifdef SAM_INSTALLED_BINDIR
  char dir[PATH_MAX];

  self_dir(dir, sizeof(dir));
  return strcmp(dir, SAM_INSTALLED_BINDIR) == 0;
#else
  return 0;
#endif
}

/* The first readable of (a, b), or of (b, a) when running installed. */
static const char *pick(const char *build_tree, const char *installed) {
  const char *first = sh_running_installed() ? installed : build_tree;
  const char *second = first == installed ? build_tree : installed;

  if (readable(first))
    return first;
  if (readable(second))
    return second;
  return NULL;
}

/*
 * See serve.h.
 */
const char *sh_default_plugin_manifest(void) {
#if defined(SAM_DEFAULT_PLUGIN) && defined(SAM_INSTALLED_PLUGIN)
  return pick(SAM_DEFAULT_PLUGIN, SAM_INSTALLED_PLUGIN);
#else
  return NULL;
#endif
}

/*
 * See serve.h.
 */
const char *sh_default_web_dir(void) {
#if defined(SAM_WEB_DIR) && defined(SAM_INSTALLED_WEB_DIR)
  static const char *const dirs[2] = {SAM_WEB_DIR, SAM_INSTALLED_WEB_DIR};
  int inst = sh_running_installed(), k;
  char idx[PATH_MAX];

  for (k = 0; k < 2; k++) {
    const char *d = dirs[inst ? 1 - k : k];
    snprintf(idx, sizeof(idx), "%s/index.html", d);
    if (readable(idx))
      return d;
  }
#endif
  return NULL;
}

/*
 * See serve.h.
 */
const char *sh_probe_exe(void) {
  static char buf[PATH_MAX + 64];
  char dir[PATH_MAX];
  const char *env = getenv("SAM_PLUGIN_PROBE");

  if (env != NULL && env[0] != '\0')
    return env;
  self_dir(dir, sizeof(dir));
  if (dir[0] != '\0') {
    snprintf(buf, sizeof(buf), "%s/sam-plugin-probe", dir);
    if (access(buf, X_OK) == 0)
      return buf;
  }
#if defined(SAM_PROBE_EXE) && defined(SAM_INSTALLED_PROBE)
  {
    int inst = sh_running_installed();
    const char *first = inst ? SAM_INSTALLED_PROBE : SAM_PROBE_EXE;
    const char *second = inst ? SAM_PROBE_EXE : SAM_INSTALLED_PROBE;
    if (access(first, X_OK) == 0)
      return first;
    if (access(second, X_OK) == 0)
      return second;
  }
#endif
  return NULL;
}

/* 1 when "name version" is a line of the probed file. */
static int already_probed(const char *data_dir, const char *key) {
  char *path = sh_path(data_dir, PROBED_FILE);
  char line[512];
  FILE *f;
  int found = 0;

  if (path == NULL)
    return 0;
  f = fopen(path, "r");
  free(path);
  if (f == NULL)
    return 0;
  while (!found && fgets(line, sizeof(line), f) != NULL) {
    line[strcspn(line, "\n")] = '\0';
    found = strcmp(line, key) == 0;
  }
  fclose(f);
  return found;
}

static void remember_probed(const char *data_dir, const char *key) {
  char *path = sh_path(data_dir, PROBED_FILE);
  FILE *f;

  if (path == NULL)
    return;
  f = fopen(path, "a");
  if (f == NULL) {
    fprintf(stderr,
            "samhost: cannot record the probe [path=%s] [%s]; it will run "
            "again next start\n",
            path, strerror(errno));
  } else {
    fprintf(f, "%s\n", key);
    if (fclose(f) != 0)
      fprintf(stderr, "samhost: cannot record the probe [path=%s]\n", path);
  }
  free(path);
}

/* Probes the plugin when its name+version is new. 0 = go on loading. */
static int probe_if_new(const char *data_dir, const char *manifest) {
  json_object *m = json_object_from_file(manifest);
  json_object *v;
  const char *name = NULL, *version = NULL, *exe;
  char key[512];
  sam_load_result res;
  int rc = 0;

  if (m == NULL)
    return 0; /* the loader reports the unreadable manifest precisely */
  if (json_object_object_get_ex(m, "name", &v))
    name = json_object_get_string(v);
  if (json_object_object_get_ex(m, "version", &v))
    version = json_object_get_string(v);
  if (name == NULL || version == NULL)
    goto done; /* the loader's schema check says what is missing */
  snprintf(key, sizeof(key), "%s %s", name, version);
  if (already_probed(data_dir, key))
    goto done;
  exe = sh_probe_exe();
  if (exe == NULL) {
    fprintf(stderr,
            "samhost: warning: sam-plugin-probe not found, loading [%s] "
            "without the crash probe; set SAM_PLUGIN_PROBE\n",
            key);
    goto done;
  }
  memset(&res, 0, sizeof(res));
  rc = sam_loader_probe(exe, manifest, &res);
  if (rc != 0) {
    fprintf(stderr, "samhost: plugin refused by the probe [manifest=%s]: %s\n",
            manifest, res.message);
    goto done;
  }
  remember_probed(data_dir, key);

done:
  json_object_put(m);
  return rc;
}

/*
 * See serve.h.
 */
int sh_plugins_load(sam_runtime *rt,
                    const char *data_dir,
                    char **manifests,
                    char **configs,
                    size_t n,
                    json_object *loaded) {
  size_t i;
  int failed = 0;

  for (i = 0; i < n; i++) {
    sam_load_result res;
    sam_host *h = NULL;
    json_object *o;

    if (probe_if_new(data_dir, manifests[i]) != 0) {
      failed++;
      continue;
    }
    memset(&res, 0, sizeof(res));
    if (sam_loader_load(rt, manifests[i], configs[i], &res, &h) != 0) {
      fprintf(stderr, "samhost: %s\n", res.message);
      failed++;
      continue;
    }
    o = json_object_new_object();
    if (o == NULL)
      continue;
    json_object_object_add(o, "name",
                           json_object_new_string(sam__plugin_name(h)));
    json_object_object_add(o, "manifest", json_object_new_string(manifests[i]));
    json_object_array_add(loaded, o);
  }
  return failed;
}
