/*
 * test-backend-sqlite-model.c: the SQLite backend against a model. Random
 * put_batch (every if_version kind, right and wrong), delete, get and
 * filtered, paged queries run on the backend and on a tiny in-test model
 * of the store semantics; every status, version, conflict list, record and
 * page must agree. Index maintenance (values changed, removed, kept) is
 * where such a backend goes wrong, and this walks many such histories.
 * The seed is printed; set SAM_TEST_SEED to replay one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <uv.h>

#include "sam/sam_plugin.h"
#include "sam_test.h"
#include "test-backend-sqlite-common.h"

#define NKEYS 40
#define STEPS 10000
#define P "p"
#define RT "t"

static const char *const statuses[] = {"active", "idle", "gone"};
static const char *const teams[] = {"red", "blue"};

typedef struct mrec {
  int exists;
  uint64_t version;
  int status; /* index in statuses, -1 = the record lacks it */
  int team;
  int payload;
} mrec;

static mrec model[NKEYS];
static uv_loop_t loop;
static unsigned seed;

static int rnd(int n) {
  return (int)(rand_r(&seed) % (unsigned)n);
}

static void key_of(int k, char *buf, size_t len) {
  snprintf(buf, len, "key-%02d", k);
}

/* ---- operations ---- */

static void step_put(sam__backend *b) {
  int n = 1 + rnd(5);
  int keys[5];
  uint64_t ifv[5];
  int st[5];
  int tm[5];
  int payload = rnd(1000000);
  int conflict = 0;
  int exist = 0;
  int expect_fail[5];
  int nfail = 0;
  t_req *t = t_new(SAM__REQ_PUT_BATCH, P, RT, NULL);
  int i;
  int j;

  /* distinct keys */
  for (i = 0; i < n; i++) {
    int dup;
    do {
      keys[i] = rnd(NKEYS);
      dup = 0;
      for (j = 0; j < i; j++)
        dup |= keys[j] == keys[i];
    } while (dup);
  }
  for (i = 0; i < n; i++) {
    const mrec *m = &model[keys[i]];
    char key[16];
    char json[64];
    char s1[32];
    char s2[32];
    const char *index[3] = {NULL, NULL, NULL};
    int choice = rnd(10);

    if (choice < 4)
      ifv[i] = SAM_IF_ANY;
    else if (choice < 6)
      ifv[i] = SAM_IF_NEW;
    else if (choice < 9)
      ifv[i] = m->exists ? m->version : 1 + (uint64_t)rnd(3);
    else
      ifv[i] = m->version + 1 + (uint64_t)rnd(2);
    st[i] = rnd(4) - 1;
    tm[i] = rnd(2);
    key_of(keys[i], key, sizeof(key));
    snprintf(json, sizeof(json), "{\"k\":%d,\"p\":%d}", keys[i], payload);
    if (st[i] >= 0) {
      snprintf(s1, sizeof(s1), "/status=%s", statuses[st[i]]);
      index[0] = s1;
      snprintf(s2, sizeof(s2), "/team=%s", teams[tm[i]]);
      index[1] = s2;
    } else {
      snprintf(s1, sizeof(s1), "/team=%s", teams[tm[i]]);
      index[0] = s1;
    }
    t_add(t, key, json, ifv[i], index);

    if (ifv[i] == SAM_IF_NEW) {
      if (m->exists) {
        exist++;
        expect_fail[nfail++] = i;
      }
    } else if (ifv[i] != SAM_IF_ANY) {
      if (!m->exists || m->version != ifv[i]) {
        conflict++;
        expect_fail[nfail++] = i;
      }
    }
  }
  EXPECT_EQ_INT(0, b->vt->submit(b->self, &t->req));
  t_wait(t);
  if (conflict > 0 || exist > 0) {
    EXPECT_EQ_INT(conflict > 0 ? SAM_ECONFLICT : SAM_EEXIST, t->req.status);
    EXPECT_EQ_INT(nfail, (long long)t->req.out_n);
    for (i = 0; i < nfail; i++) {
      const mrec *m = &model[keys[expect_fail[i]]];
      char key[16];
      key_of(keys[expect_fail[i]], key, sizeof(key));
      EXPECT_EQ_STR(key, t->req.out_recs[i].key);
      EXPECT_EQ_U64(m->exists ? m->version : 0, t->req.out_recs[i].version);
    }
  } else {
    EXPECT_EQ_INT(0, t->req.status);
    EXPECT_EQ_INT(n, (long long)t->req.out_n);
    for (i = 0; i < n; i++) {
      mrec *m = &model[keys[i]];
      m->version = m->exists ? m->version + 1 : 1;
      m->exists = 1;
      m->status = st[i];
      m->team = tm[i];
      m->payload = payload;
      EXPECT_EQ_U64(m->version, t->req.out_recs[i].version);
    }
  }
  t_free(t);
}

static void step_delete(sam__backend *b) {
  int k = rnd(NKEYS);
  mrec *m = &model[k];
  char key[16];
  t_req *t;
  int choice = rnd(3);

  key_of(k, key, sizeof(key));
  t = t_new(SAM__REQ_DELETE, P, RT, key);
  t->req.if_version = choice == 0   ? SAM_IF_ANY
                      : choice == 1 ? m->version
                                    : m->version + 1;
  EXPECT_EQ_INT(0, b->vt->submit(b->self, &t->req));
  t_wait(t);
  if (!m->exists) {
    EXPECT_EQ_INT(SAM_ENOENT, t->req.status);
  } else if (t->req.if_version != SAM_IF_ANY &&
             t->req.if_version != m->version) {
    EXPECT_EQ_INT(SAM_ECONFLICT, t->req.status);
    EXPECT_EQ_U64(m->version, t->req.out_recs[0].version);
  } else {
    EXPECT_EQ_INT(0, t->req.status);
    m->exists = 0;
    m->version = 0;
  }
  t_free(t);
}

static void step_get(sam__backend *b) {
  int k = rnd(NKEYS);
  const mrec *m = &model[k];
  char key[16];
  char json[64];
  t_req *t;

  key_of(k, key, sizeof(key));
  t = t_new(SAM__REQ_GET, P, RT, key);
  EXPECT_EQ_INT(0, b->vt->submit(b->self, &t->req));
  t_wait(t);
  if (!m->exists) {
    EXPECT_EQ_INT(SAM_ENOENT, t->req.status);
  } else {
    EXPECT_EQ_INT(0, t->req.status);
    EXPECT_EQ_U64(m->version, t->req.out_recs[0].version);
    snprintf(json, sizeof(json), "{\"k\":%d,\"p\":%d}", k, m->payload);
    EXPECT_EQ_STR(json, t->req.out_recs[0].json);
  }
  t_free(t);
}

static void step_query(sam__backend *b) {
  int want_status = rnd(4) - 1; /* -1: no status term */
  int want_team = rnd(3) - 1;   /* -1: no team term */
  uint32_t limit = 1 + (uint32_t)rnd(7);
  char expect[NKEYS * 8 + 1] = "";
  char got[NKEYS * 8 + 1] = "";
  char *cursor = NULL;
  int k;

  for (k = 0; k < NKEYS; k++) {
    const mrec *m = &model[k];
    if (!m->exists)
      continue;
    if (want_status >= 0 && m->status != want_status)
      continue;
    if (want_team >= 0 && m->team != want_team)
      continue;
    snprintf(expect + strlen(expect), sizeof(expect) - strlen(expect), "%d,",
             k);
  }
  do {
    t_req *t = t_new(SAM__REQ_QUERY, P, RT, NULL);
    size_t i;
    t->req.limit = limit;
    t->req.cursor = cursor;
    if (want_team >= 0)
      t_term(t, "/team", teams[want_team]);
    if (want_status >= 0)
      t_term(t, "/status", statuses[want_status]);
    EXPECT_EQ_INT(0, b->vt->submit(b->self, &t->req));
    t_wait(t);
    EXPECT_EQ_INT(0, t->req.status);
    EXPECT_TRUE(t->req.out_n <= limit);
    for (i = 0; i < t->req.out_n; i++)
      snprintf(got + strlen(got), sizeof(got) - strlen(got), "%d,",
               atoi(t->req.out_recs[i].key + 4));
    cursor = t->req.next_cursor;
    t->req.next_cursor = NULL;
    t_free(t);
  } while (cursor != NULL);
  EXPECT_EQ_STR(expect, got);
}

static void test_against_model(const char *path) {
  sam__backend b;
  int i;

  memset(model, 0, sizeof(model));
  t_open(&loop, path, 0, &b);
  for (i = 0; i < STEPS; i++) {
    int op = rnd(10);
    if (op < 4)
      step_put(&b);
    else if (op < 6)
      step_delete(&b);
    else if (op < 8)
      step_get(&b);
    else
      step_query(&b);
    /* now and then a file database is closed and reopened */
    if (rnd(500) == 0 && strcmp(path, ":memory:") != 0) {
      t_close(&loop, &b);
      t_open(&loop, path, 0, &b);
    }
  }
  t_close(&loop, &b);
}

int main(void) {
  const char *env = getenv("SAM_TEST_SEED");
  char dir[512];
  char path[600];
  unsigned first;

  seed = env != NULL ? (unsigned)strtoul(env, NULL, 10)
                     : (unsigned)time(NULL) ^ (unsigned)getpid();
  first = seed;
  printf("seed %u (replay with SAM_TEST_SEED=%u)\n", first, first);
  EXPECT_EQ_INT(0, uv_loop_init(&loop));
  t_init(&loop);
  t_tmpdir(dir, sizeof(dir), "test-backend-sqlite-model");
  snprintf(path, sizeof(path), "%s/model.sqlite", dir);

  test_against_model(":memory:");
  printf("ok in-memory database\n");
  test_against_model(path);
  printf("ok file database\n");

  t_fini();
  EXPECT_EQ_INT(0, uv_run(&loop, UV_RUN_DEFAULT));
  EXPECT_EQ_INT(0, uv_loop_close(&loop));
  t_rmdir(dir);
  return 0;
}
