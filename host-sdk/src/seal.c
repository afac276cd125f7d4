/*
 * seal.c: sealing of secrets with AES-256-GCM (OpenSSL EVP) under the
 * keys of the keyring (keyring.c). See sam_seal.h for the blob layout.
 *
 * Why the header is authenticated too: the associated data is the blob's
 * 8-byte header ("SAM1" | key id) followed by profile_id, NUL and name. A
 * blob whose key id was rewritten to point at another key therefore fails
 * to open even if that key were somehow right, and a blob copied to another
 * (profile, name) fails because the binding differs.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "sam/sam_plugin.h"
#include "sam_seal.h"

#define KEY_LEN 32
#define NONCE_LEN 12
#define TAG_LEN 16
#define MAGIC "SAM1"
#define HDR_LEN 8 /* magic + key id */
#define BLOB_OVERHEAD (HDR_LEN + NONCE_LEN + TAG_LEN)

static void put_be32(unsigned char *p, uint32_t v) {
  p[0] = (unsigned char)(v >> 24);
  p[1] = (unsigned char)(v >> 16);
  p[2] = (unsigned char)(v >> 8);
  p[3] = (unsigned char)v;
}

static uint32_t get_be32(const unsigned char *p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
         ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

/*
 * The key id a blob was sealed with, read from its header (not
 * authenticated until sam__unseal). Thread: any.
 * Returns: 0, or SAM_EINVAL when `blob` is not a sealed blob.
 */
int sam__seal_blob_key_id(const unsigned char *blob,
                          size_t blob_len,
                          uint32_t *id) {
  if (blob == NULL || blob_len < BLOB_OVERHEAD || memcmp(blob, MAGIC, 4) != 0)
    return SAM_EINVAL;
  *id = get_be32(blob + 4);
  return 0;
}

/* The associated data: the 8-byte header, profile_id, NUL, name. */
static int build_aad(const unsigned char *hdr,
                     const char *profile_id,
                     const char *name,
                     unsigned char **aad,
                     size_t *aad_len) {
  size_t pl = strlen(profile_id);
  size_t nl = strlen(name);
  unsigned char *p = malloc(HDR_LEN + pl + 1 + nl);

  if (p == NULL)
    return SAM_ENOMEM;
  memcpy(p, hdr, HDR_LEN);
  memcpy(p + HDR_LEN, profile_id, pl);
  p[HDR_LEN + pl] = '\0';
  memcpy(p + HDR_LEN + pl + 1, name, nl);
  *aad = p;
  *aad_len = HDR_LEN + pl + 1 + nl;
  return 0;
}

/*
 * Seals `pt` for (profile_id, name) with the current key and a fresh random
 * nonce.
 *
 * Thread: any; the keyring is only read.
 * Ownership: *blob is malloc'd; the caller frees it.
 * Returns: 0, SAM_EINVAL (NULL argument), SAM_ENOMEM or SAM_EIO (OpenSSL).
 */
int sam__seal(const sam__keyring *kr,
              const char *profile_id,
              const char *name,
              const void *pt,
              size_t pt_len,
              unsigned char **blob,
              size_t *blob_len) {
  const unsigned char *k;
  uint32_t id;
  EVP_CIPHER_CTX *ctx = NULL;
  unsigned char *out = NULL;
  unsigned char *aad = NULL;
  size_t aad_len = 0;
  int outl = 0;
  int rc = SAM_EINVAL;

  if (kr == NULL || profile_id == NULL || name == NULL || blob == NULL ||
      blob_len == NULL || (pt == NULL && pt_len > 0) || pt_len > INT32_MAX)
    goto fail;
  id = sam__keyring_current_id(kr);
  k = sam__keyring_key(kr, id);
  if (k == NULL)
    goto fail;
  rc = SAM_ENOMEM;
  out = malloc(BLOB_OVERHEAD + pt_len);
  if (out == NULL)
    goto fail;
  memcpy(out, MAGIC, 4);
  put_be32(out + 4, id);
  rc = build_aad(out, profile_id, name, &aad, &aad_len);
  if (rc != 0)
    goto fail;
  rc = SAM_EIO;
  if (RAND_bytes(out + HDR_LEN, NONCE_LEN) != 1)
    goto fail;
  ctx = EVP_CIPHER_CTX_new();
  if (ctx == NULL)
    goto fail;
  if (EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1)
    goto fail;
  if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, NONCE_LEN, NULL) != 1)
    goto fail;
  if (EVP_EncryptInit_ex(ctx, NULL, NULL, k, out + HDR_LEN) != 1)
    goto fail;
  if (EVP_EncryptUpdate(ctx, NULL, &outl, aad, (int)aad_len) != 1)
    goto fail;
  if (pt_len > 0 &&
      EVP_EncryptUpdate(ctx, out + BLOB_OVERHEAD, &outl, pt, (int)pt_len) != 1)
    goto fail;
  if (EVP_EncryptFinal_ex(ctx, out + BLOB_OVERHEAD + pt_len, &outl) != 1)
    goto fail;
  if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_LEN,
                          out + HDR_LEN + NONCE_LEN) != 1)
    goto fail;
  EVP_CIPHER_CTX_free(ctx);
  free(aad);
  *blob = out;
  *blob_len = BLOB_OVERHEAD + pt_len;
  return 0;

fail:
  EVP_CIPHER_CTX_free(ctx);
  free(aad);
  free(out); /* holds ciphertext only, never plaintext */
  return rc;
}

/*
 * Opens a blob sealed for (profile_id, name).
 *
 * Thread: any; the keyring is only read.
 * Ownership: *pt is malloc'd with a NUL after pt_len bytes; the caller
 * wipes (OPENSSL_cleanse) and frees it. Nothing is returned on failure.
 * Returns: 0; SAM_EAUTH when the blob is not a blob, its key id is unknown,
 * its tag is wrong or it was sealed for another (profile, name); SAM_EINVAL
 * on a NULL argument; SAM_ENOMEM; SAM_EIO (OpenSSL).
 */
int sam__unseal(const sam__keyring *kr,
                const char *profile_id,
                const char *name,
                const unsigned char *blob,
                size_t blob_len,
                unsigned char **pt,
                size_t *pt_len) {
  const unsigned char *k;
  EVP_CIPHER_CTX *ctx = NULL;
  unsigned char tag[TAG_LEN];
  unsigned char *out = NULL;
  unsigned char *aad = NULL;
  size_t aad_len = 0;
  size_t ct_len = 0;
  int outl = 0;
  int rc = SAM_EINVAL;

  if (kr == NULL || profile_id == NULL || name == NULL || pt == NULL ||
      pt_len == NULL || (blob == NULL && blob_len > 0))
    goto fail;
  rc = SAM_EAUTH;
  if (blob_len < BLOB_OVERHEAD || memcmp(blob, MAGIC, 4) != 0)
    goto fail;
  ct_len = blob_len - BLOB_OVERHEAD;
  if (ct_len > INT32_MAX)
    goto fail;
  k = sam__keyring_key(kr, get_be32(blob + 4));
  if (k == NULL)
    goto fail;
  rc = SAM_ENOMEM;
  out = malloc(ct_len + 1);
  if (out == NULL)
    goto fail;
  rc = build_aad(blob, profile_id, name, &aad, &aad_len);
  if (rc != 0)
    goto fail;
  memcpy(tag, blob + HDR_LEN + NONCE_LEN, TAG_LEN);
  rc = SAM_EIO;
  ctx = EVP_CIPHER_CTX_new();
  if (ctx == NULL)
    goto fail;
  if (EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1)
    goto fail;
  if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, NONCE_LEN, NULL) != 1)
    goto fail;
  if (EVP_DecryptInit_ex(ctx, NULL, NULL, k, blob + HDR_LEN) != 1)
    goto fail;
  if (EVP_DecryptUpdate(ctx, NULL, &outl, aad, (int)aad_len) != 1)
    goto fail;
  if (ct_len > 0 && EVP_DecryptUpdate(ctx, out, &outl, blob + BLOB_OVERHEAD,
                                      (int)ct_len) != 1)
    goto fail;
  if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_LEN, tag) != 1)
    goto fail;
  if (EVP_DecryptFinal_ex(ctx, out + ct_len, &outl) != 1) {
    rc = SAM_EAUTH; /* wrong tag: tampered, wrong key or wrong binding */
    goto fail;
  }
  out[ct_len] = '\0';
  EVP_CIPHER_CTX_free(ctx);
  free(aad);
  *pt = out;
  *pt_len = ct_len;
  return 0;

fail:
  EVP_CIPHER_CTX_free(ctx);
  free(aad);
  if (out != NULL) {
    /* GCM decrypts before it verifies: unverified plaintext is in `out` */
    OPENSSL_cleanse(out, ct_len + 1);
    free(out);
  }
  return rc;
}
