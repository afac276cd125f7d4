/*
 * test-backend-sqlite-common.c: the harness of the SQLite backend tests,
 * with the doubles of the core's sam__req_begin/sam__req_done (see the
 * header for why).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sam/sam_plugin.h"
#include "sam_test.h"
#include "test-backend-sqlite-common.h"

static uv_async_t done_async;
static uv_mutex_t mu;
static uv_cond_t cond;
static t_req *done_head;
static int gate_closed;
static int gate_entered;

/* ---- the core doubles (any thread) ---- */

int sam__req_begin(sam__req *req) {
  t_req *t = req->core_private;

  uv_mutex_lock(&mu);
  t->began++;
  if (gate_closed) {
    gate_entered++;
    uv_cond_broadcast(&cond);
    while (gate_closed)
      uv_cond_wait(&cond, &mu);
  }
  uv_mutex_unlock(&mu);
  return !t->cancel;
}

void sam__req_done(sam__req *req) {
  t_req *t = req->core_private;

  uv_mutex_lock(&mu);
  t->next = done_head;
  done_head = t;
  uv_mutex_unlock(&mu);
  EXPECT_EQ_INT(0, uv_async_send(&done_async));
}

static void on_done(uv_async_t *h) {
  t_req *list;

  (void)h;
  uv_mutex_lock(&mu);
  list = done_head;
  done_head = NULL;
  uv_mutex_unlock(&mu);
  while (list != NULL) {
    t_req *t = list;
    list = t->next;
    t->done++;
    EXPECT_EQ_INT(1, t->done); /* exactly once */
  }
}

void t_init(uv_loop_t *loop) {
  EXPECT_EQ_INT(0, uv_mutex_init(&mu));
  EXPECT_EQ_INT(0, uv_cond_init(&cond));
  EXPECT_EQ_INT(0, uv_async_init(loop, &done_async, on_done));
}

void t_fini(void) {
  uv_close((uv_handle_t *)&done_async, NULL);
}

void t_gate_close(void) {
  uv_mutex_lock(&mu);
  gate_closed = 1;
  gate_entered = 0;
  uv_mutex_unlock(&mu);
}

void t_gate_open(void) {
  uv_mutex_lock(&mu);
  gate_closed = 0;
  uv_cond_broadcast(&cond);
  uv_mutex_unlock(&mu);
}

void t_gate_wait_entered(int n) {
  uv_mutex_lock(&mu);
  while (gate_entered < n)
    uv_cond_wait(&cond, &mu);
  uv_mutex_unlock(&mu);
}

/* ---- requests ---- */

static char *dup_or_null(const char *s) {
  char *d;

  if (s == NULL)
    return NULL;
  d = strdup(s);
  EXPECT_TRUE(d != NULL);
  return d;
}

t_req *t_new(int kind, const char *profile, const char *type, const char *key) {
  t_req *t = calloc(1, sizeof(*t));

  EXPECT_TRUE(t != NULL);
  t->req.kind = kind;
  t->req.profile_id = dup_or_null(profile);
  t->req.record_type = dup_or_null(type);
  t->req.key = dup_or_null(key);
  t->req.limit = 1000;
  t->req.core_private = t;
  return t;
}

void t_add(t_req *t,
           const char *key,
           const char *json,
           uint64_t if_version,
           const char *const *index) {
  sam__req_record *r;
  size_t n = 0;
  size_t i;

  if (t->req.n == t->cap) {
    size_t cap = t->cap ? t->cap * 2 : 16;
    sam__req_record *recs = realloc(t->req.recs, cap * sizeof(*recs));
    EXPECT_TRUE(recs != NULL);
    t->req.recs = recs;
    t->cap = cap;
  }
  r = &t->req.recs[t->req.n++];
  memset(r, 0, sizeof(*r));
  r->key = dup_or_null(key);
  r->json = dup_or_null(json);
  r->json_len = strlen(json);
  r->if_version = if_version;
  r->schema_version = 1;
  while (index != NULL && index[n] != NULL)
    n++;
  if (n == 0)
    return;
  r->index = calloc(n, sizeof(*r->index));
  EXPECT_TRUE(r->index != NULL);
  r->n_index = (uint32_t)n;
  for (i = 0; i < n; i++) {
    const char *eq = strchr(index[i], '=');
    if (eq == NULL) {
      r->index[i].pointer = dup_or_null(index[i]);
      continue;
    }
    r->index[i].pointer = strndup(index[i], (size_t)(eq - index[i]));
    r->index[i].value = dup_or_null(eq + 1);
  }
}

void t_term(t_req *t, const char *pointer, const char *value) {
  sam__filter_term *terms =
      realloc(t->req.terms, (t->req.n_terms + 1) * sizeof(*terms));

  EXPECT_TRUE(terms != NULL);
  t->req.terms = terms;
  terms[t->req.n_terms].pointer = dup_or_null(pointer);
  terms[t->req.n_terms].value = dup_or_null(value);
  t->req.n_terms++;
}

void t_free(t_req *t) {
  size_t i;
  uint32_t k;

  if (t == NULL)
    return;
  for (i = 0; i < t->req.n; i++) {
    sam__req_record *r = &t->req.recs[i];
    for (k = 0; k < r->n_index; k++) {
      free((char *)r->index[k].pointer);
      free((char *)r->index[k].value);
    }
    free(r->index);
    free(r->key);
    free(r->json);
  }
  free(t->req.recs);
  for (i = 0; i < t->req.n_terms; i++) {
    free(t->req.terms[i].pointer);
    free(t->req.terms[i].value);
  }
  free(t->req.terms);
  sam__req_out_free(&t->req);
  free(t->req.blob);
  free(t->req.cursor);
  free(t->req.profile_id);
  free(t->req.record_type);
  free(t->req.key);
  free(t);
}

void t_wait(t_req *t) {
  while (!t->done)
    uv_run(done_async.loop, UV_RUN_ONCE);
}

int t_run(sam__backend *b, t_req *t) {
  EXPECT_EQ_INT(0, b->vt->submit(b->self, &t->req));
  t_wait(t);
  return t->req.status;
}

/* ---- backends ---- */

void t_open(uv_loop_t *loop,
            const char *path,
            uint32_t queue_max,
            sam__backend *out) {
  sam__sqlite_opts opts;
  char err[512] = "";
  int rc;

  memset(&opts, 0, sizeof(opts));
  opts.queue_max = queue_max;
  rc = sam__backend_sqlite_open(loop, path, &opts, out, err, sizeof(err));
  if (rc != 0)
    SAM_T_FAIL("open [%s] failed [%s] [%s]", path, sam_err_name(rc), err);
  EXPECT_EQ_STR("sqlite", out->vt->name);
}

static void on_closed(void *ud) {
  (*(int *)ud)++;
}

void t_close(uv_loop_t *loop, sam__backend *b) {
  int closed = 0;

  b->vt->close(b->self, on_closed, &closed);
  while (!closed)
    uv_run(loop, UV_RUN_ONCE);
  EXPECT_EQ_INT(1, closed);
}

/* ---- files ---- */

void t_tmpdir(char *buf, size_t len, const char *name) {
  const char *base = getenv("TMPDIR");

  snprintf(buf, len, "%s/%s-XXXXXX",
           base != NULL && base[0] != '\0' ? base : "/tmp", name);
  EXPECT_TRUE(mkdtemp(buf) != NULL);
}

void t_rmdir(const char *dir) {
  DIR *d = opendir(dir);
  struct dirent *e;
  char path[1024];

  EXPECT_TRUE(d != NULL);
  while ((e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
    EXPECT_EQ_INT(0, unlink(path));
  }
  closedir(d);
  EXPECT_EQ_INT(0, rmdir(dir));
}
