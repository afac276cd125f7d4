/*
 * test-loader.c: the loader's ordered checks against the fixture plugins
 * (ABI.md 8.2, 14.1). One table row per failing fixture: the status, the
 * step, a stable fragment of the message, and a registry that is the same
 * after the failed load as before it. Every loader message is printed, so
 * the CI log shows each one:
 *
 *   fixture <name>: step [<step>] message [<message>]
 *
 * Also: the ugly manifests (missing, not JSON, against the schema), the
 * marker that proves nothing was dlopen'ed for a wrong manifest major, the
 * rollback's ud_free count, and the crash probe.
 */
#include <dlfcn.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <uv.h>

#include "sam/sam_loader.h"
#include "sam_core.h"
#include "sam_test.h"
#include "sam_test_host.h"

#ifndef SAM_FIXTURE_DIR
#error "SAM_FIXTURE_DIR must name the built fixtures (loader.cmake)"
#endif
#ifndef SAM_PROBE_EXE
#error "SAM_PROBE_EXE must name the sam-plugin-probe executable"
#endif

static uv_loop_t loop;
static char tmpdir[256];

/* ---- helpers ---- */

static const char *fixture_manifest(const char *fx) {
  static char path[1024];

  snprintf(path, sizeof(path), "%s/%s/plugin.manifest.json", SAM_FIXTURE_DIR,
           fx);
  return path;
}

static const char *tmp_path(const char *name) {
  static char path[2][512];
  static int slot;

  slot ^= 1;
  snprintf(path[slot], sizeof(path[slot]), "%s/%s", tmpdir, name);
  return path[slot];
}

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");

  EXPECT_TRUE(f != NULL);
  EXPECT_EQ_INT(strlen(text), fwrite(text, 1, strlen(text), f));
  EXPECT_EQ_INT(0, fclose(f));
}

/* Writes tmp/<name>: the first 64 bytes of the good fixture with the
 * field at `off` set to `value`: one byte, or two (native order) when
 * `wide` is set. For 4 (EI_CLASS) a zero value flips 32 and 64 bit. */
static void
elf_variant(const char *name, size_t off, unsigned value, int wide) {
  char lib[1024];
  unsigned char h[64];
  FILE *f;

  snprintf(lib, sizeof(lib), "%s/good/libsam_fx_good.so", SAM_FIXTURE_DIR);
  f = fopen(lib, "rb");
  EXPECT_TRUE(f != NULL);
  EXPECT_EQ_INT(sizeof(h), fread(h, 1, sizeof(h), f));
  fclose(f);
  if (off == 4 && value == 0)
    h[4] = h[4] == 1 ? 2 : 1;
  else if (wide) {
    uint16_t v = (uint16_t)value;
    memcpy(h + off, &v, sizeof(v));
  } else {
    h[off] = (unsigned char)value;
  }
  f = fopen(tmp_path(name), "wb");
  EXPECT_TRUE(f != NULL);
  EXPECT_EQ_INT(sizeof(h), fwrite(h, 1, sizeof(h), f));
  EXPECT_EQ_INT(0, fclose(f));
}

/* The file's text ("" when missing); malloc'd. */
static char *read_file(const char *path) {
  FILE *f = fopen(path, "r");
  char *buf = calloc(1, 65536);
  size_t n;

  EXPECT_TRUE(buf != NULL);
  if (f == NULL)
    return buf;
  n = fread(buf, 1, 65535, f);
  buf[n] = '\0';
  fclose(f);
  return buf;
}

static int count_lines(const char *text, const char *line) {
  int n = 0;
  size_t len = strlen(line);

  for (const char *p = text; (p = strstr(p, line)) != NULL; p += len)
    if ((p == text || p[-1] == '\n') && (p[len] == '\n' || p[len] == '\0'))
      n++;
  return n;
}

static sam_test_host *host_new(void) {
  sam_test_host *th = NULL;

  EXPECT_EQ_INT(0, sam_test_host_new(&loop, NULL, &th));
  return th;
}

static void host_end(sam_test_host *th) {
  EXPECT_EQ_INT(0, sam_test_host_shutdown(th));
  sam_test_host_free(th);
  uv_run(&loop, UV_RUN_DEFAULT);
}

static char *registry(sam_test_host *th) {
  char *json = sam_runtime_registry_json(sam_test_host_runtime(th));

  EXPECT_TRUE(json != NULL);
  return json;
}

static void print_result(const char *what, const sam_load_result *res) {
  printf("fixture %s: step [%s] message [%s]\n", what,
         sam_load_step_name(res->step), res->message);
  fflush(stdout);
}

/* Loads `manifest` into a host that already runs the good fixture, and
 * checks the failure and that the registry did not change. */
static void expect_failure(const char *what,
                           const char *manifest_path,
                           int step,
                           int status,
                           const char *frag1,
                           const char *frag2) {
  sam_test_host *th = host_new();
  char manifest[1024];
  sam_load_result res;
  sam_host *h = (sam_host *)&res; /* must be set to NULL on failure */
  char *before;
  char *after;
  int rc;

  /* fixture_manifest() reuses its buffer: copy before loading "good". */
  snprintf(manifest, sizeof(manifest), "%s", manifest_path);
  EXPECT_EQ_INT(0, sam_loader_load(sam_test_host_runtime(th),
                                   fixture_manifest("good"), NULL, &res, NULL));
  before = registry(th);
  EXPECT_CONTAINS(before, "fx_good");

  rc = sam_loader_load(sam_test_host_runtime(th), manifest, NULL, &res, &h);
  print_result(what, &res);
  EXPECT_EQ_INT(status, rc);
  EXPECT_EQ_INT(status, res.status);
  EXPECT_EQ_STR(sam_load_step_name(step), sam_load_step_name(res.step));
  EXPECT_EQ_INT(0, res.signal);
  EXPECT_TRUE(h == NULL);
  EXPECT_TRUE(strchr(res.message, '\n') == NULL);
  EXPECT_CONTAINS(res.message, "] failed at [");
  EXPECT_CONTAINS(res.message, sam_load_step_name(step));
  if (frag1 != NULL)
    EXPECT_CONTAINS(res.message, frag1);
  if (frag2 != NULL)
    EXPECT_CONTAINS(res.message, frag2);

  after = registry(th);
  EXPECT_EQ_STR(before, after);
  free(before);
  free(after);
  host_end(th);
}

/* Loads a manifest naming tmp/<lib>: a library_elf failure that names the
 * file. Removes both files. */
static void expect_elf_failure(const char *lib, int status, const char *frag) {
  char text[512];
  char what[64];

  snprintf(text, sizeof(text),
           "{\"name\":\"fx_x\",\"version\":\"1.0.0\",\"description\":\"x\","
           "\"abi\":{\"major\":1,\"minor_min\":0},\"library\":\"%s\"}",
           lib);
  write_file(tmp_path("elf.json"), text);
  snprintf(what, sizeof(what), "(ELF header: %s)", lib);
  expect_failure(what, tmp_path("elf.json"), SAM_LOAD_STEP_LIBRARY_ELF, status,
                 frag, lib);
  unlink(tmp_path("elf.json"));
  unlink(tmp_path(lib));
}

/* ---- the table of ABI.md 14.1 ---- */

typedef struct row {
  const char *fixture;
  int step;
  int status;
  const char *frag1;
  const char *frag2;
} row;

static void test_fixture_table(void) {
  char ptr_frag[64];
  char uv_frag[64];
  char info_frag[64];
  const row rows[] = {
      {"missing_file", SAM_LOAD_STEP_LIBRARY_FILE, SAM_ENOENT, "missing file [",
       "libsam_fx_missing_file.so]"},
      {"not_elf", SAM_LOAD_STEP_LIBRARY_ELF, SAM_EINVAL,
       "not an ELF shared object", "magic [23 21 2f 62]"},
      {"no_query", SAM_LOAD_STEP_SYMBOLS, SAM_EINVAL, "[sam_plugin_query_v1]",
       "not a SAM plugin for ABI v1"},
      {"no_init", SAM_LOAD_STEP_SYMBOLS, SAM_EINVAL, "[sam_plugin_init_v1]",
       NULL},
      {"query_v2", SAM_LOAD_STEP_SYMBOLS, SAM_EVERSION, "built for ABI v2",
       "[sam_plugin_query_v2]"},
      {"init_error", SAM_LOAD_STEP_INIT, SAM_EAUTH, "[SAM_EAUTH]",
       "broken [reason=fixture]"},
      {"manifest_minor", SAM_LOAD_STEP_MANIFEST_ABI, SAM_EVERSION,
       "host [0] manifest [1]", NULL},
      {"major_mismatch", SAM_LOAD_STEP_ABI_MAJOR, SAM_EVERSION,
       "host [1] plugin [2]", NULL},
      {"minor_too_new", SAM_LOAD_STEP_ABI_MINOR, SAM_EVERSION,
       "host [0] plugin [1]", NULL},
      {"ptr_size", SAM_LOAD_STEP_PTR_SIZE, SAM_EVERSION, ptr_frag, NULL},
      {"uv_major", SAM_LOAD_STEP_UV_MAJOR, SAM_EVERSION, uv_frag, NULL},
      {"name_mismatch", SAM_LOAD_STEP_NAME, SAM_EINVAL,
       "manifest [docusign] plugin [docusign_x]", "load [docusign]"},
      {"version_mismatch", SAM_LOAD_STEP_VERSION, SAM_EINVAL,
       "manifest [1.0.0] plugin [9.9.9]", NULL},
      {"short_info", SAM_LOAD_STEP_INFO_SIZE, SAM_EINVAL, info_frag, NULL},
      {"short_desc", SAM_LOAD_STEP_INIT, SAM_EINVAL, "[struct_size=4]", NULL},
      {"bad_schema", SAM_LOAD_STEP_INIT, SAM_EINVAL, "unevaluatedProperties",
       "/properties/label"},
      /* Beyond the table: the two steps no row of it reaches. */
      {"query_null", SAM_LOAD_STEP_QUERY, SAM_EINVAL,
       "sam_plugin_query_v1 returned [NULL]", NULL},
      {"post_init", SAM_LOAD_STEP_POST_INIT, SAM_EINVAL,
       "exactly one profile type", "[count=0]"},
  };

  snprintf(ptr_frag, sizeof(ptr_frag), "host [%zu] plugin [4]", sizeof(void *));
  snprintf(uv_frag, sizeof(uv_frag), "host [%u] plugin [%u]",
           uv_version() >> 16, (uv_version() >> 16) + 1);
  snprintf(info_frag, sizeof(info_frag), "host [%zu] plugin [8]",
           (size_t)SAM_PLUGIN_INFO_V1_0_SIZE);
  for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
    expect_failure(rows[i].fixture, fixture_manifest(rows[i].fixture),
                   rows[i].step, rows[i].status, rows[i].frag1, rows[i].frag2);
}

/* ---- rows that need more than the table ---- */

static void test_good(void) {
  sam_test_host *th = host_new();
  sam_load_result res;
  sam_host *h = NULL;
  char *json;

  EXPECT_EQ_INT(0, sam_loader_load(sam_test_host_runtime(th),
                                   fixture_manifest("good"), NULL, &res, &h));
  print_result("good", &res);
  EXPECT_EQ_INT(0, res.status);
  EXPECT_EQ_INT(SAM_LOAD_STEP_NONE, res.step);
  EXPECT_EQ_STR("", res.message);
  EXPECT_TRUE(h != NULL);
  EXPECT_EQ_INT(SAM__PHASE_RUNNING, sam__plugin_phase(h));
  EXPECT_EQ_STR("fx_good", sam__plugin_name(h));
  json = registry(th);
  EXPECT_CONTAINS(json, "fx_good");
  EXPECT_CONTAINS(json, "\"run\"");

  /* A second plugin of the same name is refused and changes nothing. */
  EXPECT_EQ_INT(SAM_EEXIST,
                sam_loader_load(sam_test_host_runtime(th),
                                fixture_manifest("good"), NULL, &res, NULL));
  print_result("good (twice)", &res);
  EXPECT_EQ_INT(SAM_LOAD_STEP_INIT, res.step);
  EXPECT_CONTAINS(res.message, "already loaded");
  {
    char *again = registry(th);

    EXPECT_EQ_STR(json, again);
    free(again);
  }
  free(json);
  host_end(th);
}

/* The wrong manifest major is caught before dlopen: the library's ELF
 * constructor never ran. Then dlopen it here, to prove the marker would
 * have shown a dlopen. */
static void test_manifest_major_not_opened(void) {
  const char *marker = tmp_path("manifest_major.marker");
  char lib[1024];
  void *handle;

  unlink(marker);
  EXPECT_EQ_INT(0, setenv("SAM_FIXTURE_MARKER", marker, 1));
  expect_failure("manifest_major", fixture_manifest("manifest_major"),
                 SAM_LOAD_STEP_MANIFEST_ABI, SAM_EVERSION,
                 "host [1] manifest [2]", "load [fx_manifest_major]");
  EXPECT_TRUE(access(marker, F_OK) != 0);

  snprintf(lib, sizeof(lib), "%s/manifest_major/libsam_fx_manifest_major.so",
           SAM_FIXTURE_DIR);
  handle = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
  EXPECT_TRUE(handle != NULL);
  EXPECT_TRUE(access(marker, F_OK) == 0);
  EXPECT_EQ_INT(0, dlclose(handle));
  unlink(marker);
  EXPECT_EQ_INT(0, unsetenv("SAM_FIXTURE_MARKER"));
}

/* The major mismatch is reported alone, though ptr_size is wrong too. */
static void test_major_alone(void) {
  sam_test_host *th = host_new();
  sam_load_result res;

  sam_loader_load(sam_test_host_runtime(th), fixture_manifest("major_mismatch"),
                  NULL, &res, NULL);
  EXPECT_NOT_CONTAINS(res.message, "ptr");
  EXPECT_NOT_CONTAINS(res.message, "pointer");
  host_end(th);
}

/* Every ud_free of a failed init runs exactly once, by the rollback. */
static void test_rollback_ud_free(void) {
  const char *out = tmp_path("rollback.out");
  sam_test_host *th;
  char *text;

  unlink(out);
  EXPECT_EQ_INT(0, setenv("SAM_FIXTURE_OUT", out, 1));
  expect_failure("rollback", fixture_manifest("rollback"), SAM_LOAD_STEP_INIT,
                 SAM_EIO, "[SAM_EIO]", "failing after registrations");
  /* expect_failure ran the host to its end: no second call came later. */
  text = read_file(out);
  EXPECT_EQ_INT(1, count_lines(text, "ud_free proc_a"));
  EXPECT_EQ_INT(1, count_lines(text, "ud_free proc_b"));
  EXPECT_EQ_INT(1, count_lines(text, "ud_free act_c"));
  EXPECT_EQ_INT(3, count_lines(text, "ud_free proc_a") +
                       count_lines(text, "ud_free proc_b") +
                       count_lines(text, "ud_free act_c"));
  free(text);

  /* And a host that ends right after the failed load frees nothing twice. */
  unlink(out);
  th = host_new();
  {
    sam_load_result res;
    sam_loader_load(sam_test_host_runtime(th), fixture_manifest("rollback"),
                    NULL, &res, NULL);
    EXPECT_EQ_INT(SAM_EIO, res.status);
  }
  text = read_file(out);
  EXPECT_EQ_INT(1, count_lines(text, "ud_free proc_a"));
  free(text);
  host_end(th);
  text = read_file(out);
  EXPECT_EQ_INT(1, count_lines(text, "ud_free proc_a"));
  EXPECT_EQ_INT(1, count_lines(text, "ud_free proc_b"));
  EXPECT_EQ_INT(1, count_lines(text, "ud_free act_c"));
  free(text);
  unlink(out);
  EXPECT_EQ_INT(0, unsetenv("SAM_FIXTURE_OUT"));
}

/* ---- ugly manifests ---- */

static void test_ugly_manifests(void) {
  expect_failure("(no manifest)", tmp_path("nope.manifest.json"),
                 SAM_LOAD_STEP_MANIFEST_READ, SAM_ENOENT,
                 "cannot read manifest [", "nope.manifest.json]");

  write_file(tmp_path("truncated.json"), "{\"name\": \"fx_good\", ");
  expect_failure("(truncated manifest)", tmp_path("truncated.json"),
                 SAM_LOAD_STEP_MANIFEST_READ, SAM_EINVAL,
                 "manifest is not JSON [", "truncated.json]");

  write_file(tmp_path("trailing.json"), "{} x");
  expect_failure("(trailing data)", tmp_path("trailing.json"),
                 SAM_LOAD_STEP_MANIFEST_READ, SAM_EINVAL,
                 "manifest is not JSON [", "[offset=3]");

  write_file(tmp_path("empty.json"), "");
  expect_failure("(empty manifest)", tmp_path("empty.json"),
                 SAM_LOAD_STEP_MANIFEST_READ, SAM_EINVAL,
                 "manifest is not JSON [", NULL);

  /* Before step 2 passes, messages are named by the path. */
  write_file(tmp_path("bad_major.json"),
             "{\"name\":\"fx_x\",\"version\":\"1.0.0\",\"description\":\"x\","
             "\"abi\":{\"major\":\"one\",\"minor_min\":0},"
             "\"library\":\"libx.so\"}");
  expect_failure("(schema: abi.major a string)", tmp_path("bad_major.json"),
                 SAM_LOAD_STEP_MANIFEST_SCHEMA, SAM_EINVAL, "[/abi/major]",
                 "bad_major.json]");

  write_file(tmp_path("no_library.json"),
             "{\"name\":\"fx_x\",\"version\":\"1.0.0\",\"description\":\"x\","
             "\"abi\":{\"major\":1,\"minor_min\":0}}");
  expect_failure("(schema: no library)", tmp_path("no_library.json"),
                 SAM_LOAD_STEP_MANIFEST_SCHEMA, SAM_EINVAL, "schema at [",
                 NULL);

  /* A directory is not a library. */
  EXPECT_EQ_INT(0, mkdir(tmp_path("libdir.so"), 0700));
  write_file(tmp_path("dir_library.json"),
             "{\"name\":\"fx_x\",\"version\":\"1.0.0\",\"description\":\"x\","
             "\"abi\":{\"major\":1,\"minor_min\":0},"
             "\"library\":\"libdir.so\"}");
  expect_failure("(library is a directory)", tmp_path("dir_library.json"),
                 SAM_LOAD_STEP_LIBRARY_FILE, SAM_EINVAL, "not a regular file [",
                 "libdir.so]");
  EXPECT_EQ_INT(0, rmdir(tmp_path("libdir.so")));

  /* A truncated ELF header is caught before dlopen. */
  write_file(tmp_path("short.so"), "\177ELF\002");
  write_file(tmp_path("short_elf.json"),
             "{\"name\":\"fx_x\",\"version\":\"1.0.0\",\"description\":\"x\","
             "\"abi\":{\"major\":1,\"minor_min\":0},"
             "\"library\":\"short.so\"}");
  expect_failure("(truncated ELF header)", tmp_path("short_elf.json"),
                 SAM_LOAD_STEP_LIBRARY_ELF, SAM_EINVAL, "truncated header",
                 "[5 bytes]");

  /* The real header of a built fixture, with one field changed. */
  elf_variant("class.so", 4, 1, 0); /* EI_CLASS: the other class */
  expect_elf_failure("class.so", SAM_EVERSION, "ELF class differs host [");
  elf_variant("type.so", 16, 2, 1); /* e_type: ET_EXEC */
  expect_elf_failure("type.so", SAM_EINVAL, "e_type [2]");
  elf_variant("machine.so", 18, 0x7777, 1); /* e_machine: unknown */
  expect_elf_failure("machine.so", SAM_EVERSION, "ELF machine differs host [");

  unlink(tmp_path("truncated.json"));
  unlink(tmp_path("trailing.json"));
  unlink(tmp_path("empty.json"));
  unlink(tmp_path("bad_major.json"));
  unlink(tmp_path("no_library.json"));
  unlink(tmp_path("dir_library.json"));
  unlink(tmp_path("short.so"));
  unlink(tmp_path("short_elf.json"));
}

/* ---- the crash probe ---- */

static void test_probe(void) {
  sam_load_result res;
  int rc;

  /* Init raises SIGSEGV in the child; this process lives on. */
  rc = sam_loader_probe(SAM_PROBE_EXE, fixture_manifest("crash_init"), &res);
  print_result("crash_init (probe)", &res);
  EXPECT_TRUE(rc != 0);
  EXPECT_EQ_INT(rc, res.status);
  EXPECT_EQ_INT(SAM_LOAD_STEP_INIT, res.step);
  EXPECT_EQ_INT(SIGSEGV, res.signal);
  EXPECT_EQ_STR("load [fx_crash_init] failed at [init]: plugin crashed "
                "[signal=SIGSEGV]",
                res.message);

  /* A result travels back as JSON, escapes and all. */
  rc = sam_loader_probe(SAM_PROBE_EXE, fixture_manifest("init_error"), &res);
  print_result("init_error (probe)", &res);
  EXPECT_EQ_INT(SAM_EAUTH, rc);
  EXPECT_EQ_INT(SAM_LOAD_STEP_INIT, res.step);
  EXPECT_EQ_INT(0, res.signal);
  EXPECT_CONTAINS(res.message, "broken [reason=fixture]");

  rc = sam_loader_probe(SAM_PROBE_EXE, fixture_manifest("not_elf"), &res);
  EXPECT_EQ_INT(SAM_EINVAL, rc);
  EXPECT_EQ_INT(SAM_LOAD_STEP_LIBRARY_ELF, res.step);

  rc = sam_loader_probe(SAM_PROBE_EXE, fixture_manifest("good"), &res);
  print_result("good (probe)", &res);
  EXPECT_EQ_INT(0, rc);
  EXPECT_EQ_INT(0, res.status);
  EXPECT_EQ_INT(0, res.step);

  /* A plugin that hangs in init is killed at the deadline. */
  EXPECT_EQ_INT(0, setenv("SAM_PROBE_TIMEOUT_MS", "200", 1));
  rc = sam_loader_probe(SAM_PROBE_EXE, fixture_manifest("hang_init"), &res);
  print_result("hang_init (probe)", &res);
  EXPECT_EQ_INT(0, unsetenv("SAM_PROBE_TIMEOUT_MS"));
  EXPECT_EQ_INT(SAM_ETIMEDOUT, rc);
  EXPECT_EQ_INT(SAM_LOAD_STEP_INIT, res.step);
  EXPECT_EQ_INT(0, res.signal);
  EXPECT_CONTAINS(res.message, "probe did not finish [timeout_ms=200]");

  /* A probe that cannot run is a clear failure, not a crash report. */
  rc = sam_loader_probe(tmp_path("no-such-probe"), fixture_manifest("good"),
                        &res);
  print_result("(missing probe)", &res);
  EXPECT_EQ_INT(SAM_EIO, rc);
  EXPECT_EQ_INT(0, res.signal);
  EXPECT_CONTAINS(res.message, "cannot run the probe [");
}

int main(void) {
  snprintf(tmpdir, sizeof(tmpdir), "%s", "/tmp/sam-test-loader-XXXXXX");
  EXPECT_TRUE(mkdtemp(tmpdir) != NULL);
  EXPECT_EQ_INT(0, uv_loop_init(&loop));

  SAM_T_RUN(test_good);
  SAM_T_RUN(test_fixture_table);
  SAM_T_RUN(test_manifest_major_not_opened);
  SAM_T_RUN(test_major_alone);
  SAM_T_RUN(test_rollback_ud_free);
  SAM_T_RUN(test_ugly_manifests);
  SAM_T_RUN(test_probe);

  uv_run(&loop, UV_RUN_DEFAULT);
  EXPECT_EQ_INT(0, uv_loop_close(&loop));
  EXPECT_EQ_INT(0, rmdir(tmpdir));
  return 0;
}
