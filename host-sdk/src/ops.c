/*
 * ops.c: the store calls of the host table (ABI.md 9.6): inputs copied,
 * records validated and indexed, requests handed to the backend, and every
 * callback delivered exactly once on the loop thread, never inside the call,
 * with op_cancel deciding between SAM_ECANCELED and the real status.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>
#include <json-c/json_pointer.h>

#include "runtime_int.h"
#include "sam_copy_in.h"

#define RECORD_V1_0 sizeof(sam_record)

/* ---- op lifetime ---- */

sam_op *sam__op_new(sam_runtime *rt, sam_host *h, int kind) {
  sam_op *op = calloc(1, sizeof(*op));

  if (op == NULL)
    return NULL;
  op->magic = SAM__MAGIC_OP;
  op->rt = rt;
  op->h = h;
  op->req.kind = kind;
  op->req.core_private = op;
  atomic_init(&op->state, SAM__OP_PENDING);
  return op;
}

void sam__op_free(sam_op *op) {
  sam__req *r;
  size_t i;
  uint32_t k;

  if (op == NULL)
    return;
  r = &op->req;
  free(r->profile_id);
  free(r->record_type);
  free(r->key);
  for (i = 0; i < r->n && r->recs != NULL; i++) {
    free(r->recs[i].key);
    free(r->recs[i].json);
    for (k = 0; k < r->recs[i].n_index; k++)
      free((char *)r->recs[i].index[k].value);
    free(r->recs[i].index);
  }
  free(r->recs);
  for (i = 0; i < r->n_terms; i++) {
    free(r->terms[i].pointer);
    free(r->terms[i].value);
  }
  free(r->terms);
  free(r->cursor);
  free(r->blob);
  if (r->out_one_chunk && r->out_recs != NULL && op->rt->backend_open &&
      op->rt->backend.vt->release != NULL) {
    op->rt->backend.vt->release(op->rt->backend.self, r->out_recs);
    r->out_recs = NULL;
    r->out_n = 0;
  }
  sam__req_out_free(r);
  op->magic = SAM__MAGIC_DEAD;
  free(op);
}

int sam__op_submit(sam_op *op) {
  sam_runtime *rt = op->rt;
  int rc;

  if (rt->stopping && rt->close_stage >= 5)
    return SAM_EBUSY;
  rc = rt->backend.vt->submit(rt->backend.self, &op->req);
  if (rc == 0)
    rt->ops_pending++;
  else if (rc > 0)
    rc = SAM_EIO;
  return rc;
}

/* Any thread: makes the done descriptor readable (the loop's
 * on_done_poll). A full counter (EAGAIN) is readable already. */
static void done_wake(sam_runtime *rt) {
  uint64_t one = 1;

  if (write(rt->done_fd, &one, sizeof(one)) < 0) {
    /* EAGAIN only: a wake-up is pending */
  }
}

int sam__req_begin(sam__req *req) {
  sam_op *op = req->core_private;
  int expected = SAM__OP_PENDING;

  /* Any thread. Once running, a cancel no longer changes the outcome. */
  return atomic_compare_exchange_strong(&op->state, &expected, SAM__OP_RUNNING)
             ? 1
             : 0;
}

void sam__req_done(sam__req *req) {
  sam_op *op = req->core_private;
  sam_runtime *rt = op->rt;
  int wake = 0;

  /* Any thread: queue for the loop; delivery is never inside a call.
   * Only the op that finds the list empty wakes the loop (runtime_int.h,
   * done_fd): the loop reads the descriptor, then takes the whole list,
   * so a wake-up is already due for the others. */
  uv_mutex_lock(&rt->done_mu);
  op->next = NULL;
  if (rt->done_tail != NULL) {
    rt->done_tail->next = op;
  } else {
    rt->done_head = op;
    wake = !rt->closed;
  }
  rt->done_tail = op;
  uv_mutex_unlock(&rt->done_mu);
  /* Outside the lock. The descriptor outlives this call: the runtime
   * closes it only once the backend has closed, which is after every
   * sam__req_done of its requests has returned. */
  if (wake)
    done_wake(rt);
}

static sam_op *take_done(sam_runtime *rt) {
  sam_op *list;

  uv_mutex_lock(&rt->done_mu);
  list = rt->done_head;
  rt->done_head = NULL;
  rt->done_tail = NULL;
  uv_mutex_unlock(&rt->done_mu);
  return list;
}

static void store_deliver(sam_op *op, int status) {
  sam__req *r = &op->req;
  sam_store_result res;
  size_t i;

  memset(&res, 0, sizeof(res));
  res.struct_size = sizeof(res);
  for (i = 0; i < r->out_n && r->out_recs != NULL; i++)
    r->out_recs[i].struct_size = sizeof(sam_record);
  res.recs = r->out_recs;
  res.n = r->out_recs != NULL ? r->out_n : 0;
  res.next_cursor = r->next_cursor;
  op->store_cb(status,
               (status == SAM_OK || status == SAM_ECONFLICT) ? &res : NULL,
               op->ud);
}

/* Puts back, at the head and in order, what one turn did not deliver,
 * and asks for another turn. */
static void put_back(sam_runtime *rt, sam_op *list) {
  sam_op *tail = list;

  while (tail->next != NULL)
    tail = tail->next;
  uv_mutex_lock(&rt->done_mu);
  tail->next = rt->done_head;
  rt->done_head = list;
  if (rt->done_tail == NULL)
    rt->done_tail = tail;
  uv_mutex_unlock(&rt->done_mu);
  if (!rt->closed)
    done_wake(rt);
}

void sam__ops_deliver(sam_runtime *rt, int all) {
  sam_op *op = take_done(rt);
  uint64_t t0 = uv_hrtime();
  size_t delivered = 0;

  while (op != NULL) {
    sam_op *next = op->next;
    int status = op->req.status;

    /* A store worker that was held up (a WAL checkpoint) finishes many
     * requests at once; their callbacks, each a plugin's work, get one
     * loop turn's budget, and the rest the next turns, so that timers,
     * sockets and the HTTP server are served in between. */
    if (!all && delivered > 0 && !rt->closed &&
        uv_hrtime() - t0 >= SAM__OPS_TURN_BUDGET_NS) {
      put_back(rt, op);
      break;
    }

    if (atomic_load(&op->state) == SAM__OP_CANCELLED)
      status = SAM_ECANCELED;
    rt->ops_pending--;
    op->delivering = 1;
    if (op->h != NULL && op->h->shutdown_finished) {
      sam__violation(rt, op->h->name,
                     "store or secret op finished after shutdown_done "
                     "[plugin=%s]; callback dropped",
                     op->h->name);
    } else if (op->is_secret) {
      sam__secret_deliver(op, status);
    } else {
      store_deliver(op, status);
    }
    sam__op_free(op);
    delivered++;
    op = next;
  }
  sam__runtime_kick_close(rt);
}

void sam__ops_drop_all(sam_runtime *rt) {
  sam_op *op = take_done(rt);

  while (op != NULL) {
    sam_op *next = op->next;

    rt->ops_pending--;
    sam__op_free(op);
    op = next;
  }
}

int sam__api_op_cancel(sam_op *op) {
  int expected = SAM__OP_PENDING;

  if (op == NULL || op->magic != SAM__MAGIC_OP)
    return SAM_EINVAL;
  if (sam__on_loop(op->rt, "op_cancel") != 0 || op->delivering)
    return SAM_EINVAL;
  /* If the backend already began, the real status wins; either way the
   * callback runs exactly once. */
  atomic_compare_exchange_strong(&op->state, &expected, SAM__OP_CANCELLED);
  return 0;
}

/* ---- input checks shared by the store calls ---- */

static int check_common(sam_host *h,
                        const char *fn,
                        const char *profile_id,
                        const char *record_type,
                        sam__reg **rt_out) {
  if (h == NULL)
    return SAM_EINVAL;
  if (h->rt->stopping && h->rt->close_stage >= 4)
    return SAM_EBUSY;
  if (profile_id == NULL || profile_id[0] == '\0' || strlen(profile_id) > 256) {
    sam__log(h->rt, SAM_LOG_WARN, h->name, NULL, "%s rejected: bad profile_id",
             fn);
    return SAM_EINVAL;
  }
  if (rt_out != NULL) {
    *rt_out = sam__registry_record_type(h->rt, h, record_type);
    if (*rt_out == NULL) {
      sam__log(h->rt, SAM_LOG_WARN, h->name, NULL,
               "%s rejected: unknown record type [record_type=%s]", fn,
               record_type ? record_type : "(null)");
      return SAM_EINVAL;
    }
  }
  return 0;
}

static int finish_submit(sam_op *op, sam_op **op_out) {
  int rc;

  if (op_out != NULL)
    *op_out = NULL;
  rc = sam__op_submit(op);
  if (rc != 0) {
    sam__op_free(op);
    return rc;
  }
  if (op_out != NULL)
    *op_out = op;
  return 0;
}

static sam_op *store_op(sam_host *h,
                        int kind,
                        const char *profile_id,
                        const char *record_type,
                        sam_store_cb cb,
                        void *ud) {
  sam_op *op = sam__op_new(h->rt, h, kind);

  if (op == NULL)
    return NULL;
  op->store_cb = cb;
  op->ud = ud;
  op->req.profile_id = sam__strdup(profile_id);
  op->req.record_type = sam__strdup(record_type);
  if (op->req.profile_id == NULL || op->req.record_type == NULL) {
    sam__op_free(op);
    return NULL;
  }
  return op;
}

/* ---- store_get / store_delete ---- */

/* store_get and store_delete: one record by key (if_version is for delete,
 * 0 for get). Returns 0 with the op submitted, or an SAM_E* code. */
static int submit_keyed(sam_host *host,
                        const char *what,
                        int kind,
                        const char *profile_id,
                        const char *record_type,
                        const char *key,
                        uint64_t if_version,
                        sam_store_cb cb,
                        void *ud,
                        sam_op **op_out) {
  sam_host *h = sam__host_check(host);
  sam__reg *reg;
  sam_op *op;
  int rc;

  if (op_out != NULL)
    *op_out = NULL;
  rc = check_common(h, what, profile_id, record_type, &reg);
  if (rc != 0)
    return rc;
  if (cb == NULL || key == NULL || key[0] == '\0')
    return SAM_EINVAL;
  op = store_op(h, kind, profile_id, record_type, cb, ud);
  if (op == NULL)
    return SAM_ENOMEM;
  op->req.if_version = if_version;
  op->req.key = sam__strdup(key);
  if (op->req.key == NULL) {
    sam__op_free(op);
    return SAM_ENOMEM;
  }
  return finish_submit(op, op_out);
}

int sam__api_store_get(sam_host *host,
                       const char *profile_id,
                       const char *record_type,
                       const char *key,
                       sam_store_cb cb,
                       void *ud,
                       sam_op **op_out) {
  return submit_keyed(host, "store_get", SAM__REQ_GET, profile_id, record_type,
                      key, 0, cb, ud, op_out);
}

int sam__api_store_delete(sam_host *host,
                          const char *profile_id,
                          const char *record_type,
                          const char *key,
                          uint64_t if_version,
                          sam_store_cb cb,
                          void *ud,
                          sam_op **op_out) {
  return submit_keyed(host, "store_delete", SAM__REQ_DELETE, profile_id,
                      record_type, key, if_version, cb, ud, op_out);
}

/* ---- store_put_batch ---- */

/* The text of an indexed value: strings as they are, other scalars and
 * containers as their JSON text, NULL when absent or null. */
static char *index_text(json_object *root, const char *pointer) {
  json_object *v = NULL;

  if (json_pointer_get(root, pointer, &v) != 0 || v == NULL)
    return NULL;
  if (json_object_is_type(v, json_type_string))
    return sam__strdup(json_object_get_string(v));
  return sam__strdup(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
}

static int parse_doc(const char *s, size_t len, json_object **out) {
  json_tokener *tok = json_tokener_new();
  json_object *o;

  *out = NULL;
  if (tok == NULL)
    return SAM_ENOMEM;
  o = json_tokener_parse_ex(tok, s, (int)len);
  if (o != NULL && json_tokener_get_error(tok) == json_tokener_success) {
    size_t i;

    /* Trailing whitespace is fine; anything else after the value is not. */
    for (i = (size_t)tok->char_offset; i < len; i++) {
      if (s[i] != ' ' && s[i] != '\n' && s[i] != '\r' && s[i] != '\t')
        break;
    }
    if (i < len) {
      json_object_put(o);
      o = NULL;
    }
  } else {
    json_object_put(o);
    o = NULL;
  }
  json_tokener_free(tok);
  if (o == NULL)
    return SAM_EINVAL;
  *out = o;
  return 0;
}

/* Copies, validates and indexes one record into dst. */
static int copy_record(sam_host *h,
                       sam__reg *reg,
                       const sam_record *src,
                       sam__req_record *dst,
                       size_t idx) {
  sam_runtime *rt = h->rt;
  sam_record rec;
  json_object *doc = NULL;
  char *key_from_doc = NULL;
  size_t len;
  uint32_t k;
  int rc;

  rc = sam__copy_in(&rec, sizeof(rec), RECORD_V1_0, src);
  if (rc == 0)
    rc = sam__reserved_zero(&rec, offsetof(sam_record, reserved0),
                            sizeof(uint32_t));
  if (rc == 0)
    rc = sam__reserved_zero(&rec, offsetof(sam_record, reserved_p0),
                            sizeof(void *));
  if (rc != 0 || rec.json == NULL) {
    sam__log(rt, SAM_LOG_WARN, h->name, NULL,
             "store_put_batch rejected: bad record [index=%zu] [%s]", idx,
             sam_err_name(rc ? rc : SAM_EINVAL));
    return rc ? rc : SAM_EINVAL;
  }
  len = rec.json_len ? rec.json_len : strlen(rec.json);
  if (len > (size_t)INT32_MAX || parse_doc(rec.json, len, &doc) != 0) {
    sam__log(rt, SAM_LOG_WARN, h->name, NULL,
             "store_put_batch rejected: record is not JSON [index=%zu] "
             "[record_type=%s]",
             idx, reg->id);
    return SAM_EINVAL;
  }
  key_from_doc = index_text(doc, reg->key_pointer);
  if (rec.key == NULL && key_from_doc == NULL) {
    sam__log(rt, SAM_LOG_WARN, h->name, NULL,
             "store_put_batch rejected: no key [index=%zu] [key_pointer=%s]",
             idx, reg->key_pointer);
    rc = SAM_EINVAL;
    goto done;
  }
  if (rec.key != NULL && key_from_doc != NULL &&
      strcmp(rec.key, key_from_doc) != 0) {
    sam__log(rt, SAM_LOG_WARN, h->name, NULL,
             "store_put_batch rejected: key differs from the record's "
             "[index=%zu] [key=%s] [%s=%s]",
             idx, rec.key, reg->key_pointer, key_from_doc);
    rc = SAM_EINVAL;
    goto done;
  }
  if ((reg->flags & SAM_RECORD_VALIDATE_WRITES) || rt->test_mode) {
    sam__schema_error err[1];
    size_t n_err = 0;

    if (sam__schema_validate_obj(reg->schema, doc, err, 1, &n_err) != 0) {
      sam__log(rt, SAM_LOG_WARN, h->name, NULL,
               "store_put_batch rejected: record fails the schema "
               "[record_type=%s] [index=%zu] [pointer=%s] [reason=%s]",
               reg->id, idx, n_err ? err[0].pointer : "",
               n_err ? err[0].reason : "");
      rc = SAM_EINVAL;
      goto done;
    }
  }
  rc = SAM_ENOMEM;
  dst->key = sam__strdup(rec.key != NULL ? rec.key : key_from_doc);
  dst->json = sam__strndup(rec.json, len);
  dst->json_len = len;
  dst->if_version = rec.if_version;
  dst->schema_version = reg->version;
  if (dst->key == NULL || dst->json == NULL)
    goto done;
  if (reg->n_indexes > 0) {
    dst->index = calloc(reg->n_indexes, sizeof(*dst->index));
    if (dst->index == NULL)
      goto done;
    for (k = 0; k < reg->n_indexes; k++) {
      dst->index[k].pointer = reg->indexes[k];
      dst->index[k].value = index_text(doc, reg->indexes[k]);
      dst->n_index++;
    }
  }
  rc = 0;

done:
  free(key_from_doc);
  json_object_put(doc);
  return rc;
}

int sam__api_store_put_batch(sam_host *host,
                             const char *profile_id,
                             const char *record_type,
                             const sam_record *recs,
                             size_t n,
                             sam_store_cb cb,
                             void *ud,
                             sam_op **op_out) {
  sam_host *h = sam__host_check(host);
  const unsigned char *base = (const unsigned char *)recs;
  uint32_t stride = 0;
  sam__reg *reg;
  sam_op *op;
  size_t i;
  int rc;

  if (op_out != NULL)
    *op_out = NULL;
  rc = check_common(h, "store_put_batch", profile_id, record_type, &reg);
  if (rc != 0)
    return rc;
  if (cb == NULL || recs == NULL || n == 0 || n > SAM_STORE_BATCH_MAX)
    return SAM_EINVAL;
  stride = recs[0].struct_size;
  if (stride < RECORD_V1_0)
    return SAM_EINVAL;
  op = store_op(h, SAM__REQ_PUT_BATCH, profile_id, record_type, cb, ud);
  if (op == NULL)
    return SAM_ENOMEM;
  op->req.recs = calloc(n, sizeof(*op->req.recs));
  if (op->req.recs == NULL) {
    sam__op_free(op);
    return SAM_ENOMEM;
  }
  op->req.n = n;
  for (i = 0; i < n; i++) {
    const sam_record *src = (const sam_record *)(base + i * stride);
    uint32_t size;

    memcpy(&size, src, sizeof(size));
    if (size != stride) {
      sam__log(h->rt, SAM_LOG_WARN, h->name, NULL,
               "store_put_batch rejected: struct_size differs in one batch "
               "[index=%zu] [struct_size=%u] [first=%u]",
               i, (unsigned)size, (unsigned)stride);
      sam__op_free(op);
      return SAM_EINVAL;
    }
    rc = copy_record(h, reg, src, &op->req.recs[i], i);
    if (rc != 0) {
      sam__op_free(op);
      return rc;
    }
  }
  return finish_submit(op, op_out);
}

/* ---- store_query ---- */

static int
parse_filter(sam_host *h, sam__reg *reg, const char *filter_json, sam__req *r) {
  json_object *doc = NULL;
  size_t n, i = 0;
  uint32_t k;
  int rc = SAM_EINVAL;

  if (filter_json == NULL)
    return 0;
  if (parse_doc(filter_json, strlen(filter_json), &doc) != 0 ||
      !json_object_is_type(doc, json_type_object))
    goto done;
  n = (size_t)json_object_object_length(doc);
  if (n == 0) {
    rc = 0;
    goto done;
  }
  r->terms = calloc(n, sizeof(*r->terms));
  if (r->terms == NULL) {
    rc = SAM_ENOMEM;
    goto done;
  }
  json_object_object_foreach(doc, key, val) {
    int indexed = 0;

    for (k = 0; k < reg->n_indexes; k++)
      indexed |= strcmp(reg->indexes[k], key) == 0;
    if (!indexed || json_object_is_type(val, json_type_object) ||
        json_object_is_type(val, json_type_array) ||
        json_object_is_type(val, json_type_null)) {
      sam__log(h->rt, SAM_LOG_WARN, h->name, NULL,
               "store_query rejected: filter terms are equalities on indexed "
               "pointers [pointer=%s] [record_type=%s]",
               key, reg->id);
      goto done;
    }
    r->terms[i].pointer = sam__strdup(key);
    r->terms[i].value = json_object_is_type(val, json_type_string)
                            ? sam__strdup(json_object_get_string(val))
                            : sam__strdup(json_object_to_json_string_ext(
                                  val, JSON_C_TO_STRING_PLAIN));
    r->n_terms = ++i;
    if (r->terms[i - 1].pointer == NULL || r->terms[i - 1].value == NULL) {
      rc = SAM_ENOMEM;
      goto done;
    }
  }
  rc = 0;

done:
  json_object_put(doc);
  return rc;
}

int sam__api_store_query(sam_host *host,
                         const char *profile_id,
                         const char *record_type,
                         const char *filter_json,
                         const char *cursor,
                         uint32_t limit,
                         sam_store_cb cb,
                         void *ud,
                         sam_op **op_out) {
  sam_host *h = sam__host_check(host);
  sam__reg *reg;
  sam_op *op;
  int rc;

  if (op_out != NULL)
    *op_out = NULL;
  rc = check_common(h, "store_query", profile_id, record_type, &reg);
  if (rc != 0)
    return rc;
  if (cb == NULL)
    return SAM_EINVAL;
  op = store_op(h, SAM__REQ_QUERY, profile_id, record_type, cb, ud);
  if (op == NULL)
    return SAM_ENOMEM;
  rc = parse_filter(h, reg, filter_json, &op->req);
  if (rc == 0 && cursor != NULL) {
    op->req.cursor = sam__strdup(cursor);
    if (op->req.cursor == NULL)
      rc = SAM_ENOMEM;
  }
  if (rc != 0) {
    sam__op_free(op);
    return rc;
  }
  if (limit == 0)
    limit = SAM__QUERY_LIMIT_DEFAULT;
  op->req.limit = limit > SAM__QUERY_LIMIT_MAX ? SAM__QUERY_LIMIT_MAX : limit;
  return finish_submit(op, op_out);
}
