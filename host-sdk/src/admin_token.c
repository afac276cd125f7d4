/*
 * admin_token.c: the admin token of the reference host (see
 * sam_admin_token.h): generation, the salted SHA-256 file, the
 * constant-time check.
 */
#include "sam_admin_token.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "sam/sam_plugin.h"

#define TOKEN_MAGIC "sam-admin-token v1 sha256 "

static const char b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* base64url without padding of n bytes into out (4*ceil(n/3) + 1 bytes). */
static void encode_b64url(const unsigned char *in, size_t n, char *out) {
  size_t i, o = 0;

  for (i = 0; i + 2 < n; i += 3) {
    unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
    out[o++] = b64url[(v >> 18) & 63];
    out[o++] = b64url[(v >> 12) & 63];
    out[o++] = b64url[(v >> 6) & 63];
    out[o++] = b64url[v & 63];
  }
  if (n - i == 1) {
    unsigned v = (unsigned)in[i] << 16;
    out[o++] = b64url[(v >> 18) & 63];
    out[o++] = b64url[(v >> 12) & 63];
  } else if (n - i == 2) {
    unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8;
    out[o++] = b64url[(v >> 18) & 63];
    out[o++] = b64url[(v >> 12) & 63];
    out[o++] = b64url[(v >> 6) & 63];
  }
  out[o] = '\0';
}

static void to_hex(const unsigned char *in, size_t n, char *out) {
  static const char hx[] = "0123456789abcdef";
  size_t i;

  for (i = 0; i < n; i++) {
    out[2 * i] = hx[in[i] >> 4];
    out[2 * i + 1] = hx[in[i] & 15];
  }
  out[2 * n] = '\0';
}

static int hexval(int c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  return -1;
}

static int from_hex(const char *s, unsigned char *out, size_t n) {
  size_t i;

  for (i = 0; i < n; i++) {
    int hi = hexval((unsigned char)s[2 * i]);
    int lo = hi < 0 ? -1 : hexval((unsigned char)s[2 * i + 1]);
    if (lo < 0)
      return -1;
    out[i] = (unsigned char)(hi << 4 | lo);
  }
  return 0;
}

/* SHA-256(salt || token). 0 or SAM_EIO. */
static int hash_token(const unsigned char salt[16],
                      const char *tok,
                      size_t len,
                      unsigned char out[32]) {
  EVP_MD_CTX *md = EVP_MD_CTX_new();
  unsigned int n = 0;
  int rc = SAM_EIO;

  if (md == NULL)
    return SAM_ENOMEM;
  if (EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1 ||
      EVP_DigestUpdate(md, salt, 16) != 1 ||
      EVP_DigestUpdate(md, tok, len) != 1 ||
      EVP_DigestFinal_ex(md, out, &n) != 1 || n != 32)
    goto done;
  rc = 0;

done:
  EVP_MD_CTX_free(md);
  return rc;
}

/*
 * See sam_admin_token.h.
 */
int sam__admin_token_load(const char *path,
                          sam__admin_token *t,
                          char *err,
                          size_t err_len) {
  char line[256];
  struct stat st;
  FILE *f = NULL;
  const char *p;
  int rc = SAM_EIO;

  f = fopen(path, "r");
  if (f == NULL) {
    if (errno == ENOENT) {
      snprintf(err, err_len, "no admin token yet [path=%s]", path);
      return SAM_ENOENT;
    }
    snprintf(err, err_len, "cannot read the admin token file [path=%s] [%s]",
             path, strerror(errno));
    return SAM_EIO;
  }
  if (fstat(fileno(f), &st) != 0 || (st.st_mode & 077) != 0) {
    snprintf(err, err_len,
             "the admin token file is readable by others [path=%s]; "
             "chmod 600 it or run `samhost token reset`",
             path);
    goto done;
  }
  if (fgets(line, sizeof(line), f) == NULL ||
      strncmp(line, TOKEN_MAGIC, strlen(TOKEN_MAGIC)) != 0)
    goto bad;
  p = line + strlen(TOKEN_MAGIC);
  if (strlen(p) < 32 + 1 + 64 || p[32] != ' ' ||
      from_hex(p, t->salt, sizeof(t->salt)) != 0 ||
      from_hex(p + 33, t->hash, sizeof(t->hash)) != 0)
    goto bad;
  rc = 0;
  goto done;

bad:
  snprintf(err, err_len,
           "the admin token file is malformed [path=%s]; run `samhost token "
           "reset`",
           path);
done:
  fclose(f);
  return rc;
}

/*
 * See sam_admin_token.h.
 */
int sam__admin_token_create(const char *path,
                            char *token_out,
                            size_t token_len,
                            sam__admin_token *t,
                            char *err,
                            size_t err_len) {
  unsigned char raw[32];
  char salt_hex[33], hash_hex[65], line[200];
  char *tmp = NULL;
  size_t plen = strlen(path);
  int fd = -1, rc = SAM_EIO, n;

  if (token_len < SAM__ADMIN_TOKEN_LEN) {
    snprintf(err, err_len, "admin token buffer too small [len=%zu]", token_len);
    return SAM_EINVAL;
  }
  if (RAND_bytes(raw, sizeof(raw)) != 1 ||
      RAND_bytes(t->salt, sizeof(t->salt)) != 1) {
    snprintf(err, err_len, "RAND_bytes failed");
    goto done;
  }
  encode_b64url(raw, sizeof(raw), token_out);
  OPENSSL_cleanse(raw, sizeof(raw));
  rc = hash_token(t->salt, token_out, strlen(token_out), t->hash);
  if (rc != 0) {
    snprintf(err, err_len, "SHA-256 failed");
    goto done;
  }
  to_hex(t->salt, sizeof(t->salt), salt_hex);
  to_hex(t->hash, sizeof(t->hash), hash_hex);
  n = snprintf(line, sizeof(line), "%s%s %s\n", TOKEN_MAGIC, salt_hex,
               hash_hex);
  rc = SAM_ENOMEM;
  tmp = malloc(plen + 8);
  if (tmp == NULL)
    goto done;
  snprintf(tmp, plen + 8, "%s.tmp", path);
  rc = SAM_EIO;
  (void)unlink(tmp);
  fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0 || write(fd, line, (size_t)n) != n || fsync(fd) != 0) {
    snprintf(err, err_len, "cannot write the admin token file [path=%s] [%s]",
             tmp, strerror(errno));
    goto done;
  }
  if (close(fd) != 0) {
    fd = -1;
    snprintf(err, err_len, "cannot write the admin token file [path=%s] [%s]",
             tmp, strerror(errno));
    goto done;
  }
  fd = -1;
  if (rename(tmp, path) != 0) {
    snprintf(err, err_len, "cannot rename the admin token file [path=%s] [%s]",
             path, strerror(errno));
    goto done;
  }
  rc = 0;

done:
  if (fd >= 0)
    close(fd);
  if (rc != 0) {
    if (tmp != NULL)
      (void)unlink(tmp);
    OPENSSL_cleanse(token_out, token_len);
  }
  free(tmp);
  return rc;
}

/*
 * See sam_admin_token.h.
 */
int sam__admin_token_check(const sam__admin_token *t,
                           const char *presented,
                           size_t len) {
  unsigned char h[32];
  int ok;

  if (t == NULL || presented == NULL || len == 0 || len > 256)
    return 0;
  if (hash_token(t->salt, presented, len, h) != 0)
    return 0;
  ok = CRYPTO_memcmp(h, t->hash, sizeof(h)) == 0;
  OPENSSL_cleanse(h, sizeof(h));
  return ok;
}
