/*
 * ops_secret.c: secret_put and secret_get (ABI.md 9.7). Values are sealed
 * with sam__seal under (profile_id, name) before the call returns, stored
 * as BLOB_* requests, opened on delivery, and wiped after the callback.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "runtime_int.h"
#include "sam_seal.h"

static int secret_op(sam_runtime *rt,
                     sam_host *h,
                     const char *profile_id,
                     const char *name,
                     const char *value,
                     size_t len,
                     int check_form,
                     sam_op **out) {
  sam_op *op;
  int kind;
  int rc;

  *out = NULL;
  if (profile_id == NULL || profile_id[0] == '\0' || strlen(profile_id) > 256 ||
      !sam__id_valid(name, SAM__ID_MAX))
    return SAM_EINVAL;
  if (check_form && h != NULL && sam__registry_is_form_secret(h, name)) {
    sam__log(rt, SAM_LOG_WARN, h->name, NULL,
             "secret_put rejected: form secrets are read-only to the plugin "
             "[name=%s]",
             name);
    return SAM_EINVAL;
  }
  if (value == NULL && len != 0)
    return SAM_EINVAL;
  if (rt->stopping && rt->close_stage >= 4)
    return SAM_EBUSY;
  kind = value == NULL ? SAM__REQ_BLOB_DELETE : SAM__REQ_BLOB_PUT;
  op = sam__op_new(rt, h, kind);
  if (op == NULL)
    return SAM_ENOMEM;
  op->is_secret = 1;
  op->req.profile_id = sam__strdup(profile_id);
  /* The backend contract names the secret in record_type; key carries the
   * same name so a backend may use either. */
  op->req.record_type = sam__strdup(name);
  op->req.key = sam__strdup(name);
  if (op->req.profile_id == NULL || op->req.record_type == NULL ||
      op->req.key == NULL) {
    sam__op_free(op);
    return SAM_ENOMEM;
  }
  if (value != NULL) {
    if (rt->keyring == NULL) {
      sam__op_free(op);
      return SAM_EIO;
    }
    rc = sam__seal(rt->keyring, profile_id, name, value, len, &op->req.blob,
                   &op->req.blob_len);
    if (rc != 0) {
      sam__op_free(op);
      return rc;
    }
    sam__redact_add_value(rt, value, len);
  }
  *out = op;
  return 0;
}

static int submit(sam_op *op, sam_op **op_out) {
  int rc = sam__op_submit(op);

  if (op_out != NULL)
    *op_out = NULL;
  if (rc != 0) {
    sam__op_free(op);
    return rc;
  }
  if (op_out != NULL)
    *op_out = op;
  return 0;
}

int sam__api_secret_put(sam_host *host,
                        const char *profile_id,
                        const char *name,
                        const char *value,
                        size_t len,
                        sam_secret_cb cb,
                        void *ud,
                        sam_op **op_out) {
  sam_host *h = sam__host_check(host);
  sam_op *op;
  int rc;

  if (op_out != NULL)
    *op_out = NULL;
  if (h == NULL || cb == NULL)
    return SAM_EINVAL;
  rc = secret_op(h->rt, h, profile_id, name, value, len, 1, &op);
  if (rc != 0)
    return rc;
  op->secret_cb = cb;
  op->ud = ud;
  return submit(op, op_out);
}

int sam__api_secret_get(sam_host *host,
                        const char *profile_id,
                        const char *name,
                        sam_secret_cb cb,
                        void *ud,
                        sam_op **op_out) {
  sam_host *h = sam__host_check(host);
  sam_op *op;

  if (op_out != NULL)
    *op_out = NULL;
  if (h == NULL || cb == NULL)
    return SAM_EINVAL;
  if (profile_id == NULL || profile_id[0] == '\0' ||
      !sam__id_valid(name, SAM__ID_MAX))
    return SAM_EINVAL;
  op = sam__op_new(h->rt, h, SAM__REQ_BLOB_GET);
  if (op == NULL)
    return SAM_ENOMEM;
  op->is_secret = 1;
  op->secret_cb = cb;
  op->ud = ud;
  op->req.profile_id = sam__strdup(profile_id);
  op->req.record_type = sam__strdup(name);
  op->req.key = sam__strdup(name);
  if (op->req.profile_id == NULL || op->req.record_type == NULL ||
      op->req.key == NULL) {
    sam__op_free(op);
    return SAM_ENOMEM;
  }
  return submit(op, op_out);
}

int sam_runtime_set_form_secret(sam_runtime *rt,
                                const char *profile_id,
                                const char *name,
                                const char *value,
                                size_t len,
                                sam_runtime_secret_cb cb,
                                void *ud) {
  sam_op *op;
  int rc;

  if (rt == NULL || sam__on_loop(rt, "sam_runtime_set_form_secret") != 0)
    return SAM_EINVAL;
  if (rt->stopping)
    return SAM_EBUSY;
  rc = secret_op(rt, NULL, profile_id, name, value, len, 0, &op);
  if (rc != 0)
    return rc;
  op->host_cb = cb;
  op->ud = ud;
  return submit(op, NULL);
}

void sam__secret_deliver(sam_op *op, int status) {
  sam_runtime *rt = op->rt;
  sam__req *r = &op->req;
  unsigned char *pt = NULL;
  size_t pt_len = 0;

  if (op->host_cb != NULL || op->secret_cb == NULL) {
    if (op->host_cb != NULL)
      op->host_cb(status, op->ud);
    return;
  }
  if (status == SAM_OK && r->kind == SAM__REQ_BLOB_GET) {
    int rc = rt->keyring == NULL
                 ? SAM_EIO
                 : sam__unseal(rt->keyring, r->profile_id, r->record_type,
                               r->out_blob, r->out_blob_len, &pt, &pt_len);

    if (rc != 0) {
      sam__log(rt, SAM_LOG_ERROR, op->h ? op->h->name : NULL, NULL,
               "secret failed to open (wrong key, or bound to another profile "
               "or name) [profile=%s] [name=%s] [%s]",
               r->profile_id, r->record_type, sam_err_name(rc));
      status = SAM_EIO;
      pt = NULL;
    } else {
      sam__redact_add_value(rt, (const char *)pt, pt_len);
    }
  }
  if (pt != NULL) {
    op->secret_cb(SAM_OK, (const char *)pt, pt_len, op->ud);
    OPENSSL_cleanse(pt, pt_len);
    free(pt);
  } else {
    op->secret_cb(status, NULL, 0, op->ud);
  }
  if (r->out_blob != NULL)
    OPENSSL_cleanse(r->out_blob, r->out_blob_len);
}
