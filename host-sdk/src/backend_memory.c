/*
 * backend_memory.c: an in-memory sam__backend. A hash map per
 * (profile, type, key) holds versioned records; a per-(profile, type)
 * collection keeps them in creation order for paging; a second map holds
 * sealed blobs. Everything runs on the loop thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "sam/sam_plugin.h"
#include "sam_backend_memory.h"

/* ---- a small string-keyed hash map ---- */

typedef struct hent {
  struct hent *next;
  char *k;
  uint64_t h;
  void *v;
} hent;

typedef struct hmap {
  hent **b;
  size_t nb;
  size_t n;
} hmap;

static uint64_t hash_str(const char *s) {
  uint64_t h = 1469598103934665603ull; /* FNV-1a */

  while (*s != '\0') {
    h ^= (unsigned char)*s++;
    h *= 1099511628211ull;
  }
  return h;
}

static hent **hmap_slot(hmap *m, const char *k, uint64_t h) {
  hent **pp;

  if (m->nb == 0)
    return NULL;
  for (pp = &m->b[h % m->nb]; *pp != NULL; pp = &(*pp)->next) {
    if ((*pp)->h == h && strcmp((*pp)->k, k) == 0)
      return pp;
  }
  return pp;
}

static void *hmap_get(hmap *m, const char *k) {
  hent **pp = hmap_slot(m, k, hash_str(k));

  return (pp != NULL && *pp != NULL) ? (*pp)->v : NULL;
}

static int hmap_grow(hmap *m) {
  size_t nb = m->nb ? m->nb * 2 : 64, i;
  hent **b = calloc(nb, sizeof(*b));

  if (b == NULL)
    return SAM_ENOMEM;
  for (i = 0; i < m->nb; i++) {
    hent *e = m->b[i];

    while (e != NULL) {
      hent *next = e->next;

      e->next = b[e->h % nb];
      b[e->h % nb] = e;
      e = next;
    }
  }
  free(m->b);
  m->b = b;
  m->nb = nb;
  return 0;
}

/* Inserts or replaces; the key is copied. */
static int hmap_put(hmap *m, const char *k, void *v) {
  uint64_t h = hash_str(k);
  hent **pp;
  hent *e;

  if (m->n + 1 > m->nb && hmap_grow(m) != 0)
    return SAM_ENOMEM;
  pp = hmap_slot(m, k, h);
  if (*pp != NULL) {
    (*pp)->v = v;
    return 0;
  }
  e = calloc(1, sizeof(*e));
  if (e == NULL)
    return SAM_ENOMEM;
  e->k = strdup(k);
  if (e->k == NULL) {
    free(e);
    return SAM_ENOMEM;
  }
  e->h = h;
  e->v = v;
  *pp = e;
  m->n++;
  return 0;
}

static void *hmap_del(hmap *m, const char *k) {
  hent **pp = hmap_slot(m, k, hash_str(k));
  hent *e;
  void *v;

  if (pp == NULL || *pp == NULL)
    return NULL;
  e = *pp;
  *pp = e->next;
  v = e->v;
  free(e->k);
  free(e);
  m->n--;
  return v;
}

static void hmap_free(hmap *m, void (*free_v)(void *)) {
  size_t i;

  for (i = 0; i < m->nb; i++) {
    hent *e = m->b[i];

    while (e != NULL) {
      hent *next = e->next;

      if (free_v != NULL)
        free_v(e->v);
      free(e->k);
      free(e);
      e = next;
    }
  }
  free(m->b);
  memset(m, 0, sizeof(*m));
}

/* ---- records and collections ---- */

typedef struct ment {
  char *key;
  char *json;
  size_t json_len;
  uint64_t version;
  uint64_t seq;
  uint32_t schema_version;
  uint32_t n_index;
  char **iptr;
  char **ival;
  int deleted;
} ment;

typedef struct mcoll {
  ment **v; /* ordered by seq; deleted entries stay until compaction */
  size_t n;
  size_t cap;
  size_t n_deleted;
  uint64_t next_seq;
} mcoll;

typedef struct mblob {
  unsigned char *p;
  size_t len;
} mblob;

typedef struct mem {
  uv_loop_t *loop;
  uv_timer_t timer;
  sam__req **q;
  size_t qn;
  size_t qmax;
  hmap recs;  /* "profile\x1ftype\x1fkey" -> ment */
  hmap colls; /* "profile\x1ftype" -> mcoll */
  hmap blobs; /* "profile\x1fname" -> mblob */
  int closing;
  void (*close_done)(void *ud);
  void *close_ud;
} mem;

static void ment_free_index(ment *e) {
  uint32_t i;

  for (i = 0; i < e->n_index; i++) {
    free(e->iptr[i]);
    free(e->ival[i]);
  }
  free(e->iptr);
  free(e->ival);
  e->iptr = NULL;
  e->ival = NULL;
  e->n_index = 0;
}

static void ment_free(void *p) {
  ment *e = p;

  if (e == NULL)
    return;
  free(e->key);
  free(e->json);
  ment_free_index(e);
  free(e);
}

static void mcoll_free(void *p) {
  mcoll *c = p;
  size_t i;

  /* Live entries are owned by the recs map; only deleted ones are here. */
  for (i = 0; i < c->n; i++) {
    if (c->v[i]->deleted)
      ment_free(c->v[i]);
  }
  free(c->v);
  free(c);
}

static void mblob_free(void *p) {
  mblob *b = p;

  if (b == NULL)
    return;
  free(b->p);
  free(b);
}

static char *join(const char *a, const char *b, const char *c) {
  size_t n = strlen(a) + strlen(b) + (c ? strlen(c) : 0) + 3;
  char *s = malloc(n);

  if (s == NULL)
    return NULL;
  if (c != NULL)
    snprintf(s, n, "%s\x1f%s\x1f%s", a, b, c);
  else
    snprintf(s, n, "%s\x1f%s", a, b);
  return s;
}

static mcoll *
coll_get(mem *m, const char *profile, const char *type, int create) {
  char *k = join(profile, type, NULL);
  mcoll *c;

  if (k == NULL)
    return NULL;
  c = hmap_get(&m->colls, k);
  if (c == NULL && create) {
    c = calloc(1, sizeof(*c));
    if (c != NULL && hmap_put(&m->colls, k, c) != 0) {
      free(c);
      c = NULL;
    }
  }
  free(k);
  return c;
}

static void coll_compact(mcoll *c) {
  size_t i, j = 0;

  for (i = 0; i < c->n; i++) {
    if (c->v[i]->deleted)
      ment_free(c->v[i]);
    else
      c->v[j++] = c->v[i];
  }
  c->n = j;
  c->n_deleted = 0;
}

static int coll_append(mcoll *c, ment *e) {
  if (c->n == c->cap) {
    size_t cap = c->cap ? c->cap * 2 : 64;
    ment **v = realloc(c->v, cap * sizeof(*v));

    if (v == NULL)
      return SAM_ENOMEM;
    c->v = v;
    c->cap = cap;
  }
  e->seq = ++c->next_seq;
  c->v[c->n++] = e;
  return 0;
}

static int set_index(ment *e, const sam__req_record *r) {
  uint32_t i;

  ment_free_index(e);
  if (r->n_index == 0)
    return 0;
  e->iptr = calloc(r->n_index, sizeof(char *));
  e->ival = calloc(r->n_index, sizeof(char *));
  if (e->iptr == NULL || e->ival == NULL)
    return SAM_ENOMEM;
  for (i = 0; i < r->n_index; i++) {
    e->iptr[i] = strdup(r->index[i].pointer);
    e->ival[i] = r->index[i].value ? strdup(r->index[i].value) : NULL;
    e->n_index = i + 1;
    if (e->iptr[i] == NULL || (r->index[i].value && e->ival[i] == NULL))
      return SAM_ENOMEM;
  }
  return 0;
}

static int out_rec(sam_record *o,
                   const ment *e,
                   const char *key,
                   uint64_t version,
                   int with_json) {
  memset(o, 0, sizeof(*o));
  o->struct_size = sizeof(*o);
  o->version = version;
  o->key = strdup(e != NULL ? e->key : key);
  if (o->key == NULL)
    return SAM_ENOMEM;
  if (with_json && e != NULL) {
    char *j = malloc(e->json_len + 1);

    if (j == NULL)
      return SAM_ENOMEM;
    memcpy(j, e->json, e->json_len);
    j[e->json_len] = '\0';
    o->json = j;
    o->json_len = e->json_len;
  }
  return 0;
}

/* ---- request execution ---- */

static int do_get(mem *m, sam__req *r) {
  char *k = join(r->profile_id, r->record_type, r->key);
  ment *e;

  if (k == NULL)
    return SAM_ENOMEM;
  e = hmap_get(&m->recs, k);
  free(k);
  if (e == NULL)
    return SAM_ENOENT;
  r->out_recs = calloc(1, sizeof(sam_record));
  if (r->out_recs == NULL)
    return SAM_ENOMEM;
  r->out_n = 1;
  return out_rec(&r->out_recs[0], e, NULL, e->version, 1);
}

static int do_put(mem *m, sam__req *r) {
  mcoll *c = coll_get(m, r->profile_id, r->record_type, 1);
  ment **found;
  size_t i, n_conf = 0;
  int econflict = 0;
  int rc = 0;

  if (c == NULL)
    return SAM_ENOMEM;
  found = calloc(r->n, sizeof(*found));
  if (found == NULL)
    return SAM_ENOMEM;
  /* Check every if_version first: the batch is all or nothing. */
  for (i = 0; i < r->n; i++) {
    char *k = join(r->profile_id, r->record_type, r->recs[i].key);
    uint64_t want = r->recs[i].if_version;

    if (k == NULL) {
      rc = SAM_ENOMEM;
      goto done;
    }
    found[i] = hmap_get(&m->recs, k);
    free(k);
    if (want == SAM_IF_NEW && found[i] != NULL) {
      n_conf++;
    } else if (want != SAM_IF_ANY && want != SAM_IF_NEW &&
               (found[i] == NULL || found[i]->version != want)) {
      n_conf++;
      econflict = 1;
    }
  }
  if (n_conf > 0) {
    size_t j = 0;

    r->out_recs = calloc(n_conf, sizeof(sam_record));
    if (r->out_recs == NULL) {
      rc = SAM_ENOMEM;
      goto done;
    }
    for (i = 0; i < r->n; i++) {
      uint64_t want = r->recs[i].if_version;
      int conf = want == SAM_IF_NEW ? found[i] != NULL
                 : want == SAM_IF_ANY
                     ? 0
                     : (found[i] == NULL || found[i]->version != want);

      if (!conf)
        continue;
      if (out_rec(&r->out_recs[j], found[i], r->recs[i].key,
                  found[i] ? found[i]->version : 0, 0) != 0) {
        rc = SAM_ENOMEM;
        goto done;
      }
      r->out_n = ++j;
    }
    rc = econflict ? SAM_ECONFLICT : SAM_EEXIST;
    goto done;
  }
  r->out_recs = calloc(r->n, sizeof(sam_record));
  if (r->out_recs == NULL) {
    rc = SAM_ENOMEM;
    goto done;
  }
  for (i = 0; i < r->n; i++) {
    sam__req_record *in = &r->recs[i];
    char *k = join(r->profile_id, r->record_type, in->key);
    ment *e = k ? hmap_get(&m->recs, k) : NULL;
    char *json = malloc(in->json_len + 1);

    if (k == NULL || json == NULL) {
      free(k);
      free(json);
      rc = SAM_EIO; /* partial write: report a storage failure */
      goto done;
    }
    memcpy(json, in->json, in->json_len);
    json[in->json_len] = '\0';
    if (e == NULL) {
      e = calloc(1, sizeof(*e));
      if (e == NULL || (e->key = strdup(in->key)) == NULL ||
          coll_append(c, e) != 0 || hmap_put(&m->recs, k, e) != 0) {
        /* Never linked anywhere unless both succeeded. */
        free(k);
        free(json);
        rc = SAM_EIO;
        goto done;
      }
    } else {
      free(e->json);
    }
    free(k);
    e->json = json;
    e->json_len = in->json_len;
    e->version++;
    e->schema_version = in->schema_version;
    if (set_index(e, in) != 0) {
      rc = SAM_EIO;
      goto done;
    }
    if (out_rec(&r->out_recs[i], e, NULL, e->version, 0) != 0) {
      rc = SAM_ENOMEM;
      goto done;
    }
    r->out_n = i + 1;
  }

done:
  free(found);
  return rc;
}

static int do_delete(mem *m, sam__req *r) {
  char *k = join(r->profile_id, r->record_type, r->key);
  mcoll *c = coll_get(m, r->profile_id, r->record_type, 0);
  ment *e;

  if (k == NULL)
    return SAM_ENOMEM;
  e = hmap_get(&m->recs, k);
  if (e == NULL || c == NULL) {
    free(k);
    return SAM_ENOENT;
  }
  if (r->if_version != SAM_IF_ANY && r->if_version != e->version) {
    free(k);
    r->out_recs = calloc(1, sizeof(sam_record));
    if (r->out_recs == NULL)
      return SAM_ENOMEM;
    r->out_n = 1;
    out_rec(&r->out_recs[0], e, NULL, e->version, 0);
    return SAM_ECONFLICT;
  }
  hmap_del(&m->recs, k);
  free(k);
  e->deleted = 1;
  c->n_deleted++;
  if (c->n_deleted > 64 && c->n_deleted * 2 > c->n)
    coll_compact(c);
  return 0;
}

static int matches(const ment *e, const sam__req *r) {
  size_t t;
  uint32_t i;

  for (t = 0; t < r->n_terms; t++) {
    int ok = 0;

    for (i = 0; i < e->n_index; i++) {
      if (strcmp(e->iptr[i], r->terms[t].pointer) == 0) {
        ok = e->ival[i] != NULL && strcmp(e->ival[i], r->terms[t].value) == 0;
        break;
      }
    }
    if (!ok)
      return 0;
  }
  return 1;
}

static int do_query(mem *m, sam__req *r) {
  mcoll *c = coll_get(m, r->profile_id, r->record_type, 0);
  uint64_t after = 0;
  size_t lo, hi, i, got = 0;
  uint32_t limit = r->limit ? r->limit : 100;
  uint64_t last = 0;

  if (r->cursor != NULL) {
    char *end = NULL;

    if (r->cursor[0] != 'm')
      return SAM_EINVAL;
    after = strtoull(r->cursor + 1, &end, 10);
    if (end == NULL || *end != '\0' || end == r->cursor + 1)
      return SAM_EINVAL;
  }
  if (c == NULL || c->n == 0)
    return 0;
  r->out_recs = calloc(limit, sizeof(sam_record));
  if (r->out_recs == NULL)
    return SAM_ENOMEM;
  /* First entry with seq > after: the array is sorted by seq. */
  lo = 0;
  hi = c->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;

    if (c->v[mid]->seq <= after)
      lo = mid + 1;
    else
      hi = mid;
  }
  for (i = lo; i < c->n; i++) {
    ment *e = c->v[i];

    if (e->deleted || !matches(e, r))
      continue;
    if (got == limit) {
      /* One more match exists: hand out a cursor. */
      char buf[32];

      snprintf(buf, sizeof(buf), "m%llu", (unsigned long long)last);
      r->next_cursor = strdup(buf);
      return r->next_cursor ? 0 : SAM_ENOMEM;
    }
    if (out_rec(&r->out_recs[got], e, NULL, e->version, 1) != 0)
      return SAM_ENOMEM;
    r->out_n = ++got;
    last = e->seq;
  }
  return 0;
}

static int do_blob(mem *m, sam__req *r) {
  char *k = join(r->profile_id, r->record_type, NULL);
  mblob *b;
  int rc = 0;

  if (k == NULL)
    return SAM_ENOMEM;
  switch (r->kind) {
  case SAM__REQ_BLOB_PUT:
    b = calloc(1, sizeof(*b));
    if (b == NULL || (b->p = malloc(r->blob_len ? r->blob_len : 1)) == NULL) {
      free(b);
      rc = SAM_ENOMEM;
      break;
    }
    memcpy(b->p, r->blob, r->blob_len);
    b->len = r->blob_len;
    mblob_free(hmap_del(&m->blobs, k));
    if (hmap_put(&m->blobs, k, b) != 0) {
      mblob_free(b);
      rc = SAM_EIO;
    }
    break;
  case SAM__REQ_BLOB_GET:
    b = hmap_get(&m->blobs, k);
    if (b == NULL) {
      rc = SAM_ENOENT;
      break;
    }
    r->out_blob = malloc(b->len ? b->len : 1);
    if (r->out_blob == NULL) {
      rc = SAM_ENOMEM;
      break;
    }
    memcpy(r->out_blob, b->p, b->len);
    r->out_blob_len = b->len;
    break;
  default:
    b = hmap_del(&m->blobs, k);
    rc = b != NULL ? 0 : SAM_ENOENT;
    mblob_free(b);
    break;
  }
  free(k);
  return rc;
}

static void run_one(mem *m, sam__req *r) {
  if (!sam__req_begin(r)) {
    r->status = SAM_ECANCELED; /* cancelled before it ran: skip the work */
    sam__req_done(r);
    return;
  }
  switch (r->kind) {
  case SAM__REQ_GET:
    r->status = do_get(m, r);
    break;
  case SAM__REQ_PUT_BATCH:
    r->status = do_put(m, r);
    break;
  case SAM__REQ_QUERY:
    r->status = do_query(m, r);
    break;
  case SAM__REQ_DELETE:
    r->status = do_delete(m, r);
    break;
  case SAM__REQ_BLOB_PUT:
  case SAM__REQ_BLOB_GET:
  case SAM__REQ_BLOB_DELETE:
    r->status = do_blob(m, r);
    break;
  default:
    r->status = SAM_EINVAL;
    break;
  }
  sam__req_done(r);
}

static void run_queue(mem *m) {
  size_t i, n = m->qn;

  /* sam__req_done only queues for the core, so nothing is submitted while
   * this runs; the whole queue is one batch. */
  for (i = 0; i < n; i++)
    run_one(m, m->q[i]);
  m->qn = 0;
}

static void on_timer(uv_timer_t *t) {
  run_queue(t->data);
}

static int mem_submit(void *self, sam__req *req) {
  mem *m = self;

  if (m->closing)
    return SAM_EBUSY;
  if (m->qn >= m->qmax)
    return SAM_EAGAIN;
  m->q[m->qn++] = req;
  if (m->qn == 1)
    uv_timer_start(&m->timer, on_timer, 0, 0);
  return 0;
}

static void on_closed(uv_handle_t *h) {
  mem *m = h->data;
  void (*done)(void *) = m->close_done;
  void *ud = m->close_ud;

  /* Collections first: they read the live entries the recs map owns. */
  hmap_free(&m->colls, mcoll_free);
  hmap_free(&m->recs, ment_free);
  hmap_free(&m->blobs, mblob_free);
  free(m->q);
  free(m);
  if (done != NULL)
    done(ud);
}

static void mem_close(void *self, void (*done)(void *ud), void *ud) {
  mem *m = self;

  m->closing = 1;
  m->close_done = done;
  m->close_ud = ud;
  run_queue(m);
  uv_close((uv_handle_t *)&m->timer, on_closed);
}

static const sam__backend_vt mem_vt = {"memory", mem_submit, mem_close, NULL};

int sam__backend_memory_new(struct uv_loop_s *loop,
                            uint32_t queue_max,
                            sam__backend *out) {
  mem *m = calloc(1, sizeof(*m));

  out->vt = NULL;
  out->self = NULL;
  if (m == NULL)
    return SAM_ENOMEM;
  m->loop = loop;
  m->qmax = queue_max ? queue_max : 1024;
  m->q = calloc(m->qmax, sizeof(*m->q));
  if (m->q == NULL) {
    free(m);
    return SAM_ENOMEM;
  }
  if (uv_timer_init(loop, &m->timer) != 0) {
    free(m->q);
    free(m);
    return SAM_EIO;
  }
  m->timer.data = m;
  out->vt = &mem_vt;
  out->self = m;
  return 0;
}

int sam__backend_memory_blob_copy(sam__backend *b,
                                  const char *from_profile,
                                  const char *from_name,
                                  const char *to_profile,
                                  const char *to_name) {
  mem *m = b->self;
  char *kf = join(from_profile, from_name, NULL);
  char *kt = join(to_profile, to_name, NULL);
  mblob *src, *dst = NULL;
  int rc = SAM_ENOMEM;

  if (kf == NULL || kt == NULL)
    goto done;
  src = hmap_get(&m->blobs, kf);
  if (src == NULL) {
    rc = SAM_ENOENT;
    goto done;
  }
  dst = calloc(1, sizeof(*dst));
  if (dst == NULL || (dst->p = malloc(src->len ? src->len : 1)) == NULL)
    goto done;
  memcpy(dst->p, src->p, src->len);
  dst->len = src->len;
  mblob_free(hmap_del(&m->blobs, kt));
  if (hmap_put(&m->blobs, kt, dst) != 0)
    goto done;
  dst = NULL;
  rc = 0;

done:
  mblob_free(dst);
  free(kf);
  free(kt);
  return rc;
}

size_t sam__backend_memory_count(sam__backend *b,
                                 const char *profile_id,
                                 const char *record_type) {
  mcoll *c = coll_get(b->self, profile_id, record_type, 0);

  return c != NULL ? c->n - c->n_deleted : 0;
}
