/*
 * test-samhost-common.c: see test-samhost-common.h.
 */
#include "test-samhost-common.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "sam_test.h"

#define MAX_ARGS 48

int th_no_csrf;

/* In a child about to exec samhost: only what the test passes counts. A
 * developer's SAM_SERVER or SAM_ADMIN_TOKEN (say, for a demo host) would
 * otherwise send the test's CLI calls to another server. */
static void clean_sam_env(void) {
  unsetenv("SAM_SERVER");
  unsetenv("SAM_ADMIN_TOKEN");
  unsetenv("SAM_DATA_DIR");
  unsetenv("SAM_MASTER_KEY");
}

static int exit_code_of(int st) {
  if (WIFEXITED(st))
    return WEXITSTATUS(st);
  if (WIFSIGNALED(st))
    return 128 + WTERMSIG(st);
  return -1;
}

/*
 * See test-samhost-common.h.
 */
int th_server_start(const char *data_dir,
                    const char *const *extra,
                    th_server *s,
                    int *exit_status) {
  const char *argv[MAX_ARGS];
  int fds[2], n = 0, i, st;
  char line[4096];
  FILE *f;

  memset(s, 0, sizeof(*s));
  argv[n++] = SAMHOST_EXE;
  argv[n++] = "serve";
  argv[n++] = "--data-dir";
  argv[n++] = data_dir;
  argv[n++] = "--listen";
  argv[n++] = "127.0.0.1:0";
  argv[n++] = "--plugin";
  argv[n++] = DSG_MANIFEST;
  for (i = 0; extra != NULL && extra[i] != NULL && n < MAX_ARGS - 1; i++)
    argv[n++] = extra[i];
  argv[n] = NULL;
  EXPECT_EQ_INT(0, pipe(fds));
  fflush(NULL);
  s->pid = fork();
  EXPECT_TRUE(s->pid >= 0);
  if (s->pid == 0) {
    /* the server dies with the test, even when ctest kills it (timeout) */
    (void)prctl(PR_SET_PDEATHSIG, SIGKILL);
    dup2(fds[1], STDOUT_FILENO);
    close(fds[0]);
    close(fds[1]);
    clean_sam_env();
    execv(SAMHOST_EXE, (char *const *)argv);
    _exit(127);
  }
  close(fds[1]);
  f = fdopen(fds[0], "r");
  EXPECT_TRUE(f != NULL);
  while (fgets(line, sizeof(line), f) != NULL) {
    const char *tag = "admin token (shown once): ";
    line[strcspn(line, "\n")] = '\0';
    if (strncmp(line, tag, strlen(tag)) == 0) {
      snprintf(s->token, sizeof(s->token), "%.100s", line + strlen(tag));
      continue;
    }
    if (line[0] == '{') {
      json_object *o = json_tokener_parse(line), *v;
      const char *listen;
      EXPECT_TRUE(o != NULL);
      EXPECT_TRUE(json_object_object_get_ex(o, "listen", &v));
      listen = json_object_get_string(v);
      EXPECT_TRUE(strrchr(listen, ':') != NULL);
      s->port = atoi(strrchr(listen, ':') + 1);
      EXPECT_TRUE(s->port > 0);
      snprintf(s->line, sizeof(s->line), "%s", line);
      snprintf(s->url, sizeof(s->url), "http://127.0.0.1:%d", s->port);
      json_object_put(o);
      /* The child keeps writing to a pipe nobody reads: nothing more is
       * printed on stdout after the JSON line, so closing is safe. */
      fclose(f);
      return 0;
    }
  }
  fclose(f);
  EXPECT_EQ_INT(s->pid, waitpid(s->pid, &st, 0));
  if (exit_status != NULL)
    *exit_status = exit_code_of(st);
  s->pid = 0;
  return -1;
}

/*
 * See test-samhost-common.h.
 */
int th_server_stop(th_server *s, int sig) {
  int st;

  EXPECT_TRUE(s->pid > 0);
  EXPECT_EQ_INT(0, kill(s->pid, sig));
  EXPECT_EQ_INT(s->pid, waitpid(s->pid, &st, 0));
  s->pid = 0;
  return exit_code_of(st);
}

/* ---- HTTP ---- */

typedef struct acc {
  char *p;
  size_t n;
} acc;

static size_t on_data(char *d, size_t sz, size_t nm, void *ud) {
  acc *a = ud;
  size_t add = sz * nm;
  char *p = realloc(a->p, a->n + add + 1);

  if (p == NULL)
    return 0;
  memcpy(p + a->n, d, add);
  a->p = p;
  a->n += add;
  a->p[a->n] = '\0';
  return add;
}

/*
 * See test-samhost-common.h.
 */
int th_http(int port,
            const char *method,
            const char *path,
            const char *token,
            const char *ctype,
            const char *body,
            size_t body_len,
            th_resp *resp) {
  CURL *e = curl_easy_init();
  struct curl_slist *h = NULL;
  acc hb = {0}, bb = {0};
  char url[4096], hdr[512];
  CURLcode cc;
  size_t i;

  memset(resp, 0, sizeof(*resp));
  EXPECT_TRUE(e != NULL);
  snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
  if (token != NULL) {
    snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s", token);
    h = curl_slist_append(h, hdr);
  }
  if (ctype != NULL) {
    snprintf(hdr, sizeof(hdr), "Content-Type: %s", ctype);
    h = curl_slist_append(h, hdr);
  } else {
    h = curl_slist_append(h, "Content-Type:"); /* none at all */
  }
  h = curl_slist_append(h, "Expect:");
  if (!th_no_csrf)
    h = curl_slist_append(h, "X-SAM-CSRF: 1");
  EXPECT_EQ_INT(CURLE_OK, curl_easy_setopt(e, CURLOPT_URL, url));
  EXPECT_EQ_INT(CURLE_OK, curl_easy_setopt(e, CURLOPT_PATH_AS_IS, 1L));
  EXPECT_EQ_INT(CURLE_OK, curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method));
  EXPECT_EQ_INT(CURLE_OK, curl_easy_setopt(e, CURLOPT_HTTPHEADER, h));
  EXPECT_EQ_INT(CURLE_OK, curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_data));
  EXPECT_EQ_INT(CURLE_OK, curl_easy_setopt(e, CURLOPT_WRITEDATA, &bb));
  EXPECT_EQ_INT(CURLE_OK, curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_data));
  EXPECT_EQ_INT(CURLE_OK, curl_easy_setopt(e, CURLOPT_HEADERDATA, &hb));
  EXPECT_EQ_INT(CURLE_OK, curl_easy_setopt(e, CURLOPT_TIMEOUT, 60L));
  if (strcmp(method, "HEAD") == 0)
    EXPECT_EQ_INT(CURLE_OK, curl_easy_setopt(e, CURLOPT_NOBODY, 1L));
  if (body != NULL) {
    EXPECT_EQ_INT(CURLE_OK, curl_easy_setopt(e, CURLOPT_POSTFIELDS, body));
    EXPECT_EQ_INT(CURLE_OK, curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
                                             (curl_off_t)body_len));
  }
  cc = curl_easy_perform(e);
  if (cc == CURLE_OK)
    EXPECT_EQ_INT(CURLE_OK,
                  curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &resp->status));
  curl_slist_free_all(h);
  curl_easy_cleanup(e);
  for (i = 0; hb.p != NULL && i < hb.n; i++) {
    /* lower-case the names: h2o keeps some as given */
    if (i == 0 || hb.p[i - 1] == '\n') {
      size_t k;
      for (k = i; k < hb.n && hb.p[k] != ':' && hb.p[k] != '\n'; k++)
        hb.p[k] = (char)tolower((unsigned char)hb.p[k]);
    }
  }
  resp->headers = hb.p != NULL ? hb.p : strdup("");
  resp->body = bb.p != NULL ? bb.p : strdup("");
  return cc == CURLE_OK ? 0 : -1;
}

/*
 * See test-samhost-common.h.
 */
void th_resp_free(th_resp *r) {
  free(r->headers);
  free(r->body);
  memset(r, 0, sizeof(*r));
}

/*
 * See test-samhost-common.h.
 */
char *th_header(const th_resp *r, const char *name) {
  char key[128];
  const char *p, *end;
  size_t n;

  snprintf(key, sizeof(key), "\n%s:", name);
  p = r->headers != NULL ? strstr(r->headers, key) : NULL;
  if (p == NULL)
    return NULL;
  p += strlen(key);
  while (*p == ' ')
    p++;
  end = strpbrk(p, "\r\n");
  n = end != NULL ? (size_t)(end - p) : strlen(p);
  return strndup(p, n);
}

/* ---- CLI ---- */

/*
 * See test-samhost-common.h.
 */
int th_cli(const char *token, const char *input, char **out, ...) {
  const char *argv[MAX_ARGS];
  int outp[2], inp[2], n = 0, st;
  acc a = {0};
  char buf[4096];
  ssize_t r;
  va_list ap;
  pid_t pid;

  argv[n++] = SAMHOST_EXE;
  va_start(ap, out);
  while (n < MAX_ARGS - 1 && (argv[n] = va_arg(ap, const char *)) != NULL)
    n++;
  va_end(ap);
  argv[n] = NULL;
  EXPECT_EQ_INT(0, pipe(outp));
  EXPECT_EQ_INT(0, pipe(inp));
  fflush(NULL);
  pid = fork();
  EXPECT_TRUE(pid >= 0);
  if (pid == 0) {
    dup2(outp[1], STDOUT_FILENO);
    dup2(inp[0], STDIN_FILENO);
    close(outp[0]);
    close(outp[1]);
    close(inp[0]);
    close(inp[1]);
    clean_sam_env();
    if (token != NULL)
      setenv("SAM_ADMIN_TOKEN", token, 1);
    execv(SAMHOST_EXE, (char *const *)argv);
    _exit(127);
  }
  close(outp[1]);
  close(inp[0]);
  if (input != NULL)
    EXPECT_EQ_INT((long)strlen(input),
                  (long)write(inp[1], input, strlen(input)));
  close(inp[1]);
  while ((r = read(outp[0], buf, sizeof(buf))) > 0)
    on_data(buf, 1, (size_t)r, &a);
  close(outp[0]);
  EXPECT_EQ_INT(pid, waitpid(pid, &st, 0));
  if (out != NULL)
    *out = a.p != NULL ? a.p : strdup("");
  else
    free(a.p);
  return exit_code_of(st);
}

/* ---- files ---- */

static int file_contains(const char *path, const char *needle) {
  FILE *f = fopen(path, "rb");
  size_t nl = strlen(needle), len = 0, cap = 0;
  char *p = NULL, buf[65536];
  size_t r;
  int found = 0;

  if (f == NULL)
    return 0;
  while ((r = fread(buf, 1, sizeof(buf), f)) > 0) {
    if (len + r + 1 > cap) {
      cap = (len + r + 1) * 2;
      p = realloc(p, cap);
      EXPECT_TRUE(p != NULL);
    }
    memcpy(p + len, buf, r);
    len += r;
  }
  fclose(f);
  if (p != NULL && len >= nl) {
    size_t i;
    for (i = 0; !found && i + nl <= len; i++)
      found = memcmp(p + i, needle, nl) == 0;
  }
  free(p);
  return found;
}

/*
 * See test-samhost-common.h.
 */
int th_dir_contains(const char *dir, const char *needle) {
  DIR *d = opendir(dir);
  struct dirent *de;
  int found = 0;

  if (d == NULL)
    return 0;
  while (!found && (de = readdir(d)) != NULL) {
    char path[4096];
    struct stat st;
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
      continue;
    snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
    if (lstat(path, &st) != 0)
      continue;
    if (S_ISDIR(st.st_mode))
      found = th_dir_contains(path, needle);
    else if (S_ISREG(st.st_mode))
      found = file_contains(path, needle);
  }
  closedir(d);
  return found;
}

/*
 * See test-samhost-common.h.
 */
void th_tmpdir(char *buf, size_t n, const char *tag) {
  const char *base = getenv("TMPDIR");

  snprintf(buf, n, "%s/%s-XXXXXX", base != NULL && base[0] ? base : "/tmp",
           tag);
  EXPECT_TRUE(mkdtemp(buf) != NULL);
}

static void rmrf_in(const char *dir) {
  DIR *d = opendir(dir);
  struct dirent *de;

  if (d == NULL)
    return;
  while ((de = readdir(d)) != NULL) {
    char path[4096];
    struct stat st;
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
      continue;
    snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
    if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
      rmrf_in(path), (void)rmdir(path);
    else
      (void)unlink(path);
  }
  closedir(d);
}

/*
 * See test-samhost-common.h.
 */
void th_rmrf(const char *dir) {
  rmrf_in(dir);
  (void)rmdir(dir);
}
